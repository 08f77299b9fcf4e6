"""Redaction and normalisation of family messages for the retraining workflow.

Every family text is redacted (bot.redact: personal data -> typed placeholders) before the workflow
shows it, saves it (training data, audit log) or exports it. There is no fallback here: if bot.redact
is missing, `redact` raises RedactionUnavailable rather than show a family's words unredacted.
"""
from __future__ import annotations

import hashlib
import re


class RedactionUnavailable(RuntimeError):
    """bot.redact cannot be imported: refuse to show or save family messages."""


def redact(text: str) -> str:
    """`bot.redact.redact(text)`, imported when first needed (lazily, so this package loads without it)."""
    try:
        from bot.redact import redact as redact_personal_data
    except ImportError as error:
        raise RedactionUnavailable(
            "bot.redact is missing, so family messages cannot be redacted; the retraining tools "
            "refuse to show, save or export them unredacted") from error
    return redact_personal_data(text)


_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_NOT_WORD = re.compile(r"[^a-z0-9 ]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, entity markup removed, only letters, digits and single spaces: the form in which
    two messages count as the same (tests/test_training_data.py compares training and test examples
    the same way)."""
    text = _ENTITY_MARKUP.sub(r"\1", text)
    text = _NOT_WORD.sub("", _SPACES.sub(" ", text.lower()))
    return _SPACES.sub(" ", text).strip()


def fingerprint(normalised_text: str) -> str:
    """What the audit log keeps to recognise a decided message again without keeping its wording."""
    return "sha256:" + hashlib.sha256(normalised_text.encode()).hexdigest()

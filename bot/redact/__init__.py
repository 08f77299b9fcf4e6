"""Redact personal data from what families type, before anyone sees or saves it.

    >>> redact("my son Jayden, ring me on 07700 900123")
    'my son [NAME], ring me on [PHONE]'

`find_personal_data(text)` gives the spans (start, end, kind, score) in the original text;
`redact(text)` replaces each with a typed placeholder: [NAME], [PHONE], [EMAIL], [POSTCODE],
[NI_NUMBER], [DATE_OF_BIRTH], [ADDRESS].

The recognizers (bot/redact/recognizers.py lists them) follow Microsoft Presidio's approach -
patterns, format checks, context words and scores - on this project's own spaCy pipeline
(var/spacy/en_lookup: a tokenizer and a lemma lookup table, no statistical model) with
libphonenumber for phone numbers. The pipeline is loaded once, on first use (importing this
package does not import spaCy).

Redaction fails closed: if a message cannot be analysed, `redact` returns a placeholder for the
whole message rather than the message.
"""
from __future__ import annotations

import logging
from typing import List

from bot.redact.spans import KINDS, Span, apply, placeholder
from bot.redact.text import clean

__all__ = [
    "KINDS", "Span", "THRESHOLD", "UNREDACTABLE", "find_personal_data", "placeholder", "redact", "redact_or_fail",
    "warm_up",
]

THRESHOLD = 0.5
UNREDACTABLE = "[UNREDACTABLE_MESSAGE]"

log = logging.getLogger(__name__)


def find_personal_data(text: str, threshold: float = THRESHOLD) -> List[Span]:
    """Spans of personal data in `text` (offsets into `text` as given), in order, not overlapping."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if not text:
        return []
    from bot.redact.recognizers import analyse  # spaCy is imported on first use, not with the package

    cleaned = clean(text)
    spans = []
    for span in analyse(cleaned.text):
        if span.score < threshold:
            continue
        start, end = cleaned.to_original(span.start, span.end)
        spans.append(Span(start, end, span.kind, span.score))
    return spans


def redact_or_fail(text: str, threshold: float = THRESHOLD) -> str:
    """`text` with personal data replaced by placeholders; raises if the text cannot be analysed."""
    return apply(text, find_personal_data(text, threshold))


def redact(text: str, threshold: float = THRESHOLD) -> str:
    """`text` with personal data replaced by placeholders. Never raises on odd text: a message that
    cannot be analysed comes back as one placeholder, never as it was."""
    if not text:
        return "" if text is None or isinstance(text, str) else UNREDACTABLE
    try:
        return redact_or_fail(text, threshold)
    except Exception:  # fail closed: a staff export must not leak a message because of a bug
        log.exception("redaction failed; message withheld")
        return UNREDACTABLE


def warm_up() -> None:
    """Load the pipeline and word lists now rather than on the first message."""
    redact("My son Jayden lives at 1 Mill Lane, Leeds LS1 1AA.")


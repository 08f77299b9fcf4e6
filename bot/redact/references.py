"""References that point at one family's records: court case numbers, numbers given after a cue
("ref", "case number", "complaint number" ...) and other long runs of digits.

- A family court case number is two letters (the court), two digits (the year), a letter (the type
  of case) and five digits: "BR26C00321", "br26c00321", "BR 26 C 00321".
- After a cue, the reference is the next word that has a digit in it, with any further such words
  ("ref: LS/2024/0173", "claim number 1234 5678", "complaint number CMP-20391").
- Anywhere else, a run of six or more digits is a reference (a claim, account or case file number),
  unless it has a phone number's shape: phone numbers are found by bot/redact/contact.py, and an
  organisation's 0800 number is not personal data. Amounts, times and decimals are not runs.
"""
from __future__ import annotations

import re
from typing import List

from bot.redact.spans import REFERENCE, Span

_CASE_NUMBER = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[ \t]?\d{2}[ \t]?[A-Za-z][ \t]?\d{5}(?![A-Za-z0-9])"
)
_OWNERS = r"(?:case|claim|complaint|crime|incident|log|application|account|customer|file|court|tracking|ticket|membership|policy|nhs|council|hospital|patient)"
_CUE = re.compile(
    r"\b(?:"
    rf"(?:{_OWNERS}\s+)?ref(?:erence)?s?\.?(?:\s*(?:no|num|number|nos)\b\.?)?"
    rf"|{_OWNERS}\s+(?:no\b\.?|num\b\.?|number|#)"
    r"|our\s+number"
    r")"
    # "reference number for the SGO support plan is 4471-2290": what the reference is for, then "is"/":".
    r"(?:\s+(?:for|on|of)(?:\s+[A-Za-z'-]+){1,4}?(?=\s*(?:\bis\b|\bwas\b|:)))?"
    r"(?:\s*(?:is|was|are|:|=|-|#)){0,2}\s*",
    re.IGNORECASE,
)
# One word of a reference: letters, digits and / - . inside; must hold a digit to count.
_PIECE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9/\-.]*[A-Za-z0-9])?")
_DIGIT_RUN = re.compile(r"(?<![\w£$€.,/:#-])(?<!\d[ \t])\d{6,}(?![\w/%]|[.,:]\d)")
_DATE_OR_TIME = re.compile(r"\d{1,2}[/.:-]\d{1,2}(?:[/.-]\d{2,4})?")
_HAS_DIGIT = re.compile(r"\d")
_LETTER_PREFIX = re.compile(r"[A-Z]{2,5}")


def find_references(text: str) -> List[Span]:
    if not _HAS_DIGIT.search(text):
        return []
    spans = []
    for match in _CASE_NUMBER.finditer(text):
        raw = match.group(0)
        spans.append(Span(match.start(), match.end(), REFERENCE, 0.95 if raw.isupper() else 0.85))
    for cue in _CUE.finditer(text):
        end = _reference_after(text, cue.end())
        if end is not None:
            spans.append(Span(cue.end(), end, REFERENCE, 0.9))
    for run in _DIGIT_RUN.finditer(text):
        digits = run.group(0)
        if digits[0] == "0" and len(digits) in (10, 11) or digits.startswith("44") and len(digits) in (12, 13):
            continue  # a phone number's shape: contact.py decides
        spans.append(Span(run.start(), run.end(), REFERENCE, 0.75))
    return spans


def _reference_after(text: str, position: int):
    """End of the reference that starts at `position`, or None if none does."""
    end = None
    alnum = digits = 0
    while True:
        piece = _PIECE.match(text, position)
        if piece and end is None and _LETTER_PREFIX.fullmatch(piece.group(0)):
            # "ref is CYP 00923": a short capital prefix, one space, then the digits.
            follow = _PIECE.match(text, piece.end() + 1) if text[piece.end():piece.end() + 1] == " " else None
            if follow and any(c.isdigit() for c in follow.group(0)):
                alnum += len(piece.group(0))
                position = piece.end() + 1
                piece = follow
        if not piece or not any(c.isdigit() for c in piece.group(0)):
            break
        word = piece.group(0)
        if end is None and _DATE_OR_TIME.fullmatch(word):
            return None  # "ref: 12/05/2024" is a date, dates.py decides
        alnum += sum(c.isalnum() for c in word)
        digits += sum(c.isdigit() for c in word)
        end = piece.end()
        # A further word of the same reference: one space, then another word with a digit.
        if end < len(text) and text[end] in " \t" and _PIECE.match(text, end + 1):
            position = end + 1
            continue
        break
    if end is None or alnum < 3 or digits < 2:
        return None
    return end

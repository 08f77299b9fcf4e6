"""Dates of birth: a date said to be someone's birth date or birthday.

A date on its own (a hearing, a meeting) is not personal data and stays. A date counts as a date
of birth when "born", "DOB", "date of birth" or "birthday" comes just before it, when "birthday" or
"DOB" comes just after it, when a child's age points at it ("she will be 5 on the 3rd of October"),
or when it follows a person's name ("Ruby (03/05/2015)").
"""
from __future__ import annotations

import re
from typing import Iterable, List, Tuple

from bot.redact.spans import DATE_OF_BIRTH, NAME, Span

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:(?:19|20)\d{2}|'\d{2})"

DATE_PATTERNS = [
    re.compile(r"(?<![\w/.-])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?![\w/-]|\.\d)"),
    re.compile(r"(?<![\w/.-])(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?![\w/-]|\.\d)"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?(?![\w])", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}(?:,?\s+{_YEAR})?(?![\w])", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+(?:of\s+)?(?:19|20)\d{{2}}\b", re.IGNORECASE),
]

_BIRTH_WORD = r"(?:born|dob|d\.o\.b\.?|date\s+of\s+birth|birth\s?date|birthday|bday|b-day|b'day|(?<![\w.])b\.)"
# What may stand between "born"/"DOB"/"birthday" and the date: a few small words, nothing else.
_GAP_AFTER_TRIGGER = re.compile(
    r"^(?:[\s:=,(\-–]|'s\b|\bis\b|\bwas\b|\bon\b|\bthe\b|\bin\b|\bof\b|\bdate\b|\bfalls\b|\bbe\b|\bwill\b)*$",
    re.IGNORECASE,
)
_TRIGGER_BEFORE = re.compile(rf"\b{_BIRTH_WORD}(?![\w])", re.IGNORECASE)
_AGE_BEFORE = re.compile(
    r"\b(?:will\s+be|turns?|turning|is|'s|s)\s+(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)(?:\s+(?:years?|yrs?)(?:\s+old)?)?"
    r"\s+on(?:\s+the)?\s*$",
    re.IGNORECASE,
)
_TRIGGER_AFTER = re.compile(
    rf"^\s*(?:[(\-–,:]\s*)?(?:is|was)?\s*(?:his|her|my|their|the|our)?\s*{_BIRTH_WORD}(?![\w])", re.IGNORECASE
)


def find_dates(text: str) -> List[Tuple[int, int]]:
    """Every date-like stretch of the text, longest first where they overlap."""
    found: List[Tuple[int, int]] = []
    if not any(c.isdigit() for c in text):
        return found  # every date form has a day or a year
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            if pattern is DATE_PATTERNS[0] and not _numeric_ok(match.groups()):
                continue
            if pattern is DATE_PATTERNS[1] and not _numeric_ok(match.groups()[::-1]):
                continue
            found.append((match.start(), match.end()))
    found.sort(key=lambda se: (se[0], -(se[1] - se[0])))
    kept: List[Tuple[int, int]] = []
    for start, end in found:
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


def _numeric_ok(parts) -> bool:
    day, month = int(parts[0]), int(parts[1])
    if 1 <= day <= 31 and 1 <= month <= 12:
        return True
    return 1 <= month <= 31 and 1 <= day <= 12  # month first


def find_dates_of_birth(text: str, found: Iterable[Span] = ()) -> List[Span]:
    names = [s for s in found if s.kind == NAME and s.score >= 0.5]
    spans = []
    for start, end in find_dates(text):
        before = text[max(0, start - 40):start]
        after = text[end:end + 30]
        score = 0.0
        trigger = None
        for trigger in _TRIGGER_BEFORE.finditer(before):
            pass
        if trigger is not None and _GAP_AFTER_TRIGGER.match(before[trigger.end():]):
            score = 0.95
        elif _TRIGGER_AFTER.match(after):
            score = 0.9
        elif _AGE_BEFORE.search(before):
            score = 0.85
        elif _follows_name(text, start, names):
            score = 0.8
        if score:
            spans.append(Span(start, end, DATE_OF_BIRTH, score))
    return spans


def _follows_name(text: str, start: int, names: List[Span]) -> bool:
    for name in names:
        gap = text[name.end:start]
        if name.end <= start and re.fullmatch(r"\s*(?:'s)?\s*[(,\-–:]?\s*", gap):
            return True
    return False

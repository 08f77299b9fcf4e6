"""Dates of birth: a date said to be someone's birth date or birthday.

Dates in every common UK form: 3/5/2016, 03.05.16, 2016-05-03, "3rd of May 2016", "3 May 2016",
"May 3rd 2016", "May 2016", and after a birth cue only, 03052016.

A date on its own (a hearing, a meeting) is not personal data and stays. A date counts as a date
of birth when "born", "DOB", "d.o.b", "date of birth" or "birthday" comes just before it, when
"birthday" or "DOB" comes just after it, when a child's age points at it ("she will be 5 on the 3rd
of October", "Rose turned 4 on the 9th of July"), when it stands next to a person ("my son
12/03/2016", "grandson (3.4.18)"), a person's name ("Ruby (03/05/2015)", "Tyler, 7, 12/03/2017") or
an age ("aged 7, 12/03/2017", "12/03/2017 (age 7)"). Only a birth cue makes a date that is still to
come a date of birth: next month's hearing "with my son 12/05/2031" stays.
"""
from __future__ import annotations

import datetime
import re
from typing import Iterable, List, Optional, Tuple

from bot.redact.lexicon import KIN
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
# 03052016: a date of birth only straight after a birth cue.
_COMPACT_DATE = re.compile(r"(?<![\w/.-])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])((?:19|20)\d{2})(?![\w/-])")

_BIRTH_WORD = r"(?:born|dob|d\.o\.b\.?|date\s+of\s+birth|birth\s?date|birthday|bday|b-day|b'day|(?<![\w.])b\.)"
# What may stand between "born"/"DOB"/"birthday" and the date: a few small words, nothing else.
_GAP_AFTER_TRIGGER = re.compile(
    r"^(?:[\s:=,(\-–]|'s\b|\bis\b|\bwas\b|\bon\b|\bthe\b|\bin\b|\bof\b|\bdate\b|\bfalls\b|\bbe\b|\bwill\b)*$",
    re.IGNORECASE,
)
_TRIGGER_BEFORE = re.compile(rf"\b{_BIRTH_WORD}(?![\w])", re.IGNORECASE)
_AGE_BEFORE = re.compile(
    r"\b(?:will\s+be|turns?|turned|turning|is|'s|s)\s+(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)(?:\s+(?:years?|yrs?)(?:\s+old)?)?"
    r"\s+on(?:\s+the)?\s*$",
    re.IGNORECASE,
)
_KIN_WORDS = "|".join(sorted((re.escape(k) for k in KIN if k not in ("ex", "mate", "friend", "neighbour", "neighbor", "lodger")),
                             key=len, reverse=True))
# "my son 12/03/2016", "grandson (3.4.18)", "daughter - 12 May 2015": a person, then the date.
_PERSON_BEFORE = re.compile(rf"\b(?:{_KIN_WORDS})(?:'s)?\s*[(:,\-–]?\s*$", re.IGNORECASE)
# "aged 7, 12/03/2017", "Tyler, 7, 12/03/2017", "Ruby (7) 03/05/2015": an age, then the date.
_AGE_JUST_BEFORE = re.compile(
    r"(?:\bage[d]?\s*:?\s*\d{1,2}|(?:^|[,(]|\bis|'s)\s*\d{1,2}\s*(?:yrs?|years?(?:\s+old)?|yo|y/o)?\s*[),])"
    r"\s*[(:,\-–]?\s*$",
    re.IGNORECASE,
)
# "12/03/2017 (age 7)", "12/03/2017, now 7", "12/03/2017 so she's 7"
_AGE_AFTER = re.compile(
    r"^\s*[(,\-–]?\s*(?:age[d]?|now|so\s+(?:s?he|they)(?:'s|\s+is|s)?|which\s+makes\s+(?:him|her))\s*:?\s*\d{1,2}\b",
    re.IGNORECASE,
)
# A date next to these is when something happens, not when someone was born (unless a birth cue says so).
_EVENT = re.compile(
    r"\b(?:contact|hearing|hearings|meeting|meetings|review|conference|visit|visits|appointment|court|session"
    r"|assessment|deadline|adjourned|listed|granted|made|signed|sent|since|until|till|from|by|on|at|placed"
    r"|removed|moved|started|ended|cancell?ed|letter|order|report|due)\b",
    re.IGNORECASE,
)
_TRIGGER_AFTER = re.compile(
    rf"^\s*(?:[(\-–,:]\s*)?(?:is|was)?\s*(?:his|her|my|their|the|our)?\s*{_BIRTH_WORD}(?![\w])", re.IGNORECASE
)
_HAS_DIGIT = re.compile(r"\d")


def find_dates(text: str, compact: bool = False) -> List[Tuple[int, int]]:
    """Every date-like stretch of the text, longest first where they overlap (with `compact`, also
    eight digits in a row that make a date)."""
    found: List[Tuple[int, int]] = []
    if not _HAS_DIGIT.search(text):
        return found  # every date form has a day or a year
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            if pattern is DATE_PATTERNS[0] and not _numeric_ok(match.groups()):
                continue
            if pattern is DATE_PATTERNS[1] and not _numeric_ok(match.groups()[::-1]):
                continue
            found.append((match.start(), match.end()))
    if compact:
        found.extend((m.start(), m.end()) for m in _COMPACT_DATE.finditer(text))
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
    for start, end in find_dates(text, compact=True):
        # "dob 12/09/2017 and 01/02/2021": a date listed straight after a date of birth is one too.
        if spans and _LISTED_AFTER.fullmatch(text[spans[-1].end:start]):
            spans.append(Span(start, end, DATE_OF_BIRTH, min(spans[-1].score, 0.85)))
            continue
        before = text[max(0, start - 40):start]
        after = text[end:end + 30]
        compact = text[start:end].isdigit()
        score = 0.0
        trigger = None
        for trigger in _TRIGGER_BEFORE.finditer(before):
            pass
        if trigger is not None and _GAP_AFTER_TRIGGER.match(before[trigger.end():]):
            score = 0.95
        elif _TRIGGER_AFTER.match(after):
            score = 0.9
        elif compact:
            continue  # eight digits without a birth cue: references.py may take them
        elif _AGE_BEFORE.search(before):
            score = 0.85
        elif _in_the_future(text[start:end]) or _EVENT.search(before[-25:]) or _EVENT.search(after[:20]):
            continue  # a hearing to come, or "contact with my son 12/05/2025 was cancelled"
        elif _follows_name(text, start, names):
            score = 0.8
        elif _PERSON_BEFORE.search(before) or _AGE_JUST_BEFORE.search(before) or _AGE_AFTER.match(after):
            score = 0.8
        if score:
            spans.append(Span(start, end, DATE_OF_BIRTH, score))
    return spans


_LISTED_AFTER = re.compile(r"\s*(?:,|&|and|,\s*and)\s*", re.IGNORECASE)


def _follows_name(text: str, start: int, names: List[Span]) -> bool:
    for name in names:
        gap = text[name.end:start]
        if name.end <= start and _NAME_GAP.fullmatch(gap):
            return True
    return False


# What may stand between a name and its date of birth: "Ruby (03/05/2015)", "Tyler, 7, 12/03/2017",
# "Jayden - DOB", "Ava 12.5.19".
_NAME_GAP = re.compile(
    r"\s*(?:'s)?\s*[(,\-–:]?\s*(?:(?:aged?\s*)?\d{1,2}\s*(?:yrs?|years?(?:\s+old)?|yo)?\s*[),\-–:]\s*)?"
)


def _in_the_future(date_text: str) -> bool:
    """Is the year written in this date after this year? (A date with no year is not.)"""
    year = _year_of(date_text)
    return year is not None and year > datetime.date.today().year


def _year_of(date_text: str) -> Optional[int]:
    four = re.search(r"(?:19|20)\d{2}", date_text)
    if four:
        return int(four.group(0))
    two = re.search(r"[/.-](\d{2})$", date_text.strip())
    if two:
        value = int(two.group(1))
        return 2000 + value if value <= datetime.date.today().year % 100 + 1 else 1900 + value
    return None

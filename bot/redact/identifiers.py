"""UK postcodes and National Insurance numbers, checked against their format rules."""
from __future__ import annotations

import re
from typing import List

from bot.redact.spans import NI_NUMBER, POSTCODE, Span

# The 121 postcode areas of the UK plus the Crown dependencies (GY, JE, IM).
POSTCODE_AREAS = frozenset(
    """AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC
    EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU
    M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS
    ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE""".split()
)

_FULL_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2})(\d[A-Za-z\d]?)[ \t]{0,2}(\d)([ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})(?![A-Za-z0-9])"
)
_OUTWARD = re.compile(r"(?<![A-Za-z0-9£$])([A-Za-z]{1,2})(\d{1,2}|\d[A-Za-z])(?![A-Za-z0-9])")
_OUTWARD_BEFORE = re.compile(
    r"(?:post\s?code|live[sd]?\s+in|living\s+in|based\s+in|moved\s+to|we'?re\s+in|i'?m\s+in|area)"
    r"\s*(?:is|was|:|=|-)?\s*(?:the\s+|in\s+)?$",
    re.IGNORECASE,
)
_OUTWARD_AFTER = re.compile(r"^\s+(?:area|postcode|post code|district)\b", re.IGNORECASE)
_NOT_OUTWARD_BEFORE = re.compile(r"(?:section|sec|s\.|form|order|junction|j)\s*$", re.IGNORECASE)

# NI number: two prefix letters (D, F, I, Q, U, V never; O never second), six digits, A-D.
_NI = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z])"
    r"[ \t-]?(\d{2})[ \t-]?(\d{2})[ \t-]?(\d{2})(?:[ \t-]?([A-Da-d]))?(?![A-Za-z0-9])"
)
# After "NI", "national insurance" and the like, any two letters: a mistyped, example or temporary
# number is still someone's, and over-redacting is the safe side.
_NI_ANY = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2})[ \t-]?(\d{2})[ \t-]?(\d{2})[ \t-]?(\d{2})(?:[ \t-]?([A-Za-z]))?(?![A-Za-z0-9])"
)
_NI_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_NI_CONTEXT = re.compile(r"\b(?:n\.?i\.?|nino|national\s+insurance|nat\s+ins|ni\s+no)\b", re.IGNORECASE)


def find_postcodes(text: str) -> List[Span]:
    spans = []
    for match in _FULL_POSTCODE.finditer(text):
        area, district, _, unit = match.groups()
        if area.upper() not in POSTCODE_AREAS or not _district_ok(district):
            continue
        raw = match.group(0)
        if not raw.isupper() and unit.lower() in ("am", "pm"):
            continue  # "b4 3pm"
        spans.append(Span(match.start(), match.end(), POSTCODE, 0.95 if raw.isupper() else 0.85))
    taken = [(s.start, s.end) for s in spans]
    for match in _OUTWARD.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        area, district = match.groups()
        if area.upper() not in POSTCODE_AREAS or not _district_ok(district):
            continue
        before = text[max(0, match.start() - 30):match.start()]
        after = text[match.end():match.end() + 20]
        if _NOT_OUTWARD_BEFORE.search(before):
            continue
        said_postcode = re.search(r"post\s?code\s*(?:is|was|:|=|-)?\s*$", before, re.IGNORECASE)
        if not match.group(0).isupper() and not said_postcode:
            continue  # lower case "s20", "b4": section numbers and text-speak
        if said_postcode:
            spans.append(Span(match.start(), match.end(), POSTCODE, 0.85))
        elif _OUTWARD_AFTER.search(after) or _OUTWARD_BEFORE.search(before):
            spans.append(Span(match.start(), match.end(), POSTCODE, 0.7))
    return spans


def _district_ok(district: str) -> bool:
    return district[0].isdigit() and district != "0" * len(district)


def find_ni_numbers(text: str) -> List[Span]:
    spans = []
    for match in _NI.finditer(text):
        prefix, suffix = match.group(1), match.group(5)
        if prefix.upper() in _NI_UNALLOCATED:
            continue
        before = text[max(0, match.start() - 40):match.start()]
        context = bool(_NI_CONTEXT.search(before))
        if suffix is None and not context:
            continue
        upper = match.group(0).isupper() or (prefix.isupper() and (suffix or "A").isupper())
        if context:
            score = 1.0 if suffix else 0.8
        else:
            score = 0.9 if upper else 0.6
        spans.append(Span(match.start(), match.end(), NI_NUMBER, score))
    for match in _NI_ANY.finditer(text):
        if any(s.start <= match.start() < s.end for s in spans):
            continue
        if _NI_CONTEXT.search(text[max(0, match.start() - 40):match.start()]):
            spans.append(Span(match.start(), match.end(), NI_NUMBER, 0.9))
    return sorted(spans, key=lambda s: s.start)

"""Email addresses and phone numbers.

Phone numbers are found by Google's libphonenumber (the `phonenumbers` package) with the UK as the
default region: 07..., 01/02 landlines, +44 and 0044 forms, brackets, spaces and dashes, and
international numbers written with +. A number libphonenumber calls valid scores high; one that
only has a possible length (a mistyped or unallocated number, e.g. Ofcom's 07700 900xxx drama range)
still counts, a little lower. Organisations' numbers are left alone: freephone 0800/0808, 03,
084/087 and premium-rate numbers are not personal data.
"""
from __future__ import annotations

import re
from typing import List

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from bot.redact.spans import EMAIL, PHONE, Span

_LOCAL = r"[\w!#$%&'*+/=?^{|}~-]+(?:\.[\w!#$%&'*+/=?^{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\s?\.\s?)+[A-Za-z]{2,24}"
EMAIL_PATTERN = re.compile(rf"(?<![\w.+'-])({_LOCAL})\s?@\s?({_DOMAIN})(?![\w-])", re.UNICODE)
# "sharon dot bell at gmail dot com" - written out to dodge filters, or out of habit.
SPELLED_EMAIL = re.compile(
    r"(?<![\w.])[\w.]+(?:\s+dot\s+[\w]+)*\s+(?:at|@)\s+[a-z0-9-]+(?:\s+dot\s+[a-z]{2,6}){1,3}\b", re.IGNORECASE
)

_ORGANISATION_TYPES = {
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.UAN,
}
_ENOUGH_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|ring|text|phone|number|no|num|mob|mobile|landline|tel|whatsapp|contact|reach|on)\b", re.IGNORECASE
)


def find_emails(text: str) -> List[Span]:
    spans = []
    for match in EMAIL_PATTERN.finditer(text):
        start = match.start()
        while start < match.end() and text[start] in "'.-":
            start += 1
        spans.append(Span(start, match.end(), EMAIL, 1.0))
    if " at " in text.lower() or " dot " in text.lower():
        for match in SPELLED_EMAIL.finditer(text):
            if " dot " in match.group(0).lower():
                spans.append(Span(match.start(), match.end(), EMAIL, 0.8))
    return spans


def find_phones(text: str) -> List[Span]:
    if not _ENOUGH_DIGITS.search(text):
        return []
    spans = []
    for match in PhoneNumberMatcher(text, "GB", leniency=Leniency.POSSIBLE, max_tries=2000):
        number = match.number
        digits = phonenumbers.national_significant_number(number)
        if len(digits) < 9:
            continue  # too short for a UK number; likely an amount or a reference
        raw = match.raw_string
        if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", raw.strip()):
            continue  # a date
        if match.start > 0 and text[match.start - 1] == "/" or text[match.end:match.end + 1] == "/":
            continue  # "KC/2024/08812": part of a reference, references.py decides
        start, end = _widen_to_brackets(text, match.start, match.end)
        if phonenumbers.is_valid_number(number):
            if number.country_code == 44 and phonenumbers.number_type(number) in _ORGANISATION_TYPES:
                continue
            score = 0.95
        else:
            if number.country_code == 44 and digits[:1] not in ("1", "2", "7"):
                continue  # not a landline or mobile shape
            before = text[max(0, start - 30):start]
            score = 0.85 if _PHONE_CONTEXT.search(before) else 0.7
        spans.append(Span(start, end, PHONE, score))
    return spans


def _widen_to_brackets(text: str, start: int, end: int) -> tuple:
    # "(0113) 496 0555": the matcher may leave the opening bracket outside the number.
    if start > 0 and text[start - 1] == "(" and ")" in text[start:end]:
        start -= 1
    return start, end

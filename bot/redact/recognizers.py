"""All recognizers, run in order over a cleaned message, and their findings settled.

Order matters: the pattern recognizers run first, so that a name is not looked for inside an email,
an address or a school's name, the town after an address is known to be a place, a postcode after a
road name shows it is an address, and a date after a name can be read as that person's date of birth.

A long message is read in overlapping windows, so one odd 100,000-character line costs about what
its pieces cost and nothing is missed at a window's edge unless it is longer than the overlap.
"""
from __future__ import annotations

from typing import Callable, List, Sequence

from bot.redact.addresses import find_addresses
from bot.redact.contact import find_emails, find_phones
from bot.redact.dates import find_dates_of_birth
from bot.redact.identifiers import find_ni_numbers, find_postcodes
from bot.redact.names import find_names
from bot.redact.references import find_references
from bot.redact.schools import find_schools
from bot.redact.spans import Span, resolve

Recognizer = Callable[[str, Sequence[Span]], List[Span]]

RECOGNIZERS: List[Recognizer] = [
    lambda text, found: find_emails(text),
    lambda text, found: find_ni_numbers(text),
    lambda text, found: find_phones(text),
    lambda text, found: find_postcodes(text),
    lambda text, found: find_references(text),
    find_addresses,
    lambda text, found: find_schools(text),
    find_names,
    find_dates_of_birth,
]

WINDOW = 2000
OVERLAP = 200


def analyse(text: str) -> List[Span]:
    """Every finding at any score, overlaps settled, in text order."""
    if len(text) <= WINDOW + OVERLAP:
        return _analyse_window(text)
    spans: List[Span] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + WINDOW)
        if end < len(text):
            # End the window at a space so a word is not cut in two.
            space = text.rfind(" ", start + WINDOW // 2, end)
            end = space if space > start else end
        window_start = max(0, start - OVERLAP)
        window_end = min(len(text), end + OVERLAP)
        for span in _analyse_window(text[window_start:window_end]):
            spans.append(Span(span.start + window_start, span.end + window_start, span.kind, span.score))
        start = end
    return resolve(spans)


def _analyse_window(text: str) -> List[Span]:
    if not text.strip():
        return []
    found: List[Span] = []
    for recognizer in RECOGNIZERS:
        found.extend(recognizer(text, resolve(found)))
    return resolve(found)


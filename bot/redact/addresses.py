"""Street addresses: [Flat 3,] house number, street name, street type ("12a Mill Lane").

The town after the street is left alone (the bot needs places); a postcode is found on its own.
A street needs at least one name word between the number and the street type, and those words
must look like a street name: "3 court hearings" and "a 10 minute walk" are not addresses.
"""
from __future__ import annotations

import re
from typing import List

from spacy.lang.en.stop_words import STOP_WORDS

from bot.redact.lexicon import DAYS, KIN, MONTHS
from bot.redact.spans import ADDRESS, Span

STREET_TYPES = frozenset(
    """road rd street st avenue ave av close cl lane ln drive dr way crescent cres cresc court ct gardens
    gdns place pl terrace terr tce grove gr gro hill rise walk mews square sq row parade pde view green
    vale fold croft meadow meadows heights wharf quay gate chase park boulevard grange villas cottages
    mount brow lea dale wynd yard circus approach embankment promenade""".split()
)
# A street type that is also short for something else ("St John's Road": Saint), so it ends a
# street only when nothing name-like follows it.
_AMBIGUOUS_TYPES = frozenset({"st", "dr"})

# Words that never make a street name: counts, time, people, and the courts and orders of a case.
_NOT_STREET_WORDS = frozenset(
    """minute minutes min mins hour hours hr hrs day days week weeks month months year years yr yrs
    mile miles metre metres meter meters km yard yards time times pound pounds quid percent
    people person adults family families county crown magistrates magistrate combined civil care
    section social hearing hearings review reviews meeting meetings order orders contact supervised
    foster placement placements visit visits session sessions court courts child children kid kids
    boy boys girl girls son sons daughter daughters grandkids grandchildren brothers sisters twins
    siblings babies car bus train""".split()
) | KIN | DAYS | MONTHS

_HOUSE_NUMBER = re.compile(r"(?<![\w£$€.,/:@-])(\d{1,4}[A-Za-z]?)(?:\s?[-–]\s?\d{1,4}[A-Za-z]?)?(?![\w/:%])")
_WORD = re.compile(r"[,]?[ \t]+([A-Za-z][A-Za-z'.-]*)")
_FLAT_BEFORE = re.compile(
    r"\b(?:flat|apartment|apt|unit|room|maisonette)\.?\s*(?:no\.?\s*)?\d{0,4}[A-Za-z]?\s*,?\s*$", re.IGNORECASE
)
_CONTEXT = re.compile(r"\b(?:address|live[sd]?|living|stay(?:ing)?|moved|move|house|home|at)\b", re.IGNORECASE)


def find_addresses(text: str) -> List[Span]:
    spans = []
    for number in _HOUSE_NUMBER.finditer(text):
        end = _street_end(text, number.end())
        if end is None:
            continue
        start = number.start()
        flat = _FLAT_BEFORE.search(text[max(0, start - 30):start])
        if flat and re.search(r"\d|\b[a-z]\b", flat.group(0), re.IGNORECASE):
            start = start - len(flat.group(0))
        context = _CONTEXT.search(text[max(0, start - 25):start])
        spans.append(Span(start, end, ADDRESS, 0.95 if context else 0.85))
    return spans


def _street_end(text: str, position: int):
    """End of the street after a house number, or None if no street follows."""
    names = 0
    end = None
    for _ in range(6):
        match = _WORD.match(text, position)
        if not match:
            break
        # A comma may follow the house number ("12, Mill Lane") but not split a street name.
        if match.group(0).startswith(",") and names:
            break
        word = match.group(1).rstrip(".")
        lower = word.lower()
        if lower in STREET_TYPES and names and (lower not in _AMBIGUOUS_TYPES or not _name_follows(text, match.end())):
            end = match.end()
            # A second street type straight after ("Mill Hill Road") belongs to the same street.
            following = _WORD.match(text, end)
            if following and not following.group(0).startswith(",") and following.group(1).lower().rstrip(".") in STREET_TYPES:
                end = following.end()
            return end
        if not _street_word(word):
            break
        names += 1
        position = match.end()
    return end


def _street_word(word: str) -> bool:
    lower = word.lower()
    if lower in _NOT_STREET_WORDS:
        return False
    if lower in STOP_WORDS and not word[:1].isupper():
        return False
    if lower in ("the", "and", "of", "on", "in", "at", "to", "for", "is", "a", "an"):
        return False
    return True


def _name_follows(text: str, position: int) -> bool:
    match = _WORD.match(text, position)
    return bool(match) and not match.group(0).startswith(",") and match.group(1)[:1].isupper()

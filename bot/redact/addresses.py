"""Street addresses: [Flat 3,] house number, street name, street type ("12a Mill Lane"), and the
other ways people write where they live.

The town after the street is left alone (the bot needs places); a postcode is found on its own.
A street needs at least one name word between the number and the street type, and those words
must look like a street name: "3 court hearings" and "a 10 minute walk" are not addresses.

Also found:
- a named building, with its flat number and the road after it if given: "Bramble Cottage, Church
  Lane", "Flat 12, Ashby House", "Apartment 4 Jubilee Court". A cottage, farm, barn, lodge, manor,
  mews, villa or bungalow with a capitalised name is a home wherever it stands; a house, court,
  close, hall, gardens and the like only with a flat number before it, a road, town or postcode
  after it, or "live at"/"address is" before it ("Leeds Crown Court" and "the Town Hall" stay);
- a number and "The" with a name: "7 The Meadows", "9 The Briars";
- a number and a road name with no street type ("12 Beechwood") when a town or postcode follows it
  or "live at", "address is", "moved to" comes before it.
Pieces of one address next to each other ("Flat 12, Ashby House, 40 Spring Street") become one.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from spacy.lang.en.stop_words import STOP_WORDS

from bot.redact.lexicon import DAYS, DOMAIN_NOUNS, KIN, LEGAL_AND_ORGANISATIONS, MONTHS, ROLES, get_lexicon
from bot.redact.spans import ADDRESS, POSTCODE, Span

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
    siblings babies car bus train bed beds bedroom bedrooms bedroomed bed-room storey floor floors star""".split()
) | KIN | DAYS | MONTHS

# Named buildings. Homes whatever the context ("Bramble Cottage"); the others need a sign of an
# address around them ("Flat 2, Ashby House", "Ashby House, Mill Lane", "live at Ashby House").
HOME_BUILDINGS = frozenset(
    "cottage cottages farm farmhouse barn barns lodge manor mews villa villas bungalow rectory vicarage".split()
)
OTHER_BUILDINGS = frozenset(
    """house court close hall gardens mansions buildings tower towers heights grange place mill works
    chambers point quay wharf yard""".split()
)
# Words that make a building public, not a home: "Town Hall", "Crown Court", "City Farm".
_PUBLIC_BUILDING_WORDS = frozenset(
    """town village church city community county crown family magistrates combined civil high supreme
    youth guild sports leisure concert bingo dining school court police fire hospital care nursing foster
    council kinship contact citizens advice children's childrens wind solar fish dairy pig animal
    petting hunting ski holiday home open white opera government royal masonic scout guide trades
    mansion bleak guest public coffee steak pizza tea bath opera club night parliament""".split()
) | DOMAIN_NOUNS | LEGAL_AND_ORGANISATIONS | ROLES

_HOUSE_NUMBER = re.compile(r"(?<![\w£$€.,/:@-])(\d{1,4}[A-Za-z]?)(?:\s?[-–]\s?\d{1,4}[A-Za-z]?)?(?![\w/:%])")
_WORD = re.compile(r"[,]?[ \t]+([A-Za-z][A-Za-z'.-]*)")
_FLAT_BEFORE = re.compile(
    r"\b(?:flat|apartment|apt|unit|room|maisonette)\.?\s*(?:no\.?\s*)?\d{0,4}[A-Za-z]?\s*,?\s*$", re.IGNORECASE
)
_CONTEXT = re.compile(r"\b(?:address|live[sd]?|living|stay(?:ing)?|moved|move|house|home|at)\b", re.IGNORECASE)
# Right before an address, said to be one: "I live at", "address is", "moved to", "we're at".
_ADDRESS_CUE = re.compile(
    r"\b(?:(?:live[sd]?|living|stay(?:s|ing)?|staying|based|now|we're|were|i'm|im|we\s+are|i\s+am|lodging)\s+(?:at|in)"
    r"|address(?:\s+is|\s+was|\s+now\s+is)?|moved\s+(?:to|into)|moving\s+(?:to|into)|move\s+(?:to|into)"
    r"|(?:send|post|write)\s+(?:it|them|the\s+\w+)?\s*to)\s*[:=-]?\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_CAPITAL_WORD = re.compile(r"[A-Z][A-Za-z'-]*")
_NAME_WORDS = re.compile(r"((?:(?:The|[A-Z][A-Za-z'-]*)[ \t]+){0,3})([A-Za-z]+)\b")
_THE_STREET = re.compile(r"[ \t]+(The|the)((?:[ \t]+[A-Za-z][A-Za-z'-]*){1,3})")
_BARE_STREET = re.compile(r"((?:[ \t]+[A-Za-z][A-Za-z'-]*){1,2})")


def find_addresses(text: str, found: Sequence[Span] = ()) -> List[Span]:
    postcodes = [span.start for span in found if span.kind == POSTCODE]
    spans = []
    for number in _HOUSE_NUMBER.finditer(text):
        end = _street_end(text, number.end())
        start = number.start()
        flat = _FLAT_BEFORE.search(text[max(0, start - 30):start])
        has_flat = bool(flat and re.search(r"\d|\b[a-z]\b", flat.group(0), re.IGNORECASE))
        cue = bool(_ADDRESS_CUE.search(text[max(0, start - 40):start]))
        score = 0.95 if _CONTEXT.search(text[max(0, start - 25):start]) else 0.85
        if end is None:
            end = _the_street_end(text, number.end(), cue or has_flat)
            score = 0.9 if cue or has_flat else 0.8
        if end is None:
            end = _building_end(text, number.end())
            score = 0.9 if cue or has_flat else 0.85
        if end is None:
            # "12 Beechwood": capitalised, with a town or postcode after it or a cue before it;
            # lower case ("live at 12 beechwood, leeds") needs both.
            capital = _bare_street_end(text, number.end())
            lower = _bare_street_end(text, number.end(), lower_ok=True) if cue else None
            if capital is not None and (cue or has_flat or _place_or_postcode_follows(text, capital, postcodes)):
                end = capital
            elif lower is not None and _place_or_postcode_follows(text, lower, postcodes):
                end = lower
            score = 0.85
        if end is None:
            continue
        if has_flat:
            start = start - len(flat.group(0))
        spans.append(Span(start, end, ADDRESS, score))
    if any(word in text for word in _BUILDING_HINTS) or any(word in text.lower() for word in _BUILDING_HINTS_LOWER):
        spans.extend(_named_buildings(text, postcodes))
        # "we're in flat 2 above the chip shop", "I live in Flat 4b": a flat number alone after a cue.
        for flat in _FLAT_ALONE.finditer(text):
            if _ADDRESS_CUE.search(text[max(0, flat.start() - 40):flat.start()]):
                spans.append(Span(flat.start(), flat.end(), ADDRESS, 0.85))
    return _join_pieces(text, spans)


_FLAT_ALONE = re.compile(r"\b(?:flat|apartment|apt)\.?\s*(?:no\.?\s*)?\d{1,4}[A-Za-z]?(?![\w/:%])", re.IGNORECASE)


_BUILDING_HINTS = tuple(w.capitalize() for w in HOME_BUILDINGS | OTHER_BUILDINGS)
_BUILDING_HINTS_LOWER = ("flat ", "apartment ", "unit ")


def _named_buildings(text: str, postcodes: Sequence[int]) -> List[Span]:
    spans = []
    pattern = _BUILDING_PATTERN
    for match in pattern.finditer(text):
        kind = match.group("kind").lower()
        start = match.start()
        words = match.group("name").split()
        # Trim words from the left until the name is only name words ("we live at Ashby House").
        while words and not _building_name_word(words[0], first=True):
            start += text[start:].index(words[0]) + len(words[0])
            start += len(text[start:]) - len(text[start:].lstrip())
            words = words[1:]
        if not words or any(not _building_name_word(w) for w in words[1:]):
            continue
        if all(w.lower() in _PUBLIC_BUILDING_WORDS or w == "The" for w in words):
            continue
        if words[-1].lower() in _PUBLIC_BUILDING_WORDS or get_lexicon().is_place(words[-1]) and kind == "court":
            continue  # "Leeds Crown Court", "Bradford Court" (the court of law)
        if " ".join(words + [match.group("kind")]).lower().replace("\u2019", "'") in get_lexicon().places:
            continue  # a place the council directory knows ("Swiss Cottage", "Canary Wharf"), not a home
        end = match.end()
        before = text[max(0, start - 40):start]
        flat = _FLAT_BEFORE.search(before)
        has_flat = bool(flat and re.search(r"\d|\b[a-z]\b", flat.group(0), re.IGNORECASE))
        road_end = _road_after(text, end)
        cue = bool(_ADDRESS_CUE.search(before))
        if kind not in HOME_BUILDINGS and not (has_flat or road_end or cue or _place_or_postcode_follows(text, end, postcodes)):
            continue
        if has_flat:
            start -= len(flat.group(0))
        score = 0.9 if has_flat or road_end or cue else 0.8
        spans.append(Span(start, road_end or end, ADDRESS, score))
    return spans


_BUILDING_PATTERN = re.compile(
    r"(?<![\w'-])(?P<name>(?:(?:The|[A-Z][A-Za-z'-]*)[ \t]+){1,3})(?P<kind>"
    + "|".join(sorted((w.capitalize() for w in HOME_BUILDINGS | OTHER_BUILDINGS), key=len, reverse=True))
    + r")\b(?!['-])"
)


def _building_end(text: str, position: int) -> Optional[int]:
    """ "12 Ashby House": a house number, then a named building."""
    gap = re.match(r",?[ \t]+", text[position:])
    if not gap:
        return None
    match = _BUILDING_PATTERN.match(text, position + gap.end())
    if not match:
        return None
    words = match.group("name").split()
    if not all(_building_name_word(w, first=i == 0) for i, w in enumerate(words)):
        return None
    if any(w.lower() in _PUBLIC_BUILDING_WORDS for w in words):
        return None
    return match.end()


def _building_name_word(word: str, first: bool = False) -> bool:
    lower = word.lower()
    if word == "The":
        return first
    if not word[:1].isupper() or lower in STOP_WORDS or lower in _NOT_STREET_WORDS or lower in KIN:
        return False
    if lower.endswith("'s") and lower[:-2] in KIN | ROLES:
        return False
    return True


def _road_after(text: str, position: int) -> Optional[int]:
    """End of a road named right after a building: "Bramble Cottage, Church Lane"."""
    match = re.match(r",?[ \t]+", text[position:])
    if not match:
        return None
    end = _street_end(text, position)
    if end is not None:
        return end
    # "Ashby House, 40 Spring Street" is joined later, as two pieces.
    return None


def _the_street_end(text: str, position: int, cue: bool) -> Optional[int]:
    """ "7 The Meadows", "9 The Briars"; lower-case "7 the meadows" only after an address cue and
    with a street type last."""
    match = _THE_STREET.match(text, position)
    if not match:
        return None
    words = match.group(2).split()
    kept = []
    for word in words:
        lower = word.lower()
        if lower in _NOT_STREET_WORDS or lower in DOMAIN_NOUNS or lower in STOP_WORDS or lower in ROLES:
            break
        if match.group(1) == "The" and not word[:1].isupper():
            break
        kept.append(word)
    if not kept:
        return None
    end = match.start(2) + match.group(2).index(kept[-1]) + len(kept[-1])
    if match.group(1) == "the" and not (cue and kept[-1].lower() in STREET_TYPES):
        return None
    return end


def _bare_street_end(text: str, position: int, lower_ok: bool = False) -> Optional[int]:
    """ "12 Beechwood": one or two name words with no street type."""
    end = None
    for _ in range(2):
        match = _WORD.match(text, position)
        if not match or match.group(0).startswith(",") and end is not None:
            break
        word = match.group(1).rstrip(".")
        lower = word.lower()
        if match.end() < len(text) and text[match.end()].isdigit():
            break  # "LS6": a postcode, not a word
        if lower in _NOT_STREET_WORDS or lower in STOP_WORDS or lower in DOMAIN_NOUNS or lower in ROLES:
            break
        if not word[:1].isupper() and not lower_ok:
            break
        if get_lexicon().is_place(word) and end is None:
            break  # "3 Leeds councillors": the town itself is no street name
        end = match.start(1) + len(word)
        position = end
    return end


def _place_or_postcode_follows(text: str, end: Optional[int], postcodes: Sequence[int]) -> bool:
    """A town (a known place) or a postcode straight after `end`: "12 Beechwood, Leeds"."""
    if end is None:
        return False
    rest = text[end:end + 60]
    gap = re.match(r"\s*,?\s*", rest)
    after = end + gap.end()
    if after in postcodes:
        return True
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", rest[gap.end():])[:3]
    lexicon = get_lexicon()
    for n in (3, 2, 1):
        if len(words) >= n and " ".join(words[:n]).lower() in lexicon.places:
            return True
    return False


def _join_pieces(text: str, spans: List[Span]) -> List[Span]:
    """Pieces of one address side by side become one span: "Flat 12, Ashby House, 40 Spring Street"."""
    spans = sorted(spans, key=lambda s: (s.start, -s.end))
    joined: List[Span] = []
    for span in spans:
        if joined and span.start <= joined[-1].end:
            last = joined[-1]
            joined[-1] = Span(last.start, max(last.end, span.end), ADDRESS, max(last.score, span.score))
        elif joined and re.fullmatch(r"\s*,?\s*", text[joined[-1].end:span.start]):
            last = joined[-1]
            joined[-1] = Span(last.start, span.end, ADDRESS, max(last.score, span.score))
        else:
            joined.append(span)
    return joined


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

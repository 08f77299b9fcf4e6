"""Find the council that runs children's services for a place someone mentions. Pure: no I/O when
matching (the default constructor loads the shipped gazetteer once, cached for the process).

"my council is Kirklees", "we're in brum", "Leister", "I live in Harrogate" -> a council;
"we live in Kirkby Lonsdale", "ilkley, west yorks", "near Thirsk" -> a council (from the gazetteer);
"Richmond" -> ambiguous (ask which); "Cardiff" -> outside England; "LS6 2AB" -> postcode;
"I'm in a mess" -> nothing.

How: every alias in the directory (official names, short names, districts, towns, former
councils, nicknames) is normalised into an index; the gazetteer (bot/councils/gazetteer.py: every
populated place in England from OS Open Names, postcode districts and county names from ONS) adds
the places the directory does not name. The message's word n-grams are looked up exactly, longest
first: the longest name wins ("Kirkby Lonsdale" is one place, not "Kirkby"), and at equal length a
directory alias beats a gazetteer place. If nothing matches exactly, rapidfuzz compares them with the
aliases, with a threshold that rejects nonsense and a margin that turns two close candidates into a
question. Aliases that are also ordinary English words ("Reading", "Bury", "Bath") only count when
written with a capital or after a place word ("in", "near", "council"); gazetteer places need a
place word before them, a county or "council" after them, or to be the whole message; those that
are everyday words ("Street", "March") need a capital and "live in", "near", "from" or their county;
those mostly meant otherwise ("Paul", "Dublin", "New York") need their county; none is read as part
of an address ("12 Brook Street", "St Mary's Primary").

"Town, county" ("Uxbridge, Middlesex", "Richmond, North Yorkshire"): the town decides; the county
only narrows a town found in several councils. A place found in several councils gives "ambiguous"
with the councils ranked (most significant place first, at most MAX_OPTIONS), unless one place dwarfs
the others ("we live in Street": the Somerset town, not the hamlets). A postcode or postcode district
is read by its outward code only: the full postcode is never kept in the result. It narrows a place
found in several councils ("Newport PO30"); alone it gives kind "postcode" with the district's
councils by share (or, with answer_postcodes=True, an answer like a place's).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.councils.directory import Directory
from bot.councils.gazetteer import Gazetteer, Place, load_gazetteer, outward_code
from bot.councils.text import normalise

__all__ = ["CouncilMatcher", "Match", "NO_MATCH", "OUTSIDE", "COMMON_WORD_ALIASES", "normalise"]

# A target is a council name, or "outside:<nation>" for places outside England.
OUTSIDE = "outside:"

POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})?\b", re.IGNORECASE)
FULL_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_BARE_OUTCODE = re.compile(r"\b[A-Z]{1,2}\d{1,2}[A-Z]?\b")
_POSTCODE_WORD = re.compile(r"[a-z]{1,2}\d[a-z\d]?|\d[a-z]{2}|[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}")

_GENERIC_WORDS = (
    "metropolitan borough council", "borough council", "county council", "city council",
    "district council", "council", "london borough of", "royal borough of", "city of",
    "metropolitan district", "borough of", "county of", "unitary authority", "the",
)
_STOPWORDS = set("""
a an the i im i'm me my we were we're our us you your he she they them it its is are was be been am
in on at to from near by of for and or but with live lives living lived stay staying moved move
council councils borough county city district area local authority la town village
what who how when where why which can could would should will do does did have has had not no yes
please help thanks thank hi hello just really very so that this there here about social services
court mess care family children child kids son daughter baby grandson granddaughter nan gran mum dad
""".split())
# Aliases that are everyday words: only matched when written with a capital or after a place cue.
COMMON_WORD_ALIASES = {
    # ordinary English words
    "reading", "bury", "bath", "march", "wells", "hope", "street", "deal", "sale", "battle", "ware",
    "eye", "send", "stone", "rugby", "barking", "harrow", "sandwich", "cheddar", "derby", "wellington",
    # first names people mention in chats ("my ex Leigh")
    "leigh", "royston", "stanley", "ashley", "clayton", "kendal",
}
_PLACE_CUES = re.compile(
    r"\b(?:in|near|nr|from|at|around|outside|live|lives|living|based|moved|council|borough|"
    r"county|area|is|it's|its|(?:moved|move|moving|going|went|come|came|relocated|complain|complaint|"
    r"write|writing|report|apply|applied) to)\s*$"
)
_AFTER_CUES = re.compile(r"^\s*(?:council|borough|county|city|area|la|local authority|children'?s services)\b")
# Gazetteer places are many and some are also names of people ("Stanley") or things: a stricter cue,
# and for everyday words ("in March", "in Battle") a stronger one still.
_GAZETTEER_CUES = re.compile(
    r"\b(?:in|near|nr|from|around|outside|live|lives|living|lived|based|postcode|village of|"
    r"town of|(?:council|authority|area) is|(?:moved|move|moving|going|went|come|came|relocated) to)\s*$"
)
_STRONG_CUES = re.compile(
    r"\b(?:(?:live|lives|living|lived|based|stay|staying|settled) (?:in|at|near)|near|nr|from|outside|"
    r"postcode|village of|town of|(?:moved|move|moving|relocated) to)\s*$"
)
# Words after a name that make it part of an address or an institution, not where someone lives.
_ADDRESS_WORDS = set("""
road rd street lane ln avenue ave close drive dr way crescent terrace gardens grove place square court mews
primary secondary school academy college university church hospital surgery infants infant junior juniors
nursery hotel station prison estate parade
""".split())
# "from" after these is not where someone lives: "excluded from Moorside High", "a letter from Paul".
_FROM_NOT_PLACE = re.compile(
    r"\b(?:excluded|expelled|suspended|removed|taken|took|banned|letter|letters|call|calls|email|emails|text|texts|"
    r"message|messages|heard|hear|away|off|out|apart|different|separated|discharged|released|back) from\s*$")
# Words between a town and its county: "Ilkley, West Yorks", "Ilkley in West Yorkshire".
_QUALIFIER_GAP = {"in", "near", "nr", "of"}
# Words that, lower case after a directory alias, are not part of a longer place name: "York town
# centre" is York, not the Surrey suburb York Town.
_GENERIC_TAIL = set("""
town city centre center area road street lane way estate village park side end green hill bridge common
moor heath gate hall station hospital court college school university council borough district county
north south east west upper lower new old great little high
""".split())
# What may stand around a place that is the whole message: "Thirsk please", "it's Ilkley", "Ilkley area".
_FILLER = set("""
hi hello hey please thanks thank you ok okay yes yeah its it is thats that the just um er erm i think
area town village city centre center district near
""".split())
_CONNECTORS = {"on", "upon", "under", "in", "le", "la", "de", "by", "the", "super", "next", "cum", "en",
               "sub", "with", "and", "of", "st", "at"}

# One place ranked this far above the others (8x their mapped extent) is the one meant, unless its name
# was shortened ("Weston" may be Weston-super-Mare or any of 20 Westons: ask, best first).
DECISIVE_MARGIN = 0.9
MAX_OPTIONS = 5  # councils offered when a name is in several (the reply shows one button each)
OPTION_SPREAD = 1.5  # ... of places ranked within this of the best (about 30x smaller mapped extent)
MIN_POSTCODE_SHARE = 0.02  # a council with less of a postcode district than this is not offered

_DEFAULT = object()


def _similarity(a: str, b: str, **_: object) -> float:
    """0-100: the better of rapidfuzz's ratio (good for missing letters: "Leister") and OSA, where a
    swapped pair of letters counts as one slip ("Baisldon")."""
    return max(fuzz.ratio(a, b), OSA.normalized_similarity(a, b) * 100)


def _strip_generic(name: str) -> str:
    for word in _GENERIC_WORDS:
        name = re.sub(rf"(?:^|\s){word}(?=\s|$)", " ", name)
    return re.sub(r"\s+", " ", name).strip()


@dataclass(frozen=True)
class Match:
    kind: str  # council | ambiguous | outside_england | postcode | none
    councils: Tuple[str, ...] = ()
    nation: Optional[str] = None
    matched: Optional[str] = None  # the words in the message that matched (a postcode: its outward code only)
    score: float = 0.0
    # for ambiguous: council names and/or "outside:<nation>"; from the gazetteer or a postcode, best first
    options: Tuple[str, ...] = field(default=())
    source: str = "alias"  # alias (councils.yml) | gazetteer | postcode
    # For kind "postcode": the outward code; `councils` then holds the council(s) of that district,
    # largest share first (one: it lies in one council; none: unknown or outside England).
    postcode_district: Optional[str] = None

    @property
    def council(self) -> Optional[str]:
        return self.councils[0] if self.kind == "council" and self.councils else None


NO_MATCH = Match("none")

_Span = Tuple[int, int]


@dataclass(frozen=True)
class _Found:
    start: int
    size: int
    gram: str
    targets: Optional[Set[str]] = None  # an alias
    places: Tuple[Place, ...] = ()  # a gazetteer place


class CouncilMatcher:
    def __init__(self, directory: Directory, threshold: float = 86.0, margin: float = 3.0,
                 gazetteer: object = _DEFAULT, answer_postcodes: bool = True) -> None:
        """`gazetteer`: a Gazetteer, or None to match directory aliases only (the default loads the
        shipped one). `answer_postcodes` (default True) answers a postcode like a place: "council",
        "ambiguous" or "outside_england", with source "postcode"; a district we do not know stays kind
        "postcode". False keeps kind "postcode" always (the council(s) ride along in `councils`)."""
        self.threshold = threshold
        self.margin = margin
        self.answer_postcodes = answer_postcodes
        self.index: Dict[str, Set[str]] = {}
        for council in directory.councils:
            self._add(council.name, council.name)
            for alias in council.aliases:
                self._add(alias.alias, council.name)
        for group in directory.ambiguous:
            for name in group.councils:
                self._add(group.alias, name, strip=False)
        for place in directory.outside_england:
            self._add(place.place, OUTSIDE + place.nation)
        self.gazetteer: Optional[Gazetteer] = load_gazetteer() if gazetteer is _DEFAULT else gazetteer  # type: ignore
        self._names_by_gss = {c.gss_code: c.name for c in directory.councils if c.gss_code}
        self._alias_words = max(len(k.split()) for k in self.index)
        self._max_words = max(self._alias_words, self.gazetteer.max_words if self.gazetteer else 0)
        # For each phrase length, the aliases close enough in length to be a misspelling of it.
        longest = max(len(k) for k in self.index)
        self._keys_near_length = {
            n: [k for k in self.index if abs(len(k) - n) <= max(2, n // 3)] for n in range(1, longest + 6)
        }

    def _add(self, alias: str, target: str, strip: bool = True) -> None:
        key = normalise(alias)
        keys = {key}
        if strip:
            stripped = _strip_generic(key)
            if stripped and stripped not in _STOPWORDS:
                keys.add(stripped)
        for k in keys:
            if k:
                self.index.setdefault(k, set()).add(target)

    # -- lookup -------------------------------------------------------------------------------

    def match(self, text: str) -> Match:
        if not text or not text.strip():
            return NO_MATCH
        text = text[:2000]  # a place is named near the start; huge pastes are cut, not processed
        words = normalise(text).split()
        outward = self._outward(text, words)
        counties = self._county_spans(words)
        exact, span = self._exact(text, words, counties, outward)
        # With an exact match, fuzzy matching only looks for a longer, misspelt name around it
        # ("Strtaford upon Avon" is not the word "Avon"); the rest of the message is not rescanned.
        fuzzy = self._fuzzy(text, words, around=span)
        if exact and fuzzy and fuzzy.score >= self.threshold + 4:
            result: Optional[Match] = fuzzy
        else:
            result = exact or fuzzy
        if result:
            return self._narrow_to_postcode(result, outward) if outward else result
        if outward or FULL_POSTCODE.search(text) or self._looks_like_outcode(text, words):
            return self._postcode_match(outward or "")
        return NO_MATCH

    def _ngrams(self, words: Sequence[str], max_words: Optional[int] = None) -> Iterable[Tuple[int, int, str]]:
        for size in range(min(max_words or self._max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                yield start, size, " ".join(words[start:start + size])

    # -- exact: aliases and gazetteer places ----------------------------------------------------

    def _exact(self, original: str, words: List[str], counties: List[Tuple[int, int, FrozenSet[str]]],
               outward: Optional[str]) -> Tuple[Optional[Match], Optional[_Span]]:
        """The longest name in the message, and its (start, size) in words.

        "Town, county" ("Newcastle, Staffordshire", "Uxbridge Middlesex"): the town decides and the
        county only narrows it. Elsewhere the longest name wins as before, except that a county read
        as "which one?" ("West Yorkshire ... in Leeds") is narrowed by a place inside it."""
        county_words = {i for start, size, _ in counties for i in range(start, start + size)}
        town = self._longest(original, words, counties, outward, skip=county_words) if counties else None
        if town is not None:
            county = self._qualifier(words, town.start + town.size, counties)
            if county is not None:
                allowed = {self._names_by_gss[g] for g in county if g in self._names_by_gss}
                return self._found_result(town, allowed), (town.start, town.size)
        found = self._longest(original, words, counties, outward, skip=set())
        if found is None:
            return None, None
        result = self._found_result(found, set())
        if town is not None and (town.start, town.size) != (found.start, found.size) and result.kind == "ambiguous" \
                and county_words & set(range(found.start, found.start + found.size)):
            inside = self._found_result(town, set(result.options))
            if set(inside.options) & set(result.options):
                return inside, (town.start, town.size)
        return result, (found.start, found.size)

    def _found_result(self, found: "_Found", narrow: Set[str]) -> Match:
        if found.targets is not None:
            result = self._result(found.targets, found.gram, 100.0)
        else:
            result = self._place_result(found.places, found.gram, narrow)
        return self._narrow(result, narrow) if narrow and result.kind == "ambiguous" else result

    @staticmethod
    def _qualifier(words: List[str], after: int, counties) -> Optional[FrozenSet[str]]:
        """The councils of a county named right after a place (over "in", "near"), if any."""
        while after < len(words) and words[after] in _QUALIFIER_GAP:
            after += 1
        for start, _size, members in counties:
            if start == after:
                return members
        return None

    def _longest(self, original: str, words: List[str], counties, outward: Optional[str],
                 skip: Set[int]) -> Optional[_Found]:
        # the words of a postcode beside a place ("Selby YO8 9XX") do not stop it being the whole message
        outward_words = {i for i, w in enumerate(words) if outward and _POSTCODE_WORD.fullmatch(w)}
        places = self.gazetteer.places if self.gazetteer else {}
        blocked: Set[int] = set()  # words of a name meant abroad ("New York" is not York)
        size = min(self._max_words, len(words))
        while size > 0:
            place_found: Optional[_Found] = None
            for start in range(len(words) - size + 1):
                span = set(range(start, start + size))
                if (skip and span <= skip) or span & blocked:
                    continue
                gram = " ".join(words[start:start + size])
                if size <= self._alias_words:
                    targets = self._alias_at(original, words, start, size, gram)
                    if targets:
                        return _Found(start, size, gram, targets=targets)
                if place_found is None and gram in places and not (skip & span):
                    entries = places[gram]
                    if self._place_allowed(original, words, start, size, entries, counties, skip | outward_words) \
                            and not self._extends_alias(original, words, start, size):
                        place_found = _Found(start, size, gram, places=entries)
                    elif size > 1 and any(p.famous for p in entries):
                        blocked |= span
            if place_found:
                return place_found
            size -= 1
        return None

    def _alias_at(self, original: str, words: List[str], start: int, size: int, gram: str) -> Optional[Set[str]]:
        targets = self.index.get(gram)
        if not targets or gram in _STOPWORDS:
            return None
        if gram in COMMON_WORD_ALIASES and not self._used_as_place(original, words, start, size):
            return None
        return targets

    def _extends_alias(self, original: str, words: List[str], start: int, size: int) -> bool:
        """A gazetteer name that is a directory alias plus generic lower-case words ("York town
        centre" holds "York Town") is read as the alias."""
        for inner_size in range(size - 1, 0, -1):
            for inner in range(start, start + size - inner_size + 1):
                gram = " ".join(words[inner:inner + inner_size])
                if not self._alias_at(original, words, inner, inner_size, gram):
                    continue
                extra = words[start:inner] + words[inner + inner_size:start + size]
                if all(w in _GENERIC_TAIL for w in extra) and not self._capitalised(original, extra):
                    return True
        return False

    def _place_allowed(self, original: str, words: List[str], start: int, size: int,
                       places: Tuple[Place, ...], counties, ignorable: Set[int]) -> bool:
        """Whether a gazetteer name in the message is used as a place. Needed: a place word before it
        ("in", "near", "from"), "council" or a county after it, or the message being just the place;
        everyday words need a capital and a stronger cue ("live in", "near", "from"); names mostly
        meant otherwise ("Paul", "Dublin") need their county."""
        phrase = words[start:start + size]
        if all(w in _STOPWORDS for w in phrase):
            return False
        following = words[start + size:start + size + 2]
        if (start and words[start - 1].isdigit()) or (following and following[0] in _ADDRESS_WORDS) or \
                (len(following) == 2 and following[0] in ("high", "junior", "infant", "community")
                 and following[1] in _ADDRESS_WORDS):
            return False  # "12 Brook Street", "St John's Road", "Moorside High School": an address, not a place
        everyday = any(p.everyday for p in places) or len("".join(phrase)) <= 3
        famous = any(p.famous for p in places)
        county = self._qualifier(words, start + size, counties)
        # "Datchet, Bucks" (a county it has left) still reads as a place; "Spring Street, Bristol" does
        # not: an everyday or famous name needs a place of that name in the county named after it.
        qualified = county is not None and (not (everyday or famous) or any(p.gss_code in county for p in places))
        if famous:
            return qualified
        before = " ".join(words[:start])
        if _FROM_NOT_PLACE.search(before):
            before = ""
        after = " ".join(words[start + size:])
        council_after = bool(_AFTER_CUES.search(after))
        rest = [w for i, w in enumerate(words) if not start <= i < start + size and i not in ignorable]
        whole = all(w in _FILLER for w in rest)
        if everyday:
            strong = bool(_STRONG_CUES.search(before)) or qualified or council_after or whole
            return strong and self._capitalised(original, phrase)
        if _GAZETTEER_CUES.search(before) or qualified or council_after:
            return True
        if whole:  # "thirsk", "Brill": a small place alone needs its capital
            return size >= 2 or any(p.type in "CT" for p in places) or self._capitalised(original, phrase)
        return size >= 2 and self._capitalised(original, phrase)

    @staticmethod
    def _capitalised(original: str, phrase: Sequence[str]) -> bool:
        """Each word of the phrase (but "on", "upon", "the"...) written with a capital in the message."""
        significant = [w for w in phrase if w not in _CONNECTORS]
        if not significant:
            return False
        parts = []
        for word in phrase:
            if word == "and":
                parts.append(r"(?:and|&)")
            else:
                parts.append("['\u2019]?".join(re.escape(ch) for ch in word))
        found = re.search(r"\b" + r"[\W_]+".join(parts) + r"\b", original, re.IGNORECASE)
        if not found:
            return False
        written = re.findall(r"[A-Za-z][A-Za-z'\u2019]*", found.group(0))
        return all(w[0].isupper() for w in written if normalise(w) not in _CONNECTORS and normalise(w))

    def _county_spans(self, words: List[str]) -> List[Tuple[int, int, FrozenSet[str]]]:
        if not self.gazetteer or not self.gazetteer.counties:
            return []
        counties = self.gazetteer.counties
        taken: Set[int] = set()
        spans = []
        for start, size, gram in self._ngrams(words, 4):
            county = counties.get(gram)
            if county and not taken & set(range(start, start + size)):
                spans.append((start, size, county.councils))
                taken |= set(range(start, start + size))
        return sorted(spans)

    # -- fuzzy: misspelt aliases ----------------------------------------------------------------

    def _fuzzy(self, original: str, words: List[str], around: Optional[_Span] = None) -> Optional[Match]:
        """Closest aliases by spelling; with `around`, only longer phrases containing that span."""
        best: List[Tuple[float, str, str]] = []  # (score, alias key, matched words)
        for start, size, gram in self._ngrams(words, self._alias_words):
            if size > 4 or len(gram) < 4 or words[start] in _STOPWORDS or words[start + size - 1] in _STOPWORDS:
                continue
            if around and not (size > around[1] and start <= around[0] and start + size >= sum(around)):
                continue
            if gram in self.index:  # an exact alias that _exact() rejected as an ordinary word
                continue
            if any(ch.isdigit() for ch in gram):  # no alias has a digit: "yo8 9xx" is a postcode, not a slip
                continue
            as_place = self._used_as_place(original, words, start, size)
            cutoff = self.threshold + (6 if len(gram) <= 5 else 0)  # short words need a closer match
            candidates = self._keys_near_length.get(len(gram), ())
            for key, score in self._closest(gram, candidates, cutoff):
                if key in COMMON_WORD_ALIASES and not as_place:
                    continue
                best.append((score, key, gram))
        if not best:
            return None
        best.sort(key=lambda item: (-item[0], -len(item[2])))
        top_score, top_key, top_gram = best[0]
        targets = set(self.index[top_key])
        for score, key, gram in best[1:]:
            if top_score - score <= self.margin and not (self.index[key] <= targets):
                targets |= self.index[key]  # two different places are about as close: ask which
        return self._result(targets, top_gram, top_score)

    @staticmethod
    def _closest(gram: str, candidates: Sequence[str], cutoff: float) -> List[Tuple[str, float]]:
        """The 3 aliases most like `gram` by _similarity, at least `cutoff`, as process.extract with that
        scorer would give them (ties in list order), but shortlisted first by rapidfuzz's C ratio: a
        candidate within `cutoff` by _similarity is within 20 points of it by ratio for these lengths."""
        shortlist = process.extract(gram, candidates, scorer=fuzz.ratio, score_cutoff=cutoff - 20, limit=None)
        scored = [(_similarity(gram, key), index, key) for key, _, index in shortlist]
        scored = sorted((item for item in scored if item[0] >= cutoff), key=lambda item: (-item[0], item[1]))
        return [(key, score) for score, _, key in scored[:3]]

    # -- results --------------------------------------------------------------------------------

    @staticmethod
    def _result(targets: Set[str], matched: str, score: float) -> Match:
        options = tuple(sorted(targets))
        councils = tuple(t for t in options if not t.startswith(OUTSIDE))
        nations = sorted({t[len(OUTSIDE):] for t in options if t.startswith(OUTSIDE)})
        if len(options) == 1 and councils:
            return Match("council", councils, matched=matched, score=score, options=options)
        if not councils and len(nations) >= 1:
            return Match("outside_england", nation=nations[0], matched=matched, score=score, options=options)
        return Match("ambiguous", councils, matched=matched, score=score, options=options)

    def _ranked_councils(self, places: Sequence[Place]) -> List[Tuple[str, float]]:
        ranked: Dict[str, float] = {}
        for place in places:  # already best first
            name = self._names_by_gss.get(place.gss_code)
            if name and name not in ranked:
                ranked[name] = place.rank
        return sorted(ranked.items(), key=lambda item: -item[1])

    def _place_result(self, places: Sequence[Place], matched: str, narrow: Set[str]) -> Match:
        ranked = self._ranked_councils(places)
        if narrow and any(name in narrow for name, _ in ranked):
            ranked = [(name, rank) for name, rank in ranked if name in narrow]
        top_is_short_form = next((p.short_form for p in places if self._names_by_gss.get(p.gss_code) == ranked[0][0]), False)
        if len(ranked) == 1 or (ranked[0][1] - ranked[1][1] >= DECISIVE_MARGIN and not top_is_short_form):
            return Match("council", (ranked[0][0],), matched=matched, score=100.0, options=(ranked[0][0],),
                         source="gazetteer")
        # offer the places of a size near the best one's, at most MAX_OPTIONS
        names = tuple(name for name, rank in ranked if rank >= ranked[0][1] - OPTION_SPREAD)[:MAX_OPTIONS]
        return Match("ambiguous", names, matched=matched, score=100.0, options=names, source="gazetteer")

    @staticmethod
    def _narrow(result: Match, allowed: Set[str]) -> Match:
        """Keep the options inside `allowed` (the councils of a county or a postcode district named
        in the same message); a result with none inside is left as it is: the place decides."""
        kept = tuple(o for o in result.options if o in allowed)
        if not kept or result.kind not in ("ambiguous", "council"):
            return result
        kind = "council" if len(kept) == 1 else "ambiguous"
        return Match(kind, kept, matched=result.matched, score=result.score, options=kept, source=result.source)

    # -- postcodes ------------------------------------------------------------------------------

    def _outward(self, text: str, words: List[str]) -> Optional[str]:
        """The outward code of a postcode in the message ("YO8" of "YO8 9XX"), or of a bare district
        ("we're in BS4"); the inward part is dropped here and never kept."""
        full = FULL_POSTCODE.search(text)
        if full:
            return outward_code(full.group(0))
        if "postcode" in words:  # "my postcode is m14": any case
            bare = re.search(_BARE_OUTCODE.pattern, text, re.IGNORECASE)
        else:  # otherwise written as a postcode, in capitals, in a short message
            bare = _BARE_OUTCODE.search(text) if len(words) <= 4 else None
        return outward_code(bare.group(0)) if bare else None

    def _postcode_candidates(self, outward: str) -> Tuple[Tuple[str, ...], Tuple[str, ...], float]:
        district = self.gazetteer.postcodes.get(outward) if self.gazetteer and outward else None
        if district is None:
            return (), (), 0.0
        shares = [(self._names_by_gss[g], s) for g, s in district.councils
                  if s >= MIN_POSTCODE_SHARE and g in self._names_by_gss]
        shares += [(OUTSIDE + nation, s) for nation, s in district.outside if s >= MIN_POSTCODE_SHARE]
        shares.sort(key=lambda item: -item[1])
        options = tuple(name for name, _ in shares)
        councils = tuple(o for o in options if not o.startswith(OUTSIDE))
        return councils, options, (shares[0][1] if shares else 0.0)

    def _postcode_match(self, outward: str) -> Match:
        councils, options, top = self._postcode_candidates(outward)
        matched = outward or None
        if not self.answer_postcodes or not options:
            return Match("postcode", councils, matched=matched, score=round(top * 100, 1), options=options,
                         source="postcode", postcode_district=matched)
        if len(options) == 1 and councils:
            kind = "council"
        elif not councils:
            kind = "outside_england"
        else:
            kind = "ambiguous"
        nation = options[0][len(OUTSIDE):] if kind == "outside_england" else None
        return Match(kind, councils, nation=nation, matched=matched, score=round(top * 100, 1), options=options,
                     source="postcode", postcode_district=matched)

    def _narrow_to_postcode(self, result: Match, outward: str) -> Match:
        """A place in several councils, with a postcode beside it ("Newport PO30"): the postcode's."""
        if result.kind != "ambiguous":
            return result
        _, options, _ = self._postcode_candidates(outward)
        return self._narrow(result, set(options))

    @staticmethod
    def _used_as_place(original: str, words: List[str], start: int, size: int) -> bool:
        before = " ".join(words[:start])
        after = " ".join(words[start + size:])
        if _PLACE_CUES.search(before) or _AFTER_CUES.search(after) or (start == 0 and not after):
            return True
        phrase = r"\W+".join(re.escape(w) for w in words[start:start + size])
        found = re.search(rf"\b{phrase}\b", original, re.IGNORECASE)
        return bool(found and found.group(0)[0].isupper() and found.start() > 0)

    @staticmethod
    def _looks_like_outcode(text: str, words: List[str]) -> bool:
        """A bare postcode district such as "LS6" (letters then a digit), in a short message
        ("we're in BS4") or after "postcode"."""
        outcode = _BARE_OUTCODE.search(text)
        return bool(outcode and (len(words) <= 4 or "postcode" in words))

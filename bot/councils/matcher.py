"""Find the council that runs children's services for a place someone mentions. Pure, no I/O.

"my council is Kirklees", "we're in brum", "Leister", "I live in Harrogate" -> a council;
"Richmond" -> ambiguous (ask which); "Cardiff" -> outside England; "LS6 2AB" -> postcode;
"I'm in a mess" -> nothing.

How: every alias in the directory (official names, short names, districts, towns, former
councils, nicknames) is normalised into an index. The message's word n-grams are looked up
exactly, longest first; if none matches, rapidfuzz compares them with the aliases, with a
threshold that rejects nonsense and a margin that turns two close candidates into a question.
Aliases that are also ordinary English words ("Reading", "Bury", "Bath") only count when
written with a capital or after a place word ("in", "near", "council").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.councils.directory import Directory

# A target is a council name, or "outside:<nation>" for places outside England.
OUTSIDE = "outside:"

POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})?\b", re.IGNORECASE)
FULL_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)

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


def normalise(text: str) -> str:
    text = (text or "").lower().replace("&", " and ").replace("\u2019", "'")
    text = re.sub(r"\bst\.?\s", "st ", text)
    text = re.sub(r"\bsaint\b", "st", text)
    text = re.sub(r"[^a-z0-9' -]+", " ", text)
    text = text.replace("-", " ").replace("'", "")
    return re.sub(r"\s+", " ", text).strip()


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
    matched: Optional[str] = None  # the words in the message that matched
    score: float = 0.0
    options: Tuple[str, ...] = field(default=())  # for ambiguous: council names and/or "outside:<nation>"

    @property
    def council(self) -> Optional[str]:
        return self.councils[0] if self.kind == "council" and self.councils else None


NO_MATCH = Match("none")


class CouncilMatcher:
    def __init__(self, directory: Directory, threshold: float = 86.0, margin: float = 3.0) -> None:
        self.threshold = threshold
        self.margin = margin
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
        self._max_words = max(len(k.split()) for k in self.index)
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
        exact, span = self._exact(text, words)
        # With an exact match, fuzzy matching only looks for a longer, misspelt name around it
        # ("Strtaford upon Avon" is not the word "Avon"); the rest of the message is not rescanned.
        fuzzy = self._fuzzy(text, words, around=span)
        if exact and fuzzy and fuzzy.score >= self.threshold + 4:
            return fuzzy
        if exact or fuzzy:
            return exact or fuzzy
        if FULL_POSTCODE.search(text) or self._looks_like_outcode(text, words):
            return Match("postcode", matched=(FULL_POSTCODE.search(text) or POSTCODE.search(text)).group(0))
        return NO_MATCH

    def _ngrams(self, words: Sequence[str]) -> Iterable[Tuple[int, int, str]]:
        for size in range(min(self._max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                yield start, size, " ".join(words[start:start + size])

    def _exact(self, original: str, words: List[str]) -> Tuple[Optional[Match], Optional[Tuple[int, int]]]:
        """The longest alias in the message, and its (start, size) in words."""
        for start, size, gram in self._ngrams(words):
            targets = self.index.get(gram)
            if not targets or gram in _STOPWORDS:
                continue
            if gram in COMMON_WORD_ALIASES and not self._used_as_place(original, words, start, size):
                continue
            return self._result(targets, gram, 100.0), (start, size)
        return None, None

    def _fuzzy(self, original: str, words: List[str],
               around: Optional[Tuple[int, int]] = None) -> Optional[Match]:
        """Closest aliases by spelling; with `around`, only longer phrases containing that span."""
        best: List[Tuple[float, str, str]] = []  # (score, alias key, matched words)
        for start, size, gram in self._ngrams(words):
            if size > 4 or len(gram) < 4 or words[start] in _STOPWORDS or words[start + size - 1] in _STOPWORDS:
                continue
            if around and not (size > around[1] and start <= around[0] and start + size >= sum(around)):
                continue
            if gram in self.index:  # an exact alias that _exact() rejected as an ordinary word
                continue
            as_place = self._used_as_place(original, words, start, size)
            cutoff = self.threshold + (6 if len(gram) <= 5 else 0)  # short words need a closer match
            candidates = self._keys_near_length.get(len(gram), ())
            for key, score, _ in process.extract(gram, candidates, scorer=_similarity, score_cutoff=cutoff, limit=3):
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
    def _result(targets: Set[str], matched: str, score: float) -> Match:
        options = tuple(sorted(targets))
        councils = tuple(t for t in options if not t.startswith(OUTSIDE))
        nations = sorted({t[len(OUTSIDE):] for t in options if t.startswith(OUTSIDE)})
        if len(options) == 1 and councils:
            return Match("council", councils, matched=matched, score=score, options=options)
        if not councils and len(nations) >= 1:
            return Match("outside_england", nation=nations[0], matched=matched, score=score, options=options)
        return Match("ambiguous", councils, matched=matched, score=score, options=options)

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
        outcode = re.search(r"\b[A-Z]{1,2}\d{1,2}[A-Z]?\b", text)
        return bool(outcode and (len(words) <= 4 or "postcode" in words))

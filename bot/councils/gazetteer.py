"""England's named places and postcode districts -> the council that runs children's services there.

Pure look-ups over the data in bot/councils/gazetteer/ (built from OS Open Names and ONS lookups by
scripts/build_gazetteer.py; sources and licences in its README.md). The files are read once, on the
first call (or by `load_gazetteer()`); a look-up does no I/O and touches no global state.

    councils_for_place("Kirkby Lonsdale")    -> [("E06000064", "Kirkby Lonsdale", 2.611)]
    councils_for_place("newport")            -> several, most significant place first
    councils_for_postcode_district("YO8")    -> [("E06000065", 0.9596), ("E06000011", 0.0404)]

A place's rank stands in for its population, which OS Open Names does not carry: log10 of the area
(hectares) of the place's mapped extent, plus a little for its settlement type (city 1.0, town 0.5,
village 0.2). Ten times the extent adds 1.
"""
from __future__ import annotations

import csv
import gzip
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Tuple

from bot.councils.text import normalise

DATA_DIR = Path(__file__).with_name("gazetteer")
PLACES_FILE = "places.tsv.gz"
POSTCODES_FILE = "postcode_districts.tsv.gz"
COUNTIES_FILE = "counties.tsv"

TYPE_NAMES = {"C": "city", "T": "town", "V": "village", "S": "suburban area", "H": "hamlet", "O": "other settlement"}
TYPE_BONUS = {"C": 1.0, "T": 0.5, "V": 0.2, "S": 0.0, "H": 0.0, "O": 0.0}

OUTWARD = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(?:\s*\d[A-Z]{2})?$")


@dataclass(frozen=True)
class Place:
    gss_code: str
    name: str  # as OS writes it: "Ashby-de-la-Zouch"
    type: str  # C T V S H O (see TYPE_NAMES)
    extent_ha: int
    everyday: bool  # the name is also an everyday English word ("Street", "Bath", "Church End")
    short_form: bool  # "Weston" standing for "Weston-super-Mare"
    famous: bool = False  # a hamlet named like a person or a place abroad ("Paul", "Dublin", "Toronto")

    @property
    def rank(self) -> float:
        return round(math.log10(max(self.extent_ha, 1)) + TYPE_BONUS[self.type], 3)


@dataclass(frozen=True)
class County:
    name: str
    kind: str  # ceremonial | historic | abbreviation
    councils: FrozenSet[str]  # gss codes


@dataclass(frozen=True)
class PostcodeDistrict:
    outward: str
    councils: Tuple[Tuple[str, float], ...]  # (gss code, share of the district's postcodes), largest first
    outside: Tuple[Tuple[str, float], ...]  # (wales|scotland, estimated share) where it crosses the border


class Gazetteer:
    def __init__(self, places: Dict[str, Tuple[Place, ...]], postcodes: Dict[str, PostcodeDistrict],
                 counties: Dict[str, County]) -> None:
        self.places = places
        self.postcodes = postcodes
        self.counties = counties
        self.max_words = max((len(k.split()) for k in places), default=1)

    # -- places -------------------------------------------------------------------------------

    def places_named(self, name: str) -> Tuple[Place, ...]:
        """Every place with this (normalised) name, most significant first."""
        return self.places.get(normalise(name), ())

    def councils_for_place(self, name: str) -> List[Tuple[str, str, float]]:
        """(gss code, place's display name, rank) for each council with a place of this name,
        best-ranked first; one entry per council (its most significant place of that name)."""
        seen: Dict[str, Tuple[str, str, float]] = {}
        for place in self.places_named(name):
            if place.gss_code not in seen:
                seen[place.gss_code] = (place.gss_code, place.name, place.rank)
        return sorted(seen.values(), key=lambda item: (-item[2], item[0]))

    # -- postcodes ----------------------------------------------------------------------------

    def postcode_district(self, text: str) -> Optional[PostcodeDistrict]:
        outward = outward_code(text)
        return self.postcodes.get(outward) if outward else None

    def councils_for_postcode_district(self, outward: str) -> List[Tuple[str, float]]:
        """(gss code, share of the district's postcodes) for each council, largest share first.
        Accepts an outward code ("YO8") or a full postcode ("YO8 9XX", of which only "YO8" is used)."""
        district = self.postcode_district(outward)
        return list(district.councils) if district else []

    # -- counties -----------------------------------------------------------------------------

    def county(self, name: str) -> Optional[County]:
        return self.counties.get(normalise(name))


def outward_code(text: str) -> Optional[str]:
    """"yo8 9xx" / "YO89XX" / "yo8" -> "YO8"; anything that is not a postcode shape -> None."""
    found = OUTWARD.match(re.sub(r"\s+", " ", (text or "").strip().upper()))
    return found.group(1) if found else None


def _read_tsv(path: Path) -> List[List[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))
    return rows[1:]


def _shares(field: str) -> Tuple[Tuple[str, float], ...]:
    pairs = []
    for part in field.split(","):
        if part:
            code, share = part.rsplit(":", 1)
            pairs.append((code, float(share)))
    return tuple(pairs)


def read_gazetteer(directory: Path = DATA_DIR) -> Gazetteer:
    grouped: Dict[str, List[Place]] = {}
    for key, name, gss, kind, extent, flags in _read_tsv(directory / PLACES_FILE):
        grouped.setdefault(key, []).append(Place(gss, name, kind, int(extent), "c" in flags, "s" in flags, "f" in flags))
    places = {key: tuple(sorted(items, key=lambda p: (-p.rank, p.short_form, p.gss_code)))
              for key, items in grouped.items()}
    postcodes = {}
    for outward, councils, outside in _read_tsv(directory / POSTCODES_FILE):
        postcodes[outward] = PostcodeDistrict(outward, _shares(councils), _shares(outside))
    counties = {}
    for key, name, kind, councils in _read_tsv(directory / COUNTIES_FILE):
        counties[key] = County(name, kind, frozenset(c for c in councils.split(",") if c))
    return Gazetteer(places, postcodes, counties)


@lru_cache(maxsize=None)
def load_gazetteer(directory: Path = DATA_DIR) -> Gazetteer:
    return read_gazetteer(directory)


def councils_for_place(name: str) -> List[Tuple[str, str, float]]:
    return load_gazetteer().councils_for_place(name)


def councils_for_postcode_district(outward: str) -> List[Tuple[str, float]]:
    return load_gazetteer().councils_for_postcode_district(outward)

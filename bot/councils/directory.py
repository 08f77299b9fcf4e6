"""The council directory: typed records read from bot/councils/councils.yml.

Parsing is separate from reading the file so the matcher and the validator work on plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

DIRECTORY_FILE = Path(__file__).with_name("councils.yml")

# The links a family may need, in the order the bot offers them.
LINK_KINDS: Tuple[str, ...] = (
    "kinship_local_offer",
    "family_and_friends_policy",
    "complaints",
    "childrens_services_contact",
)


@dataclass(frozen=True)
class Link:
    url: str
    source: str
    checked: str


@dataclass(frozen=True)
class Alias:
    alias: str
    kind: str
    note: Optional[str] = None


@dataclass(frozen=True)
class Council:
    name: str
    type: str
    region: str
    website: str
    source: str
    checked: str
    gss_code: Optional[str] = None
    links: Mapping[str, Link] = field(default_factory=dict)
    aliases: Tuple[Alias, ...] = ()

    def link(self, kind: str) -> Optional[Link]:
        return self.links.get(kind)

    def missing_links(self) -> List[str]:
        return [kind for kind in LINK_KINDS if kind not in self.links]


@dataclass(frozen=True)
class AmbiguousName:
    alias: str
    councils: Tuple[str, ...]
    note: Optional[str] = None


@dataclass(frozen=True)
class OutsidePlace:
    place: str
    nation: str  # wales | scotland | northern_ireland


@dataclass(frozen=True)
class Directory:
    councils: Tuple[Council, ...]
    ambiguous: Tuple[AmbiguousName, ...]
    outside_england: Tuple[OutsidePlace, ...]

    def by_name(self, name: str) -> Optional[Council]:
        for council in self.councils:
            if council.name == name:
                return council
        return None


def parse_directory(data: Mapping[str, Any]) -> Directory:
    councils = tuple(
        Council(
            name=c["name"],
            type=c["type"],
            region=c["region"],
            website=c["website"],
            source=c["source"],
            checked=str(c["checked"]),
            gss_code=c.get("gss_code"),
            links={k: Link(v["url"], v["source"], str(v["checked"])) for k, v in (c.get("links") or {}).items()},
            aliases=tuple(Alias(a["alias"], a["kind"], a.get("note")) for a in c.get("aliases") or []),
        )
        for c in data.get("councils") or []
    )
    ambiguous = tuple(
        AmbiguousName(a["alias"], tuple(a["councils"]), a.get("note")) for a in data.get("ambiguous") or []
    )
    outside = tuple(OutsidePlace(o["place"], o["nation"]) for o in data.get("outside_england") or [])
    return Directory(councils, ambiguous, outside)


def read_raw(path: Path = DIRECTORY_FILE) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


HEADER = (
    "# Council directory: every English council with children's services, its links and the\n"
    "# names people use for it. Staff edit this file, then run `make validate-data`.\n"
    "# A link is never added without its source and the date it was checked.\n"
)


def write_raw(data: Mapping[str, Any], path: Path = DIRECTORY_FILE) -> None:
    """Write the directory file (used by the import and link tools; staff edit it by hand)."""
    body = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=110)
    path.write_text(HEADER + body, encoding="utf-8")


@lru_cache(maxsize=None)
def load_directory(path: Path = DIRECTORY_FILE) -> Directory:
    return parse_directory(read_raw(path))

"""Checks the council directory file: `make validate-data` (python -m bot.councils.validate).

Errors (exit 1): missing fields, duplicate names, bad types or regions, links that are not
well-formed https URLs or lack a source or a checked date, an alias that points at two councils
without being listed as ambiguous, ambiguous names that refer to unknown councils.
Report (always): how many councils, aliases and links, and which councils still lack each link.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from typing import Any, Dict, List, Mapping
from urllib.parse import urlparse

from bot.councils.directory import DIRECTORY_FILE, LINK_KINDS, read_raw
from bot.councils.matcher import normalise

TYPES = {"county", "unitary", "metropolitan_borough", "london_borough", "city_of_london", "isles_of_scilly"}
REGIONS = {"North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"}
# Staff procedures manuals: written for social workers, not families (the kinship local offer is
# the council's page for families).
STAFF_MANUALS = ("proceduresonline.com", "trixonline.co.uk")
ALIAS_KINDS = {"short_name", "town", "district", "former_council", "colloquial"}
NATIONS = {"wales", "scotland", "northern_ireland"}
REQUIRED = ("name", "type", "region", "website", "source", "checked")


def is_https_url(value: Any) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parsed = urlparse(value)
    return parsed.scheme == "https" and "." in parsed.netloc


def is_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(str(value))
        return True
    except ValueError:
        return False


def validate(data: Mapping[str, Any]) -> List[str]:
    errors: List[str] = []
    councils = data.get("councils") or []
    names = [c.get("name") for c in councils]
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f"duplicate council name: {name}")
    known = set(names)
    alias_targets: Dict[str, set] = defaultdict(set)
    for council in councils:
        name = council.get("name", "<no name>")
        for key in REQUIRED:
            if not council.get(key):
                errors.append(f"{name}: missing {key}")
        if council.get("type") not in TYPES:
            errors.append(f"{name}: unknown type {council.get('type')!r}")
        if council.get("region") not in REGIONS:
            errors.append(f"{name}: unknown region {council.get('region')!r}")
        if not is_https_url(council.get("website")):
            errors.append(f"{name}: website is not a well-formed https URL: {council.get('website')!r}")
        if council.get("checked") and not is_date(council["checked"]):
            errors.append(f"{name}: checked is not a date (YYYY-MM-DD): {council['checked']!r}")
        for kind, link in (council.get("links") or {}).items():
            where = f"{name}: link {kind}"
            if kind not in LINK_KINDS:
                errors.append(f"{where}: unknown kind (use one of {', '.join(LINK_KINDS)})")
            if not isinstance(link, Mapping):
                errors.append(f"{where}: must have url, source and checked")
                continue
            if not is_https_url(link.get("url")):
                errors.append(f"{where}: url is not a well-formed https URL: {link.get('url')!r}")
            elif any(site in link["url"].lower() for site in STAFF_MANUALS):
                errors.append(f"{where}: {link['url']} is a staff procedures manual, not a page for families")
            if not link.get("source"):
                errors.append(f"{where}: no source")
            if not is_date(link.get("checked")):
                errors.append(f"{where}: checked is not a date (YYYY-MM-DD): {link.get('checked')!r}")
        alias_targets[normalise(name)].add(name)
        for alias in council.get("aliases") or []:
            if alias.get("kind") not in ALIAS_KINDS:
                errors.append(f"{name}: alias {alias.get('alias')!r} has unknown kind {alias.get('kind')!r}")
            alias_targets[normalise(alias.get("alias", ""))].add(name)
    ambiguous = {normalise(a["alias"]) for a in data.get("ambiguous") or []}
    for group in data.get("ambiguous") or []:
        for target in group.get("councils") or []:
            if target not in known:
                errors.append(f"ambiguous {group['alias']!r}: unknown council {target!r}")
    for alias, targets in sorted(alias_targets.items()):
        if len(targets) > 1 and alias not in ambiguous:
            errors.append(f"alias {alias!r} points at {len(targets)} councils ({'; '.join(sorted(targets))}); "
                          "list it under ambiguous instead")
    for place in data.get("outside_england") or []:
        if place.get("nation") not in NATIONS:
            errors.append(f"outside_england {place.get('place')!r}: unknown nation {place.get('nation')!r}")
    return errors


def report(data: Mapping[str, Any]) -> List[str]:
    councils = data.get("councils") or []
    lines = [
        f"{len(councils)} councils, {sum(len(c.get('aliases') or []) for c in councils)} aliases, "
        f"{len(data.get('ambiguous') or [])} ambiguous names, {len(data.get('outside_england') or [])} places outside England",
    ]
    for kind in LINK_KINDS:
        lacking = [c["name"] for c in councils if kind not in (c.get("links") or {})]
        lines.append(f"{kind}: {len(councils) - len(lacking)} have it, {len(lacking)} still lack it"
                     + (f" (e.g. {', '.join(lacking[:3])})" if lacking else ""))
    return lines


def main() -> int:
    data = read_raw(DIRECTORY_FILE)
    for line in report(data):
        print(line)
    errors = validate(data)
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    print(f"{DIRECTORY_FILE.name}: {'OK' if not errors else f'{len(errors)} errors'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""Add researched links to bot/councils/councils.yml from a TSV file, keeping only safe ones.

TSV columns: council_name, kind, url, source, note. A row is kept only if the council exists, the
kind is known, the URL is https on the council's own domain (never a staff procedures manual such as
proceduresonline or tri.x, never a test or admin host), and a source is given. Each kept link gets
`checked` = the date given (default: today).
Usage: python scripts/add_council_links.py LINKS.tsv [--checked YYYY-MM-DD]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.councils.directory import LINK_KINDS, read_raw, write_raw  # noqa: E402
from bot.councils.validate import STAFF_MANUALS, is_https_url, validate  # noqa: E402

# Not a page for families: staff manuals, and hosts that are not the public site.
NOT_FOR_FAMILIES = STAFF_MANUALS
NOT_PUBLIC_HOST = ("webtest.", "admin.", "uat.", "test.", "staging.", "prod-", "www-prod")


def registrable(host: str) -> str:
    parts = host.lower().split(".")
    return ".".join(parts[-3:]) if host.endswith(".gov.uk") else ".".join(parts[-2:])


def acceptable(url: str, website: str) -> bool:
    if not is_https_url(url):
        return False
    host = urlparse(url).netloc.lower()
    if any(part in host for part in NOT_FOR_FAMILIES) or host.startswith(NOT_PUBLIC_HOST):
        return False
    return registrable(host) == registrable(urlparse(website).netloc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("tsv")
    parser.add_argument("--checked", default=dt.date.today().isoformat())
    args = parser.parse_args()
    data = read_raw()
    by_name = {c["name"]: c for c in data["councils"]}
    kept = skipped = 0
    with open(args.tsv, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            council = by_name.get((row.get("council_name") or "").strip())
            kind, url, source = row.get("kind", "").strip(), row.get("url", "").strip(), row.get("source", "").strip()
            if not council or kind not in LINK_KINDS or not source or not acceptable(url, council["website"]):
                skipped += 1
                print(f"skipped: {row}", file=sys.stderr)
                continue
            council.setdefault("links", {})[kind] = {"url": url, "source": source, "checked": args.checked}
            kept += 1
    errors = validate(data)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    write_raw(data)
    print(f"added {kept} links, skipped {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

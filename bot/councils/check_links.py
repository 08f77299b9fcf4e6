"""Check the council directory's links for staff: which are dead, which have moved.

Run on a machine with internet access (never part of `make test`, which has no network):

    python -m bot.councils.check_links                 # every link and every council's home page
    python -m bot.councils.check_links --kind complaints --council "Leeds City Council"
    python -m bot.councils.check_links --json > links-report.json

Each link gets one verdict:
  ok      the page answered 2xx at the same address (or only the scheme / a trailing slash changed);
  moved   the page answered 2xx, but after redirects to another address: check the new page and, if it is
          the council's own current page, put the new address in councils.yml with today's date;
  dead    4xx/5xx, or a 2xx page whose title says it was not found ("soft 404");
  error   no answer (timeout, DNS, TLS, connection refused): try again later before changing anything.
The exit status is 1 when any link is dead, so a scheduled job can alert staff. Nothing is changed in
councils.yml by this tool: a person decides, because a link is kept only when its page has been read.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import asdict, dataclass
from typing import Iterable, List, Optional, Sequence
from urllib.parse import urlsplit

import aiohttp

from bot.councils.directory import LINK_KINDS, Directory, load_directory

HOME_PAGE = "website"
USER_AGENT = "advice-line-link-checker/1.0 (council directory upkeep; contact: the charity's digital team)"
NOT_FOUND_TITLE = re.compile(r"<title[^>]*>[^<]*(not found|404|page missing|no longer available)[^<]*</title>",
                             re.IGNORECASE)
BODY_BYTES = 65536  # enough to read a page's <title>


@dataclass(frozen=True)
class LinkToCheck:
    council: str
    kind: str
    url: str


@dataclass(frozen=True)
class Answer:
    """What the web server said: `status` None means no answer at all."""
    status: Optional[int]
    final_url: str
    title_says_not_found: bool = False
    error: str = ""


@dataclass(frozen=True)
class Verdict:
    council: str
    kind: str
    url: str
    verdict: str
    status: Optional[int]
    final_url: str
    detail: str


def links_to_check(directory: Directory, kinds: Sequence[str] = (HOME_PAGE, *LINK_KINDS),
                   councils: Sequence[str] = ()) -> List[LinkToCheck]:
    """Every link of the chosen kinds, council by council, in the directory's order."""
    wanted = {name.casefold() for name in councils}
    found: List[LinkToCheck] = []
    for council in directory.councils:
        if wanted and council.name.casefold() not in wanted:
            continue
        if HOME_PAGE in kinds:
            found.append(LinkToCheck(council.name, HOME_PAGE, council.website))
        for kind in LINK_KINDS:
            link = council.link(kind)
            if kind in kinds and link is not None:
                found.append(LinkToCheck(council.name, kind, link.url))
    return found


def same_address(first: str, second: str) -> bool:
    """True when two addresses differ at most in scheme, a `www.` prefix or a trailing slash."""
    def key(url: str) -> tuple:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        host = host[4:] if host.startswith("www.") else host
        return host, parts.path.rstrip("/") or "/", parts.query
    return key(first) == key(second)


def judge(link: LinkToCheck, answer: Answer) -> Verdict:
    """The verdict for one link from what its server said (pure: no network)."""
    def verdict(name: str, detail: str) -> Verdict:
        return Verdict(link.council, link.kind, link.url, name, answer.status, answer.final_url, detail)

    if answer.status is None:
        return verdict("error", answer.error or "no answer")
    if answer.status >= 400:
        return verdict("dead", f"HTTP {answer.status}")
    if answer.title_says_not_found:
        return verdict("dead", "the page's title says it was not found")
    if answer.status >= 300:
        return verdict("error", f"HTTP {answer.status} without a usable redirect")
    if not same_address(link.url, answer.final_url):
        return verdict("moved", f"now at {answer.final_url}")
    return verdict("ok", f"HTTP {answer.status}")


async def fetch_answer(session: aiohttp.ClientSession, url: str) -> Answer:
    """GET the page (HEAD is refused by too many council sites), following redirects."""
    try:
        async with session.get(url, allow_redirects=True, max_redirects=10) as response:
            body = await response.content.read(BODY_BYTES)
            text = body.decode(response.charset or "utf-8", errors="replace")
            return Answer(response.status, str(response.url), bool(NOT_FOUND_TITLE.search(text)))
    except aiohttp.TooManyRedirects:
        return Answer(None, url, error="too many redirects")
    except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeError) as exc:
        return Answer(None, url, error=type(exc).__name__ + (f": {exc}" if str(exc) else ""))


async def check(links: Iterable[LinkToCheck], *, concurrency: int = 6, timeout_s: float = 20.0) -> List[Verdict]:
    """Check every link, a few at a time so no council's server is hammered; results in input order."""
    links = list(links)
    gate = asyncio.Semaphore(max(1, concurrency))
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT}) as session:
        async def one(link: LinkToCheck) -> Verdict:
            async with gate:
                return judge(link, await fetch_answer(session, link.url))
        return list(await asyncio.gather(*(one(link) for link in links)))


def summary(verdicts: Sequence[Verdict]) -> str:
    """A plain-text report: problems first, grouped by verdict, then the counts."""
    lines: List[str] = []
    for name in ("dead", "moved", "error"):
        chosen = [v for v in verdicts if v.verdict == name]
        if chosen:
            lines.append(f"{name.upper()} ({len(chosen)})")
            lines.extend(f"  {v.council} | {v.kind} | {v.url} | {v.detail}" for v in chosen)
    counts = {name: sum(v.verdict == name for v in verdicts) for name in ("ok", "moved", "dead", "error")}
    lines.append(f"{len(verdicts)} links checked: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", action="append", choices=(HOME_PAGE, *LINK_KINDS),
                        help="check only this kind of link (repeatable; default: all, and home pages)")
    parser.add_argument("--council", action="append", default=[], help="check only this council (repeatable)")
    parser.add_argument("--concurrency", type=int, default=6, help="pages fetched at once (default 6)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per page (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per link instead")
    args = parser.parse_args(argv)
    links = links_to_check(load_directory(), tuple(args.kind or (HOME_PAGE, *LINK_KINDS)), args.council)
    if not links:
        print("No links match those choices.", file=sys.stderr)
        return 2
    verdicts = asyncio.run(check(links, concurrency=args.concurrency, timeout_s=args.timeout))
    if args.json:
        print("\n".join(json.dumps(asdict(v)) for v in verdicts))
    else:
        print(summary(verdicts))
    return 1 if any(v.verdict == "dead" for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())

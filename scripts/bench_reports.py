"""How long the reports page takes for a year of data (issue 17: under 1 second for 50,000 chats).

Seeds CHATS chats spread over the year before NOW into a temporary SQLite gateway store (made by the
real migrations), with staffed hours from config/service_hours.yml, then times what the page does for
a request for that year: sum them in SQL (bot.gateway.chat_stats.aggregates), compute every figure
(bot.gateway.reports.from_aggregates) and render the HTML with its SVG charts (bot.gateway.report_views.page),
and the CSV as well; then the whole request, GET /console/reports for the year as a signed-in member of
staff, through a real gateway on loopback (tests/gateway_harness.py, its store seeded the same way).
Prints the best and median of RUNS. Not a test: run it by hand.

    .venv/bin/python scripts/bench_reports.py [--chats 50000] [--runs 5]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.gateway import report_views, reports  # noqa: E402
from bot.gateway.chat_stats import chat_stats  # noqa: E402
from bot.gateway.store import Store  # noqa: E402
from bot.service_hours import load_policy  # noqa: E402

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
TOPICS = ["section_20", "special_guardianship", "kinship_care_options", "kinship_financial_support", "legal_aid",
          "child_protection_conference", "care_proceedings", "contact", "complaints_procedure", "ombudsman",
          "family_group_conference", "pre_proceedings", "parental_responsibility", "private_fostering",
          "adoption", "housing", "benefits", "school", "emergency_risk", "greet"]
COUNCILS = [f"Council {n:03d}" for n in range(1, 154)]


def seed(store: Store, chats: int, rng: random.Random) -> None:
    policy = load_policy()
    rows = []
    for _ in range(chats):
        day = NOW - timedelta(days=rng.uniform(0, 365))
        started = day.replace(hour=min(23, max(0, int(rng.gauss(14, 4)))), minute=rng.randrange(60))
        in_hours = policy.is_open("webchat", started)
        row = dict(id=secrets.token_hex(16), started_at=started, in_hours=in_hours, handoffs=0, crisis=rng.random() < 0.01,
                   topic=rng.choice(TOPICS) if rng.random() < 0.8 else None,
                   council=rng.choice(COUNCILS) if rng.random() < 0.5 else None,
                   answers=rng.randrange(0, 5), unsure=rng.randrange(0, 2), helpful=rng.randrange(0, 2),
                   not_helpful=int(rng.random() < 0.2), person_wanted_at=None, person_wanted_why=None,
                   queued_at=None, wait_seconds=None, left_queue=None)
        if rng.random() < 0.15:  # asked for a person
            asked = started + timedelta(minutes=rng.randrange(1, 15))
            if not in_hours:
                row.update(person_wanted_at=asked, person_wanted_why="closed")
            elif rng.random() < 0.2:
                row.update(person_wanted_at=asked, person_wanted_why="no_adviser")
            else:
                row.update(handoffs=1, queued_at=asked)
                if rng.random() < 0.85:
                    row["wait_seconds"] = int(rng.expovariate(1 / 240))
                else:
                    row["left_queue"] = rng.choice(["family", "closed"])
        rows.append(row)
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(chat_stats.insert(), rows[start:start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'gateway.db'}")
        started = time.perf_counter()
        seed(store, args.chats, random.Random(17))
        print(f"seeded {args.chats:,} chats over a year in {time.perf_counter() - started:.1f} s")
        policy = load_policy()
        gateway = SimpleNamespace(store=store)
        account = SimpleNamespace(display_name="Kim", role="staff")
        today = NOW.astimezone(policy.timezone).date()
        period = reports.Period(today - timedelta(days=364), today, policy.timezone)
        timings = {"read": [], "figures": [], "page": [], "total": [], "csv": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            aggregates = report_views.read(gateway, period)
            t1 = time.perf_counter()
            result = reports.from_aggregates(aggregates, period)
            t2 = time.perf_counter()
            html = report_views.page(result, account, "csrf", None)
            t3 = time.perf_counter()
            report_views.csv_text(result)
            t4 = time.perf_counter()
            for name, value in (("read", t1 - t0), ("figures", t2 - t1), ("page", t3 - t2), ("total", t3 - t0),
                                ("csv", t4 - t3)):
                timings[name].append(value)
        print(f"{result.handoffs['chats']:,} chats in the year; page {len(html) / 1024:.0f} KB with {html.count('<svg')} charts")
        for name, values in timings.items():
            print(f"{name:>8}: best {min(values) * 1000:7.1f} ms, median {statistics.median(values) * 1000:7.1f} ms "
                  f"of {args.runs}")
        print(f"reports page for a year of {args.chats:,} chats: {statistics.median(timings['total']) * 1000:.0f} ms "
              "(median: read, figures and HTML; the CSV is apart)")
        store.close()
        asyncio.run(over_http(Path(tmp) / "gateway", args.chats, args.runs, period))


async def over_http(tmp: Path, chats: int, runs: int, period: reports.Period) -> None:
    from tests.gateway_harness import Harness

    tmp.mkdir()
    harness = await Harness(tmp, now=NOW).start()
    try:
        seed(harness.gateway.store, chats, random.Random(17))
        kim = await harness.adviser("kim", available=False, socket=False)
        url = f"{harness.base}/console/reports?from={period.first.isoformat()}&to={period.last.isoformat()}"
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = await kim.http.get(url)
            page = await response.text()
            timings.append(time.perf_counter() - started)
            assert response.status == 200 and "person-wanted-total" in page
        print(f"GET /console/reports for the year over HTTP: best {min(timings) * 1000:.0f} ms, "
              f"median {statistics.median(timings) * 1000:.0f} ms of {runs}")
    finally:
        await harness.stop()


if __name__ == "__main__":
    main()

"""Benchmark the council gazetteer: load time, look-up latency, memory.

    python scripts/bench_gazetteer.py [--queries 1000] [--seed 20261205]

Prints: the time to load the gazetteer files and to build the matcher with it, the p50/p95/max time
of 1,000 sampled look-ups (gazetteer place and postcode look-ups, and whole messages through the
matcher), and the growth of resident memory (RSS) from loading. Targets: load < 2 s, p95 < 5 ms,
memory growth < 150 MB. Exit status 1 if a target is missed.
"""
from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"load_s": 2.0, "p95_ms": 5.0, "rss_growth_mb": 150.0}
TEMPLATES = ["I live in {}", "we're near {}", "{}", "my council is {} i think", "{} please",
             "we moved to {} last year and the social worker keeps calling"]


def rss_mb() -> float:
    """Resident set size of this process in MB, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def time_calls(call: Callable[[str], object], queries: List[str]) -> Dict[str, float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        call(query)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95), "max_ms": max(times)}


def bench(queries: int = 1000, seed: int = 20261205) -> Dict[str, object]:
    # Import the code first (rapidfuzz, yaml...), so the memory figure is the data's, not the libraries'.
    from bot.councils import gazetteer as gazetteer_module
    from bot.councils.directory import load_directory
    from bot.councils.matcher import CouncilMatcher

    directory = load_directory()
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    gazetteer = gazetteer_module.read_gazetteer()
    gazetteer_s = time.perf_counter() - start
    start = time.perf_counter()
    matcher = CouncilMatcher(directory, gazetteer=gazetteer)
    matcher_s = time.perf_counter() - start
    gc.collect()
    after = rss_mb()

    rng = random.Random(seed)
    keys = sorted(gazetteer.places)
    names = [gazetteer.places[k][0].name for k in rng.sample(keys, queries)]
    outwards = rng.choices(sorted(gazetteer.postcodes), k=queries)
    messages = [rng.choice(TEMPLATES).format(name) for name in names]
    postcodes = [f"{o} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                 for o in outwards]
    results = {
        "places": len(gazetteer.places),
        "postcode_districts": len(gazetteer.postcodes),
        "load_gazetteer_s": gazetteer_s,
        "build_matcher_s": matcher_s,
        "load_s": gazetteer_s + matcher_s,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_growth_mb": after - before,
        "councils_for_place": time_calls(gazetteer.councils_for_place, names),
        "councils_for_postcode_district": time_calls(gazetteer.councils_for_postcode_district, outwards),
        "matcher_place_messages": time_calls(matcher.match, messages),
        "matcher_full_postcodes": time_calls(matcher.match, postcodes),
    }
    results["p95_ms"] = max(results[k]["p95_ms"] for k in ("councils_for_place", "councils_for_postcode_district",
                                                           "matcher_place_messages", "matcher_full_postcodes"))
    return results


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args(argv)
    r = bench(args.queries, args.seed)
    print(f"gazetteer: {r['places']:,} place names, {r['postcode_districts']:,} postcode districts")
    print(f"load: gazetteer files {r['load_gazetteer_s']:.3f} s + matcher index {r['build_matcher_s']:.3f} s "
          f"= {r['load_s']:.3f} s (target < {TARGETS['load_s']} s)")
    print(f"memory: RSS {r['rss_before_mb']:.1f} MB -> {r['rss_after_mb']:.1f} MB, growth {r['rss_growth_mb']:.1f} MB "
          f"(target < {TARGETS['rss_growth_mb']} MB)")
    print(f"{args.queries:,} sampled queries each:")
    for key in ("councils_for_place", "councils_for_postcode_district", "matcher_place_messages", "matcher_full_postcodes"):
        t = r[key]
        print(f"  {key:<32} p50 {t['p50_ms']:.3f} ms  p95 {t['p95_ms']:.3f} ms  max {t['max_ms']:.3f} ms")
    print(f"worst p95 {r['p95_ms']:.3f} ms (target < {TARGETS['p95_ms']} ms)")
    missed = [name for name, limit in TARGETS.items() if r[name] >= limit]
    print("targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

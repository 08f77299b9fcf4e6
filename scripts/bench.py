"""`make bench`: speed and memory of the assistant on this machine, printed as a table.

- p50/p95 time of /model/parse (NLU only) and of a full REST round trip (NLU, dialogue, the
  action server and the tracker store), over messages from the held-out test set; /model/parse also
  over the longer real messages of tests/nlu_wild.yml (several sentences each);
- the time to train a full model from scratch (`rasa train --force`, empty cache, temporary folder);
- the same messages through the webchat gateway (socket.io, as a browser sends them), one family at
  a time and a burst of 50 families at once with no pause between messages (messages per second,
  p50/p95/p99, errors, lost messages);
- the Rasa server's resident memory after that;
- the load test of scripts/bench_load.py: 50 and 200 families having realistic conversations at
  once (5-8 messages, 3-12 s think time, staggered starts) on the embedded default stack (the one
  above) and on the scaled shape (bot/prod_local.py, started here on free ports and stopped after;
  scripts/setup_prod.sh installs PostgreSQL, Redis and nginx first if they are missing), printed as
  one table: shape | conversations | sent | answered | msgs/s | p50 | p95 | p99 | errors | lost.
Servers are started on free loopback ports with the newest model in models/; the embedded servers'
output goes to results/bench-embedded.log, the scaled shape's logs to results/bench-scaled-logs/.
Usage: python scripts/bench.py [--messages N] [--skip-training] [--load 50,200] [--shapes both|embedded|scaled|none]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot import run_local, settings  # noqa: E402
from scripts import bench_load  # noqa: E402
from scripts.bench_load import percentile  # noqa: E402
from scripts.bench_gateway import concurrent, sequential  # noqa: E402
from scripts.eval_nlu import load_test_set  # noqa: E402


def timed_post(url: str, body: dict) -> float:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_seconds() -> float:
    """A full training from nothing: a fresh model folder and an empty Rasa cache."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RASA_CACHE_DIRECTORY=cache)
        started = time.monotonic()
        subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "--force", "--out", out, "--quiet"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--conversations", type=int, default=50, help="families at once in the burst")
    parser.add_argument("--load", default="50,200", help="conversations at once in the load test, comma separated")
    parser.add_argument("--shapes", choices=("both", "embedded", "scaled", "none"), default="both",
                        help="where the load test runs")
    args = parser.parse_args()
    levels = [int(n) for n in args.load.split(",") if n.strip()]
    load_results, load_failures = [], []

    texts = [t for t, _ in load_test_set(ROOT / "tests" / "nlu_test.yml")]
    texts = (texts * (args.messages // len(texts) + 1))[: args.messages]
    # Real messages are often several sentences long: time them too (timing only; nothing is chosen on it).
    long_texts = [t for t, _ in load_test_set(ROOT / "tests" / "nlu_wild.yml")][: args.messages]
    server_log = ROOT / "results" / "bench-embedded.log"
    server_log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as var, open(server_log, "w") as log:
        env = run_local.isolated_env(Path(var), "bench-token")
        cfg = settings.load(env)
        try:
            procs = run_local.start_all(cfg, "bench-token", env, output=log, quiet=True)
        except RuntimeError:
            print(f"servers failed to start (see {server_log})", file=sys.stderr)
            return 1
        try:
            parse_url = f"{cfg.rasa_url}/model/parse?token=bench-token"
            rest_url = f"{cfg.rasa_url}/webhooks/rest/webhook"
            for text in texts[:10]:  # warm up
                timed_post(parse_url, {"text": text})
            parse_ms = [timed_post(parse_url, {"text": t}) for t in texts]
            long_ms = [timed_post(parse_url, {"text": t}) for t in long_texts]
            rest_ms = [timed_post(rest_url, {"sender": f"bench-{i // 6}", "message": t}) for i, t in enumerate(texts)]
            gateway_url = f"http://{cfg.bind_host}:{cfg.gateway_port}"
            gateway_ms = asyncio.run(sequential(gateway_url, texts))
            load = asyncio.run(concurrent(gateway_url, texts, conversations=args.conversations))
            memory = rss_mib(procs["rasa server"].pid)
            if args.shapes in ("both", "embedded"):
                load_results += bench_load.run_shape("embedded", levels, url=gateway_url)
        finally:
            run_local.stop_all(procs)
    if args.shapes in ("both", "scaled"):
        try:
            load_results += bench_load.run_shape("scaled", levels)
        except (Exception, SystemExit) as error:  # the figures above are still worth printing
            load_failures.append(f"scaled shape not measured: {error}")

    training = None if args.skip_training else train_seconds()
    print(f"\nBenchmark ({args.messages} messages, one client, loopback, {os.cpu_count()} cores)")
    print(f"{'measure':<40} {'p50':>9} {'p95':>9}")
    print(f"{'/model/parse (NLU only)':<40} {percentile(parse_ms, 50):>7.1f}ms {percentile(parse_ms, 95):>7.1f}ms")
    print(f"{'/model/parse, wild set (long messages)':<40} {percentile(long_ms, 50):>7.1f}ms {percentile(long_ms, 95):>7.1f}ms")
    print(f"{'REST round trip (NLU+dialogue+actions)':<40} {percentile(rest_ms, 50):>7.1f}ms {percentile(rest_ms, 95):>7.1f}ms")
    print(f"{'gateway round trip (socket.io, 1 family)':<40} {percentile(gateway_ms, 50):>7.1f}ms {percentile(gateway_ms, 95):>7.1f}ms")
    lat = load.latencies_ms or [float("nan")]
    print(f"\nburst: {load.conversations} families at once through the gateway, 6 messages each, no pause:")
    print(f"  {load.per_second:.1f} messages/s; round trip p50 {percentile(lat, 50):.0f} ms, p95 "
          f"{percentile(lat, 95):.0f} ms, p99 {percentile(lat, 99):.0f} ms; sent {load.sent}, answered "
          f"{load.answered}, errors {load.errors}, lost {load.lost}")
    print(f"{'Rasa server resident memory':<40} {memory:>8.0f} MiB")
    if training is not None:
        print(f"{'training time (rasa train --force)':<40} {training:>8.0f} s")
    print(f"(mean parse {statistics.mean(parse_ms):.1f} ms, mean REST {statistics.mean(rest_ms):.1f} ms)")
    if load_results or load_failures:
        print(f"\nLoad test: realistic conversations through the gateway (scripts/bench_load.py; loopback, "
              f"{os.cpu_count()} cores, the load generator on the same machine)")
        if load_results:
            print(bench_load.table(load_results))
        for failure in load_failures:
            print(f"!! {failure}")
    return 1 if load_failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""The flood bench (scripts/bench_flood.py) on a small scale: what it counts is exact (the gateway's clock
is frozen, so the limits' windows never roll over); its times are not checked here (2 shared CPUs)."""
from __future__ import annotations

from scripts import bench_flood


async def test_the_attacker_gets_ten_chats_one_queue_place_and_no_family_loses_a_message(tmp_path):
    report = await bench_flood.run(families=3, messages=2, attack_chats=15, attack_messages=60, workdir=tmp_path)
    assert (report.attack_chats_opened, report.attack_chats_refused) == (10, 5)  # NEW_CHATS_PER_ADDRESS 10/600
    assert report.attacker_queue_places == 1 and report.queue_length == 1
    # MESSAGES_PER_ADDRESS 24/20: ten "adviser please", then 14 of the flood
    assert (report.attack_messages_accepted, report.attack_messages_refused) == (14, 46)
    assert report.lost == 0 and report.family_messages == 6
    assert report.quiet_p95_ms > 0 and report.flood_p95_ms > 0


def test_percentile_is_the_nearest_rank():
    assert bench_flood.percentile([], 0.95) == 0.0
    assert bench_flood.percentile([5.0], 0.95) == 5.0
    assert bench_flood.percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert bench_flood.percentile([float(n) for n in range(1, 101)], 0.5) == 50.0

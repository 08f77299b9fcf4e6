"""The flood bench (issue 16): one client address opens many chats and sends many messages while real
families chat from other addresses, through one webchat gateway on loopback. Every client comes through
the trusted-proxy header path (X-Forwarded-For from loopback), each family from its own address.

Rasa is the scripted one of tests/gateway_harness.py (it answers "You said: ..." at once), so the
figures are the gateway's own: what it refuses and how much slower the families get, not Rasa's speed.
The families of the flood run start as the attacker's messages start. The gateway's clock is frozen for the run (the limits' windows never roll over), so the counts of
refusals are exact; the times are real (time.perf_counter).

Reported: chats the attacker asked for and got, its messages accepted and refused, the queue places it
holds (target: at most 1), the families' round trip p50/p95 in a quiet run and during the flood
(target: p95 ratio <= 1.5) and the families' lost messages (target: 0).

Usage: python scripts/bench_flood.py [--families 20] [--messages 5] [--attack-chats 300]
                                      [--attack-messages 2000] [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.gateway_harness import Family, Harness  # noqa: E402

ATTACKER = "203.0.113.66"
ANSWER_WAIT = 30.0  # seconds a family waits for an answer before the message counts as lost


@dataclass
class FloodReport:
    families: int
    family_messages: int
    quiet_p50_ms: float
    quiet_p95_ms: float
    flood_p50_ms: float
    flood_p95_ms: float
    p95_ratio: float
    lost: int
    attack_chats_asked: int
    attack_chats_opened: int
    attack_chats_refused: int
    attack_messages_sent: int
    attack_messages_accepted: int
    attack_messages_refused: int
    attacker_queue_places: int
    queue_length: int


def percentile(values: List[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


async def until(condition, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def one_family(h: Harness, number: int, messages: int, run: str) -> tuple:
    """A family's chat: `messages` questions, each waiting for its answer. (times in ms, lost)"""
    family = Family(h.base, f"198.18.200.{number + 1}")
    h.families.append(family)
    await family.connect()
    times, lost = [], 0
    for n in range(messages):
        text = f"{run} question {n} from family {number}"
        started = time.perf_counter()
        await family.say(text, client_id=f"{run}-{number}-{n}")
        if await until(lambda: ("You said: " + text) in family.texts(), ANSWER_WAIT):
            times.append((time.perf_counter() - started) * 1000)
        else:
            lost += 1
    await family.close()
    return times, lost


async def families_chat(h: Harness, families: int, messages: int, run: str,
                        start: asyncio.Event = None) -> tuple:
    if start is not None:
        await start.wait()  # the flood is under way
    results = await asyncio.gather(*(one_family(h, n, messages, run) for n in range(families)))
    return [t for times, _ in results for t in times], sum(lost for _, lost in results)


async def attack(h: Harness, chats: int, messages: int, flooding: asyncio.Event) -> Dict[str, int]:
    """One address: `chats` new chats, each asking for an adviser, then `messages` sent at once
    (`flooding` is set as they start, so the families chat while the gateway works through them)."""
    opened: List[Family] = []
    refused = 0
    for _ in range(chats):
        attacker = Family(h.base, ATTACKER)
        h.families.append(attacker)
        await attacker.connect(confirmed=False)
        if attacker.session_id:
            opened.append(attacker)
        else:
            refused += 1
            await attacker.close()
    for chat in opened:
        await chat.say("adviser please")
    flooding.set()
    sent = 0
    for n in range(messages):
        chat = opened[n % len(opened)] if opened else None
        if chat is None:
            break
        await chat.say(f"flood {n}", client_id=f"flood-{n}")
        sent += 1

    def answered() -> int:
        return sum(1 for chat in opened for name, data in chat.received if isinstance(data, dict) and
                   ((name == "user_echo" and str(data.get("client_id", "")).startswith("flood-")) or
                    (name == "bot_uttered" and str((data.get("metadata") or {}).get("rejected_client_id", ""))
                     .startswith("flood-"))))
    await until(lambda: answered() >= sent, ANSWER_WAIT)
    accepted = sum(1 for chat in opened for name, data in chat.received
                   if name == "user_echo" and str(data.get("client_id", "")).startswith("flood-"))
    return {"asked": chats, "opened": len(opened), "refused": refused, "sent": sent, "accepted": accepted,
            "refused_messages": answered() - accepted}


async def run(families: int = 20, messages: int = 5, attack_chats: int = 300, attack_messages: int = 2000,
              workdir: Path = None) -> FloodReport:
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        h = await Harness(Path(workdir or tmp)).start()
        try:
            await h.adviser("sam")  # someone is on duty: the attacker's chats may ask for the queue
            quiet, quiet_lost = await families_chat(h, families, messages, "quiet")
            flooding = asyncio.Event()
            (flooded, flood_lost), attacked = await asyncio.gather(
                families_chat(h, families, messages, "flood", flooding),
                attack(h, attack_chats, attack_messages, flooding))
            waiting = h.gateway.store.waiting()
            attacker_key = h.gateway.address_key(ATTACKER)
            quiet_p95, flood_p95 = percentile(quiet, 0.95), percentile(flooded, 0.95)
            return FloodReport(
                families=families, family_messages=families * messages,
                quiet_p50_ms=round(statistics.median(quiet) if quiet else 0.0, 1), quiet_p95_ms=round(quiet_p95, 1),
                flood_p50_ms=round(statistics.median(flooded) if flooded else 0.0, 1),
                flood_p95_ms=round(flood_p95, 1),
                p95_ratio=round(flood_p95 / quiet_p95, 2) if quiet_p95 else 0.0,
                lost=quiet_lost + flood_lost,
                attack_chats_asked=attacked["asked"], attack_chats_opened=attacked["opened"],
                attack_chats_refused=attacked["refused"], attack_messages_sent=attacked["sent"],
                attack_messages_accepted=attacked["accepted"], attack_messages_refused=attacked["refused_messages"],
                attacker_queue_places=sum(1 for c in waiting if c.address_key == attacker_key),
                queue_length=len(waiting))
        finally:
            await h.stop()


def table(report: FloodReport) -> str:
    rows = [("families (messages)", f"{report.families} ({report.family_messages})"),
            ("families p50 quiet / flood", f"{report.quiet_p50_ms} / {report.flood_p50_ms} ms"),
            ("families p95 quiet / flood", f"{report.quiet_p95_ms} / {report.flood_p95_ms} ms "
                                           f"(ratio {report.p95_ratio}, target <= 1.5)"),
            ("families' messages lost", f"{report.lost} (target 0)"),
            ("attacker chats asked / opened / refused",
             f"{report.attack_chats_asked} / {report.attack_chats_opened} / {report.attack_chats_refused}"),
            ("attacker messages sent / accepted / refused",
             f"{report.attack_messages_sent} / {report.attack_messages_accepted} / {report.attack_messages_refused}"),
            ("queue places held by the attacker", f"{report.attacker_queue_places} (target <= 1)"),
            ("queue length", str(report.queue_length))]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--messages", type=int, default=5, help="messages per family in each run")
    parser.add_argument("--attack-chats", type=int, default=300)
    parser.add_argument("--attack-messages", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.families, args.messages, args.attack_chats, args.attack_messages))
    print(json.dumps(asdict(report), indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bounded load test on loopback: many families chatting at once through the webchat gateway, as
phones and browsers do (socket.io over websocket), on the embedded default stack and on the scaled
shape (nginx in front of 2 gateways, 2 Rasa servers, 2 action servers, PostgreSQL, Redis).

The load model (an open population of people, each one closed-loop, like a real evening):
- `conversations` families start staggered, evenly over the first RAMP_SECONDS (15 s);
- each opens a socket (`session_request` -> `session_confirm`), then sends a scripted conversation of
  5 to 8 messages drawn from a bank of family messages (greeting, kinship care, SGO, section 20,
  PLO letter, court, complaints, legal aid, "tell me more", the "/more" button, thanks, goodbye);
- it waits for the answer (up to ANSWER_TIMEOUT, then types on anyway, as an impatient person
  would), then "reads and types" for THINK seconds, uniformly 3 to 12 s (a short reply typed on a
  phone), then sends the next message;
- everything is drawn from random.Random(SEED): every run sends the same scripts at the same pauses.
The gateway allows RATE_LIMIT (8 messages per 20 s) per conversation; with at least 3 s between one
answer and the next message, 8 messages take more than 21 s, so a family never hits it (checked at
start against the gateway's settings).

Per message: sent when `user_uttered` is emitted; answered at the `bot_typing {typing: false}` that
follows a bot answer (`bot_uttered` from the bot) to it; latency = emit -> that `bot_typing`. Errors:
sockets that failed to connect or be confirmed, messages refused (the gateway's notice naming our
`client_id`: too fast, too long), sockets dropped mid-conversation, and other notices from the
gateway itself (sender "system", e.g. "I'm having a technical problem"). After its last message each family waits up to DRAIN_SECONDS more for late
answers; lost = sent - answered after that (a refused message is counted in errors and in lost).
msgs/s = answered / the whole run, from the first message sent to the last answer.
No new message is sent after SEND_CUTOFF seconds, so a level always ends within about 4 minutes.

    python scripts/bench_load.py --shape embedded|scaled|both --conversations 50,200
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Deque, Dict, Iterator, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot import run_local, settings  # noqa: E402
from bot.gateway.socketio_client import socketio  # noqa: E402

SEED = 20261201
RAMP_SECONDS = 15.0
THINK = (3.0, 12.0)
MESSAGES = (5, 8)
ANSWER_TIMEOUT = 60.0
DRAIN_SECONDS = 60.0
SEND_CUTOFF = 180.0
CONNECT_TIMEOUT = 20.0  # socket.io-client's own default connection timeout is 20 s

try:  # the gateway's own words when Rasa answers nothing (a Rasa with no model loaded answers nothing)
    from bot.gateway.texts import load_texts
    NO_ANSWER = load_texts().notices.no_answer
except Exception:  # pragma: no cover
    NO_ANSWER = "I'm sorry, I don't have an answer for that."

# Real-sounding family messages by topic (none asks for an adviser or is an emergency: those leave
# the bot's hands and are measured by the tests, not here).
BANK: Dict[str, List[str]] = {
    "greeting": [
        "hi", "Hello", "hello, I hope someone can help me", "Hi there, I'm a nan looking after my grandson",
        "good evening", "hiya",
    ],
    "kinship": [
        "I'm looking after my sister's children, what support can I get?",
        "what is kinship care",
        "my granddaughter has lived with me since her mum went into hospital, what are my options?",
        "can I get money for looking after my nephew?",
        "the council placed my grandson with us, are we kinship foster carers?",
        "do I need to be assessed to keep my niece with me",
    ],
    "sgo": [
        "what is a special guardianship order?",
        "the social worker says we should apply for an SGO, what does that mean",
        "would I get an allowance with a special guardianship order?",
        "what's the difference between an SGO and a child arrangements order",
    ],
    "section20": [
        "social services asked my daughter to sign a section 20, what is it?",
        "can she take her son back if he's under section 20?",
        "what does voluntary accommodation mean",
        "my son signed a s20 agreement, can he change his mind?",
    ],
    "plo": [
        "we got a letter before proceedings from the council, what happens now?",
        "what is a PLO meeting",
        "the council sent my daughter a pre-proceedings letter, should she get a solicitor?",
        "what happens at a public law outline meeting",
    ],
    "court": [
        "the council has started care proceedings, what happens at court?",
        "what is an interim care order",
        "we have a court hearing next week, what will happen",
        "can grandparents go to the care proceedings hearing",
    ],
    "complaints": [
        "how do I complain about our social worker?",
        "the social worker never returns my calls, can I make a complaint",
        "how do I complain to the ombudsman",
        "what is the council's complaints procedure",
    ],
    "legal_aid": [
        "can I get legal aid?",
        "do grandparents get free legal advice for care proceedings",
        "is legal aid means tested for parents in care proceedings",
        "how do I find a solicitor who does legal aid",
    ],
    "more": ["tell me more", "can you tell me more about that", "/more", "ok what else should I know"],
    "thanks": ["thank you", "thanks, that's really helpful", "cheers", "thank you so much"],
    "goodbye": ["bye", "that's all for now, bye", "ok thanks bye"],
}
TOPICS = ["kinship", "sgo", "section20", "plo", "court", "complaints", "legal_aid"]


def script(rng: random.Random) -> List[str]:
    """One family's conversation: maybe a greeting, questions on one to three topics with follow-ups
    ("tell me more", the /more button), maybe thanks and goodbye; 5 to 8 messages."""
    length = rng.randint(*MESSAGES)
    opening = [rng.choice(BANK["greeting"])] if rng.random() < 0.7 else []
    closing = []
    if rng.random() < 0.6:
        closing.append(rng.choice(BANK["thanks"]))
    if rng.random() < 0.4:
        closing.append(rng.choice(BANK["goodbye"]))
    middle: List[str] = []
    questions = {topic: rng.sample(BANK[topic], len(BANK[topic])) for topic in rng.sample(TOPICS, 3)}
    topics = list(questions)
    while len(opening) + len(middle) + len(closing) < length:
        if middle and middle[-1] not in BANK["more"] and rng.random() < 0.3:
            middle.append(rng.choice(BANK["more"]))
            continue
        if len(topics) > 1 and (not questions[topics[0]] or rng.random() < 0.4):
            topics.pop(0)  # on to the next worry
        middle.append(questions[topics[0]].pop() if questions[topics[0]] else rng.choice(BANK["more"]))
    return (opening + middle + closing)[:length]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class LevelResult:
    shape: str
    conversations: int
    sent: int = 0
    answered: int = 0
    connect_errors: int = 0
    refused: int = 0
    dropped: int = 0      # sockets closed by the other side mid-conversation
    notices: int = 0      # other notices from the gateway (sender "system": Rasa unreachable, ...)
    late: int = 0         # answered, but after ANSWER_TIMEOUT
    no_answer: int = 0    # answered with the gateway's "I don't have an answer" (Rasa answered nothing)
    seconds: float = 0.0  # first message sent -> last answer
    wall_seconds: float = 0.0
    latencies_ms: List[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.connect_errors + self.refused + self.dropped + self.notices

    @property
    def lost(self) -> int:
        return self.sent - self.answered

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


@dataclass
class _Message:
    client_id: str
    sent_at: float
    done: asyncio.Event = field(default_factory=asyncio.Event)
    got_answer: bool = False
    answered_at: Optional[float] = None
    refused: bool = False


class Family:
    """One family's socket: matches the gateway's events to the messages waiting for an answer."""

    def __init__(self, result: LevelResult):
        self.result = result
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirmed = asyncio.Event()
        self.waiting: Deque[_Message] = deque()
        self.closing = False
        self.dropped = False
        for event, handler in (("session_confirm", self._confirm), ("bot_uttered", self._uttered),
                               ("bot_typing", self._typing), ("disconnect", self._disconnect)):
            self.sio.on(event, handler)

    async def _confirm(self, data=None):
        self.confirmed.set()

    async def _uttered(self, data=None):
        metadata = data.get("metadata") if isinstance(data, dict) else None
        metadata = metadata if isinstance(metadata, dict) else {}
        rejected = metadata.get("rejected_client_id")
        if rejected:
            for message in self.waiting:
                if message.client_id == rejected:
                    message.refused = True
                    self.waiting.remove(message)
                    self.result.refused += 1
                    message.done.set()
                    break
            return
        sender = (metadata.get("message") or {}).get("sender")
        if sender == "bot" and self.waiting:
            self.waiting[0].got_answer = True
            if str(data.get("text", "")).startswith(NO_ANSWER[:40]):
                self.result.no_answer += 1
        elif sender == "system":
            self.result.notices += 1

    async def _typing(self, data=None):
        if isinstance(data, dict) and data.get("typing") is False and self.waiting and self.waiting[0].got_answer:
            message = self.waiting.popleft()
            message.answered_at = time.perf_counter()
            message.done.set()

    async def _disconnect(self):
        if not self.closing:
            self.dropped = True
            self.result.dropped += 1
            for message in self.waiting:
                message.done.set()  # nothing more will come on this socket

    async def open(self, url: str, route: Optional[str]) -> None:
        if route:
            url = f"{url}?route={route}"
        await self.sio.connect(url, transports=["websocket"], socketio_path="socket.io",
                               wait_timeout=CONNECT_TIMEOUT)
        await self.sio.emit("session_request", {"session_id": uuid.uuid4().hex})
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT)

    async def send(self, text: str) -> _Message:
        message = _Message(uuid.uuid4().hex, time.perf_counter())
        self.waiting.append(message)
        await self.sio.emit("user_uttered", {"message": text, "client_id": message.client_id})
        return message

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def run_level(url: str, conversations: int, shape: str, *, sticky_route: bool = False,
                    seed: int = SEED, rate_limit=(8, 20)) -> LevelResult:
    """`conversations` families through the gateway at `url`; returns the counts and latencies."""
    if THINK[0] * rate_limit[0] <= rate_limit[1]:
        raise SystemExit(f"think time {THINK[0]} s would let a family send {rate_limit[0]} messages in "
                         f"{rate_limit[1]} s (RATE_LIMIT): the bench would measure refusals")
    result = LevelResult(shape, conversations)
    master = random.Random(f"{seed}-{conversations}")
    plans = []
    for index in range(conversations):
        rng = random.Random(master.random())
        texts = script(rng)
        plans.append((index * RAMP_SECONDS / conversations, texts, [rng.uniform(*THINK) for _ in texts],
                      rng.getrandbits(64).to_bytes(8, "big").hex()))
    started = time.perf_counter()
    first_sent: List[float] = []
    last_answer: List[float] = []

    async def family(start_after: float, texts: List[str], thinks: List[float], route: str) -> None:
        await asyncio.sleep(start_after)
        client = Family(result)
        try:
            try:
                await client.open(url, route if sticky_route else None)
            except Exception:
                result.connect_errors += 1
                return
            messages: List[_Message] = []
            for text, think in zip(texts, thinks):
                if client.dropped or time.perf_counter() - started > SEND_CUTOFF:
                    break
                message = await client.send(text)
                result.sent += 1
                first_sent.append(message.sent_at)
                messages.append(message)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(message.done.wait(), ANSWER_TIMEOUT)
                await asyncio.sleep(think)
            drain_until = time.perf_counter() + DRAIN_SECONDS
            for message in messages:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(message.done.wait(), max(0.01, drain_until - time.perf_counter()))
                if message.answered_at is not None:
                    result.answered += 1
                    latency = message.answered_at - message.sent_at
                    result.latencies_ms.append(latency * 1000)
                    result.late += latency > ANSWER_TIMEOUT
                    last_answer.append(message.answered_at)
        finally:
            await client.close()

    await asyncio.gather(*(family(*plan) for plan in plans))
    result.wall_seconds = time.perf_counter() - started
    if first_sent and last_answer:
        result.seconds = max(last_answer) - min(first_sent)
    return result


# -- the two shapes ---------------------------------------------------------------------------------
@contextlib.contextmanager
def embedded(log_path: Optional[Path] = None) -> Iterator[str]:
    """The embedded default (one Rasa, one action server, one gateway, SQLite) on free ports; yields
    the gateway URL. Server output goes to `log_path` (default results/bench-embedded.log)."""
    log_path = log_path or ROOT / "results" / "bench-embedded.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as var, open(log_path, "w") as log:
        env = run_local.isolated_env(Path(var), "bench-token")
        cfg = settings.load(env)
        procs = run_local.start_all(cfg, "bench-token", env, output=log, quiet=True)
        try:
            yield f"http://{cfg.bind_host}:{cfg.gateway_port}"
        finally:
            run_local.stop_all(procs)


@contextlib.contextmanager
def scaled(keep_logs: Optional[Path] = None) -> Iterator[str]:
    """The scaled shape on free ports in a fresh folder under var/ (PostgreSQL's user must be able to
    reach it); yields nginx's public URL. Installs PostgreSQL/Redis/nginx first if missing
    (scripts/setup_prod.sh). The shape's logs are copied to `keep_logs` (default results/bench-scaled-logs)."""
    from bot.prod_local import Ports, running_shape

    subprocess.run([str(ROOT / "scripts" / "setup_prod.sh")], check=True, stdout=subprocess.DEVNULL)
    keep_logs = keep_logs or ROOT / "results" / "bench-scaled-logs"
    (ROOT / "var").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-shape-", dir=ROOT / "var"))
    os.chmod(base, 0o755)
    try:
        shape_ctx = running_shape(base, ports=Ports.free(), quiet=True,
                                  env=dict(os.environ, **settings.NO_ADDRESS_LIMITS))  # all from loopback
        try:
            with shape_ctx as shape:
                yield shape.public_url
        finally:
            if (base / "logs").exists():
                shutil.rmtree(keep_logs, ignore_errors=True)
                shutil.copytree(base / "logs", keep_logs)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_shape(shape: str, levels: Sequence[int], url: Optional[str] = None, say=print) -> List[LevelResult]:
    """Every level on one shape, one after another. `url`: an embedded stack that is already running."""
    rate = settings.load(os.environ).rate_limit
    sticky = shape == "scaled"

    def levels_on(target: str) -> List[LevelResult]:
        results = []
        for n in levels:
            say(f"==> load: {n} conversations on the {shape} shape ({target})")
            results.append(asyncio.run(run_level(target, n, shape, sticky_route=sticky, rate_limit=rate)))
        return results

    if url:
        return levels_on(url)
    with (scaled() if shape == "scaled" else embedded()) as target:
        return levels_on(target)


HEADER = ("shape", "conversations", "sent", "answered", "msgs/s", "p50", "p95", "p99", "errors", "lost")


def table(results: Sequence[LevelResult]) -> str:
    rows = [HEADER] + [(r.shape, str(r.conversations), str(r.sent), str(r.answered), f"{r.per_second:.1f}",
                        f"{r.p(50):.0f} ms", f"{r.p(95):.0f} ms", f"{r.p(99):.0f} ms", str(r.errors), str(r.lost))
                       for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [" | ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    details = [f"  {r.shape} {r.conversations}: errors = {r.connect_errors} connect, {r.refused} refused, "
               f"{r.dropped} dropped sockets, {r.notices} system notices; {r.late} answers after "
               f"{ANSWER_TIMEOUT:.0f} s, {r.no_answer} 'I don't have an answer'; p95/p50 {r.p(95) / r.p(50):.2f}; run {r.seconds:.0f} s "
               f"(level {r.wall_seconds:.0f} s)" for r in results]
    model = (f"(families start over the first {RAMP_SECONDS:.0f} s; {MESSAGES[0]}-{MESSAGES[1]} messages each, "
             f"{THINK[0]:.0f}-{THINK[1]:.0f} s think time after each answer, seed {SEED}; msgs/s = answered / "
             "first message to last answer; round trip = emit to the bot_typing false after the last answer)")
    return "\n".join(lines + details + [model])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=("embedded", "scaled", "both"), default="both")
    parser.add_argument("--conversations", default="50,200", help="levels, comma separated")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.conversations.split(",") if n.strip()]
    shapes = ["embedded", "scaled"] if args.shape == "both" else [args.shape]
    results: List[LevelResult] = []
    for shape in shapes:
        results.extend(run_shape(shape, levels))
    print(f"\nLoad through the gateway ({os.cpu_count()} cores, loopback; the load generator runs on the same machine)")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two gateway processes' worth of app (two aiohttp servers, two Store engines) sharing one database and
a real redis-server, as in the scaled shape: a family on one gateway and an adviser on the other talk
live; messages are delivered once whichever gateway retries; a Redis restart loses no answer.
(tests/test_prod_shape*.py repeat the important ones on PostgreSQL with real gateway processes.)"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from bot.ports import free_port
from tests.gateway_harness import Harness, wait_until

REDIS = shutil.which("redis-server")


class RedisServer:
    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc = None

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis(tmp_path):
    if REDIS is None:
        pytest.fail("redis-server is missing: run `make setup` (scripts/setup_prod.sh installs it)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
async def gateways(tmp_path, redis):
    """gw1 and gw2: one database file, one Redis, one scripted Rasa, one clock."""
    gw1 = await Harness(tmp_path).start(GATEWAY_REDIS_URL=redis.url, GATEWAY_INSTANCE="gw1")
    gw2 = Harness(tmp_path)
    gw2.clock, gw2.rasa = gw1.clock, gw1.rasa
    await gw2.start(GATEWAY_REDIS_URL=redis.url, GATEWAY_INSTANCE="gw2")
    yield gw1, gw2
    await gw2.stop()
    await gw1.stop()


async def test_adviser_on_one_gateway_takes_over_a_family_on_the_other(gateways):
    gw1, gw2 = gateways
    sam = await gw1.adviser("sam")
    family = await gw2.family()
    await family.say("I need to talk to an adviser")
    await wait_until(lambda: family.of("handoff") and family.of("handoff")[-1].get("state") == "queued")
    await wait_until(lambda: sam.of("queue") and sam.of("queue")[-1]["queue"])  # the queue crossed Redis

    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
    assert status == 200
    await wait_until(lambda: family.of("handoff")[-1].get("state") == "live")
    await sam.post(f"/console/api/conversations/{family.session_id}/messages", {"text": "Hello, I'm Sam."})
    await wait_until(lambda: "Hello, I'm Sam." in family.texts())
    await family.say("thank you, my grandson is with me")
    await wait_until(lambda: any(m["message"]["text"] == "thank you, my grandson is with me"
                                 for m in sam.of("message")))
    # Each event reached the family exactly once, though both gateways heard it on Redis.
    assert family.texts().count("Hello, I'm Sam.") == 1

    status, transcript = await sam.get(f"/console/api/conversations/{family.session_id}")
    texts = [m["text"] for m in transcript["messages"]]
    assert texts.count("I need to talk to an adviser") == 1 and "Hello, I'm Sam." in texts
    # One tracker: both messages reached Rasa once each (paused, it records the second without answering).
    assert gw1.rasa.received == ["I need to talk to an adviser", "thank you, my grandson is with me"]


async def test_pending_messages_are_delivered_once_whichever_gateway_retries(gateways):
    gw1, gw2 = gateways
    family = await gw2.family()
    gw1.rasa.down = True
    for text in ("first", "second", "third"):
        await family.say(text)
    await wait_until(lambda: any("technical problem" in t for t in family.texts()))
    gw1.rasa.down = False
    # Both gateways' background rounds run at once; the delivery lease lets one send.
    import asyncio
    await asyncio.gather(gw1.gateway.tick(), gw2.gateway.tick(), gw1.gateway.tick())
    await wait_until(lambda: sum(t.startswith("You said") for t in family.texts()) == 3)
    assert gw1.rasa.received.count("first") == 1 and gw1.rasa.received.count("third") == 1
    assert [t for t in gw1.rasa.received if t in ("first", "second", "third")] == ["first", "second", "third"]


async def test_a_redis_restart_loses_no_answer_for_a_family_on_its_own_gateway(gateways, redis):
    gw1, gw2 = gateways
    sam = await gw1.adviser("sam")
    family = await gw2.family()
    await family.say("hello before")
    await wait_until(lambda: "You said: hello before" in family.texts())
    redis.stop()
    await family.say("during the outage")  # gw2 answers its own family without Redis
    await wait_until(lambda: "You said: during the outage" in family.texts(), timeout=15)
    restarted = RedisServer(redis.workdir)
    restarted.port = redis.port
    restarted.start()
    try:
        # The other gateways hear again once the manager has reconnected (it retries with back-off).
        async def adviser_hears(text):
            await family.say(text)
            await wait_until(lambda: any(m["message"]["text"] == text for m in sam.of("message")), timeout=3)

        await sam.post("/console/api/availability", {"available": True})
        await family.say("I need an adviser please")
        await wait_until(lambda: family.of("handoff") and family.of("handoff")[-1].get("state") == "queued")
        for attempt in range(20):
            try:
                await adviser_hears(f"are you there {attempt}")
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("the adviser's gateway never heard the family again after Redis restarted")
        assert family.texts().count("You said: during the outage") == 1
    finally:
        restarted.stop()

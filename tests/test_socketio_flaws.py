"""The two published python-socketio flaws that reached the gateway (issue 16), each shown closed.

- CVE-2026-48804: a client could announce any number of binary attachments and then stream binary frames
  the server kept accumulating, a denial of service any family could send (python-socketio < 5.16.2).
- CVE-2025-61765: the Redis manager unpickled what it read from Redis, so anyone able to publish on the
  gateways' channel could run code in every gateway (python-socketio < 5.14).
"""
from __future__ import annotations

import asyncio
import pickle

import aiohttp
import pytest

from bot.gateway.realtime import client_manager
from tests.gateway_harness import Harness
from tests.test_hostile_inputs import still_healthy


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


async def raw_socket(http: aiohttp.ClientSession, h: Harness, connect: bool = True):
    """A websocket speaking Engine.IO 4 by hand, past the open packet (and into "/" if `connect`)."""
    ws = await http.ws_connect(h.base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
    await ws.receive()  # Engine.IO open
    if connect:
        await ws.send_str("40")
        await ws.receive()  # socket.io connect ack
    return ws


def held_attachments(h: Harness) -> int:
    """Binary attachments the socket.io server is holding for packets not yet complete."""
    return sum(len(packet.attachments) for packet in h.gateway.sio._binary_packet.values())


async def test_announcing_endless_binary_attachments_accumulates_nothing(h):
    async with aiohttp.ClientSession() as http:
        ws = await raw_socket(http, h)
        # "5" = BINARY_EVENT, then the number of attachments to follow, then the event itself
        await ws.send_str("5" + "9" * 40 + '-["user_uttered",{"_placeholder":true,"num":0}]')
        for _ in range(300):
            await ws.send_bytes(b"\0" * 1024)
        await asyncio.sleep(0.3)  # let the server read every frame
        assert held_attachments(h) == 0
        await ws.close()
    assert h.rasa.received == []
    await still_healthy(h)


async def test_binary_frames_beyond_what_was_announced_are_dropped(h):
    async with aiohttp.ClientSession() as http:
        ws = await raw_socket(http, h)
        await ws.send_str('52-["user_uttered",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        await ws.send_bytes(b"\1" * 512)
        assert held_attachments(h) <= 1
        for _ in range(100):
            await ws.send_bytes(b"\2" * 512)
        await asyncio.sleep(0.3)
        assert held_attachments(h) == 0  # the packet completed at 2; the other 99 frames were refused
        await ws.close()
    assert h.rasa.received == []  # an event whose data is bytes is not a family message
    await still_healthy(h)


async def test_a_binary_packet_before_joining_a_namespace_is_refused(h):
    async with aiohttp.ClientSession() as http:
        ws = await raw_socket(http, h, connect=False)
        await ws.send_str('51-["user_uttered",{"_placeholder":true,"num":0}]')
        await asyncio.sleep(0.2)
        assert h.gateway.sio._binary_packet == {}
        await ws.close()
    await still_healthy(h)


HIT: list = []


def _ran_code_from_redis() -> dict:
    HIT.append(1)
    return {"method": "emit", "event": "x", "data": ["x"], "namespace": "/", "room": None,
            "skip_sid": None, "callback": None, "host_id": "elsewhere"}


class Exploit:
    def __reduce__(self):
        return (_ran_code_from_redis, ())


async def test_the_redis_manager_never_unpickles_what_it_reads():
    """A pickled payload published on the gateways' channel is ignored, not loaded (no Redis needed:
    the manager's reader is fed the message directly)."""
    manager = client_manager("redis://127.0.0.1:9/0")

    class Server:
        logger = __import__("logging").getLogger("test")

    manager.server = Server()
    handled = []

    async def listen():
        yield pickle.dumps(Exploit())
        yield b'{"method": "emit", "event": "ok", "data": ["ok"], "namespace": "/", "host_id": "other"}'

    async def handle_emit(message):
        handled.append(message["event"])

    manager._listen = listen
    manager._handle_emit = handle_emit
    await manager._thread()  # returns when the reader ends
    assert HIT == []
    assert handled == ["ok"]  # JSON from another gateway is still delivered


def test_rasas_own_socketio_channel_stays_off():
    """Rasa's own socket.io channel calls enter_room without await and breaks on python-socketio 5.18."""
    import yaml
    from pathlib import Path

    credentials = yaml.safe_load((Path(__file__).resolve().parent.parent / "credentials.yml").read_text()) or {}
    assert not any("socketio" in str(channel).lower() for channel in credentials)

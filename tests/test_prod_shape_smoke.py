"""Smoke test of the production shape (bot/prod_local.py): PostgreSQL, Redis, 2 action servers,
2 Rasa servers, 2 gateways and nginx on free loopback ports. A family page and a family chat over
socket.io through nginx (websocket, and long-polling, which only works when nginx keeps every request
of the session on one gateway), the conversation in PostgreSQL, every server up.

Needs a trained model, PostgreSQL, redis-server and nginx (scripts/setup_prod.sh). About a minute:
starting the shape is mostly loading two Rasa models. Run: .venv/bin/python -m pytest -m prod
"""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import urllib.request

import aiohttp
import pytest
from bot.gateway.socketio_client import socketio
import sqlalchemy as sa


pytestmark = pytest.mark.prod


@pytest.fixture(scope="module")
def shape(prod_shape):
    return prod_shape  # tests/conftest.py: one shape for every prod test


def get(url: str, timeout: float = 10) -> tuple:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


async def chat(url: str, text: str, transports: list, route: str = "") -> tuple:
    """A family: session_request, session_confirm, user_uttered (unless text is empty), the first
    bot_uttered. Returns (session id, answer or None)."""
    http = aiohttp.ClientSession()  # ours, so it is closed (engine.io leaves its own open)
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    answers: asyncio.Queue = asyncio.Queue()

    @sio.on("session_confirm")
    async def on_confirm(data):
        if not confirmed.done():
            confirmed.set_result(data["session_id"] if isinstance(data, dict) else data)

    @sio.on("bot_uttered")
    async def on_bot(data):
        await answers.put(data)

    route = route or secrets.token_hex(16)
    await sio.connect(f"{url}?route={route}", socketio_path="socket.io", transports=transports, wait_timeout=10)
    try:
        await sio.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirmed, 15)
        if not text:
            return session_id, None
        await sio.emit("user_uttered", {"message": text, "session_id": session_id})
        answer = await asyncio.wait_for(answers.get(), 60)
        return session_id, answer
    finally:
        await sio.disconnect()
        await http.close()


def test_every_server_is_up(shape):
    for i in range(1, len(shape.ports.rasa) + 1):
        status, body = get(f"{shape.rasa_url(i)}/")
        assert status == 200 and "Rasa" in body
        status, body = get(f"{shape.rasa_url(i)}/status?token={shape.rasa_token}")
        assert json.loads(body)["model_file"], f"rasa{i} has no model loaded"
    for i in range(1, len(shape.ports.gateways) + 1):
        assert get(f"{shape.gateway_url(i)}/health")[0] == 200
    for i in range(1, len(shape.ports.actions) + 1):
        assert get(f"{shape.action_url(i)}/health")[0] == 200
    assert get(f"{shape.public_url}/health")[0] == 200
    assert sorted(n for n in shape.names() if shape.pid(n)) == sorted(shape.names())


def test_family_page_through_nginx(shape):
    status, body = get(f"{shape.public_url}/")
    assert status == 200 and "widget.js" in body
    status, body = get(f"{shape.public_url}/widget.js")
    assert status == 200 and "route: routeId()" in body


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "long-polling"])
async def test_family_message_answered_through_nginx_and_kept_in_postgresql(shape, transports):
    session_id, answer = await chat(shape.public_url, "what is a special guardianship order?", transports)
    assert "special guardian" in answer["text"].lower()

    engine = sa.create_engine(shape.db_url("rasa"))
    try:
        with engine.connect() as conn:
            kinds = [row[0] for row in conn.execute(
                sa.text("SELECT type_name FROM events WHERE sender_id = :sid ORDER BY id"), {"sid": session_id})]
    finally:
        engine.dispose()
    assert "user" in kinds and "bot" in kinds


async def test_long_polling_sessions_stay_on_one_gateway_and_tabs_spread_over_all(shape):
    """nginx's access log (upstream=...) shows which gateway got each socket.io request."""
    gateway_of = {str(port): f"gateway{i}" for i, port in enumerate(shape.ports.gateways, 1)}
    log = shape.logs / "nginx-access.log"
    seen = set()
    for _ in range(40):  # random routes until every gateway has had one (2 gateways: ~4 tries)
        route = secrets.token_hex(16)
        await chat(shape.public_url, "", ["polling"], route=route)
        hits = re.findall(rf"/socket\.io/\?route={route}\S* HTTP/1\.1\" \d+ upstream=[\d.]+:(\d+)",
                          log.read_text())
        assert len(hits) >= 3, hits  # the handshake, the namespace connect, polls, the event
        assert len(set(hits)) == 1, f"route {route} went to several gateways: {hits}"
        seen.add(gateway_of[hits[0]])
        if len(seen) == len(gateway_of):
            break
    assert seen == set(gateway_of.values())

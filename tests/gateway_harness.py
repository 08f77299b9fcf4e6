"""A gateway on a real loopback port with a scripted stand-in for Rasa's REST channel and tracker API,
an injected clock, and helpers to connect families (socket.io) and advisers (HTTP + socket.io).

The stand-in answers the way Rasa does (including a paused tracker answering nothing); the end-to-end
tests in tests/test_gateway_end_to_end.py use the real Rasa server."""
from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
from bot.gateway.socketio_client import socketio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import settings as settings_mod
from bot.gateway.app import create_app
from bot.gateway.security import GATEWAY, hash_password
from bot.service_hours import load_policy

# Thursday 3 December 2026, 13:30 London (GMT): inside a webchat session.
IN_HOURS = datetime(2026, 12, 3, 13, 30, tzinfo=timezone.utc)
# Saturday 5 December 2026, 11:00: outside.
OUT_OF_HOURS = datetime(2026, 12, 5, 11, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery staple"
# Each family's browser comes from its own address (sent as our proxy would, in X-Forwarded-For, which
# the gateway trusts from loopback), so the limits per address apply to tests only where they choose.
_ADDRESSES = (f"198.18.{n // 256}.{n % 256}" for n in itertools.count(1))


class Clock:
    def __init__(self, now: datetime):
        self.now = now
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        from datetime import timedelta
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class FakeRasa:
    """Rasa's REST channel and tracker API, scripted."""

    down: bool = False
    actions_down: bool = False  # the action server: Rasa records the message, then answers with nothing
    stores_down: bool = False  # its tracker or lock store: Rasa records nothing and answers `[]` (HTTP 200)
    answer_lost: bool = False  # Rasa answers and records, but the HTTP response never arrives
    paused: Dict[str, bool] = field(default_factory=dict)
    events: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    received: List[str] = field(default_factory=list)
    parsed: List[str] = field(default_factory=list)
    model_crises: List[str] = field(default_factory=list)  # what the scripted NLU reads as emergency_risk

    def answers(self, text: str) -> List[Dict[str, Any]]:
        if text == "/speak_to_adviser" or "adviser" in text:
            return [{"text": "I've asked for an adviser to join this chat."}, {"custom": {"handoff": "request"}}]
        if "section 20" in text:
            return [{"text": "Section 20 is voluntary accommodation.",
                     "buttons": [{"title": "Tell me more", "payload": "/more"}]},
                    {"custom": {"ask_feedback": True}}]
        return [{"text": f"You said: {text}"}]

    def app(self) -> web.Application:
        app = web.Application()

        async def webhook(request: web.Request) -> web.Response:
            if self.down:
                return web.Response(status=503)
            body = await request.json()
            sender, text = body["sender"], body["message"]
            if self.stores_down:
                return web.json_response([])
            self.received.append(text)
            self.events.setdefault(sender, []).append({"event": "user", "text": text,
                                                       "metadata": body.get("metadata") or {}})
            if self.paused.get(sender) or self.actions_down:
                return web.json_response([])
            answers = self.answers(text)
            for answer in answers:
                data = {k: answer[k] for k in ("buttons", "custom") if k in answer}
                self.events[sender].append({"event": "bot", "text": answer.get("text"), "data": data})
            if self.answer_lost:
                return web.Response(status=502)  # e.g. the proxy's connection to Rasa broke
            return web.json_response([dict(a, recipient_id=sender) for a in answers])

        async def append(request: web.Request) -> web.Response:
            if self.down:
                return web.Response(status=503)
            assert request.query.get("token") == "test-token"
            sender = request.match_info["sender"]
            for event in await request.json():
                self.events.setdefault(sender, []).append(event)
                if event["event"] in ("pause", "resume"):
                    self.paused[sender] = event["event"] == "pause"
            return web.json_response({})

        async def tracker(request: web.Request) -> web.Response:
            if self.down or self.stores_down:
                return web.Response(status=500)
            return web.json_response({"slots": {"last_topic": "section_20", "council": "Leeds City Council",
                                                "proceedings_stage": "court"},
                                      "events": self.events.get(request.match_info["sender"], [])})

        async def parse(request: web.Request) -> web.Response:
            if self.down:
                return web.Response(status=503)
            assert request.query.get("token") == "test-token"
            text = (await request.json())["text"]
            self.parsed.append(text)
            name = "emergency_risk" if text in self.model_crises else "nlu_fallback"
            return web.json_response({"text": text, "intent": {"name": name, "confidence": 1.0}})

        async def action_health(request: web.Request) -> web.Response:
            return web.Response(status=503 if self.actions_down else 200)

        app.router.add_get("/health", action_health)  # the harness points ACTION_PORT here too
        app.router.add_post("/webhooks/rest/webhook", webhook)
        app.router.add_post("/model/parse", parse)
        app.router.add_post("/conversations/{sender}/tracker/events", append)
        app.router.add_get("/conversations/{sender}/tracker", tracker)
        return app

    def said(self, sender: str) -> List[str]:
        """The family messages in the tracker as Rasa applies it (rewound ones left out)."""
        from bot.gateway.rasa_client import applied_events

        return [e["text"] for e in applied_events(self.events.get(sender, [])) if e["event"] == "user"]


class Family:
    """A family's browser: a socket.io client speaking Rasa's protocol, collecting what arrives."""

    def __init__(self, url: str, address: Optional[str] = None):
        self.url = url
        self.address = address or next(_ADDRESSES)
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: List[tuple] = []
        self.session_id: Optional[str] = None
        for event in ("bot_uttered", "user_echo", "handoff", "history", "bot_typing"):
            self.sio.on(event, self._collector(event))
        self.sio.on("session_confirm", self._confirm)

    def _collector(self, event: str):
        async def collect(data=None):
            self.received.append((event, data))
        return collect

    async def _confirm(self, data=None):
        self.session_id = data

    async def connect(self, session_id: Optional[str] = None, confirmed: bool = True) -> "Family":
        """Connect and ask for a session; wait for its confirmation, or (confirmed=False) for any answer."""
        await self.sio.connect(self.url, transports=["websocket"], socketio_path="socket.io",
                               headers={"X-Forwarded-For": self.address})
        await self.sio.emit("session_request", {"session_id": session_id})
        await wait_until(lambda: self.session_id is not None or (not confirmed and self.received))
        return self

    async def say(self, text: Any, client_id: Optional[str] = None) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id, "client_id": client_id})

    def texts(self, event: str = "bot_uttered") -> List[str]:
        return [data.get("text") for name, data in self.received if name == event and isinstance(data, dict)]

    def of(self, event: str) -> List[Any]:
        return [data for name, data in self.received if name == event]

    async def close(self) -> None:
        await self.sio.disconnect()


class Adviser:
    """An adviser's browser: a cookie-holding HTTP client plus the console socket."""

    def __init__(self, base: str):
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: List[tuple] = []
        for event in ("queue", "message", "alert", "family_typing", "conversation_state"):
            self.sio.on(event, self._collector(event), namespace="/console")

    def _collector(self, event: str):
        async def collect(data=None):
            self.received.append((event, data))
        return collect

    async def login(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        page = await (await self.http.get(self.base + "/console/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        response = await self.http.post(self.base + "/console/login",
                                        data={"username": username, "password": password, "csrf": csrf})
        console = await response.text()
        found = re.search(r'name="csrf-token" content="([^"]+)"', console)
        self.csrf = found.group(1) if found else ""
        return response

    def cookie_header(self) -> str:
        return "; ".join(f"{c.key}={c.value}" for c in self.http.cookie_jar)

    async def connect_socket(self) -> None:
        await self.sio.connect(self.base, transports=["websocket"], socketio_path="socket.io",
                               namespaces=["/console"], headers={"Cookie": self.cookie_header()})

    async def post(self, path: str, body: Optional[dict] = None, csrf: Optional[str] = None) -> tuple:
        response = await self.http.post(self.base + path, json=body or {},
                                        headers={"X-CSRF-Token": self.csrf if csrf is None else csrf})
        return response.status, await response.json()

    async def get(self, path: str) -> tuple:
        response = await self.http.get(self.base + path)
        return response.status, await response.json()

    def of(self, event: str) -> List[Any]:
        return [data for name, data in self.received if name == event]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self.http.close()


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class Harness:
    def __init__(self, tmp: Path, now: datetime = IN_HOURS):
        self.tmp = tmp
        self.clock = Clock(now)
        self.rasa = FakeRasa()
        self.families: List[Family] = []
        self.advisers: List[Adviser] = []

    async def start(self, **env: str) -> "Harness":
        self.rasa_server = TestServer(self.rasa.app(), host="127.0.0.1")
        await self.rasa_server.start_server()
        settings = settings_mod.load(dict(
            VAR_DIR=str(self.tmp), RASA_PORT=str(self.rasa_server.port), ACTION_PORT=str(self.rasa_server.port),
            RASA_TOKEN="test-token",
            INTERNAL_TOKEN="internal-test", SESSION_SECRET="", **env))
        self.app = create_app(settings, clock=self.clock, monotonic=self.clock.monotonic, wall=self.clock.wall,
                              policy=load_policy(env={}), background=False, internal_token="internal-test")
        self.gateway = self.app[GATEWAY]
        for username, role, name in (("sam", "adviser", "Sam"), ("alex", "adviser", "Alex"), ("kim", "staff", "Kim")):
            self.gateway.store.add_user(username, name, role, hash_password(PASSWORD), self.clock())
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        self.base = f"http://127.0.0.1:{self.server.port}"
        return self

    async def family(self, session_id: Optional[str] = None, address: Optional[str] = None,
                     confirmed: bool = True) -> Family:
        family = Family(self.base, address)
        self.families.append(family)
        return await family.connect(session_id, confirmed)

    async def adviser(self, username: str = "sam", available: bool = True, socket: bool = True) -> Adviser:
        adviser = Adviser(self.base)
        self.advisers.append(adviser)
        await adviser.login(username)
        if socket:
            await adviser.connect_socket()
        if available:
            status, _ = await adviser.post("/console/api/availability", {"available": True})
            assert status == 200
        return adviser

    async def stop(self) -> None:
        for client in self.families + self.advisers:
            await client.close()
        await self.server.close()
        await self.rasa_server.close()

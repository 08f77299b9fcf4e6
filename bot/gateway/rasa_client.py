"""The gateway's only way to Rasa: its REST channel for family messages, its HTTP API (token) for
the tracker (pause, resume, the adviser's messages, slots)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, restarting, or an error): the message must be kept and retried."""


def applied_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A tracker's events as Rasa applies them: a `rewind` undoes the last user message and what
    followed it."""
    applied: List[Dict[str, Any]] = []
    for event in events:
        if event.get("event") == "rewind":
            last_user = max((i for i, e in enumerate(applied) if e.get("event") == "user"), default=None)
            if last_user is not None:
                del applied[last_user:]
        else:
            applied.append(event)
    return applied


def earlier_attempt(events: List[Dict[str, Any]], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """Whether the tracker already holds the family message the gateway sent with this id (in its
    metadata as client_message_id): None if not; else the bot's answers recorded after it, in the REST
    channel's shape (empty if Rasa recorded the message but could not answer it)."""
    applied = applied_events(events)
    for index, event in enumerate(applied):
        if event.get("event") == "user" and (event.get("metadata") or {}).get("client_message_id") == message_id:
            answers = []
            for later in applied[index + 1:]:
                if later.get("event") == "user":
                    break
                if later.get("event") == "bot" and (later.get("metadata") or {}).get("source") != "adviser":
                    data = later.get("data") or {}
                    answer: Dict[str, Any] = {}
                    if later.get("text"):
                        answer["text"] = later["text"]
                    if data.get("buttons"):
                        answer["buttons"] = data["buttons"]
                    if data.get("custom"):
                        answer["custom"] = data["custom"]
                    if answer:
                        answers.append(answer)
            return answers
    return None


PARSE_TIMEOUT = aiohttp.ClientTimeout(total=5)  # a family message waits for this at most


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30, action_url: str = ""):
        self.base_url = base_url.rstrip("/")
        self.action_url = action_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._session, "RasaClient.start() was not called"
        try:
            async with self._session.request(method, self.base_url + path, **kwargs) as response:
                if response.status >= 500 or response.status in (401, 403, 404, 409):
                    raise RasaUnavailable(f"{method} {path}: HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"{method} {path}: {error!r}") from error

    async def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict]:
        """A family message through the REST channel; Rasa's answers (text, buttons, custom)."""
        answers = await self._request("POST", "/webhooks/rest/webhook",
                                      json={"sender": sender, "message": text, "metadata": metadata or {}})
        return answers if isinstance(answers, list) else []

    async def append_events(self, sender: str, events: List[Dict[str, Any]]) -> None:
        await self._request("POST", f"/conversations/{sender}/tracker/events",
                            params={"token": self.token, "include_events": "NONE"}, json=events)

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        tracker = await self._request("GET", f"/conversations/{sender}/tracker",
                                      params={"token": self.token, "include_events": "AFTER_RESTART"})
        return (tracker or {}).get("events") or []

    async def rewind(self, sender: str) -> None:
        """Undo the last user message (Rasa's UserUtteranceReverted), so it can be sent again."""
        await self.append_events(sender, [{"event": "rewind"}])

    async def pause(self, sender: str) -> None:
        await self._append_with_retries(sender, {"event": "pause"})

    async def resume(self, sender: str) -> None:
        await self._append_with_retries(sender, {"event": "resume"})

    async def _append_with_retries(self, sender: str, event: Dict[str, Any], delays=(0.5, 1.0, 2.0)) -> None:
        """Pause and resume may be repeated safely, and a lost one leaves the chat with the wrong owner
        (a resumed family with no bot answers): tried again after a short wait before giving up."""
        for delay in (*delays, None):
            try:
                await self.append_events(sender, [event])
                return
            except RasaUnavailable:
                if delay is None:
                    raise
                log.warning("Rasa refused %s for %s; trying again in %.1f s", event["event"], sender, delay)
                await asyncio.sleep(delay)

    async def adviser_said(self, sender: str, text: str, adviser: str, timestamp: float) -> None:
        await self.append_events(sender, [{"event": "bot", "text": text, "timestamp": timestamp,
                                           "metadata": {"source": "adviser", "adviser": adviser}}])

    async def is_emergency(self, text: str) -> bool:
        """Whether Rasa's NLU (its safety net: pattern rules and the crisis model) reads the text as
        danger now. Used while a conversation is paused, when Rasa would not answer it."""
        parsed = await self._request("POST", "/model/parse", params={"token": self.token}, json={"text": text},
                                     timeout=PARSE_TIMEOUT)
        return ((parsed or {}).get("intent") or {}).get("name") == "emergency_risk"

    async def slots(self, sender: str) -> Dict[str, Any]:
        tracker = await self._request("GET", f"/conversations/{sender}/tracker",
                                      params={"token": self.token, "include_events": "NONE"})
        return (tracker or {}).get("slots") or {}

    async def actions_healthy(self) -> bool:
        """Whether the action server answers its health check (Rasa answers nothing when it is down)."""
        if not self.action_url:
            return True
        assert self._session, "RasaClient.start() was not called"
        try:
            async with self._session.get(self.action_url + "/health",
                                         timeout=aiohttp.ClientTimeout(total=5)) as response:
                return response.status == 200
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return False

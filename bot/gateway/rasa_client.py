"""The gateway's only way to Rasa: its REST channel for family messages, its HTTP API (token) for
the tracker (pause, resume, the adviser's messages, slots)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import aiohttp


class RasaUnavailable(Exception):
    """Rasa did not answer (down, restarting, or an error): the message must be kept and retried."""


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

    async def pause(self, sender: str) -> None:
        await self.append_events(sender, [{"event": "pause"}])

    async def resume(self, sender: str) -> None:
        await self.append_events(sender, [{"event": "resume"}])

    async def adviser_said(self, sender: str, text: str, adviser: str, timestamp: float) -> None:
        await self.append_events(sender, [{"event": "bot", "text": text, "timestamp": timestamp,
                                           "metadata": {"source": "adviser", "adviser": adviser}}])

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

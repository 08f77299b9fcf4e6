"""Round trips through the webchat gateway, as a family's browser sees them (socket.io, websocket).

A round trip is from sending `user_uttered` to the gateway's `bot_typing: false`, which it sends
after the last of Rasa's answers to that message. Used by scripts/bench.py.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import List, Sequence

from bot.gateway.socketio_client import socketio


@dataclass
class LoadResult:
    conversations: int
    sent: int = 0
    answered: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: List[float] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Messages that never got an answer (errors included)."""
        return self.sent - self.answered

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class Conversation:
    """One family: a socket.io client that sends a message and waits until the bot has answered."""

    def __init__(self, url: str, timeout: float = 60):
        self.url = url
        self.timeout = timeout
        self.sio = socketio.AsyncClient(reconnection=False)
        self._confirmed = asyncio.Event()
        self._done = asyncio.Event()
        self.sio.on("session_confirm", self._on_confirm)
        self.sio.on("bot_typing", self._on_typing)

    async def _on_confirm(self, data=None):
        self._confirmed.set()

    async def _on_typing(self, data=None):
        if isinstance(data, dict) and data.get("typing") is False:
            self._done.set()

    async def open(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"], socketio_path="socket.io")
        await self.sio.emit("session_request", {"session_id": uuid.uuid4().hex})
        await asyncio.wait_for(self._confirmed.wait(), self.timeout)

    async def round_trip(self, text: str) -> float:
        self._done.clear()
        started = time.perf_counter()
        await self.sio.emit("user_uttered", {"message": text, "client_id": uuid.uuid4().hex})
        await asyncio.wait_for(self._done.wait(), self.timeout)
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self.sio.disconnect()


async def sequential(url: str, texts: Sequence[str], per_conversation: int = 6) -> List[float]:
    """One family after another, one message at a time: the latency of a quiet gateway."""
    latencies: List[float] = []
    for start in range(0, len(texts), per_conversation):
        conversation = Conversation(url)
        await conversation.open()
        for text in texts[start:start + per_conversation]:
            latencies.append(await conversation.round_trip(text))
        await conversation.close()
    return latencies


async def concurrent(url: str, texts: Sequence[str], conversations: int, per_conversation: int = 6,
                     think_seconds: float = 0.0) -> LoadResult:
    """`conversations` families at once, each sending `per_conversation` messages in turn."""
    result = LoadResult(conversations)

    async def family(index: int) -> None:
        conversation = Conversation(url)
        try:
            await conversation.open()
        except Exception:
            result.errors += per_conversation
            result.sent += per_conversation
            return
        for turn in range(per_conversation):
            text = texts[(index * per_conversation + turn) % len(texts)]
            result.sent += 1
            try:
                result.latencies_ms.append(await conversation.round_trip(text))
                result.answered += 1
            except Exception:
                result.errors += 1
            if think_seconds:
                await asyncio.sleep(think_seconds)
        await conversation.close()

    started = time.perf_counter()
    await asyncio.gather(*(family(i) for i in range(conversations)))
    result.seconds = time.perf_counter() - started
    return result

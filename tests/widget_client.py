"""A family's browser for fault tests: python-socketio doing what bot/gateway/static/widget.js does.

- Connects with a per-tab `route` query parameter (nginx keeps the session on one gateway).
- Keeps every message it sends in an outbox, with a client id, until the gateway's user_echo for that
  client id arrives; after any reconnect it asks for the history it missed and sends the outbox again.
- Reconnects by itself: socket.io's own reconnection for a dropped transport, and, like the widget,
  a new connect a few seconds after the server closed the socket.
- Records everything it is shown, de-duplicated by message id, as the page would.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Any, Dict, List, Optional

from bot.gateway.socketio_client import socketio

RECONNECT_AGAIN = 2.0  # the widget waits 5 s; shorter keeps tests quick


class WidgetFamily:
    def __init__(self, url: str, route: Optional[str] = None):
        self.url = url
        self.route = route or secrets.token_hex(8)
        self.session_id: Optional[str] = None
        self.outbox: Dict[str, str] = {}  # client id -> text, until echoed
        self.sent: List[str] = []  # client ids, in order
        self.shown: Dict[str, Dict[str, Any]] = {}  # message id -> message object
        self.notices: List[str] = []  # texts shown without an id (refusals, the gateway's own notices)
        self.disconnects = 0
        self.connects = 0
        self._closing = False
        self._ready = asyncio.Event()
        self._reconnector: Optional[asyncio.Task] = None
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("session_confirm", self._on_confirm)
        self.sio.on("user_echo", self._on_echo)
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("history", self._on_history)

    # -- connection ----------------------------------------------------------------------------
    async def open(self) -> "WidgetFamily":
        await self._connect()
        await asyncio.wait_for(self._ready.wait(), 30)
        return self

    async def _connect(self) -> None:
        await self.sio.connect(f"{self.url}?route={self.route}", socketio_path="socket.io",
                               transports=["websocket"], wait_timeout=10)

    async def _on_connect(self) -> None:
        self.connects += 1
        await self.sio.emit("session_request", {"session_id": self.session_id})

    async def _on_disconnect(self) -> None:
        self.disconnects += 1
        self._ready.clear()
        if not self._closing and (self._reconnector is None or self._reconnector.done()):
            # keep a reference: the event loop holds tasks only weakly, and a collected task never runs
            self._reconnector = asyncio.get_running_loop().create_task(self._connect_again())

    async def _connect_again(self) -> None:
        """The widget's timer for a socket the server closed (socket.io's own reconnection covers a
        dropped transport; whichever gets there first wins)."""
        await asyncio.sleep(RECONNECT_AGAIN)
        while not self._closing and not self.sio.connected:
            try:
                await self._connect()
            except (socketio.exceptions.ConnectionError, ValueError):
                pass  # already connecting, or the server is still away
            await asyncio.sleep(RECONNECT_AGAIN)

    async def _on_confirm(self, data: Any) -> None:
        self.session_id = data if isinstance(data, str) else (data or {}).get("session_id")
        last_seq = max((m.get("seq") or 0 for m in self.shown.values()), default=0)
        try:
            await self.sio.emit("history_request", {"session_id": self.session_id, "after_seq": last_seq})
        except socketio.exceptions.BadNamespaceError:
            return  # closed again at once (the gateway's store is still away): the next connect retries
        for client_id, text in list(self.outbox.items()):
            await self._emit(client_id, text)
        self._ready.set()

    def state(self) -> str:
        return (f"session {self.session_id}: connected={self.sio.connected} connects={self.connects} "
                f"disconnects={self.disconnects} outbox={len(self.outbox)} shown={len(self.shown)}")

    # -- what the family sees --------------------------------------------------------------------
    def _show(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("id"):
            self.shown[message["id"]] = message

    async def _on_echo(self, data: Any) -> None:
        if isinstance(data, dict):
            self._show(data.get("message"))
            self.outbox.pop(data.get("client_id") or (data.get("message") or {}).get("client_id"), None)

    async def _on_bot(self, data: Any) -> None:
        message = ((data or {}).get("metadata") or {}).get("message") if isinstance(data, dict) else None
        if isinstance(message, dict) and message.get("id"):
            self._show(message)
        elif isinstance(data, dict):
            self.notices.append(data.get("text") or "")

    async def _on_history(self, data: Any) -> None:
        for message in (data or {}).get("messages", []):
            self._show(message)
            if message.get("sender") == "family":
                self.outbox.pop(message.get("client_id"), None)

    # -- sending ---------------------------------------------------------------------------------
    async def say(self, text: str) -> str:
        client_id = "c" + secrets.token_hex(8)
        self.outbox[client_id] = text
        self.sent.append(client_id)
        if self.sio.connected and self._ready.is_set():
            await self._emit(client_id, text)
        return client_id

    async def _emit(self, client_id: str, text: str) -> None:
        try:
            await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id,
                                                 "client_id": client_id})
        except socketio.exceptions.BadNamespaceError:
            pass  # disconnected meanwhile: it stays in the outbox and goes again after the reconnect

    # -- counting --------------------------------------------------------------------------------
    def transcript(self) -> List[Dict[str, Any]]:
        return sorted(self.shown.values(), key=lambda m: m.get("seq") or 0)

    def family_messages(self) -> List[Dict[str, Any]]:
        return [m for m in self.transcript() if m.get("sender") == "family"]

    def bot_answers(self) -> int:
        return sum(1 for m in self.transcript() if m.get("sender") == "bot")

    async def close(self) -> None:
        self._closing = True
        if self._reconnector:
            self._reconnector.cancel()
        await self.sio.disconnect()

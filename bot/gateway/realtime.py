"""The gateways' shared realtime layer: python-socketio's Redis manager, delivering locally first.

With GATEWAY_REDIS_URL set, every emit to a room (a family's conversation, the advisers) reaches the
sockets in that room on every gateway through Redis pub/sub, so a family on one gateway and an adviser
on another talk live. Without it (the embedded default) one process holds every socket.

Unlike the stock AsyncRedisManager, this one hands an event to this gateway's own sockets directly and
publishes it only for the others (which skip their own messages). So while Redis restarts, a family
still gets the answers to its own messages from the gateway it is connected to; only events for
sockets on other gateways wait for Redis, and consoles catch up from the store when they reconnect.
"""
from __future__ import annotations

import logging
from typing import Optional

import socketio
from socketio.asyncio_manager import AsyncManager

log = logging.getLogger(__name__)


class LocalFirstRedisManager(socketio.AsyncRedisManager):
    async def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, **kwargs):
        if callback is not None or kwargs.get("ignore_queue"):
            return await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, **kwargs)
        namespace = namespace or "/"
        await AsyncManager.emit(self, event, data, namespace=namespace, room=room, skip_sid=skip_sid)
        try:
            await self._publish({"method": "emit", "event": event, "data": data, "namespace": namespace,
                                 "room": room, "skip_sid": skip_sid, "callback": None,
                                 "host_id": self.host_id, "local_done": True})
        except Exception:  # Redis down: the local sockets have it; the others catch up on reconnect
            log.warning("could not publish %r to the other gateways", event)

    async def _handle_emit(self, message):
        if message.get("local_done") and message.get("host_id") == self.host_id:
            return  # this gateway delivered it already
        await super()._handle_emit(message)


def client_manager(redis_url: str) -> Optional[socketio.AsyncManager]:
    """The manager for GATEWAY_REDIS_URL, or None for python-socketio's in-process default."""
    if not redis_url:
        return None
    return LocalFirstRedisManager(redis_url, channel="family-advice-gateway",
                                  redis_options={"socket_connect_timeout": 5, "health_check_interval": 15})

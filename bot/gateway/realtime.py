"""The gateways' shared realtime layer: python-socketio's Redis manager.

With GATEWAY_REDIS_URL set, every emit to a room (a family's conversation, the advisers) reaches the
sockets in that room on every gateway through Redis pub/sub, so a family on one gateway and an adviser
on another talk live. Without it (the embedded default) one process holds every socket.

Since python-socketio 5.14 the stock manager does what this project needs, so it is used as it is:
messages on Redis are JSON (5.8 unpickled them: CVE-2025-61765), an emit reaches this gateway's own
sockets first and is then published for the others (which skip their own host's messages), and a
failed publish is logged, not raised. So while Redis restarts, a family still gets the answers to its
own messages from the gateway it is connected to; only events for sockets on other gateways wait for
Redis, and consoles catch up from the store when they reconnect (tests/test_prod_shape_faults.py).
"""
from __future__ import annotations

from typing import Optional

import socketio


def client_manager(redis_url: str) -> Optional[socketio.AsyncManager]:
    """The manager for GATEWAY_REDIS_URL, or None for python-socketio's in-process default."""
    if not redis_url:
        return None
    return socketio.AsyncRedisManager(redis_url, channel="family-advice-gateway",
                                      redis_options={"socket_connect_timeout": 5, "health_check_interval": 15})

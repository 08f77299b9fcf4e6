"""python-socketio's asyncio client, as the tests, benchmarks and smoke checks use it on Rasa's aiohttp.

The gateway serves socket.io with python-socketio 5.18 / python-engineio 4.15 (the fixes for
CVE-2025-61765 and CVE-2026-48804). Their *client* asks aiohttp for `ClientWSTimeout`, which arrived
in aiohttp 3.10, while Rasa 3.6 pins aiohttp below 3.10. aiohttp 3.9's `ws_connect(timeout=...)` takes
the same close timeout as a plain number, so on 3.9 `ClientWSTimeout(ws_close=t)` is given as `t`.
Only the client is touched; the server does not use it. Import `socketio` from here in client code.
"""
from __future__ import annotations

from typing import Optional

import aiohttp
import socketio

__all__ = ["socketio"]


def _close_timeout(ws_close: Optional[float] = None, ws_receive: Optional[float] = None) -> float:
    return 10.0 if ws_close is None else float(ws_close)  # aiohttp 3.9's default close timeout


if not hasattr(aiohttp, "ClientWSTimeout"):  # aiohttp < 3.10
    aiohttp.ClientWSTimeout = _close_timeout  # type: ignore[attr-defined]

"""Free loopback ports for servers this process starts a moment later (tests, `make run`, the local
production shape).

Binding port 0 returns a port from the kernel's ephemeral range, the same range every outgoing
connection draws its local port from. Between choosing the port and the server binding it (seconds,
while other servers start), an outgoing loopback connection can take it, and the server then fails with
"address already in use". Ports are therefore chosen below the ephemeral range, checked by binding,
and never handed out twice by one process.
"""
from __future__ import annotations

import random
import socket
import threading
from pathlib import Path
from typing import Set, Tuple

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 20000  # above the well-known and most registered service ports
_given: Set[int] = set()
_lock = threading.Lock()
_rng = random.SystemRandom()


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> Tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux default 32768-60999)."""
    try:
        low, high = (int(part) for part in path.read_text().split()[:2])
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def candidate_range(ephemeral: Tuple[int, int]) -> Tuple[int, int]:
    """Ports to choose from: below the ephemeral range, or above it if there is no room below."""
    low, high = ephemeral
    if low - LOWEST >= 2000:
        return LOWEST, low - 1
    return high + 1, 65535


def _bindable(port: int, host: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", attempts: int = 200) -> int:
    """A port nothing listens on now, outside the ephemeral range, not given before by this process."""
    first, last = candidate_range(ephemeral_range())
    with _lock:
        for _ in range(attempts):
            port = _rng.randint(first, last)
            if port not in _given and _bindable(port, host):
                _given.add(port)
                return port
    raise OSError(f"no free port found between {first} and {last}")

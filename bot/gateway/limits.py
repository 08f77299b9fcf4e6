"""Clock-injected limits: how fast a family may send, how often a login may fail (pure logic; the
failed logins themselves are kept by a FailureLog, in memory or in the gateway store)."""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Deque, Dict, List, Optional, Protocol, Tuple


class RateLimiter:
    """At most `count` events per `seconds` for each key (a sliding window)."""

    def __init__(self, count: int, seconds: float):
        self.count = count
        self.seconds = seconds
        self._events: Dict[str, Deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float) -> bool:
        events = self._events[key]
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) >= self.count:
            return False
        events.append(now)
        return True

    def forget(self, key: str) -> None:
        self._events.pop(key, None)


class FailureLog(Protocol):
    """Where failed logins are kept: memory (one process, tests) or the gateway store (shared by
    every gateway, so an attacker gains nothing by spreading attempts across them)."""

    def failures_since(self, key: str, since: float) -> List[float]: ...
    def add_failure(self, key: str, at: float) -> None: ...
    def clear_failures(self, key: str) -> None: ...
    def prune_failures(self, before: float) -> None: ...


class MemoryFailureLog:
    def __init__(self) -> None:
        self._failures: Dict[str, List[float]] = defaultdict(list)

    def failures_since(self, key: str, since: float) -> List[float]:
        return sorted(t for t in self._failures.get(key, []) if t > since)

    def add_failure(self, key: str, at: float) -> None:
        self._failures[key].append(at)

    def clear_failures(self, key: str) -> None:
        self._failures.pop(key, None)

    def prune_failures(self, before: float) -> None:
        for key in list(self._failures):
            self._failures[key] = [t for t in self._failures[key] if t > before]
            if not self._failures[key]:
                del self._failures[key]


class LoginThrottle:
    """After `max_failures` failed logins for a username or from an address within `window` seconds,
    further attempts are refused until the oldest failure falls out of the window."""

    def __init__(self, log: Optional[FailureLog] = None, max_failures: int = 5, window: float = 900):
        self.log = log if log is not None else MemoryFailureLog()
        self.max_failures = max_failures
        self.window = window

    def blocked_for(self, keys: Tuple[str, ...], now: float) -> float:
        """Seconds until an attempt is allowed again (0 when it is allowed now)."""
        wait = 0.0
        for key in keys:
            failures = self.log.failures_since(key, now - self.window)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[-self.max_failures] + self.window - now)
        return wait

    def failed(self, keys: Tuple[str, ...], now: float) -> None:
        self.log.prune_failures(now - self.window)
        for key in keys:
            self.log.add_failure(key, now)

    def succeeded(self, username_key: str) -> None:
        self.log.clear_failures(username_key)

"""Pure, clock-injected limits: how fast a family may send, how often a login may fail."""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Deque, Dict, Tuple


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


class LoginThrottle:
    """After `max_failures` failed logins for a username or from an address within `window` seconds,
    further attempts are refused until the oldest failure falls out of the window."""

    def __init__(self, max_failures: int = 5, window: float = 900):
        self.max_failures = max_failures
        self.window = window
        self._failures: Dict[str, Deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> Deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked_for(self, keys: Tuple[str, ...], now: float) -> float:
        """Seconds until an attempt is allowed again (0 when it is allowed now)."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[0] + self.window - now)
        return wait

    def failed(self, keys: Tuple[str, ...], now: float) -> None:
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        self._failures.pop(username_key, None)

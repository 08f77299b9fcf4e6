"""Clock-injected limits: how fast a family may send, how many chats one address may start, how often a
login may fail (pure logic; the events themselves are kept by an EventLog or a FailureLog, in memory or
in the gateway store, which every gateway shares)."""
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


class EventLog(Protocol):
    """Where counted events are kept (new chats per address): memory (one process, tests) or the gateway
    store (shared by every gateway)."""

    def count_events(self, key: str, since: float) -> int: ...
    def add_event(self, key: str, at: float) -> None: ...
    def prune_events(self, before: float, prefix: str = "") -> None: ...


class MemoryEventLog:
    def __init__(self) -> None:
        self._events: Dict[str, List[float]] = defaultdict(list)

    def count_events(self, key: str, since: float) -> int:
        return sum(1 for t in self._events.get(key, []) if t > since)

    def add_event(self, key: str, at: float) -> None:
        self._events[key].append(at)

    def prune_events(self, before: float, prefix: str = "") -> None:
        for key in [k for k in self._events if k.startswith(prefix)]:
            self._events[key] = [t for t in self._events[key] if t > before]
            if not self._events[key]:
                del self._events[key]


# Refusals and failures one client address can make the gateways write to the audit log (new chats
# refused, queue places refused, failed or throttled logins...): beyond this, they are refused as
# before but not recorded again until the hour has moved on, so nobody can flood the audit log.
AUDIT_ROWS_PER_ADDRESS = (20, 3600)


class SharedRateLimit:
    """At most `count` events per `seconds` for each key, counted in an EventLog, so every gateway sharing
    the log shares the limit. `count` 0 means no limit. Two gateways deciding at the same instant may
    both let one more through: a limit on abuse, not an exact quota.

    Each limit keeps its keys under its own `prefix` and prunes only those: limits with different
    windows share one log."""

    def __init__(self, log: EventLog, count: int, seconds: float, prefix: str):
        self.log = log
        self.count = count
        self.seconds = seconds
        self.prefix = prefix

    def allow(self, key: str, now: float) -> bool:
        if self.count <= 0:
            return True
        key = self.prefix + key
        if self.log.count_events(key, now - self.seconds) >= self.count:
            return False
        self.log.prune_events(now - self.seconds, self.prefix)
        self.log.add_event(key, now)
        return True


class FailureLog(Protocol):
    """Where failed logins are kept: memory (one process, tests) or the gateway store (shared by
    every gateway, so an attacker gains nothing by spreading attempts across them)."""

    def failures_since(self, key: str, since: float) -> List[float]: ...
    def add_failure(self, key: str, at: float) -> None: ...
    def clear_failures(self, key: str) -> None: ...
    def remove_failure(self, key: str, at: float) -> None: ...
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

    def remove_failure(self, key: str, at: float) -> None:
        if at in self._failures.get(key, []):
            self._failures[key].remove(at)

    def prune_failures(self, before: float) -> None:
        for key in list(self._failures):
            self._failures[key] = [t for t in self._failures[key] if t > before]
            if not self._failures[key]:
                del self._failures[key]


class LoginThrottle:
    """Failed console logins, counted per (username, address) and per address.

    For one username from one address, the first `max_failures` failures cost nothing; after that each
    attempt must wait `base_delay` seconds after the last failure, doubling with every further failure,
    up to `max_delay` (60 s, 2, 4, 8 minutes, then 15). Failures are forgotten after `window` seconds,
    or for that pair at a successful login. Someone elsewhere guessing an adviser's password therefore
    slows down only their own guesses and never locks the adviser out.

    One address is also refused for `window` seconds after `address_failures` failures for any
    usernames within it (guessing across many accounts).

    An attempt is counted before its password is checked (`attempt`), and taken back if the password was
    right (`succeeded`): the check runs in a worker thread, and parallel guesses must not all slip in
    before the first of them is counted."""

    def __init__(self, log: Optional[FailureLog] = None, max_failures: int = 5, window: float = 3600,
                 base_delay: float = 60, max_delay: float = 900, address_failures: int = 20,
                 address_window: float = 900):
        self.log = log if log is not None else MemoryFailureLog()
        self.max_failures = max_failures
        self.window = window
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.address_failures = address_failures
        self.address_window = address_window

    @staticmethod
    def keys(username: str, address: str) -> Tuple[str, str]:
        return "user:" + username + "|ip:" + address, "ip:" + address

    def delay_after(self, failures: int) -> float:
        """How long to wait after the last of `failures` failures before the next attempt."""
        if failures < self.max_failures:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** min(failures - self.max_failures, 32))

    def blocked_for(self, username: str, address: str, now: float) -> float:
        """Seconds until an attempt for this username from this address is allowed (0: now)."""
        pair, addr = self.keys(username, address)
        failures = self.log.failures_since(pair, now - self.window)
        wait = failures[-1] + self.delay_after(len(failures)) - now if failures else 0.0
        from_address = self.log.failures_since(addr, now - self.address_window)
        if len(from_address) >= self.address_failures:
            wait = max(wait, from_address[-self.address_failures] + self.address_window - now)
        return max(0.0, wait)

    @property
    def longest_window(self) -> float:
        """Failures older than this are never consulted again."""
        return max(self.window, self.address_window)

    def attempt(self, username: str, address: str, now: float) -> None:
        """Count an attempt as failed before its password is checked."""
        self.log.prune_failures(now - self.longest_window)
        for key in self.keys(username, address):
            self.log.add_failure(key, now)

    def succeeded(self, username: str, address: str, now: float) -> None:
        """The password was right: this pair's failures are forgotten, and the attempt is not held
        against the address."""
        pair, addr = self.keys(username, address)
        self.log.clear_failures(pair)
        self.log.remove_failure(addr, now)

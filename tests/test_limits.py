"""Counted limits shared by every gateway (bot/gateway/limits.py SharedRateLimit): pure logic over an
event log, in memory or in the gateway store, with an injected clock."""
from __future__ import annotations

import pytest

from bot.gateway.limits import AUDIT_ROWS_PER_ADDRESS, MemoryEventLog, SharedRateLimit
from bot.gateway.store import Store


@pytest.fixture(params=["memory", "store"])
def log(request, tmp_path):
    if request.param == "memory":
        yield MemoryEventLog()
    else:
        store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
        yield store
        store.close()


def test_at_most_count_per_window_for_each_key(log):
    limit = SharedRateLimit(log, 3, 60, prefix="chat:")
    assert [limit.allow("a", 1000 + n) for n in range(4)] == [True, True, True, False]
    assert limit.allow("b", 1003)  # another key has its own count
    assert not limit.allow("a", 1059)
    assert limit.allow("a", 1060.5)  # the first fell out of the window


def test_a_refusal_is_not_counted(log):
    limit = SharedRateLimit(log, 1, 60, prefix="chat:")
    assert limit.allow("a", 0)
    for t in range(1, 60):
        assert not limit.allow("a", t)
    assert limit.allow("a", 60.5)


def test_two_gateways_share_the_count(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    one, two = Store(url), Store(url)
    try:
        first, second = SharedRateLimit(one, 2, 600, prefix="chat:"), SharedRateLimit(two, 2, 600, prefix="chat:")
        assert first.allow("a", 1) and second.allow("a", 2)
        assert not first.allow("a", 3) and not second.allow("a", 3)
    finally:
        one.close()
        two.close()


def test_a_short_limit_does_not_prune_a_longer_ones_events(log):
    """Both keep their events in one table: each prunes only its own (a 10-minute limit must not
    forget what an hour-long one counted)."""
    hourly = SharedRateLimit(log, 2, 3600, prefix="audit:")
    short = SharedRateLimit(log, 10, 600, prefix="chat:")
    assert hourly.allow("a", 0) and hourly.allow("a", 1)
    assert short.allow("a", 1000)  # prunes chat: events before 400, not audit: ones
    assert not hourly.allow("a", 1001)


def test_zero_means_no_limit(log):
    limit = SharedRateLimit(log, 0, 60, prefix="chat:")
    assert all(limit.allow("a", 1) for _ in range(100))


def test_the_audit_cap_is_a_few_rows_per_address_per_hour():
    count, seconds = AUDIT_ROWS_PER_ADDRESS
    assert 1 <= count <= 50 and seconds >= 600

"""Retention clears the personal data held in the audit, failed-login and rate-limit tables after the
retention period (an injected clock: `now` is passed in, nothing reads the wall clock)."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.gateway.store import Store, audit, login_failures, rate_events

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def test_old_audit_detail_and_address_rows_are_purged(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    old, recent = NOW - timedelta(days=91), NOW - timedelta(days=89)
    store.audit("cli", "account_saved", old, detail="sam (adviser)")
    store.audit("sam", "takeover", old, "c1")
    store.audit("cli", "account_saved", recent, detail="kim (adviser)")
    with store.engine.begin() as conn:
        for t in (login_failures, rate_events):
            conn.execute(t.insert().values(key="ip:abc", at=old.timestamp()))
            conn.execute(t.insert().values(key="ip:def", at=recent.timestamp()))
    assert store.purge_personal_audit(NOW - timedelta(days=90)) == 1
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.action, audit.c.actor, audit.c.detail).order_by(audit.c.id)).all()
        assert [tuple(r) for r in rows] == [("account_saved", "cli", None), ("takeover", "sam", ""),
                                            ("account_saved", "cli", "kim (adviser)")]
        for t in (login_failures, rate_events):
            assert [r.key for r in conn.execute(sa.select(t.c.key))] == ["ip:def"]

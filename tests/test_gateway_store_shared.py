"""The gateway store when several gateways share it: migrations, delivery leases, adviser sockets,
login failures, the queue. Each test opens two Store objects on one database, as two gateways would.
(tests/test_prod_shape*.py run the same code on PostgreSQL with real gateway processes.)"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.gateway import migrate
from bot.gateway.limits import LoginThrottle, MemoryFailureLog
from bot.gateway.store import Store, metadata

NOW = datetime(2026, 12, 7, 13, 30, tzinfo=timezone.utc)
LEASE = timedelta(seconds=45)


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def pair(url):
    first, second = Store(url), Store(url)
    yield first, second
    first.close()
    second.close()


def test_migrations_build_exactly_the_schema_the_code_uses(url):
    store = Store(url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert diff == []
    assert migrate.current(store.engine) == migrate.head()


def test_a_database_made_before_migrations_is_stamped_and_upgraded(url):
    engine = sa.create_engine(url, future=True)
    migrate.upgrade(engine, "0001")  # the schema as create_all made it, before Alembic...
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))  # ...so with no version table
        conn.execute(sa.text("INSERT INTO conversations (id, created_at, updated_at, state, urgent, next_seq) "
                             "VALUES ('abc', :t, :t, 'bot', 0, 1)"), {"t": NOW})
    engine.dispose()
    store = Store(url)  # stamps 0001, then applies the later revisions, keeping the row
    assert store.conversation("abc").state == "bot"
    assert migrate.current(store.engine) == migrate.head()
    store.close()


def test_starting_again_changes_nothing(url):
    Store(url).close()
    store = Store(url)
    assert migrate.current(store.engine) == migrate.head()
    store.close()


def test_one_gateway_at_a_time_delivers_a_conversation(pair):
    one, two = pair
    one.ensure_conversation("c1", NOW)
    assert one.claim_delivery("c1", "gw1", NOW, LEASE)
    assert one.claim_delivery("c1", "gw1", NOW + timedelta(seconds=5), LEASE)  # extending its own lease
    assert not two.claim_delivery("c1", "gw2", NOW + timedelta(seconds=10), LEASE)
    one.release_delivery("c1", "gw1")
    assert two.claim_delivery("c1", "gw2", NOW + timedelta(seconds=11), LEASE)


def test_a_lease_left_by_a_dead_gateway_runs_out(pair):
    one, two = pair
    one.ensure_conversation("c1", NOW)
    assert one.claim_delivery("c1", "gw1", NOW, LEASE)  # gw1 dies without releasing
    assert not two.claim_delivery("c1", "gw2", NOW + LEASE - timedelta(seconds=1), LEASE)
    assert two.claim_delivery("c1", "gw2", NOW + LEASE + timedelta(seconds=1), LEASE)


def test_releasing_someone_elses_lease_does_nothing(pair):
    one, two = pair
    one.ensure_conversation("c1", NOW)
    assert one.claim_delivery("c1", "gw1", NOW, LEASE)
    two.release_delivery("c1", "gw2")
    assert not two.claim_delivery("c1", "gw2", NOW, LEASE)


def test_two_gateways_creating_one_conversation_do_not_fail(pair):
    one, two = pair
    assert one.ensure_conversation("c1", NOW).id == two.ensure_conversation("c1", NOW).id == "c1"


def test_only_one_gateway_takes_a_family_off_the_queue(pair):
    one, two = pair
    one.ensure_conversation("c1", NOW)
    assert one.enqueue("c1", NOW)
    assert one.leave_queue("c1", NOW)
    assert not two.leave_queue("c1", NOW)
    assert two.conversation("c1").state == "bot"


def test_availability_changes_are_reported_once(pair):
    one, two = pair
    one.add_user("sam", "Sam", "adviser", "x", NOW)
    assert one.set_available("sam", True)
    assert not two.set_available("sam", True)
    assert two.set_available("sam", False)
    assert not one.set_available("sam", False)


def test_adviser_sockets_are_counted_across_gateways_until_their_gateway_stops_vouching(pair):
    one, two = pair
    one.socket_opened("s1", "sam", "gw1", NOW)
    two.socket_opened("s2", "sam", "gw2", NOW)
    since = NOW - timedelta(seconds=30)
    assert one.open_sockets("sam", since) == 2
    one.socket_closed("s1")
    assert two.open_sockets("sam", since) == 1
    later = NOW + timedelta(seconds=40)  # gw2 died: nobody vouched for s2 since NOW
    assert one.open_sockets("sam", later - timedelta(seconds=30)) == 0
    two.sockets_seen("gw2", later)  # ...unless it is alive and vouches
    assert one.open_sockets("sam", later - timedelta(seconds=30)) == 1
    assert one.forget_sockets(later + timedelta(seconds=31)) == 1


def _throttle_contract(make_throttle):
    """The same rules whichever log holds the failures: per (username, address) a growing delay after
    five failures, per address a lock after twenty failures for any usernames."""
    first, second = make_throttle(), make_throttle()
    for i in range(5):
        assert first.blocked_for("sam", "10.0.0.1", 1000 + i) == 0
        (first if i % 2 else second).attempt("sam", "10.0.0.1", 1000 + i)
    assert first.blocked_for("sam", "10.0.0.1", 1005) == pytest.approx(59)  # 60 s after the fifth (1004)
    assert second.blocked_for("sam", "10.0.0.2", 1005) == 0  # the same adviser from elsewhere
    assert second.blocked_for("alex", "10.0.0.1", 1005) == 0  # someone else from that address
    assert second.blocked_for("sam", "10.0.0.1", 1064) == 0
    first.attempt("sam", "10.0.0.1", 1064)  # the sixth: the wait doubles
    assert second.blocked_for("sam", "10.0.0.1", 1065) == pytest.approx(119)
    second.succeeded("sam", "10.0.0.1", 1064)  # ...unless that attempt was the right password
    assert first.blocked_for("sam", "10.0.0.1", 1065) == 0
    for n in range(20):  # one address guessing across accounts
        (first if n % 2 else second).attempt(f"user{n}", "10.0.0.7", 2000 + n)
    assert first.blocked_for("alex", "10.0.0.7", 2020) == pytest.approx(880)  # 15 min after the first
    assert second.blocked_for("alex", "10.0.0.8", 2020) == 0
    assert second.blocked_for("alex", "10.0.0.7", 2900) == 0


def test_login_throttle_shared_through_the_store(pair):
    one, two = pair
    stores = iter((one, two))
    _throttle_contract(lambda: LoginThrottle(next(stores)))


def test_login_throttle_in_memory_follows_the_same_rules():
    log = MemoryFailureLog()
    _throttle_contract(lambda: LoginThrottle(log))


def test_address_keys_are_forgotten_a_day_after_a_chat_went_quiet_unless_it_is_queued_or_live(pair):
    one, two = pair
    for cid in ("quiet", "recent", "waiting", "talking"):
        one.ensure_conversation(cid, NOW, address_key="k-" + cid)
    one.enqueue("waiting", NOW)
    one.enqueue("talking", NOW)
    one.take_over("talking", "sam", NOW)
    one.update_conversation("recent", NOW + timedelta(hours=23))
    assert two.forget_addresses(NOW + timedelta(hours=1)) == 1  # quiet since before this
    assert {cid: one.conversation(cid).address_key for cid in ("quiet", "recent", "waiting", "talking")} == {
        "quiet": None, "recent": "k-recent", "waiting": "k-waiting", "talking": "k-talking"}

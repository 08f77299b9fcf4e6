"""A durable, non-personal record of each chat for the reports page (issue 17): `chat_stats`.

Transcripts (conversations, messages, feedback) are deleted after 90 days; a year of reports needs
something that outlives them and holds nothing personal. One row per chat, keyed by a hash of the
conversation id (the id is 128 random bits; once the transcript is gone the hash leads nowhere), with
times, flags and counters only: never message text, never an address.

Rows are written where things happen in ConversationService (bot/gateway/conversations.py), each an
idempotent insert-if-absent plus an update, so several gateways sharing one PostgreSQL database can
record events of the same chat in any order. `rows()` is the one read, for bot.gateway.reports.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot.gateway.store import metadata, utc

chat_stats = sa.Table(
    "chat_stats", metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # sha256 of the conversation id, hex, first 32
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),  # the family's first message
    sa.Column("in_hours", sa.Boolean),  # webchat was staffed (service_hours) when the chat started
    # The family asked for a person when none could take them: when first, and why ("closed": outside
    # staffed hours; "no_adviser": staffed hours but nobody available).
    sa.Column("person_wanted_at", sa.DateTime(timezone=True)),
    sa.Column("person_wanted_why", sa.String(12)),
    sa.Column("handoffs", sa.Integer, nullable=False, default=0, server_default="0"),  # times queued
    sa.Column("queued_at", sa.DateTime(timezone=True)),  # first queued
    sa.Column("wait_seconds", sa.Integer),  # queued to taken by an adviser, the first time
    sa.Column("left_queue", sa.String(12)),  # "family" (ended the chat while queued) | "closed" (sent away)
    sa.Column("crisis", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("topic", sa.String(64)),  # the latest topic the bot answered or the queue recorded
    sa.Column("council", sa.String(128)),
    sa.Column("answers", sa.Integer, nullable=False, default=0, server_default="0"),  # bot answers
    sa.Column("unsure", sa.Integer, nullable=False, default=0, server_default="0"),  # "not sure" replies
    sa.Column("helpful", sa.Integer, nullable=False, default=0, server_default="0"),  # "Was this helpful?" yes
    sa.Column("not_helpful", sa.Integer, nullable=False, default=0, server_default="0"),
)
sa.Index("chat_stats_by_start", chat_stats.c.started_at)

COLUMNS = ("started_at", "in_hours", "person_wanted_at", "person_wanted_why", "handoffs", "queued_at",
           "wait_seconds", "left_queue", "crisis", "topic", "council", "answers", "unsure", "helpful",
           "not_helpful")


def stats_id(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class ChatRow:
    """One chat as the reports read it (bot.gateway.reports)."""
    started_at: datetime
    in_hours: Optional[bool] = None
    person_wanted_at: Optional[datetime] = None
    person_wanted_why: Optional[str] = None
    handoffs: int = 0
    queued_at: Optional[datetime] = None
    wait_seconds: Optional[int] = None
    left_queue: Optional[str] = None
    crisis: bool = False
    topic: Optional[str] = None
    council: Optional[str] = None
    answers: int = 0
    unsure: int = 0
    helpful: int = 0
    not_helpful: int = 0


def _insert(conn):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(chat_stats)
    return sqlite.insert(chat_stats)


class ChatStats:
    """Records chat events. `staffed(now)` says whether webchat is within staffed hours (None: unknown)."""

    def __init__(self, engine: sa.engine.Engine, staffed: Callable[[datetime], Optional[bool]] = lambda now: None):
        self.engine = engine
        self.staffed = staffed
        self._started: set = set()  # chats this process has already made a row for (saves a write per message)

    def _staffed(self, now: datetime) -> Optional[bool]:
        try:
            return self.staffed(now)
        except Exception:  # a broken hours file must not stop a chat
            return None

    def _ensure(self, conn, key: str, now: datetime) -> None:
        conn.execute(_insert(conn).values(id=key, started_at=now, in_hours=self._staffed(now), handoffs=0,
                                          crisis=False, answers=0, unsure=0, helpful=0, not_helpful=0)
                     .on_conflict_do_nothing(index_elements=["id"]))

    def started(self, conversation_id: str, now: datetime) -> None:
        """The family sent a message: the chat counts from its first one."""
        key = stats_id(conversation_id)
        if key in self._started:
            return
        with self.engine.begin() as conn:
            self._ensure(conn, key, now)
        if len(self._started) > 50_000:
            self._started.clear()
        self._started.add(key)

    def update(self, conversation_id: str, now: datetime, *, once: Optional[Dict[str, Any]] = None,
               add: Optional[Dict[str, int]] = None, **values: Any) -> None:
        """`once`: set only if still empty (the first time); `add`: counters; the rest: set."""
        key = stats_id(conversation_id)
        changes: Dict[str, Any] = dict(values)
        for name, value in (once or {}).items():
            changes[name] = sa.func.coalesce(chat_stats.c[name], value)
        for name, amount in (add or {}).items():
            changes[name] = chat_stats.c[name] + amount
        with self.engine.begin() as conn:
            self._ensure(conn, key, now)
            if changes:
                conn.execute(chat_stats.update().where(chat_stats.c.id == key).values(**changes))
        self._started.add(key)

    # -- events ----------------------------------------------------------------------------
    def person_wanted(self, conversation_id: str, now: datetime, why: Optional[str]) -> None:
        if why not in ("closed", "no_adviser"):
            why = "closed" if self._staffed(now) is False else "no_adviser"
        self.update(conversation_id, now, once={"person_wanted_at": now, "person_wanted_why": why})

    def queued(self, conversation_id: str, now: datetime, topic: Optional[str], council: Optional[str]) -> None:
        values = {k: v for k, v in (("topic", topic and topic[:64]), ("council", council and council[:128])) if v}
        self.update(conversation_id, now, once={"queued_at": now}, add={"handoffs": 1}, **values)

    def taken(self, conversation_id: str, now: datetime, queued_at: Optional[datetime]) -> None:
        wait = max(0, int((now - utc(queued_at)).total_seconds())) if queued_at else 0
        self.update(conversation_id, now, once={"wait_seconds": wait})

    def left_queue(self, conversation_id: str, now: datetime, why: str) -> None:
        """Left the queue before an adviser took the chat ("family" or "closed")."""
        self.update(conversation_id, now, once={"left_queue": why})

    def crisis(self, conversation_id: str, now: datetime) -> None:
        self.update(conversation_id, now, crisis=True)

    def bot_replied(self, conversation_id: str, now: datetime, *, answers: int = 0, unsure: int = 0,
                    topic: Optional[str] = None, council: Optional[str] = None, crisis: bool = False) -> None:
        values: Dict[str, Any] = {k: v for k, v in (("topic", topic and topic[:64]),
                                                    ("council", council and council[:128])) if v}
        if crisis:
            values["crisis"] = True
        add = {k: v for k, v in (("answers", answers), ("unsure", unsure)) if v}
        if values or add:
            self.update(conversation_id, now, add=add, **values)

    def feedback(self, conversation_id: str, now: datetime, helpful: bool, before: Optional[bool]) -> None:
        """A "Was this helpful?" vote; `before` is this message's earlier vote (a changed mind moves it)."""
        if before is helpful:
            return
        add = {"helpful" if helpful else "not_helpful": 1}
        if before is not None:
            add["not_helpful" if helpful else "helpful"] = -1
        self.update(conversation_id, now, add=add)


def rows(engine: sa.engine.Engine, start: datetime, end: datetime) -> List[ChatRow]:
    """Every chat that started in [start, end), for the reports."""
    columns = [chat_stats.c[name] for name in COLUMNS]
    with engine.connect() as conn:
        result = conn.execute(sa.select(*columns).where(chat_stats.c.started_at >= start,
                                                        chat_stats.c.started_at < end))
        return [ChatRow(utc(r[0]), r[1], utc(r[2]), r[3], r[4] or 0, utc(r[5]), r[6], r[7], bool(r[8]), r[9],
                        r[10], r[11] or 0, r[12] or 0, r[13] or 0, r[14] or 0) for r in result]


def _hour_key(conn, column):
    """What to group by for the UTC hour of a timestamp: hours since the epoch on PostgreSQL; on SQLite
    the first 13 characters of SQLAlchemy's stored text, "YYYY-MM-DD HH" (cheaper than strftime)."""
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column) / 3600), sa.BigInteger)
    return sa.func.substr(column, 1, 13)


def _hour_bucket(key) -> int:
    """reports.hour_bucket of what _hour_key grouped by."""
    if isinstance(key, str):
        return int(datetime.fromisoformat(key + ":00").replace(tzinfo=timezone.utc).timestamp()) // 3600
    return int(key)


def _started(conn, start: datetime, end: datetime):
    """started_at for comparisons with [start, end). For a long period on SQLite, written `+started_at`
    so SQLite scans the table instead of the index (for most of the table, a scan is several times
    faster than an index lookup per row; PostgreSQL's planner chooses for itself)."""
    if conn.dialect.name == "sqlite" and end - start > timedelta(days=62):
        return sa.literal_column("+chat_stats.started_at", type_=sa.DateTime(timezone=True))
    return chat_stats.c.started_at


def aggregates(engine: sa.engine.Engine, start: datetime, end: datetime):
    """bot.gateway.reports.Aggregates for chats that started in [start, end) and people wanted in it,
    summed by the database (a year is tens of thousands of rows; what comes back is a few thousand)."""
    from bot.gateway.reports import Aggregates, TopicSums

    c = chat_stats.c
    taken = c.wait_seconds.is_not(None)

    def count_if(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    with engine.connect() as conn:
        started_at = _started(conn, start, end)
        started_in = sa.and_(started_at >= start, started_at < end)
        bucket = _hour_key(conn, c.started_at)
        started: Dict = {}
        for key, in_hours, count in conn.execute(
                sa.select(bucket, c.in_hours, sa.func.count()).where(started_in).group_by(bucket, c.in_hours)):
            where = (_hour_bucket(key), None if in_hours is None else bool(in_hours))
            started[where] = started.get(where, 0) + count
        asked = _hour_key(conn, c.person_wanted_at)
        wanted: Dict = {}
        for key, why, count in conn.execute(
                sa.select(asked, c.person_wanted_why, sa.func.count())
                # a chat asks for a person soon after it starts: from the day before is enough
                .where(started_at >= start - timedelta(days=1), started_at < end,
                       c.person_wanted_at >= start, c.person_wanted_at < end)
                .group_by(asked, c.person_wanted_why)):
            where = (_hour_bucket(key), "no_adviser" if why == "no_adviser" else "closed")
            wanted[where] = wanted.get(where, 0) + count
        waits = [int(w) for w in conn.execute(sa.select(c.wait_seconds).where(started_in, taken)).scalars()]
        topics = {}
        for row in conn.execute(
                sa.select(c.topic, sa.func.count(), sa.func.sum(c.answers), sa.func.sum(c.unsure),
                          sa.func.sum(c.helpful), sa.func.sum(c.not_helpful), sa.func.sum(c.handoffs),
                          count_if(c.handoffs > 0), count_if(taken), count_if(c.crisis.is_(True)),
                          count_if(sa.and_(c.wait_seconds.is_(None), c.left_queue == "family")),
                          count_if(sa.and_(c.wait_seconds.is_(None), c.left_queue == "closed")))
                .where(started_in).group_by(c.topic)):
            sums = topics.setdefault(row[0] or "", TopicSums())
            for name, value in zip(("chats", "answers", "unsure", "helpful", "not_helpful", "handoffs", "queued",
                                    "adviser", "crisis", "left_family", "left_closed"), row[1:]):
                setattr(sums, name, getattr(sums, name) + int(value or 0))
        councils = dict(conn.execute(sa.select(c.council, sa.func.count()).where(started_in, c.council.is_not(None))
                                     .group_by(c.council)).all())
    return Aggregates(started, wanted, waits, topics, councils)

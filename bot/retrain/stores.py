"""Reading (and, for retention, deleting from) the two stores the workflow draws on.

- Rasa's SQL tracker store (TRACKER_DB): table `events` (id, sender_id, type_name, timestamp,
  intent_name, action_name, data), one row per event; `data` is the event as JSON text.
- The gateway store (GATEWAY_DB_URL, bot/gateway/store.py): `feedback` ("Was this helpful?" answers per
  bot message) joined to `messages` for the time the marked bot message was sent.

Both are reached through SQLAlchemy Core with lightweight table descriptions (only the columns used
here), so this works on SQLite and PostgreSQL alike and never creates or alters a table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import sqlalchemy as sa

events_table = sa.table(
    "events",
    sa.column("id", sa.Integer), sa.column("sender_id", sa.String), sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float), sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String), sa.column("data", sa.Text),
)
gateway_messages = sa.table(
    "messages", sa.column("id", sa.String), sa.column("conversation_id", sa.String),
    sa.column("sender", sa.String), sa.column("at", sa.DateTime),
)
gateway_feedback = sa.table(
    "feedback", sa.column("message_id", sa.String), sa.column("conversation_id", sa.String),
    sa.column("helpful", sa.Boolean), sa.column("at", sa.DateTime),
)
gateway_conversations = sa.table(
    "conversations", sa.column("id", sa.String), sa.column("updated_at", sa.DateTime),
    sa.column("state", sa.String),
)


@dataclass(frozen=True)
class TrackerEvent:
    id: int
    sender_id: str
    type_name: str
    timestamp: float
    intent_name: Optional[str]
    action_name: Optional[str]
    data: Dict[str, Any]


@dataclass(frozen=True)
class UnhelpfulMark:
    """A bot message a family marked "not helpful": its conversation and when it was sent."""
    conversation_id: str
    bot_message_at: float  # seconds since the epoch, comparable with tracker timestamps


def database_url(db: Union[str, Path]) -> str:
    """A SQLAlchemy URL from TRACKER_DB: a file path (Rasa's SQLite default) or already a URL."""
    text = str(db)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


_engines: Dict[str, sa.engine.Engine] = {}


def engine(db: Union[str, Path]) -> sa.engine.Engine:
    url = database_url(db)
    if url not in _engines:
        kwargs: Dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        _engines[url] = sa.create_engine(url, **kwargs)
    return _engines[url]


def has_table(db: Union[str, Path], name: str) -> bool:
    if database_url(db).startswith("sqlite:///") and not Path(database_url(db)[len("sqlite:///"):]).exists():
        return False
    return sa.inspect(engine(db)).has_table(name)


def epoch(moment: Optional[datetime]) -> Optional[float]:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes: they are UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _event(row: Any) -> TrackerEvent:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    return TrackerEvent(id=row.id, sender_id=row.sender_id, type_name=row.type_name,
                        timestamp=row.timestamp or 0.0, intent_name=row.intent_name,
                        action_name=row.action_name, data=data)


def read_events(tracker_db: Union[str, Path], *, since: Optional[float] = None, until: Optional[float] = None,
                types: Optional[Sequence[str]] = None, sender_id: Optional[str] = None) -> List[TrackerEvent]:
    """Tracker events in conversation order (by sender, then as stored), optionally only some types,
    one conversation, or a time window [since, until)."""
    if not has_table(tracker_db, "events"):
        return []
    query = sa.select(events_table)
    if since is not None:
        query = query.where(events_table.c.timestamp >= since)
    if until is not None:
        query = query.where(events_table.c.timestamp < until)
    if types:
        query = query.where(events_table.c.type_name.in_(list(types)))
    if sender_id is not None:
        query = query.where(events_table.c.sender_id == sender_id)
    query = query.order_by(events_table.c.sender_id, events_table.c.id)
    with engine(tracker_db).connect() as conn:
        return [_event(row) for row in conn.execute(query)]


def read_unhelpful_marks(gateway_db_url: str, *, since: Optional[float] = None) -> List[UnhelpfulMark]:
    """Bot messages families marked unhelpful (gateway feedback), with when each was sent."""
    if not (has_table(gateway_db_url, "feedback") and has_table(gateway_db_url, "messages")):
        return []
    query = (sa.select(gateway_feedback.c.conversation_id, gateway_messages.c.at)
             .select_from(gateway_feedback.join(gateway_messages,
                                                gateway_messages.c.id == gateway_feedback.c.message_id))
             .where(gateway_feedback.c.helpful.is_(False)))
    with engine(gateway_db_url).connect() as conn:
        marks = [UnhelpfulMark(row.conversation_id, epoch(row.at)) for row in conn.execute(query)]
    return [m for m in marks if since is None or m.bot_message_at >= since]


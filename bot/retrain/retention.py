"""Deleting transcripts: everything older than the retention period, or one conversation on request.

From the tracker store (Rasa's `events` table) and from the gateway store (`feedback`, `messages`,
`conversations`, through SQLAlchemy Core; bot/gateway/store.py is not changed). Kept: the labelled
training examples in data/nlu/ (redacted before they were saved) and the audit logs (which hold only
redacted texts and ids). Each deletion is written to the audit log with the counts.

Age is by event: a tracker event, gateway message or feedback older than the cut-off goes; a gateway
conversation goes when nothing has happened in it since the cut-off. (Rasa ends a session after 60
minutes of silence, so events that old never belong to a conversation that is still going on.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, Optional

import sqlalchemy as sa

from bot.retrain import stores
from bot.retrain.audit import AuditLog, check_actor
from bot.retrain.config import RetrainConfig
from bot.retrain.stores import events_table, gateway_conversations, gateway_feedback, gateway_messages


@dataclass
class Deleted:
    tracker_events: int = 0
    gateway_conversations: int = 0
    gateway_messages: int = 0
    gateway_feedback: int = 0

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)


def _gateway_tables(url: str) -> bool:
    return all(stores.has_table(url, name) for name in ("conversations", "messages", "feedback"))


def delete_older_than(cfg: RetrainConfig, *, now: datetime, actor: str, days: Optional[int] = None) -> Deleted:
    """Delete transcripts older than `days` (default: config/retrain.yml retention.days, 90)."""
    actor = check_actor(actor)
    days = cfg.retention_days if days is None else days
    if days < 1:
        raise ValueError("keep at least one day of transcripts")
    cutoff = now - timedelta(days=days)
    deleted = Deleted()
    if stores.has_table(cfg.tracker_db, "events"):
        with stores.engine(cfg.tracker_db).begin() as conn:
            deleted.tracker_events = conn.execute(
                events_table.delete().where(events_table.c.timestamp < cutoff.timestamp())).rowcount
    if _gateway_tables(cfg.gateway_db_url):
        old = cutoff.astimezone(timezone.utc)  # the gateway stores UTC (SQLite: as naive UTC text)
        with stores.engine(cfg.gateway_db_url).begin() as conn:
            stale = sa.select(gateway_conversations.c.id).where(gateway_conversations.c.updated_at < old)
            old_messages = sa.select(gateway_messages.c.id).where(
                sa.or_(gateway_messages.c.at < old, gateway_messages.c.conversation_id.in_(stale)))
            deleted.gateway_feedback = conn.execute(gateway_feedback.delete().where(sa.or_(
                gateway_feedback.c.at < old, gateway_feedback.c.message_id.in_(old_messages),
                gateway_feedback.c.conversation_id.in_(stale)))).rowcount
            deleted.gateway_messages = conn.execute(gateway_messages.delete().where(sa.or_(
                gateway_messages.c.at < old, gateway_messages.c.conversation_id.in_(stale)))).rowcount
            deleted.gateway_conversations = conn.execute(
                gateway_conversations.delete().where(gateway_conversations.c.updated_at < old)).rowcount
    AuditLog(cfg.audit_log).record(actor, "purge", now, after={"older_than_days": days}, deleted=deleted.to_dict())
    return deleted


def delete_conversation(cfg: RetrainConfig, conversation_id: str, *, now: datetime, actor: str) -> Deleted:
    """Delete one conversation everywhere (e.g. a family asked us to)."""
    actor = check_actor(actor)
    if not conversation_id or not conversation_id.strip():
        raise ValueError("which conversation? give its id")
    deleted = Deleted()
    if stores.has_table(cfg.tracker_db, "events"):
        with stores.engine(cfg.tracker_db).begin() as conn:
            deleted.tracker_events = conn.execute(
                events_table.delete().where(events_table.c.sender_id == conversation_id)).rowcount
    if _gateway_tables(cfg.gateway_db_url):
        with stores.engine(cfg.gateway_db_url).begin() as conn:
            deleted.gateway_feedback = conn.execute(gateway_feedback.delete().where(
                gateway_feedback.c.conversation_id == conversation_id)).rowcount
            deleted.gateway_messages = conn.execute(gateway_messages.delete().where(
                gateway_messages.c.conversation_id == conversation_id)).rowcount
            deleted.gateway_conversations = conn.execute(gateway_conversations.delete().where(
                gateway_conversations.c.id == conversation_id)).rowcount
    AuditLog(cfg.audit_log).record(actor, "delete_conversation", now, conversation_id=conversation_id,
                                   deleted=deleted.to_dict())
    return deleted

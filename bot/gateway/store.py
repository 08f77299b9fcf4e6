"""The gateway store: conversations and their transcripts, advisers, canned responses, feedback, audit.

SQLAlchemy Core behind a URL (GATEWAY_DB_URL): a SQLite file under var/ by default, PostgreSQL in
production. Queries are short and indexed; on SQLite they take well under a millisecond, so handlers
call them directly.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from bot.gateway import migrate
from bot.gateway.texts import load_texts

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(10), nullable=False, default="bot"),  # bot | queued | live
    sa.Column("adviser", sa.String(64)),
    sa.Column("queued_at", sa.DateTime(timezone=True)),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("topic", sa.String(64)),
    sa.Column("council", sa.String(128)),
    sa.Column("stage", sa.String(64)),
    sa.Column("next_seq", sa.Integer, nullable=False, default=1),
    # Which gateway is sending this conversation's pending messages to Rasa, and until when (a lease,
    # so a gateway that dies mid-delivery is replaced when it runs out).
    sa.Column("delivery_owner", sa.String(96)),
    sa.Column("delivery_until", sa.DateTime(timezone=True)),
    # A keyed hash of the address of the family's latest socket (never the address itself): one queue
    # place per address. Deleted with the conversation.
    sa.Column("address_key", sa.String(64)),
    # The family pressed "End chat and clear": never resumed again (the widget forgot its id too).
    sa.Column("closed", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("sender", sa.String(10), nullable=False),  # family | bot | adviser | system
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("payload", sa.Text),  # a button's payload sent to Rasa; `text` is the title the family saw
    sa.Column("buttons", sa.Text),  # JSON list of {title, payload}
    sa.Column("adviser", sa.String(64)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("ask_feedback", sa.Boolean, nullable=False, default=False),
    sa.Column("client_id", sa.String(64)),
    sa.Column("pending", sa.Boolean, nullable=False, default=False),  # family text Rasa has not had yet
    sa.Column("attempts", sa.Integer, nullable=False, default=0, server_default="0"),  # times sent to Rasa
    sa.UniqueConstraint("conversation_id", "seq"),
    sa.UniqueConstraint("conversation_id", "client_id"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),  # adviser | duty_lead | staff
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("available", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # issue 17 (migration 0007): a disabled account is kept but cannot sign in; max_chats is the most
    # chats at once staff allow, chats the number the adviser chose (up to max_chats)
    sa.Column("disabled", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("max_chats", sa.Integer, nullable=False, default=2, server_default="2"),
    sa.Column("chats", sa.Integer, nullable=False, default=2, server_default="2"),
)

canned = sa.Table(
    "canned_responses", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

feedback = sa.Table(
    "feedback", metadata,
    sa.Column("message_id", sa.String(40), primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("conversation_id", sa.String(64)),
    sa.Column("detail", sa.Text),
)

# Each adviser console socket, on whichever gateway holds it. A gateway refreshes `seen_at` for its own
# sockets every few seconds, so rows left by a gateway that died stop counting.
adviser_sockets = sa.Table(
    "adviser_sockets", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("instance", sa.String(96), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("session_id", sa.String(64)),  # the console session (adviser_sessions.id) that opened it
)

# Failed console logins by key ("user:sam|ip:<address key>", "ip:<address key>": the address only as
# the gateway's keyed hash), shared by every gateway; kept an hour at most (LoginThrottle's windows).
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(160), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

# Console sessions: the cookie carries the id; logging out (or removing the account) ends it here, so
# a copy of the cookie stops working too.
adviser_sessions = sa.Table(
    "adviser_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("seen_at", sa.Float),  # the last request of the session (refreshed at most every 30 s)
)

# Counted events shared by every gateway (bot.gateway.limits.SharedRateLimit's backend): new chats by
# "chat:<address key>", audit rows by "audit:<address key>". Kept only as long as the limit's window.
rate_events = sa.Table(
    "rate_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(160), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

sa.Index("adviser_sessions_by_user", adviser_sessions.c.username)
sa.Index("adviser_sockets_by_user", adviser_sockets.c.username)
sa.Index("login_failures_by_key", login_failures.c.key, login_failures.c.at)
sa.Index("messages_by_conversation", messages.c.conversation_id, messages.c.seq)
sa.Index("messages_pending", messages.c.pending, messages.c.conversation_id)
sa.Index("conversations_by_state", conversations.c.state)
sa.Index("conversations_by_address", conversations.c.address_key)
sa.Index("rate_events_by_key", rate_events.c.key, rate_events.c.at)
sa.Index("rate_events_by_time", rate_events.c.at)
sa.Index("audit_by_conversation", audit.c.conversation_id)

def utc(value: Optional[datetime]) -> Optional[datetime]:
    """SQLite hands back naive datetimes: they are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def iso(value: Optional[datetime]) -> Optional[str]:
    value = utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass
class Message:
    id: str
    conversation_id: str
    seq: int
    sender: str
    text: str
    at: datetime
    buttons: List[Dict[str, str]] = field(default_factory=list)
    adviser: Optional[str] = None
    urgent: bool = False
    ask_feedback: bool = False
    client_id: Optional[str] = None
    pending: bool = False
    payload: Optional[str] = None
    attempts: int = 0

    def public(self) -> Dict[str, Any]:
        """The message object of docs/gateway-protocol.md."""
        public = {"id": self.id, "seq": self.seq, "sender": self.sender, "text": self.text,
                  "buttons": self.buttons, "adviser": self.adviser, "at": iso(self.at),
                  "urgent": self.urgent, "ask_feedback": self.ask_feedback}
        if self.sender == "family":
            public["client_id"] = self.client_id
        return public


@dataclass
class Conversation:
    id: str
    state: str
    created_at: datetime
    adviser: Optional[str] = None
    queued_at: Optional[datetime] = None
    urgent: bool = False
    topic: Optional[str] = None
    council: Optional[str] = None
    stage: Optional[str] = None
    address_key: Optional[str] = None
    updated_at: Optional[datetime] = None  # the last message or change of state
    closed: bool = False  # ended by the family ("End chat and clear")


class AddressBusy(Exception):
    """Another chat from the same address already holds the queue places an address may have."""


@dataclass
class User:
    username: str
    display_name: str
    role: str
    password_hash: str
    available: bool
    disabled: bool = False
    max_chats: int = 2
    chats: int = 2  # how many chats at once the adviser takes (never above max_chats)

    @property
    def capacity(self) -> int:
        return max(0, min(self.chats, self.max_chats))


def _user(row) -> User:
    return User(row.username, row.display_name, row.role, row.password_hash, row.available,
                disabled=bool(row.disabled), max_chats=row.max_chats, chats=row.chats)


def _live_count(username):
    """A scalar subquery: how many live chats this adviser (a column or a value) has."""
    return (sa.select(sa.func.count()).select_from(conversations)
            .where(conversations.c.state == "live", conversations.c.adviser == username).scalar_subquery())


def _message(row) -> Message:
    return Message(id=row.id, conversation_id=row.conversation_id, seq=row.seq, sender=row.sender,
                   text=row.text, at=utc(row.at), buttons=json.loads(row.buttons or "[]"),
                   adviser=row.adviser, urgent=row.urgent, ask_feedback=row.ask_feedback,
                   client_id=row.client_id, pending=row.pending, payload=row.payload, attempts=row.attempts)


def _conversation(row) -> Conversation:
    return Conversation(id=row.id, state=row.state, created_at=utc(row.created_at), adviser=row.adviser,
                        queued_at=utc(row.queued_at), urgent=row.urgent, topic=row.topic,
                        council=row.council, stage=row.stage, address_key=row.address_key,
                        updated_at=utc(row.updated_at), closed=bool(row.closed))


class Store:
    def __init__(self, url: str):
        kwargs: Dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if ":memory:" not in url and url != "sqlite://":
                kwargs["poolclass"] = sa.pool.QueuePool  # reuse connections (1.4 opens one per use)
        else:
            kwargs["pool_pre_ping"] = True  # a PostgreSQL restart leaves dead connections in the pool
        self.engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @sa.event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with NORMAL sync: never corrupt; a power cut may lose the last commits, not the file.
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # conversations -------------------------------------------------------------------------
    def conversation(self, conversation_id: str) -> Optional[Conversation]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).first()
        return _conversation(row) if row else None

    def ensure_conversation(self, conversation_id: str, now: datetime,
                            address_key: Optional[str] = None) -> Conversation:
        existing = self.conversation(conversation_id)
        if existing:
            return existing
        try:
            with self.engine.begin() as conn:
                conn.execute(conversations.insert().values(id=conversation_id, created_at=now, updated_at=now,
                                                           state="bot", urgent=False, next_seq=1,
                                                           address_key=address_key))
        except sa.exc.IntegrityError:
            pass  # another gateway made it a moment ago
        return self.conversation(conversation_id)

    def forget_addresses(self, before: datetime) -> int:
        """Chats quiet since before `before`, and not waiting for or with an adviser, no longer need the
        key of their family's address (it only holds a queue place and counts messages): cleared."""
        with self.engine.begin() as conn:
            return conn.execute(conversations.update().where(
                conversations.c.address_key.is_not(None), conversations.c.updated_at < before,
                conversations.c.state.not_in(("queued", "live"))).values(address_key=None)).rowcount

    def set_address_key(self, conversation_id: str, address_key: str) -> None:
        """The family's socket now comes from this address (a reload on another network)."""
        with self.engine.begin() as conn:
            conn.execute(conversations.update().where(conversations.c.id == conversation_id,
                                                      sa.or_(conversations.c.address_key.is_(None),
                                                             conversations.c.address_key != address_key))
                         .values(address_key=address_key))

    def update_conversation(self, conversation_id: str, now: datetime, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(conversations.update().where(conversations.c.id == conversation_id)
                         .values(updated_at=now, **values))

    def enqueue(self, conversation_id: str, now: datetime, *, address_key: Optional[str] = None,
                places: int = 0, **slots: Any) -> bool:
        """bot -> queued. False if the conversation is already queued or live. With an address key and
        `places` > 0, raises AddressBusy when other chats from that address already hold `places` queued
        or live places (on PostgreSQL, enqueues for one address take turns under an advisory lock)."""
        with self.engine.begin() as conn:
            if address_key and places > 0:
                if conn.dialect.name == "postgresql":
                    lock = int.from_bytes(hashlib.sha256(address_key.encode()).digest()[:8], "big", signed=True)
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
                others = conn.execute(
                    sa.select(sa.func.count()).select_from(conversations)
                    .where(conversations.c.address_key == address_key, conversations.c.id != conversation_id,
                           conversations.c.state.in_(("queued", "live")))).scalar_one()
                if others >= places:
                    raise AddressBusy(address_key)
            result = conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id, conversations.c.state == "bot")
                .values(state="queued", queued_at=now, updated_at=now, adviser=None, **slots))
        return result.rowcount == 1

    def take_over(self, conversation_id: str, adviser: str, now: datetime,
                  capacity: Optional[int] = None) -> bool:
        """queued -> live with this adviser; one adviser per chat, decided by the database. With a
        capacity, a queued chat is taken only while the adviser has fewer live chats than that."""
        queued = conversations.c.state == "queued"
        if capacity is not None:
            queued = sa.and_(queued, _live_count(adviser) < capacity)
        with self.engine.begin() as conn:
            result = conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id,
                       sa.or_(queued,
                              sa.and_(conversations.c.state == "live", conversations.c.adviser == adviser)))
                .values(state="live", adviser=adviser, updated_at=now))
        return result.rowcount == 1

    def live_count(self, adviser: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_live_count(adviser))).scalar_one()

    def back_to_bot(self, conversation_id: str, now: datetime) -> None:
        self.update_conversation(conversation_id, now, state="bot", adviser=None, queued_at=None, urgent=False)

    def leave_queue(self, conversation_id: str, now: datetime) -> bool:
        """queued -> bot. False if it was no longer queued (another gateway got there first)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id, conversations.c.state == "queued")
                .values(state="bot", adviser=None, queued_at=None, urgent=False, updated_at=now))
        return result.rowcount == 1

    def claim_delivery(self, conversation_id: str, owner: str, now: datetime, lease: timedelta) -> bool:
        """Take (or extend) the right to send this conversation's pending messages to Rasa. False while
        another gateway holds an unexpired lease: it will send them."""
        with self.engine.begin() as conn:
            result = conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id,
                       sa.or_(conversations.c.delivery_until.is_(None), conversations.c.delivery_until < now,
                              conversations.c.delivery_owner == owner))
                .values(delivery_owner=owner, delivery_until=now + lease))
        return result.rowcount == 1

    def release_delivery(self, conversation_id: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(conversations.update()
                         .where(conversations.c.id == conversation_id, conversations.c.delivery_owner == owner)
                         .values(delivery_owner=None, delivery_until=None))

    def waiting(self) -> List[Conversation]:
        """Queued and live conversations: urgent first, then longest waiting."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(conversations).where(conversations.c.state.in_(("queued", "live")))
                .order_by(conversations.c.urgent.desc(), conversations.c.queued_at.asc())).all()
        return [_conversation(row) for row in rows]

    # messages ------------------------------------------------------------------------------
    def add_message(self, conversation_id: str, sender: str, text: str, now: datetime, *,
                    buttons: Optional[List[Dict[str, str]]] = None, adviser: Optional[str] = None,
                    urgent: bool = False, ask_feedback: bool = False, client_id: Optional[str] = None,
                    pending: bool = False, payload: Optional[str] = None) -> Message:
        message_id = "m_" + secrets.token_hex(12)
        with self.engine.begin() as conn:
            seq = conn.execute(sa.select(conversations.c.next_seq)
                               .where(conversations.c.id == conversation_id).with_for_update()).scalar_one()
            conn.execute(conversations.update().where(conversations.c.id == conversation_id)
                         .values(next_seq=seq + 1, updated_at=now))
            conn.execute(messages.insert().values(
                id=message_id, conversation_id=conversation_id, seq=seq, sender=sender, text=text,
                buttons=json.dumps(buttons or []), adviser=adviser, at=now, urgent=urgent,
                ask_feedback=ask_feedback, client_id=client_id, pending=pending, payload=payload))
        return Message(id=message_id, conversation_id=conversation_id, seq=seq, sender=sender, text=text,
                       at=now, buttons=buttons or [], adviser=adviser, urgent=urgent,
                       ask_feedback=ask_feedback, client_id=client_id, pending=pending, payload=payload)

    def message_by_client_id(self, conversation_id: str, client_id: str) -> Optional[Message]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(messages).where(messages.c.conversation_id == conversation_id,
                                                         messages.c.client_id == client_id)).first()
        return _message(row) if row else None

    def messages_after(self, conversation_id: str, after_seq: int = 0, limit: int = 500) -> List[Message]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(messages)
                                .where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
                                .order_by(messages.c.seq).limit(limit)).all()
        return [_message(row) for row in rows]

    def offered_button(self, conversation_id: str, payload: str, lookback: int = 10) -> Optional[Dict[str, str]]:
        """The button with exactly this payload among those the bot offered in its latest `lookback`
        messages of this conversation (None: the bot did not offer it)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(messages.c.buttons)
                                .where(messages.c.conversation_id == conversation_id, messages.c.sender == "bot")
                                .order_by(messages.c.seq.desc()).limit(lookback)).all()
        for row in rows:
            for button in json.loads(row.buttons or "[]"):
                if isinstance(button, dict) and button.get("payload") == payload:
                    return button
        return None

    def button_title(self, conversation_id: str, payload: str, lookback: int = 10) -> Optional[str]:
        """The title of the button with this payload in one of the bot's latest messages."""
        button = self.offered_button(conversation_id, payload, lookback)
        return button.get("title") if button else None

    def pending_for(self, conversation_id: str) -> List[Message]:
        """The family's messages Rasa has not had yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(messages)
                                .where(messages.c.conversation_id == conversation_id, messages.c.pending.is_(True))
                                .order_by(messages.c.seq)).all()
        return [_message(row) for row in rows]

    def conversations_with_pending(self) -> List[str]:
        """Conversations holding family messages Rasa has not had yet."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(messages.c.conversation_id).where(messages.c.pending.is_(True))
                                     .distinct().order_by(messages.c.conversation_id)).scalars())

    def count_attempt(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(messages.update().where(messages.c.id == message_id)
                         .values(attempts=messages.c.attempts + 1))

    def mark_delivered(self, message_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(messages.update().where(messages.c.id == message_id).values(pending=False))

    def message(self, message_id: str) -> Optional[Message]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(messages).where(messages.c.id == message_id)).first()
        return _message(row) if row else None

    def record_feedback(self, message_id: str, conversation_id: str, helpful: bool, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(feedback.delete().where(feedback.c.message_id == message_id))
            conn.execute(feedback.insert().values(message_id=message_id, conversation_id=conversation_id,
                                                  helpful=helpful, at=now))

    def feedback_for(self, conversation_id: str) -> Dict[str, bool]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(feedback).where(feedback.c.conversation_id == conversation_id)).all()
        return {row.message_id: row.helpful for row in rows}

    # advisers --------------------------------------------------------------------------------
    def add_user(self, username: str, display_name: str, role: str, password_hash: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(users.delete().where(users.c.username == username))
            conn.execute(users.insert().values(username=username, display_name=display_name, role=role,
                                               password_hash=password_hash, available=False, created_at=now))

    def user(self, username: str) -> Optional[User]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return _user(row) if row else None

    def users(self) -> List[User]:
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(sa.select(users).order_by(users.c.username)).all()]

    def create_user(self, username: str, display_name: str, role: str, password_hash: str, now: datetime,
                    max_chats: int = 2) -> bool:
        """A new account (the accounts page): False if the username is taken (nothing is replaced)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(users.insert().values(username=username, display_name=display_name, role=role,
                                                   password_hash=password_hash, available=False, created_at=now,
                                                   disabled=False, max_chats=max_chats,
                                                   chats=min(2, max_chats)))
        except sa.exc.IntegrityError:
            return False
        return True

    def update_user(self, username: str, **values: Any) -> bool:
        """Change role, display_name, disabled, max_chats or chats (chats is kept within max_chats)."""
        allowed = {"role", "display_name", "disabled", "max_chats", "chats"}
        assert set(values) <= allowed, values
        with self.engine.begin() as conn:
            if not values:
                return conn.execute(sa.select(users.c.username).where(users.c.username == username)).first() is not None
            done = conn.execute(users.update().where(users.c.username == username).values(**values)).rowcount == 1
            conn.execute(users.update().where(users.c.username == username, users.c.chats > users.c.max_chats)
                         .values(chats=users.c.max_chats))
        return done

    def enabled_staff(self) -> List[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(users.c.username).where(
                users.c.role == "staff", users.c.disabled.is_(False))).scalars())

    def remove_user(self, username: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(users.delete().where(users.c.username == username)).rowcount == 1

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.username == username).values(password_hash=password_hash))

    def set_available(self, username: str, available: bool) -> bool:
        """True if this changed it (so one gateway, not every one, announces the change)."""
        with self.engine.begin() as conn:
            return conn.execute(users.update().where(users.c.username == username, users.c.available != available)
                                .values(available=available)).rowcount == 1

    def available_advisers(self) -> List[str]:
        """Advisers on duty (available), whether or not they have room for another chat."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(users.c.username).where(users.c.available.is_(True))).scalars())

    def advisers_with_room(self) -> List[str]:
        """Available advisers with fewer live chats than the number they take at once (their capacity:
        their own choice, never above the most staff allow): only they can be offered the next chat."""
        capacity = sa.case((users.c.chats < users.c.max_chats, users.c.chats), else_=users.c.max_chats)
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(users.c.username).where(
                users.c.available.is_(True), users.c.disabled.is_(False),
                _live_count(users.c.username) < capacity)).scalars())

    # adviser console sockets, across gateways ----------------------------------------------
    def socket_opened(self, sid: str, username: str, instance: str, now: datetime,
                      session_id: Optional[str] = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(adviser_sockets.delete().where(adviser_sockets.c.sid == sid))
            conn.execute(adviser_sockets.insert().values(sid=sid, username=username, instance=instance, seen_at=now,
                                                         session_id=session_id))

    def socket_closed(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(adviser_sockets.delete().where(adviser_sockets.c.sid == sid))

    def sockets_seen(self, instance: str, now: datetime) -> None:
        """A gateway vouches for the sockets it still holds."""
        with self.engine.begin() as conn:
            conn.execute(adviser_sockets.update().where(adviser_sockets.c.instance == instance).values(seen_at=now))

    def open_sockets(self, username: str, since: datetime) -> int:
        """How many console sockets this adviser has open on any gateway seen since `since`."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(adviser_sockets)
                                .where(adviser_sockets.c.username == username,
                                       adviser_sockets.c.seen_at >= since)).scalar_one()

    def forget_sockets(self, before: datetime) -> int:
        """Drop sockets nobody has vouched for since `before` (their gateway died)."""
        with self.engine.begin() as conn:
            return conn.execute(adviser_sockets.delete().where(adviser_sockets.c.seen_at < before)).rowcount

    def sockets_to_close(self, instance: str, now: float, idle: float, max_age: float) -> List[str]:
        """This gateway's console sockets whose session has ended (logout), gone idle, grown too old, or
        whose account was removed: they must not outlive it."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(adviser_sockets.c.sid).where(
                adviser_sockets.c.instance == instance, ~self._session_valid(now, idle, max_age))).scalars())

    def socket_alive(self, sid: str, now: float, idle: float, max_age: float) -> bool:
        """Whether this console socket is recorded and its session still valid (see sockets_to_close)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(adviser_sockets.c.sid).where(
                adviser_sockets.c.sid == sid, self._session_valid(now, idle, max_age))).first() is not None

    @staticmethod
    def _session_valid(now: float, idle: float, max_age: float):
        """For a row of adviser_sockets: its session is open, recent enough, and its account exists."""
        s = adviser_sessions
        return (sa.select(s.c.id).select_from(s.join(users, users.c.username == s.c.username))
                .where(s.c.id == adviser_sockets.c.session_id, s.c.username == adviser_sockets.c.username,
                       s.c.ended.is_(False), users.c.disabled.is_(False), sa.func.coalesce(s.c.seen_at, s.c.started_at) >= now - idle,
                       s.c.started_at >= now - max_age).exists())

    def sockets_of_session(self, session_id: str, instance: str) -> List[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(adviser_sockets.c.sid).where(
                adviser_sockets.c.session_id == session_id, adviser_sockets.c.instance == instance)).scalars())

    # console sessions ----------------------------------------------------------------------
    def session_started(self, session_id: str, username: str, at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(adviser_sessions.insert().values(id=session_id, username=username, started_at=at,
                                                          ended=False, seen_at=at))

    def session_seen(self, session_id: str, at: float) -> None:
        """The session made a request (the idle timeout starts again), as its cookie records too."""
        with self.engine.begin() as conn:
            conn.execute(adviser_sessions.update().where(adviser_sessions.c.id == session_id).values(seen_at=at))

    def end_sessions_of(self, username: str) -> int:
        """Every session of this account ends (the account was removed)."""
        with self.engine.begin() as conn:
            return conn.execute(adviser_sessions.update().where(adviser_sessions.c.username == username,
                                                                adviser_sessions.c.ended.is_(False))
                                .values(ended=True)).rowcount

    def session_open(self, session_id: str, username: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(adviser_sessions.c.id).where(
                adviser_sessions.c.id == session_id, adviser_sessions.c.username == username,
                adviser_sessions.c.ended.is_(False))).first() is not None

    def end_session(self, session_id: str) -> None:
        """Logout: the session ends for every copy of its cookie."""
        with self.engine.begin() as conn:
            conn.execute(adviser_sessions.update().where(adviser_sessions.c.id == session_id).values(ended=True))

    def forget_sessions(self, started_before: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(adviser_sessions.delete().where(adviser_sessions.c.started_at < started_before))

    # login failures, across gateways (bot.gateway.limits.LoginThrottle's backend) ----------
    def failures_since(self, key: str, since: float) -> List[float]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(login_failures.c.at)
                                     .where(login_failures.c.key == key, login_failures.c.at > since)
                                     .order_by(login_failures.c.at)).scalars())

    def add_failure(self, key: str, at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.insert().values(key=key, at=at))

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.key == key))

    def remove_failure(self, key: str, at: float) -> None:
        """Take back one failure (an attempt counted before its password was checked, and right)."""
        with self.engine.begin() as conn:
            first = conn.execute(sa.select(sa.func.min(login_failures.c.id))
                                 .where(login_failures.c.key == key, login_failures.c.at == at)).scalar()
            if first is not None:
                conn.execute(login_failures.delete().where(login_failures.c.id == first))

    def prune_failures(self, before: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.at <= before))

    # counted events, across gateways (bot.gateway.limits.SharedRateLimit's backend) ----------
    def count_events(self, key: str, since: float) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(rate_events)
                                .where(rate_events.c.key == key, rate_events.c.at > since)).scalar_one()

    def add_event(self, key: str, at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(rate_events.insert().values(key=key, at=at))

    def prune_events(self, before: float, prefix: str = "") -> None:
        """Forget events before `before` whose key starts with `prefix` (one limit's own)."""
        with self.engine.begin() as conn:
            conn.execute(rate_events.delete().where(rate_events.c.at <= before,
                                                    rate_events.c.key.startswith(prefix, autoescape=True)))

    # canned responses ----------------------------------------------------------------------
    def canned_responses(self) -> List[Dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(canned).order_by(canned.c.id)).all()
        return [{"id": row.id, "title": row.title, "text": row.text} for row in rows]

    def seed_canned(self, now: datetime) -> None:
        with self.engine.begin() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(canned)).scalar_one() == 0:
                conn.execute(canned.insert(), [{"title": t, "text": x, "updated_at": now, "updated_by": "setup"}
                                               for t, x in load_texts().canned])

    def save_canned(self, canned_id: Optional[int], title: str, text: str, actor: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            if canned_id is None:
                return conn.execute(canned.insert().values(title=title, text=text, updated_by=actor,
                                                           updated_at=now)).inserted_primary_key[0]
            result = conn.execute(canned.update().where(canned.c.id == canned_id)
                                  .values(title=title, text=text, updated_by=actor, updated_at=now))
            return canned_id if result.rowcount else 0

    def delete_canned(self, canned_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(canned.delete().where(canned.c.id == canned_id)).rowcount == 1

    # audit -----------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, now: datetime, conversation_id: Optional[str] = None,
              detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(audit.insert().values(at=now, actor=actor, action=action,
                                               conversation_id=conversation_id, detail=detail))

    def purge_personal_audit(self, before: datetime) -> int:
        """Retention (same period as transcripts): audit rows older than `before` keep when, who (the
        actor) and what (action, conversation id), which the reports need and which hold no family data;
        their free-text `detail` (account names, review notes, reasons) is cleared. Failed-login and
        rate-limit rows (address keys) older than `before` are deleted too (normally pruned within the hour)."""
        with self.engine.begin() as conn:
            n = conn.execute(audit.update().where(audit.c.at < before, audit.c.detail.is_not(None),
                                                  audit.c.detail != "").values(detail=None)).rowcount
            conn.execute(login_failures.delete().where(login_failures.c.at < before.timestamp()))
            conn.execute(rate_events.delete().where(rate_events.c.at < before.timestamp()))
        return n

    def took_part(self, conversation_id: str, username: str) -> bool:
        """Whether this adviser took over this conversation at some time (from the audit log)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(audit.c.id).where(
                audit.c.conversation_id == conversation_id, audit.c.actor == username,
                audit.c.action == "takeover").limit(1)).first() is not None

    def audit_log(self, limit: int = 200) -> List[Dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit).order_by(audit.c.id.desc()).limit(limit)).all()
        return [{"at": iso(row.at), "actor": row.actor, "action": row.action,
                 "conversation_id": row.conversation_id, "detail": row.detail} for row in rows]


from bot.gateway import chat_stats as _chat_stats  # noqa: E402,F401  (registers the chat_stats table on metadata)

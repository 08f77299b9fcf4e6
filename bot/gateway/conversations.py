"""What happens to a conversation: family messages to Rasa and back, the adviser queue, takeover,
hand back and end. Transport-free: it talks to the outside through the store, the Rasa client and
an emitter (socket.io in the app, a recorder in tests)."""
from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import weakref
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Protocol

from actions.content_store import load_content
from actions.replies import emergency
from bot.gateway import accounts
from bot.gateway.chat_stats import ChatStats
from bot.gateway.limits import AUDIT_ROWS_PER_ADDRESS, RateLimiter, SharedRateLimit
from bot.gateway.rasa_client import RasaClient, RasaUnavailable, earlier_attempt
from bot.gateway.store import AddressBusy, Conversation, Message, Store, iso
from bot.gateway.texts import Texts, load_texts  # Texts: the gateway's notices, from bot/gateway/texts.yml
from bot.safety.crisis import is_crisis

log = logging.getLogger(__name__)

FAMILY_NS = "/"
CONSOLE_NS = "/console"
ADVISERS_ROOM = "advisers"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")  # used with fullmatch: no trailing newline
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MESSAGE_ID = re.compile(r"m_[0-9a-f]{24}")
MAX_SEQ = 2 ** 62
DELIVERY_LEASE = timedelta(seconds=45)  # longer than the Rasa client's 30 s timeout
# "/..." payloads a widget may send without the bot having offered them: rasa-webchat's initPayload opens
# a chat with /greet. An intent with no entities and no words to check, so harmless; anything else that
# starts with "/" must be a button the bot offered in the conversation (see family_message).
WIDGET_PAYLOADS = frozenset({"/greet"})


class Emitter(Protocol):
    async def emit(self, event: str, data: Any = None, room: Optional[str] = None,
                   namespace: Optional[str] = None) -> None: ...


class Refused(Exception):
    """A request the gateway turns down, with a sentence to show."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def clean_text(raw: Any) -> str:
    """The text of a family message: a string, without control or invisible characters, trimmed."""
    if not isinstance(raw, str):
        return ""
    kept = []
    for char in unicodedata.normalize("NFC", raw):
        category = unicodedata.category(char)
        if char in "\n\t":
            kept.append(char)
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # controls, zero-width and bidi overrides, surrogates, private use, unassigned
        else:
            kept.append(char)
    return "".join(kept).strip()


def as_plain_text(text: str) -> str:
    """Text Rasa reads as words, never as an intent: Rasa strips a message and treats one starting with
    "/" as `/intent{entities}` (skipping NLU and its safety net), so leading slashes (and the spaces
    around them) go. Only a button payload the bot offered is sent as it is."""
    plain = text.strip()
    while plain.startswith("/"):
        plain = plain[1:].strip()
    return plain


def resumable(state: str, last_activity: Optional[datetime], now: datetime, idle: Optional[timedelta]) -> bool:
    """Whether a chat may be resumed from a widget's stored id: within `idle` of its last message or
    change of state (None: no limit). A chat waiting for or talking to an adviser keeps its place
    however long the wait (the queue's own checks hand it back when advisers go)."""
    if state in ("queued", "live") or idle is None or last_activity is None:
        return True
    return now - last_activity <= idle


def valid_session_id(value: Any) -> bool:
    return isinstance(value, str) and bool(SESSION_ID.fullmatch(value))


def buttons_from(answer: Dict[str, Any]) -> List[Dict[str, str]]:
    """The buttons (or quick replies) of one of Rasa's answers: stored with the bot's message, they are
    the only "/..." payloads the family may send back as intents."""
    offered = [b for key in ("buttons", "quick_replies") if isinstance(answer.get(key), list)
               for b in answer[key]]
    return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in offered if isinstance(b, dict)]


def bot_uttered(message: Message) -> Dict[str, Any]:
    """Rasa's socket.io `bot_uttered` shape, with our message object in metadata."""
    data: Dict[str, Any] = {"text": message.text, "metadata": {"message": message.public()}}
    if message.buttons:
        data["quick_replies"] = [{"content_type": "text", "title": b["title"], "payload": b["payload"]}
                                 for b in message.buttons]
    return data


class ConversationService:
    def __init__(self, store: Store, rasa: RasaClient, emitter: Emitter, clock: Callable[[], datetime],
                 monotonic: Callable[[], float], *, max_chars: int = 2000, rate: tuple = (8, 20),
                 can_queue: Callable[[datetime, int], bool] = lambda now, advisers: advisers > 0,
                 queue_closed_text: Callable[[datetime, str], str] = lambda now, why: "",
                 display_name: Callable[[str], str] = lambda username: username,
                 texts: Optional[Texts] = None, owner: str = "gateway", new_chats: tuple = (10, 600),
                 queue_places: int = 1, resume_idle: Optional[timedelta] = timedelta(minutes=60),
                 audit_cap: Optional[SharedRateLimit] = None, address_messages: tuple = (24, 20),
                 stats: Optional[ChatStats] = None):
        self.store = store
        self.stats = stats or ChatStats(store.engine)  # the non-personal record the reports read
        self.rasa = rasa
        self.emitter = emitter
        self.clock = clock
        self.monotonic = monotonic
        self.max_chars = max_chars
        self.limiter = RateLimiter(*rate)
        self.new_chats = SharedRateLimit(store, *new_chats, prefix="chat:")  # per address, every gateway
        # messages per address across all its chats (the per-chat `limiter` alone allows 10 chats x 8)
        self.address_messages = SharedRateLimit(store, *address_messages, prefix="msg:")
        # audit rows a family's address can cause (refusals), shared with the console's login
        self.audit_cap = audit_cap or SharedRateLimit(store, *AUDIT_ROWS_PER_ADDRESS, prefix="audit:")
        self.queue_places = queue_places  # queued or live chats per address (0: no limit)
        self.resume_idle = resume_idle  # a stored chat id resumes only within this of its last activity
        self.can_queue = can_queue
        self.queue_closed_text = queue_closed_text
        self.display_name = display_name
        self.texts = texts or load_texts().notices
        self.owner = owner  # this gateway's name on delivery leases
        self._locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()
        self._told_down: set = set()

    def _record(self, event: str, *args: Any, **kwargs: Any) -> None:
        """A chat event for the reports (bot.gateway.chat_stats); a failure there never stops a chat."""
        try:
            getattr(self.stats, event)(*args, **kwargs)
        except Exception:
            log.exception("could not record %s for the reports", event)

    # -- emitting ------------------------------------------------------------------------------
    async def _to_family(self, conversation_id: str, event: str, data: Any) -> None:
        await self.emitter.emit(event, data, room=conversation_id, namespace=FAMILY_NS)

    async def _to_advisers(self, event: str, data: Any) -> None:
        await self.emitter.emit(event, data, room=ADVISERS_ROOM, namespace=CONSOLE_NS)

    async def say(self, conversation_id: str, sender: str, text: str, **extra: Any) -> Message:
        """Store a message from the bot, an adviser or the gateway and show it to the family."""
        message = self.store.add_message(conversation_id, sender, text, self.clock(), **extra)
        await self._to_family(conversation_id, "bot_uttered", bot_uttered(message))
        conversation = self.store.conversation(conversation_id)
        if conversation and conversation.state in ("queued", "live"):
            await self._to_advisers("message", {"conversation_id": conversation_id, "message": message.public()})
        return message

    async def tell(self, conversation_id: str, text: str, rejected_client_id: Optional[str] = None) -> None:
        """A passing notice to the family (not stored): refusals of bad input, naming the refused message."""
        metadata: Dict[str, Any] = {"message": {"id": None, "sender": "system", "text": text,
                                                "urgent": False, "ask_feedback": False}}
        if rejected_client_id:
            metadata["rejected_client_id"] = rejected_client_id
        await self._to_family(conversation_id, "bot_uttered", {"text": text, "metadata": metadata})

    # -- family side --------------------------------------------------------------------------
    def open_session(self, requested: Any, new_id: Callable[[], str],
                     address_key: Optional[str] = None) -> Optional[str]:
        """The conversation a family's socket belongs to: the one it asks to resume if the gateway
        issued it (ids come only from session_confirm, 128 random bits), else a new one. A client
        cannot choose an id, so nobody can claim a conversation by guessing or inventing its id.

        `address_key` stands for the socket's client address: it is kept on the conversation (one queue
        place per address), and new chats per address are limited (None: the limit says no)."""
        now = self.clock()
        existing = self.store.conversation(requested) if valid_session_id(requested) else None
        if existing is not None and not existing.closed and resumable(existing.state, existing.updated_at, now,
                                                                      self.resume_idle):
            if address_key:
                self.store.set_address_key(requested, address_key)
            return requested
        if existing is not None:  # idle too long or ended: a new chat; the old one is kept until retention
            self.audit_refusal(address_key, "resume_refused", now, requested,
                               "ended by the family" if existing.closed else "idle for longer than the resume limit")
        if address_key and not self.new_chats.allow(address_key, now.timestamp()):
            self.audit_refusal(address_key, "new_chat_refused", now, detail="too many new chats from one address")
            return None
        session_id = new_id()
        self.store.ensure_conversation(session_id, now, address_key=address_key)
        return session_id

    async def family_ended(self, conversation_id: str) -> bool:
        """The family pressed "End chat and clear": a queue place is given up, a live chat ends (its
        adviser is told), the bot has the chat back, and it is never resumed. False if already ended."""
        now = self.clock()
        conversation = self.store.conversation(conversation_id)
        if conversation is None or conversation.closed:
            return False
        with_adviser = conversation.state in ("queued", "live")
        if conversation.state == "queued":
            self._record("left_queue", conversation_id, now, "family")
        if with_adviser:
            await self._to_advisers("message", {"conversation_id": conversation_id, "message": self.store.add_message(
                conversation_id, "system", self.texts.family_ended, now).public()})
            self.store.back_to_bot(conversation_id, now)
            try:
                await self.rasa.resume(conversation_id)
            except RasaUnavailable as error:
                log.warning("could not resume Rasa for %s: %s", conversation_id, error)
        self.store.update_conversation(conversation_id, now, closed=True)
        self.store.audit("family", "family_ended", now, conversation_id)
        if with_adviser:
            await self._to_advisers("conversation_state", {"conversation_id": conversation_id, "state": "ended",
                                                           "adviser": None})
            await self.queue_changed()
        return True

    def audit_refusal(self, address_key: Optional[str], action: str, now: datetime,
                      conversation_id: Optional[str] = None, detail: str = "") -> None:
        """Record a refusal in the audit log, at most AUDIT_ROWS_PER_ADDRESS for one address."""
        if address_key is None or self.audit_cap.allow(address_key, now.timestamp()):
            self.store.audit("family", action, now, conversation_id, detail)

    async def family_message(self, conversation_id: str, raw_text: Any, client_id: Any = None) -> None:
        if raw_text is None:  # no message at all (rasa-webchat opening without an initPayload): nothing to answer
            return
        client_id = client_id if isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id) else None
        # The length as sent, before any work on the text: cleaning a huge paste costs time, and what is
        # too long to read is too long whatever cleaning would have left of it.
        if isinstance(raw_text, str) and len(raw_text) > self.max_chars:
            await self.tell(conversation_id, self.texts.too_long.format(limit=self.max_chars), client_id)
            return
        text = clean_text(raw_text)
        if client_id:
            earlier = self.store.message_by_client_id(conversation_id, client_id)
            if earlier:  # a resend after a dropped connection: acknowledge, do nothing twice
                await self._to_family(conversation_id, "user_echo",
                                      {"message": earlier.public(), "client_id": client_id})
                return
        # "/..." is an intent only if it is exactly a button payload the bot offered in this conversation;
        # anything else is words (sent without its leading "/"), which Rasa's NLU and its safety net read.
        button = self.store.offered_button(conversation_id, text) if text.startswith("/") else None
        if button is None and text in WIDGET_PAYLOADS:
            button = {"title": "", "payload": text}
        if not text or (button is None and not as_plain_text(text)):
            await self.tell(conversation_id, self.texts.empty, client_id)
            return
        if not self.limiter.allow(conversation_id, self.monotonic()):
            await self.tell(conversation_id, self.texts.too_fast, client_id)
            return
        conversation = self.store.ensure_conversation(conversation_id, self.clock())
        if conversation.address_key and not self.address_messages.allow(conversation.address_key,
                                                                        self.clock().timestamp()):
            await self.tell(conversation_id, self.texts.too_fast, client_id)
            return
        urgent = (conversation.state in ("queued", "live") and button is None
                  and await self._is_crisis(as_plain_text(text)))
        message = self.store.add_message(conversation_id, "family", (button and button.get("title")) or text,
                                         self.clock(), client_id=client_id, pending=True, urgent=urgent,
                                         payload=text if button else None)
        if text not in WIDGET_PAYLOADS:  # the widget opening itself is not yet a chat
            self._record("started", conversation_id, message.at)
        await self._to_family(conversation_id, "user_echo", {"message": message.public(), "client_id": client_id})
        if conversation.state in ("queued", "live"):
            await self._to_advisers("message", {"conversation_id": conversation_id, "message": message.public()})
            if urgent:
                await self._emergency_while_waiting(conversation)
        await self.deliver_pending(conversation_id)

    async def _is_crisis(self, text: str) -> bool:
        """The safety net while Rasa is paused: the same decision Rasa's NLU makes (rules and crisis
        model); the rules alone if Rasa cannot answer now. `text` is the family's words as plain text
        (a button the bot offered is not checked)."""
        if is_crisis(text):
            return True
        try:
            return await self.rasa.is_emergency(text)
        except RasaUnavailable:
            return False

    async def _emergency_while_waiting(self, conversation: Conversation) -> None:
        """Rasa is paused, so the gateway gives the emergency numbers itself and alerts advisers."""
        for bubble in emergency(load_content(), None).bubbles[:-1]:
            await self.say(conversation.id, "system", bubble.text, urgent=True)
        if conversation.state == "queued":
            await self.say(conversation.id, "system", self.texts.emergency_waiting, urgent=True)
        self.store.update_conversation(conversation.id, self.clock(), urgent=True)
        self._record("crisis", conversation.id, self.clock())
        await self._to_advisers("alert", {"conversation_id": conversation.id, "reason": "emergency",
                                          "label": label(conversation.id)})
        await self.queue_changed()

    async def deliver_pending(self, conversation_id: str) -> bool:
        """Send the family's not-yet-delivered messages to Rasa, oldest first. False if Rasa is down.

        One sender per conversation: an asyncio lock inside this gateway, and a lease in the store
        across gateways. If another gateway holds the lease it is sending them (True); if it dies,
        the lease runs out and the next background round on any gateway sends them."""
        lock = self._locks.get(conversation_id)
        if lock is None:  # one lock per conversation while anyone uses it; forgotten afterwards
            lock = self._locks[conversation_id] = asyncio.Lock()
        async with lock:
            while self.store.claim_delivery(conversation_id, self.owner, self.clock(), DELIVERY_LEASE):
                try:
                    pending = self.store.pending_for(conversation_id)
                    if not pending:
                        return True
                    if not await self._deliver(conversation_id, pending):
                        return False
                finally:
                    self.store.release_delivery(conversation_id, self.owner)
        return True

    async def _send_once(self, conversation_id: str, message: Message, text: str, paused: bool) -> List[Dict]:
        """Rasa's answers to one family message, recorded in its tracker exactly once.

        Rasa's REST channel answers `[]` (HTTP 200) when it fails inside (its tracker or lock store
        unreachable, the action server down), so, unless Rasa is paused for an adviser, no answer
        means "try again later" unless the action server is healthy and the tracker shows the message
        recorded (then it really has no answer). A retry first reads the tracker: if the earlier attempt
        got through, its recorded answers are used; if Rasa recorded the message but could not answer,
        the message is rewound and sent again."""
        if message.attempts:
            earlier = earlier_attempt(await self.rasa.events(conversation_id), message.id)
            if earlier is not None:
                if earlier or paused:
                    return earlier
                await self.rasa.rewind(conversation_id)
        self.store.count_attempt(message.id)
        answers = await self.rasa.send(conversation_id, text, {"client_message_id": message.id, "channel": "webchat"})
        if answers or paused:
            return answers
        if await self.rasa.actions_healthy():
            recorded = earlier_attempt(await self.rasa.events(conversation_id), message.id)
            if recorded is not None:
                return recorded or [{"text": self.texts.no_answer}]
        raise RasaUnavailable("Rasa answered nothing (its stores or the action server are unreachable)")

    async def _deliver(self, conversation_id: str, pending: List[Message]) -> bool:
        for index, message in enumerate(pending):
            if index:  # the caller has just claimed the lease for the first one; extend it for the rest
                self.store.claim_delivery(conversation_id, self.owner, self.clock(), DELIVERY_LEASE)
            conversation = self.store.conversation(conversation_id)
            paused = conversation.state in ("queued", "live")
            # Only an offered button goes as an intent (message.payload is set only for one), and not even
            # that while an adviser has the chat (e.g. /restart); everything else goes as plain words.
            text = as_plain_text(message.payload or message.text) if paused or not message.payload \
                else message.payload
            if not paused:
                await self._to_family(conversation_id, "bot_typing", {"typing": True})
            try:
                answers = await self._send_once(conversation_id, message, text, paused)
            except RasaUnavailable as error:
                log.warning("Rasa unavailable for %s: %s", conversation_id, error)
                if conversation_id not in self._told_down and not paused:
                    self._told_down.add(conversation_id)
                    await self.say(conversation_id, "system", self.texts.rasa_down)
                await self._to_family(conversation_id, "bot_typing", {"typing": False})
                return False
            self._told_down.discard(conversation_id)
            self.store.mark_delivered(message.id)
            if not paused:
                await self._show_answers(conversation_id, answers)
                await self._to_family(conversation_id, "bot_typing", {"typing": False})
        return True

    async def _show_answers(self, conversation_id: str, answers: List[Dict[str, Any]]) -> None:
        """Rasa's answers to the family. Custom payloads are signals from our actions, not for display:
        {"ask_feedback": true} marks the answer before it; {"handoff": "request"} queues the family.
        For the reports only: {"person_wanted": "closed" | "no_adviser"} (a person was asked for and none
        could take them), {"not_sure": true} (the bot was unsure), {"crisis": true}, and "topic" and
        "council" beside ask_feedback."""
        shown: List[List[Any]] = []  # [text, buttons, ask_feedback]
        handoff = False
        seen: Dict[str, Any] = {"answers": 0, "unsure": 0, "topic": None, "council": None, "crisis": False}
        person_wanted = None
        for answer in answers:
            custom = answer.get("custom") if isinstance(answer.get("custom"), dict) else {}
            handoff = handoff or bool(custom.get("handoff"))
            seen["answers"] += bool(custom.get("ask_feedback"))
            seen["unsure"] += bool(custom.get("not_sure"))
            seen["crisis"] = seen["crisis"] or custom.get("crisis") is True
            for name in ("topic", "council"):
                if isinstance(custom.get(name), str) and custom[name]:
                    seen[name] = custom[name]
            if isinstance(custom.get("person_wanted"), str):
                person_wanted = custom["person_wanted"]
            if custom.get("ask_feedback") and shown:
                shown[-1][2] = True
            if answer.get("text"):
                shown.append([str(answer["text"]), buttons_from(answer), False])
        for text, buttons, ask_feedback in shown:
            await self.say(conversation_id, "bot", text, buttons=buttons, ask_feedback=ask_feedback)
        self._record("bot_replied", conversation_id, self.clock(), **seen)
        if person_wanted:
            self._record("person_wanted", conversation_id, self.clock(), person_wanted)
        if handoff:
            await self.request_adviser(conversation_id)

    async def retry_pending(self) -> None:
        """Called every few seconds: answers messages that arrived while Rasa was down."""
        for conversation_id in self.store.conversations_with_pending():
            if not await self.deliver_pending(conversation_id):
                return  # still down; try again next time

    async def history(self, conversation_id: str, after_seq: Any) -> Dict[str, Any]:
        after = after_seq if type(after_seq) is int and 0 <= after_seq < MAX_SEQ else 0
        return {"messages": [m.public() for m in self.store.messages_after(conversation_id, after)],
                "state": self.family_state(conversation_id)}

    async def feedback(self, conversation_id: str, message_id: Any, helpful: Any) -> bool:
        valid = isinstance(message_id, str) and MESSAGE_ID.fullmatch(message_id)
        message = self.store.message(message_id) if valid else None
        if not message or message.conversation_id != conversation_id or not isinstance(helpful, bool):
            return False
        before = self.store.feedback_for(conversation_id).get(message.id)
        self.store.record_feedback(message.id, conversation_id, helpful, self.clock())
        self._record("feedback", conversation_id, self.clock(), helpful, before)
        return True

    async def family_typing(self, conversation_id: str, typing: Any) -> None:
        conversation = self.store.conversation(conversation_id)
        if conversation and conversation.state in ("queued", "live"):
            await self._to_advisers("family_typing", {"conversation_id": conversation_id, "typing": bool(typing)})

    # -- queue -------------------------------------------------------------------------------
    def family_state(self, conversation_id: str) -> Dict[str, Any]:
        conversation = self.store.conversation(conversation_id)
        if not conversation:
            return {"state": "bot"}
        state: Dict[str, Any] = {"state": conversation.state}
        if conversation.state == "queued":
            state["position"] = self.position(conversation_id)
        if conversation.state == "live" and conversation.adviser:
            state["adviser"] = self.display_name(conversation.adviser)
        return state

    def position(self, conversation_id: str) -> int:
        queued = [c.id for c in self.store.waiting() if c.state == "queued"]
        return queued.index(conversation_id) + 1 if conversation_id in queued else 0

    async def request_adviser(self, conversation_id: str) -> None:
        """The handoff action said a person is available: queue the family and pause Rasa."""
        now = self.clock()
        if not self.can_queue(now, len(self.store.advisers_with_room())):  # only advisers under capacity
            self._record("person_wanted", conversation_id, now, None)
            await self.say(conversation_id, "system", self.queue_closed_text(now, "no_adviser"))
            return
        try:
            slots = await self.rasa.slots(conversation_id)
        except RasaUnavailable:
            slots = {}
        conversation = self.store.conversation(conversation_id)
        try:
            queued = self.store.enqueue(conversation_id, now, address_key=conversation and conversation.address_key,
                                        places=self.queue_places, topic=_slot(slots, "last_topic"),
                                        council=_slot(slots, "council"), stage=_slot(slots, "proceedings_stage"))
        except AddressBusy:
            self.audit_refusal(conversation.address_key, "queue_refused", now, conversation_id,
                               "another chat from this address is queued or live")
            await self.say(conversation_id, "system", self.texts.already_queued)
            return
        if not queued:
            return  # already queued or live
        self._record("queued", conversation_id, now, _slot(slots, "last_topic"), _slot(slots, "council"))
        try:
            await self.rasa.pause(conversation_id)
        except RasaUnavailable:
            log.warning("could not pause Rasa for %s; messages will still reach the adviser", conversation_id)
        self.store.audit("family", "queued", now, conversation_id)
        await self.say(conversation_id, "system", self.texts.queued)
        await self.queue_changed()

    async def queue_changed(self) -> None:
        """Tell advisers the new queue and every waiting family its place."""
        waiting = self.store.waiting()
        await self._to_advisers("queue", {"queue": [self.queue_item(c) for c in waiting]})
        for conversation in waiting:
            await self._to_family(conversation.id, "handoff", self.family_state(conversation.id))

    def queue_item(self, conversation: Conversation) -> Dict[str, Any]:
        now = self.clock()
        waiting = int((now - conversation.queued_at).total_seconds()) if conversation.queued_at else 0
        return {"id": conversation.id, "label": label(conversation.id), "state": conversation.state,
                "queued_at": iso(conversation.queued_at), "waiting_seconds": max(0, waiting),
                "urgent": conversation.urgent, "topic": conversation.topic, "council": conversation.council,
                "stage": conversation.stage,
                "adviser": self.display_name(conversation.adviser) if conversation.adviser else None,
                "summary": summary(conversation)}

    async def close_queue(self, reason: str) -> int:
        """Webchat closed or the last adviser left: nobody waits silently. Returns how many were told."""
        now = self.clock()
        told = 0
        for conversation in self.store.waiting():
            if conversation.state != "queued" or not self.store.leave_queue(conversation.id, now):
                continue  # live, or another gateway told this family a moment ago
            try:
                await self.rasa.resume(conversation.id)
            except RasaUnavailable:
                log.warning("could not resume Rasa for %s", conversation.id)
            await self.say(conversation.id, "system", self.queue_closed_text(now, reason))
            await self._to_family(conversation.id, "handoff", {"state": "bot"})
            self.store.audit("system", "queue_closed", now, conversation.id, reason)
            self._record("left_queue", conversation.id, now, "closed")
            told += 1
        if told:
            await self.queue_changed()
        return told

    async def sweep(self) -> int:
        """Called every few seconds: if webchat has closed or no adviser is available, tell the queue."""
        now = self.clock()
        if not any(c.state == "queued" for c in self.store.waiting()):
            return 0
        advisers = len(self.store.available_advisers())
        if self.can_queue(now, advisers):
            return 0
        return await self.close_queue("no_adviser" if advisers == 0 else "closed")

    # -- adviser side -------------------------------------------------------------------------
    def _live_with(self, conversation_id: str, adviser: str) -> Conversation:
        conversation = self.store.conversation(conversation_id)
        if not conversation:
            raise Refused("There is no such conversation.", 404)
        if conversation.state != "live" or conversation.adviser != adviser:
            raise Refused("You are not in this chat. Take it over from the queue first.", 409)
        return conversation

    async def take_over(self, conversation_id: str, adviser: str) -> None:
        conversation = self.store.conversation(conversation_id)
        if not conversation:
            raise Refused("There is no such conversation.", 404)
        if conversation.state == "live" and conversation.adviser != adviser:
            raise Refused(f"{self.display_name(conversation.adviser)} already has this chat.", 409)
        if conversation.state not in ("queued", "live"):
            raise Refused("This family is not waiting for an adviser any more.", 409)
        account = self.store.user(adviser)
        capacity = account.capacity if account else 0
        if not self.store.take_over(conversation_id, adviser, self.clock(), capacity=capacity):
            if conversation.state == "queued" and self.store.live_count(adviser) >= capacity:
                raise Refused(accounts.say("at_capacity", chats=capacity), 409)
            raise Refused("Another adviser took this chat a moment ago.", 409)
        if conversation.state == "queued":
            self.store.audit(adviser, "takeover", self.clock(), conversation_id)
            self._record("taken", conversation_id, self.clock(), conversation.queued_at)
            await self.say(conversation_id, "system", self.texts.taken_over.format(adviser=self.display_name(adviser)))
            await self._to_advisers("conversation_state", {"conversation_id": conversation_id, "state": "live",
                                                           "adviser": self.display_name(adviser)})
        await self.queue_changed()

    async def adviser_message(self, conversation_id: str, adviser: str, raw_text: Any) -> Message:
        self._live_with(conversation_id, adviser)
        text = clean_text(raw_text)
        if not text:
            raise Refused("The message is empty.")
        if len(text) > 4 * self.max_chars:
            raise Refused(f"The message is too long (over {4 * self.max_chars} characters).")
        message = await self.say(conversation_id, "adviser", text, adviser=self.display_name(adviser))
        await self._to_family(conversation_id, "bot_typing", {"typing": False})
        try:
            await self.rasa.adviser_said(conversation_id, text, adviser, message.at.timestamp())
        except RasaUnavailable as error:
            log.warning("adviser message kept in the gateway store only (%s)", error)
        return message

    async def adviser_typing(self, conversation_id: str, adviser: str, typing: Any) -> None:
        conversation = self.store.conversation(conversation_id) if valid_session_id(conversation_id) else None
        if conversation and conversation.state == "live" and conversation.adviser == adviser:
            await self._to_family(conversation_id, "bot_typing", {"typing": bool(typing)})

    async def hand_back(self, conversation_id: str, adviser: str, closing: Any = None) -> None:
        """`resume` (closing is None) or end the chat (with an optional closing message)."""
        self._live_with(conversation_id, adviser)
        ending = closing is not None
        if ending and clean_text(closing):
            await self.adviser_message(conversation_id, adviser, closing)
        self.store.back_to_bot(conversation_id, self.clock())
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as error:
            log.warning("could not resume Rasa for %s: %s", conversation_id, error)
        text = self.texts.ended if ending else self.texts.handed_back.format(adviser=self.display_name(adviser))
        await self.say(conversation_id, "system", text)
        await self._to_family(conversation_id, "handoff", {"state": "ended" if ending else "bot"})
        self.store.audit(adviser, "end" if ending else "resume", self.clock(), conversation_id)
        await self._to_advisers("conversation_state", {"conversation_id": conversation_id,
                                                       "state": "ended" if ending else "bot", "adviser": None})
        await self.queue_changed()

    def transcript(self, conversation_id: str) -> Dict[str, Any]:
        conversation = self.store.conversation(conversation_id)
        if not conversation:
            raise Refused("There is no such conversation.", 404)
        return {"item": self.queue_item(conversation), "summary": summary(conversation),
                "messages": [m.public() for m in self.store.messages_after(conversation_id)]}


def label(conversation_id: str) -> str:
    """What advisers call a chat: short, and no personal data."""
    return "Chat " + conversation_id[:4].upper()


def _slot(slots: Dict[str, Any], name: str) -> Optional[str]:
    value = slots.get(name)
    return str(value)[:120] if value not in (None, "") else None


STAGE_WORDS = {"sw_visits": "social workers visiting", "cp_conference": "child protection conference",
               "pre_proceedings": "letter before proceedings", "court": "court papers or hearing",
               "child_removed": "child removed", "not_sure": "stage not sure"}


def summary(conversation: Conversation) -> str:
    """One line for the adviser: what the family asked about, where, and how far things have gone."""
    parts = []
    if conversation.urgent:
        parts.append("URGENT: safety net triggered")
    if conversation.topic:
        parts.append("Asked about " + conversation.topic.replace("_", " "))
    if conversation.council:
        parts.append(conversation.council)
    if conversation.stage:
        parts.append(STAGE_WORDS.get(conversation.stage, conversation.stage.replace("_", " ")))
    return "; ".join(parts) if parts else "No topic yet"

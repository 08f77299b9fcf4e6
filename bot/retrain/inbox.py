"""The review inbox: family messages staff should look at, grouped, redacted.

`flag_messages` and `group_messages` are pure (events in, items out); `load_inbox` reads the stores and
calls them. A family message (a tracker `user` event) is flagged when:

- low_confidence:     the model's top intent scored below `inbox.low_confidence` (default 0.6);
- fallback:           the bot said it was not sure (`nlu_fallback`);
- before_not_helpful: the family's next message was `not_helpful` ("that's not what I asked");
- before_handoff:     a handoff came next: the family's next message asked for a person (intent
                      `speak_to_adviser`), or the bot ran `action_handoff` straight after this message
                      without being asked (a second misunderstanding);
- marked_unhelpful:   the family pressed "not helpful" on the bot's answer to it. The gateway stores
                      feedback per bot message, which the tracker does not know, so the match is by
                      conversation id and time: the last family message in that conversation sent
                      before the marked bot message;
- sample:             a repeatable random share (`inbox.sample_rate`, seeded) of the rest, to check
                      answers the model was sure about.

Never shown: button payloads (text starting with "/"), messages sent while an adviser had the chat
(Rasa paused: they were addressed to a person, not the bot), and messages whose normalised text is
already in the training data or has been decided by staff. Near-duplicates (rapidfuzz ratio >=
`inbox.duplicate_ratio` on normalised text) are one item with a count. Every text is redacted before it
is grouped, shown or kept.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from rapidfuzz import fuzz, process

from bot.retrain.config import InboxRules, RetrainConfig
from bot.retrain.privacy import fingerprint, normalise
from bot.retrain.stores import TrackerEvent, UnhelpfulMark

LOW_CONFIDENCE = "low_confidence"
FALLBACK = "fallback"
BEFORE_NOT_HELPFUL = "before_not_helpful"
BEFORE_HANDOFF = "before_handoff"
MARKED_UNHELPFUL = "marked_unhelpful"
SAMPLE = "sample"
REASONS: Dict[str, str] = {  # in the order staff see them
    MARKED_UNHELPFUL: "the family marked the answer not helpful",
    FALLBACK: "the bot said it was not sure",
    LOW_CONFIDENCE: "the model was unsure",
    BEFORE_NOT_HELPFUL: "the family said it was not helpful next",
    BEFORE_HANDOFF: "a handoff to a person came next",
    SAMPLE: "random quality check of a confident answer",
}
FALLBACK_INTENT = "nlu_fallback"
NOT_HELPFUL_INTENT = "not_helpful"
HANDOFF_INTENT = "speak_to_adviser"
HANDOFF_ACTION = "action_handoff"
MAX_VARIANTS = 5


@dataclass(frozen=True)
class FlaggedMessage:
    """One family message selected for review (text not yet redacted)."""
    conversation_id: str
    timestamp: float
    text: str
    intent: Optional[str]
    confidence: float
    ranking: Tuple[Tuple[str, float], ...]  # the model's intents, best first, without nlu_fallback
    reasons: Tuple[str, ...]


@dataclass
class InboxItem:
    """One group of near-identical family messages, redacted."""
    id: str
    text: str                        # the first message of the group, redacted
    count: int
    reasons: List[str]
    intent: Optional[str]            # what the model said (for the first message)
    confidence: float
    suggestions: List[Tuple[str, float]]  # the model's top 3 intents, best first
    conversation_ids: List[str]
    first_seen: float
    last_seen: float
    variants: List[str] = field(default_factory=list)  # other wordings in the group, redacted
    normalised: List[str] = field(default_factory=list)  # every normalised wording in the group
    in_test_set: bool = False        # cannot be added to training data: a held-out set or the crisis set has it

    def to_dict(self) -> Dict[str, object]:
        return {
            "id": self.id, "text": self.text, "count": self.count, "reasons": self.reasons,
            "reason_text": [REASONS[r] for r in self.reasons], "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "suggestions": [{"intent": i, "confidence": round(c, 3)} for i, c in self.suggestions],
            "conversation_ids": self.conversation_ids,
            "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
            "variants": self.variants, "in_test_set": self.in_test_set,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def is_payload(text: str) -> bool:
    return text.lstrip().startswith("/")


@dataclass
class _Turn:
    event: TrackerEvent
    text: str
    paused: bool
    reasons: Set[str] = field(default_factory=set)

    @property
    def intent(self) -> Optional[str]:
        return ((self.event.data.get("parse_data") or {}).get("intent") or {}).get("name")

    @property
    def confidence(self) -> float:
        value = ((self.event.data.get("parse_data") or {}).get("intent") or {}).get("confidence")
        return float(value) if value is not None else 0.0

    def ranking(self) -> Tuple[Tuple[str, float], ...]:
        parse = self.event.data.get("parse_data") or {}
        ranked = [(r.get("name"), float(r.get("confidence") or 0.0)) for r in parse.get("intent_ranking") or []]
        if not ranked and self.intent:
            ranked = [(self.intent, self.confidence)]
        return tuple((name, conf) for name, conf in ranked if name and name != FALLBACK_INTENT)


def _in_sample(turn: _Turn, rules: InboxRules) -> bool:
    """A repeatable pick: the same message, seed and rate always give the same answer."""
    if rules.sample_rate <= 0:
        return False
    key = f"{rules.sample_seed}|{turn.event.sender_id}|{turn.event.timestamp!r}|{turn.text}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2 ** 64 < rules.sample_rate


def _conversations(events: Iterable[TrackerEvent]) -> Dict[str, List[TrackerEvent]]:
    grouped: Dict[str, List[TrackerEvent]] = {}
    for event in events:
        grouped.setdefault(event.sender_id, []).append(event)
    for conversation in grouped.values():
        conversation.sort(key=lambda e: (e.timestamp, e.id))
    return grouped


def flag_messages(events: Sequence[TrackerEvent], unhelpful: Sequence[UnhelpfulMark],
                  rules: InboxRules) -> List[FlaggedMessage]:
    """The family messages to review, by the rules in the module docstring. Pure."""
    marks: Dict[str, List[float]] = {}
    for mark in unhelpful:
        marks.setdefault(mark.conversation_id, []).append(mark.bot_message_at)
    flagged: List[FlaggedMessage] = []
    for conversation_id, conversation in _conversations(events).items():
        turns: List[_Turn] = []
        paused = False
        for event in conversation:
            if event.type_name == "pause":
                paused = True
            elif event.type_name == "resume":
                paused = False
            elif event.type_name == "user":
                turn = _Turn(event, (event.data.get("text") or "").strip(), paused)
                if turns and turn.intent in (NOT_HELPFUL_INTENT, HANDOFF_INTENT):
                    turns[-1].reasons.add(BEFORE_NOT_HELPFUL if turn.intent == NOT_HELPFUL_INTENT
                                          else BEFORE_HANDOFF)
                turns.append(turn)
            elif event.type_name == "action" and event.action_name == HANDOFF_ACTION and turns:
                # the bot offered a person straight after turns[-1] without being asked (a second
                # misunderstanding); when asked, the message before the request is flagged above
                if turns[-1].intent != HANDOFF_INTENT:
                    turns[-1].reasons.add(BEFORE_HANDOFF)
        for marked_at in marks.get(conversation_id, []):
            before = [t for t in turns if t.event.timestamp <= marked_at]
            if before:
                before[-1].reasons.add(MARKED_UNHELPFUL)
        for turn in turns:
            if not turn.text or is_payload(turn.text) or turn.paused:
                continue
            reasons = set(turn.reasons)
            if turn.intent == FALLBACK_INTENT:
                reasons.add(FALLBACK)
            elif turn.confidence < rules.low_confidence:
                reasons.add(LOW_CONFIDENCE)
            if not reasons and _in_sample(turn, rules):
                reasons.add(SAMPLE)
            if reasons:
                flagged.append(FlaggedMessage(
                    conversation_id=conversation_id, timestamp=turn.event.timestamp, text=turn.text,
                    intent=turn.intent, confidence=turn.confidence, ranking=turn.ranking(),
                    reasons=tuple(r for r in REASONS if r in reasons)))
    flagged.sort(key=lambda m: (m.timestamp, m.conversation_id))
    return flagged


def item_id(normalised_text: str) -> str:
    """A short id that stays the same for the same (normalised, redacted) text across runs."""
    return hashlib.sha1(normalised_text.encode()).hexdigest()[:8]


def group_messages(flagged: Sequence[FlaggedMessage], *, redact: Callable[[str], str],
                   known_texts: Set[str], test_texts: Set[str], duplicate_ratio: float = 90.0,
                   suggestions: int = 3) -> List[InboxItem]:
    """Redact each message, drop those already decided, group near-duplicates. Pure apart from `redact`.

    `known_texts` holds normalised texts (training data) and fingerprints (privacy.fingerprint) of
    messages staff decided on; a message matching either is left out.

    Items that need attention come first (most often seen first, then newest), random quality checks last.
    """
    items: List[InboxItem] = []
    keys: List[str] = []  # normalised text of each item's first message, for the fuzzy match
    for message in flagged:
        text = redact(message.text)
        norm = normalise(text)
        if not norm or norm in known_texts or fingerprint(norm) in known_texts:
            continue
        match = process.extractOne(norm, keys, scorer=fuzz.ratio, score_cutoff=duplicate_ratio) if keys else None
        if match is None:
            items.append(InboxItem(
                id=item_id(norm), text=text, count=1, reasons=list(message.reasons), intent=message.intent,
                confidence=message.confidence, suggestions=list(message.ranking[:suggestions]),
                conversation_ids=[message.conversation_id], first_seen=message.timestamp,
                last_seen=message.timestamp, normalised=[norm], in_test_set=norm in test_texts))
            keys.append(norm)
            continue
        item = items[match[2]]
        item.count += 1
        item.reasons = [r for r in REASONS if r in set(item.reasons) | set(message.reasons)]
        if message.conversation_id not in item.conversation_ids:
            item.conversation_ids.append(message.conversation_id)
        item.first_seen = min(item.first_seen, message.timestamp)
        item.last_seen = max(item.last_seen, message.timestamp)
        if norm not in item.normalised:
            item.normalised.append(norm)
            if len(item.variants) < MAX_VARIANTS:
                item.variants.append(text)
        item.in_test_set = item.in_test_set or norm in test_texts
    return sorted(items, key=lambda i: (i.reasons == [SAMPLE], -i.count, -i.last_seen))


def build_inbox(events: Sequence[TrackerEvent], unhelpful: Sequence[UnhelpfulMark], rules: InboxRules, *,
                redact: Callable[[str], str], known_texts: Set[str], test_texts: Set[str]) -> List[InboxItem]:
    """flag_messages then group_messages. Pure apart from `redact`."""
    return group_messages(flag_messages(events, unhelpful, rules), redact=redact, known_texts=known_texts,
                          test_texts=test_texts, duplicate_ratio=rules.duplicate_ratio)


def load_flagged(cfg: RetrainConfig, now: datetime) -> Tuple[List[FlaggedMessage], Set[str], Set[str]]:
    """What `load_inbox` builds the inbox from: the flagged messages of the last `inbox.days` days (not
    redacted), the known texts (training data and decisions) and the held-out texts."""
    from bot.retrain import labels, stores
    from bot.retrain.audit import AuditLog

    since = (now - timedelta(days=cfg.inbox.days)).timestamp()
    events = stores.read_events(cfg.tracker_db, since=since, types=("user", "action", "pause", "resume"))
    marks = stores.read_unhelpful_marks(cfg.gateway_db_url, since=since)
    known = labels.TrainingData.load(cfg.nlu_dir).normalised_texts() | AuditLog(cfg.audit_log).decided_texts()
    return flag_messages(events, marks, cfg.inbox), known, labels.held_out_texts(cfg.unseen_sets)


def load_inbox(cfg: RetrainConfig, now: datetime, *, redact: Optional[Callable[[str], str]] = None) -> List[InboxItem]:
    """The inbox from the tracker store and the gateway's feedback for the last `inbox.days` days.

    Messages already in data/nlu/ (any intent), in the audit log's decisions, are left out; messages in
    a held-out set or the crisis set are shown flagged `in_test_set` (they cannot be added to training data)."""
    from bot.retrain import privacy

    flagged, known, test_texts = load_flagged(cfg, now)
    return group_messages(flagged, redact=redact or privacy.redact, known_texts=known, test_texts=test_texts,
                          duplicate_ratio=cfg.inbox.duplicate_ratio)


def find_item(items: Sequence[InboxItem], wanted: str) -> Optional[InboxItem]:
    for item in items:
        if item.id == wanted:
            return item
    return None

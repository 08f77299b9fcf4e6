"""Personal details the redactor missed, reported by staff on the review page ("Personal detail left in").

A reviewer marks words of an inbox item's (redacted) text as personal and says what they are. Then, at once:

1. The stored messages are re-redacted: in the tracker store (the family messages the item was built from,
   `data.text` and `parse_data.text`, entity values too) and in the gateway store (the same family messages
   in `messages`), the marked words are replaced by the label's placeholder in bot.redact's style
   ([NAME], [ADDRESS], ...). The item is rebuilt from those, so it, the inbox, later exports and any later
   labelling see only the placeholder. Other wordings grouped with the item get the same words replaced
   where they stand as whole words. If the item's text is already an example in data/nlu/ (possible only
   when it was labelled in the meantime), that example line is rewritten the same way.
2. The retraining audit log gets a `redaction_miss` entry: the item, the label, the offsets and length of
   the marked span, its shape ("Xxxxx Xxxx": X upper case, x lower case, d digit, punctuation kept) and
   word count, and the message redacted again with the span shown as its placeholder, never the words.
3. `python -m bot.retrain export` writes these entries, for the days exported, as failing cases for the
   developers (bot/retrain/export.py `write_misses`).

Offsets count Unicode code points of the item's text as the inbox gives it (Python string indices).
`mark_span`, `shape` and `word_count` are pure.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot.redact.spans import (ADDRESS, DATE_OF_BIRTH, EMAIL, NAME, PHONE, POSTCODE, REFERENCE, SCHOOL,
                              placeholder)
from bot.retrain.audit import AuditLog, check_actor
from bot.retrain.config import RetrainConfig

OTHER = "PERSONAL_DETAIL"
# label the page offers -> the placeholder's kind (bot/redact/spans.py; "other" has no recogniser of its own)
LABELS: Dict[str, str] = {
    "name": NAME, "address": ADDRESS, "school": SCHOOL, "date": DATE_OF_BIRTH, "reference": REFERENCE,
    "phone": PHONE, "email": EMAIL, "postcode": POSTCODE, "other": OTHER,
}
ACTION = "redaction_miss"
MAX_SHAPE = 80
CONTEXT = 80  # characters of the redacted message kept on each side of the span in a case description
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_WORD_CHAR = re.compile(r"[\w'’-]")

gateway_messages = sa.table(  # only the columns used here (bot/gateway/store.py is the real table)
    "messages", sa.column("id", sa.String), sa.column("conversation_id", sa.String),
    sa.column("sender", sa.String), sa.column("text", sa.Text),
)


class MarkRefused(ValueError):
    """The mark cannot be applied; the message says why in plain English. Nothing was changed."""


class ItemGone(MarkRefused):
    """No inbox item with that id (any more)."""


class TextChanged(MarkRefused):
    """The item's text is not what the page showed: the page is out of date."""


# -- the pure part -------------------------------------------------------------------------------
def shape(text: str) -> str:
    """The span's shape without its text: X upper case, x lower case, d digit, spaces collapsed,
    placeholders and punctuation kept. "Rose Smith" -> "Xxxx Xxxxx", "CF-10442" -> "XX-ddddd"."""
    out: List[str] = []
    position = 0
    for found in list(_PLACEHOLDER.finditer(text)) + [None]:
        end = found.start() if found else len(text)
        for char in text[position:end]:
            if char.isspace():
                if out and out[-1] != " ":
                    out.append(" ")
            elif char.isdigit():
                out.append("d")
            elif char.isalpha():
                out.append("X" if char.isupper() else "x")
            else:
                out.append(char if char.isascii() and char.isprintable() else "?")
        if found:
            out.append(found.group())
            position = found.end()
    result = "".join(out).strip()
    return result if len(result) <= MAX_SHAPE else result[:MAX_SHAPE - 1] + "…"


def word_count(text: str) -> int:
    return len(text.split())


def widen(text: str, start: int, end: int) -> Tuple[int, int]:
    """[start, end) without spaces at its ends, grown to whole words and whole placeholders (marking "Ros"
    of "Rose" must not leave the "e" behind, nor half of a "[NAME]")."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return start, end
    for found in _PLACEHOLDER.finditer(text):
        if found.start() < start < found.end():
            start = found.start()
        if found.start() < end < found.end():
            end = found.end()
    while start > 0 and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start]):
        start -= 1
    while end < len(text) and _WORD_CHAR.match(text[end]) and _WORD_CHAR.match(text[end - 1]):
        end += 1
    return start, end


@dataclass(frozen=True)
class Marked:
    """A span marked in a redacted text and the text with it replaced. `shape`, `words`, `length` and
    `context` never contain the marked words; `start`/`end` are offsets in the text before."""
    text: str          # the text with the span replaced by its placeholder
    start: int
    end: int
    label: str
    placeholder: str
    shape: str
    words: int
    context: str       # `text` around the placeholder, the placeholder shown as >>[NAME]<<

    @property
    def length(self) -> int:
        return self.end - self.start

    def describe(self) -> Dict[str, Any]:
        """What may be recorded: everything but the words."""
        return {"label": self.label, "placeholder": self.placeholder, "start": self.start, "end": self.end,
                "length": self.length, "shape": self.shape, "words": self.words, "context": self.context}


def check_label(label: Any) -> str:
    if not isinstance(label, str) or label not in LABELS:
        raise MarkRefused(f"say what kind of personal detail it is: one of {', '.join(LABELS)}")
    return label


def mark_span(text: str, start: Any, end: Any, label: Any) -> Marked:
    """Replace text[start:end] (widened to whole words, see `widen`) with the label's placeholder.
    Raises MarkRefused for offsets that are not whole numbers inside the text, an empty selection, a
    selection of placeholders only, or an unknown label."""
    label = check_label(label)
    if (not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool)
            or isinstance(end, bool)):
        raise MarkRefused("the start and end of the marked words must be whole numbers")
    if not 0 <= start < end <= len(text):
        raise MarkRefused(f"the marked words must be inside the message (0 to {len(text)} characters), "
                          f"with the start before the end; got {start} to {end}")
    start, end = widen(text, start, end)
    chosen = text[start:end]
    if not chosen or not _PLACEHOLDER.sub("", chosen).strip(" ,.;:!?-'\"()"):
        raise MarkRefused("mark at least one word that is still in the message (not only spaces, "
                          "punctuation or placeholders)")
    mark = placeholder(LABELS[label])
    new_text = text[:start] + mark + text[end:]
    before = text[max(0, start - CONTEXT):start]
    after = text[end:end + CONTEXT]
    context = (("…" if start > CONTEXT else "") + before + ">>" + mark + "<<" + after
               + ("…" if end + CONTEXT < len(text) else ""))
    return Marked(text=new_text, start=start, end=end, label=label, placeholder=mark, shape=shape(chosen),
                  words=word_count(chosen), context=context)


@dataclass(frozen=True)
class _Piece:
    """A piece of a redacted text and where it came from in the original."""
    red_start: int
    red_end: int
    start: int
    end: int
    kept: bool  # True: copied as it was; False: a placeholder for original[start:end]


def redaction_map(original: str, spans: Iterable[Any]) -> Tuple[str, List[_Piece]]:
    """bot.redact.spans.apply(original, spans) and, for each piece of it, the original characters."""
    pieces: List[_Piece] = []
    out: List[str] = []
    at, last = 0, 0
    for span in sorted(spans):
        if span.start > last:
            out.append(original[last:span.start])
            pieces.append(_Piece(at, at + span.start - last, last, span.start, True))
            at += span.start - last
        mark = span.placeholder()
        out.append(mark)
        pieces.append(_Piece(at, at + len(mark), span.start, span.end, False))
        at += len(mark)
        last = span.end
    if last < len(original):
        out.append(original[last:])
        pieces.append(_Piece(at, at + len(original) - last, last, len(original), True))
    return "".join(out), pieces


def to_original(pieces: Sequence[_Piece], start: int, end: int) -> Tuple[int, int]:
    """Original offsets of redacted[start:end]; a placeholder touched is taken whole."""
    first = last = None
    for piece in pieces:
        if piece.red_end <= start or piece.red_start >= end:
            continue
        if first is None:
            first = piece.start + max(0, start - piece.red_start) if piece.kept else piece.start
        last = piece.start + (min(end, piece.red_end) - piece.red_start) if piece.kept else piece.end
    if first is None or last is None:
        raise MarkRefused("the marked words are not in the message")
    return first, last


def replace_words(text: str, words: Iterable[str], mark: str) -> str:
    """`text` with every whole-word occurrence of any of `words` (any case) replaced by `mark`."""
    for word in sorted({w for w in words if w.strip()}, key=len, reverse=True):
        text = re.sub(r"(?<![\w])" + re.escape(word) + r"(?![\w])", mark, text, flags=re.IGNORECASE)
    return text


# -- the stores ----------------------------------------------------------------------------------
@dataclass
class Applied:
    item_id: str
    new_item_id: Optional[str]
    marked: Marked
    tracker_messages: int = 0
    gateway_messages: int = 0
    training_examples: int = 0
    seen: Tuple[str, str] = ("", "")

    def to_dict(self) -> Dict[str, Any]:
        return {"item": self.item_id, "new_item": self.new_item_id, **self.marked.describe(),
                "tracker_messages": self.tracker_messages, "gateway_messages": self.gateway_messages,
                "training_examples": self.training_examples, "first_seen": self.seen[0],
                "last_seen": self.seen[1]}


def _scrub(data: Dict[str, Any], old: str, new: str) -> Dict[str, Any]:
    """A tracker user event's data with its text (and the parse's copy, and entity values taken from it)
    replaced."""
    data = json.loads(json.dumps(data))
    data["text"] = new
    parse = data.get("parse_data")
    if isinstance(parse, dict):
        if parse.get("text") == old:
            parse["text"] = new
        for entity in parse.get("entities") or []:
            if isinstance(entity, dict):
                value = entity.get("value")
                if isinstance(value, str) and value and value not in new and value in old:
                    entity["value"] = "[REDACTED]"
    return data


def _rewrite_tracker(cfg: RetrainConfig, changes: Dict[Tuple[str, float, str], str]) -> int:
    """Rewrite the family messages {(conversation, timestamp, old text): new text}; how many rows changed."""
    from bot.retrain import stores

    if not changes or not stores.has_table(cfg.tracker_db, "events"):
        return 0
    table = stores.events_table
    changed = 0
    with stores.engine(cfg.tracker_db).begin() as conn:
        for conversation in sorted({key[0] for key in changes}):
            rows = conn.execute(sa.select(table.c.id, table.c.timestamp, table.c.data).where(
                table.c.sender_id == conversation, table.c.type_name == "user")).all()
            for row in rows:
                try:
                    data = json.loads(row.data or "{}")
                except ValueError:
                    continue
                old = (data.get("text") or "").strip()
                new = changes.get((conversation, row.timestamp, old))
                if new is None:
                    continue
                text = data.get("text") or ""
                new_full = text.replace(old, new, 1) if old != text else new
                conn.execute(table.update().where(table.c.id == row.id).values(
                    data=json.dumps(_scrub(data, text, new_full))))
                changed += 1
    return changed


def _rewrite_gateway(cfg: RetrainConfig, changes: Dict[Tuple[str, str], str]) -> int:
    """The same family messages as the gateway keeps them: {(conversation, old text): new text}."""
    from bot.retrain import stores

    if not changes or not stores.has_table(cfg.gateway_db_url, "messages"):
        return 0
    changed = 0
    with stores.engine(cfg.gateway_db_url).begin() as conn:
        for (conversation, old), new in changes.items():
            changed += conn.execute(gateway_messages.update().where(
                gateway_messages.c.conversation_id == conversation, gateway_messages.c.sender == "family",
                sa.func.trim(gateway_messages.c.text) == old).values(text=new)).rowcount
    return changed


def _rewrite_training_data(cfg: RetrainConfig, old_texts: Iterable[str], new_text: str) -> int:
    """Examples in data/nlu/ that are one of `old_texts` (compared normalised) become `new_text`."""
    from bot.retrain.labels import _write_atomically, clean_example
    from bot.retrain.privacy import normalise

    wanted = {normalise(t) for t in old_texts if normalise(t)}
    example = clean_example(new_text)
    changed = 0
    for path in sorted(cfg.nlu_dir.glob("*.yml")):
        lines = path.read_text().splitlines(keepends=True)
        touched = False
        for number, line in enumerate(lines):
            found = re.match(r"^(\s*-\s+)(.*?)(\s*)$", line)
            if found and normalise(found.group(2)) in wanted:
                lines[number] = found.group(1) + example + found.group(3)
                touched = True
                changed += 1
        if touched:
            _write_atomically(path, "".join(lines))
    return changed


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def report_miss(cfg: RetrainConfig, item_id: str, start: Any, end: Any, label: Any, actor: str, now: datetime, *,
                shown: Optional[str] = None) -> Applied:
    """Staff say text[start:end] of the inbox item `item_id` is a personal detail of kind `label` that the
    redactor left in: re-redact the stored messages, audit it (without the words). `shown`, if given, is
    what the page showed at those offsets; if the item's text differs there, TextChanged and nothing is done.
    Raises MarkRefused (ItemGone, TextChanged) saying why; nothing is changed then."""
    from bot.redact import find_personal_data
    from bot.retrain import inbox, privacy
    from bot.retrain.labels import _locked
    from bot.retrain.privacy import normalise

    actor = check_actor(actor)
    check_label(label)
    with _locked(cfg.work_dir / "labels.lock"):
        flagged, known, test_texts = inbox.load_flagged(cfg, now)
        redacted = {m.text: privacy.redact(m.text) for m in flagged}
        items = inbox.group_messages(flagged, redact=lambda t: redacted[t], known_texts=known,
                                     test_texts=test_texts, duplicate_ratio=cfg.inbox.duplicate_ratio)
        item = inbox.find_item(items, item_id)
        if item is None:
            raise ItemGone(f"no message with id {item_id} in the review inbox (it may have been decided or "
                           "changed already: reload the page)")
        marked = mark_span(item.text, start, end, label)  # offsets checked here
        if shown is not None and item.text[start:end] != shown:
            raise TextChanged("the message is not what the page showed: reload the page and mark it again")
        members = [m for m in flagged if normalise(redacted[m.text]) in item.normalised]
        missed: List[str] = []
        tracker: Dict[Tuple[str, float, str], str] = {}
        gateway: Dict[Tuple[str, str], str] = {}
        for message in members:  # the same wording as the item: offsets map back exactly
            if redacted[message.text] != item.text:
                continue
            spans = find_personal_data(message.text)
            again, pieces = redaction_map(message.text, spans)
            if again != item.text:
                continue
            first, last = to_original(pieces, marked.start, marked.end)
            missed.append(message.text[first:last])
            new = message.text[:first] + marked.placeholder + message.text[last:]
            tracker[(message.conversation_id, message.timestamp, message.text)] = new
            gateway[(message.conversation_id, message.text)] = new
        if not missed:
            raise MarkRefused("the stored messages of this item could not be matched to what the page showed, so "
                              "nothing was changed; reload the page and try again")
        plain = [w for w in missed if not _PLACEHOLDER.search(w)]
        for message in members:  # other wordings grouped with it: the same words wherever they stand alone
            if (message.conversation_id, message.timestamp, message.text) in tracker:
                continue
            new = replace_words(message.text, plain, marked.placeholder)
            if new != message.text:
                tracker[(message.conversation_id, message.timestamp, message.text)] = new
                gateway[(message.conversation_id, message.text)] = new
        applied = Applied(item_id=item.id, new_item_id=inbox.item_id(normalise(marked.text)), marked=marked,
                          seen=(_iso(item.first_seen), _iso(item.last_seen)))
        applied.tracker_messages = _rewrite_tracker(cfg, tracker)
        applied.gateway_messages = _rewrite_gateway(cfg, gateway)
        applied.training_examples = _rewrite_training_data(cfg, [item.text, *item.variants], marked.text)
        AuditLog(cfg.audit_log).record(actor, ACTION, now, after=applied.to_dict())
    return applied


def reported_misses(cfg: RetrainConfig, since: Optional[datetime] = None,
                    until: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """The `redaction_miss` entries of the audit log whose messages were seen in [since, until)."""
    found = []
    for entry in AuditLog(cfg.audit_log).entries():
        if entry.get("action") != ACTION:
            continue
        after = dict(entry.get("after") or {})
        first, last = after.get("first_seen") or "", after.get("last_seen") or ""
        if since is not None and last and _parse(last) < since:
            continue
        if until is not None and first and _parse(first) >= until:
            continue
        found.append(dict(after, reported_by=entry.get("actor"), reported_at=entry.get("at")))
    return found


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

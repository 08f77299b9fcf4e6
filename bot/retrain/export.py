"""Exporting redacted transcripts for a date range, from the tracker store.

One row per message, in conversation order: conversation id, time (UTC, ISO 8601), who said it
(family, bot, or adviser for an adviser's message in a taken-over chat), the adviser's name, the
intent the model gave a family message, and the text, redacted. Dates are days in England
(Europe/London): --from 2026-11-01 --to 2026-11-30 covers both whole days. In CSV, a cell a spreadsheet
would read as a formula (starting = + - @, a tab or a carriage return) gets a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Dict, Iterable, List, Optional, TextIO, Tuple
from zoneinfo import ZoneInfo

from bot.retrain import privacy, stores
from bot.retrain.audit import AuditLog, check_actor
from bot.retrain.config import RetrainConfig
from bot.retrain.stores import TrackerEvent

LONDON = ZoneInfo("Europe/London")
FIELDS = ("conversation_id", "at", "sender", "adviser", "intent", "text")


def day_range(first: date, last: date) -> Tuple[float, float]:
    """[start of `first`, start of the day after `last`) in England, as epoch seconds."""
    if last < first:
        raise ValueError(f"the end date {last} is before the start date {first}")
    start = datetime.combine(first, time(0), LONDON)
    end = datetime.combine(last + timedelta(days=1), time(0), LONDON)
    return start.timestamp(), end.timestamp()


def transcript_rows(events: Iterable[TrackerEvent], redact: Callable[[str], str]) -> List[Dict[str, Optional[str]]]:
    """Family and bot messages as export rows, texts redacted. Pure apart from `redact`."""
    rows = []
    for event in events:
        if event.type_name not in ("user", "bot") or not (event.data.get("text") or "").strip():
            continue
        metadata = event.data.get("metadata") or {}
        adviser = metadata.get("adviser") if event.type_name == "bot" else None
        sender = "family" if event.type_name == "user" else ("adviser" if metadata.get("source") == "adviser"
                                                               or adviser else "bot")
        intent = ((event.data.get("parse_data") or {}).get("intent") or {}).get("name") if sender == "family" else None
        rows.append({
            "conversation_id": event.sender_id,
            "at": datetime.fromtimestamp(event.timestamp, timezone.utc).isoformat(timespec="seconds")
                  .replace("+00:00", "Z"),
            "sender": sender, "adviser": adviser, "intent": intent, "text": redact(event.data["text"]),
        })
    return rows


# A spreadsheet reads a cell starting with one of these as a formula (which can run commands or
# send data elsewhere): CSV injection, OWASP.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Optional[str]) -> Optional[str]:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (shown by Excel and LibreOffice as text, the apostrophe hidden). Anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_rows(rows: List[Dict[str, Optional[str]]], out: TextIO, fmt: str) -> None:
    if fmt == "jsonl":  # data, not a spreadsheet: the text exactly as it was
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    else:
        raise ValueError(f"unknown format {fmt!r}: use jsonl or csv")


def export_transcripts(cfg: RetrainConfig, first: date, last: date, out: TextIO, *, fmt: str = "jsonl",
                       actor: str, now: datetime, redact: Optional[Callable[[str], str]] = None) -> int:
    """Write the redacted transcripts of [first, last] to `out`; audited; returns the number of rows."""
    actor = check_actor(actor)
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use jsonl or csv")
    since, until = day_range(first, last)
    events = stores.read_events(cfg.tracker_db, since=since, until=until, types=("user", "bot"))
    rows = transcript_rows(events, redact or privacy.redact)
    buffer = io.StringIO()  # redact everything before writing anything
    write_rows(rows, buffer, fmt)
    out.write(buffer.getvalue())
    AuditLog(cfg.audit_log).record(actor, "export", now, after={"from": str(first), "to": str(last),
                                                                "format": fmt, "rows": len(rows)})
    return len(rows)


# -- redaction misses staff reported (bot/retrain/misses.py), as failing cases for the developers -----
def redaction_misses(cfg: RetrainConfig, first: date, last: date) -> List[Dict[str, object]]:
    """The personal details staff reported left in by the redactor, for messages seen in [first, last]."""
    from bot.retrain.misses import reported_misses

    since, until = day_range(first, last)
    return reported_misses(cfg, datetime.fromtimestamp(since, timezone.utc),
                           datetime.fromtimestamp(until, timezone.utc))


def write_misses(cases: List[Dict[str, object]], out: TextIO) -> None:
    """Markdown for the developers: one failing case for bot/redact per reported miss. Only what the audit
    log keeps: label, shape, word count, offsets and the message redacted again with the missed span shown
    as its placeholder (>>[NAME]<<), never the words themselves. Texts are JSON-quoted."""
    out.write("# Redaction misses reported by staff\n\n"
              "Each case is a personal detail bot/redact left in a family message; staff replaced it by hand. "
              "Write a test case of the same shape in the same place (tests/data/redaction_cases.yml) and "
              "make it pass. The original words are not kept anywhere.\n")
    if not cases:
        out.write("\nNo misses were reported for these days.\n")
    for number, case in enumerate(cases, 1):
        out.write(f"\n## Case {number}: a {case.get('label')} left in, now {case.get('placeholder')}\n\n"
                  f"- expected: redact as {case.get('placeholder')}\n"
                  f"- shape of the missed words: {json.dumps(case.get('shape'), ensure_ascii=False)} "
                  f"({case.get('words')} word(s), {case.get('length')} characters, at {case.get('start')} to "
                  f"{case.get('end')} of the redacted message)\n"
                  f"- in context: {json.dumps(case.get('context'), ensure_ascii=False)}\n"
                  f"- reported by {case.get('reported_by')} at {case.get('reported_at')}; message item "
                  f"{case.get('item')}, seen {case.get('first_seen')} to {case.get('last_seen')}\n")

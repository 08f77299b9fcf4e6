"""Retention (old transcripts deleted from both stores, newer ones kept; one conversation on request)
and the redacted transcript export."""
import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.retrain import export, retention, stores
from bot.retrain.audit import AuditLog
from tests.test_retrain_helpers import (NOW, action, at, bot, copy_project, gateway_conversation, make_config,
                                        marking_redact, user, write_tracker)

DAY = 24 * 60


@pytest.fixture
def cfg(tmp_path):
    cfg = make_config(copy_project(tmp_path / "project"))
    write_tracker(Path(cfg.tracker_db), [
        ("old", [user("hello from last winter", "greet", 0.9, at(100 * DAY)), bot("Hello!", at(100 * DAY) + 1)]),
        ("mixed", [user("an old question", "legal_aid", 0.9, at(95 * DAY)),
                   user("a new question", "legal_aid", 0.9, at(2 * DAY)), bot("Legal aid...", at(2 * DAY) + 1)]),
        ("new", [user("my name is Sarah, call 07700 900123", "speak_to_adviser", 0.9, at(DAY)),
                 action("action_handoff", at(DAY) + 1),
                 bot("Thanks, I'm Sam, an adviser", at(DAY) + 60, adviser="sam")]),
    ])
    old, new = NOW - timedelta(days=100), NOW - timedelta(days=1)
    gateway_conversation(cfg.gateway_db_url, "old", [("family", "hello from last winter", old),
                                                     ("bot", "Hello!", old + timedelta(seconds=1))], unhelpful=[1])
    gateway_conversation(cfg.gateway_db_url, "new", [("family", "my name is Sarah", new),
                                                     ("bot", "Thanks", new + timedelta(seconds=1))], unhelpful=[1])
    return cfg


def tracker_senders(cfg):
    return sorted({(e.sender_id, e.data.get("text")) for e in stores.read_events(cfg.tracker_db)
                   if e.type_name == "user"})


def gateway_rows(cfg, table):
    with stores.engine(cfg.gateway_db_url).connect() as conn:
        return conn.execute(sa.text(f"select conversation_id from {table}" if table != "conversations"
                                    else "select id from conversations")).scalars().all()


def test_transcripts_older_than_the_retention_period_are_deleted_and_newer_ones_kept(cfg):
    deleted = retention.delete_older_than(cfg, now=NOW, actor="kim")  # config: 90 days
    assert tracker_senders(cfg) == [("mixed", "a new question"), ("new", "my name is Sarah, call 07700 900123")]
    assert deleted.tracker_events == 3
    assert gateway_rows(cfg, "conversations") == ["new"]
    assert sorted(gateway_rows(cfg, "messages")) == ["new", "new"]
    assert gateway_rows(cfg, "feedback") == ["new"]
    assert (deleted.gateway_conversations, deleted.gateway_messages, deleted.gateway_feedback) == (1, 2, 1)
    entry = list(AuditLog(cfg.audit_log).entries())[-1]
    assert entry["action"] == "purge" and entry["actor"] == "kim" and entry["after"] == {"older_than_days": 90}
    assert entry["deleted"] == deleted.to_dict()


def test_the_retention_period_can_be_given(cfg):
    retention.delete_older_than(cfg, now=NOW, actor="kim", days=1)  # exactly one day old is kept
    assert tracker_senders(cfg) == [("new", "my name is Sarah, call 07700 900123")]
    assert gateway_rows(cfg, "conversations") == ["new"]
    with pytest.raises(ValueError):
        retention.delete_older_than(cfg, now=NOW, actor="kim", days=0)


def test_one_conversation_is_deleted_everywhere_on_request(cfg):
    deleted = retention.delete_conversation(cfg, "new", now=NOW, actor="kim")
    assert [s for s, _ in tracker_senders(cfg)] == ["mixed", "mixed", "old"]
    assert gateway_rows(cfg, "conversations") == ["old"] and gateway_rows(cfg, "feedback") == ["old"]
    assert deleted.to_dict() == {"tracker_events": 3, "gateway_conversations": 1, "gateway_messages": 2,
                                 "gateway_feedback": 1}
    assert list(AuditLog(cfg.audit_log).entries())[-1]["conversation_id"] == "new"


def test_retention_works_before_the_stores_exist(tmp_path):
    cfg = make_config(copy_project(tmp_path / "empty"))
    assert retention.delete_older_than(cfg, now=NOW, actor="kim").to_dict() == {
        "tracker_events": 0, "gateway_conversations": 0, "gateway_messages": 0, "gateway_feedback": 0}


def test_labelled_training_examples_are_kept(cfg):
    before = {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")}
    retention.delete_older_than(cfg, now=NOW, actor="kim", days=1)
    assert {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")} == before


def test_export_writes_redacted_transcripts_for_the_days_asked(cfg):
    out = io.StringIO()
    rows = export.export_transcripts(cfg, (NOW - timedelta(days=2)).date(), NOW.date(), out, actor="kim",
                                     now=NOW, redact=marking_redact)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows == len(lines) == 4
    assert lines[0] == {"conversation_id": "mixed", "at": "2026-11-18T12:00:00Z", "sender": "family",
                        "adviser": None, "intent": "legal_aid", "text": "a new question"}
    assert lines[2]["text"] == "my name is [NAME], call [PHONE]"
    assert lines[3]["sender"] == "adviser" and lines[3]["adviser"] == "sam"
    assert "Sarah" not in out.getvalue() and "07700" not in out.getvalue()
    assert list(AuditLog(cfg.audit_log).entries())[-1]["after"] == {"from": "2026-11-18", "to": "2026-11-20",
                                                                    "format": "jsonl", "rows": 4}


def test_export_as_csv(cfg):
    out = io.StringIO()
    export.export_transcripts(cfg, date(2026, 11, 19), date(2026, 11, 19), out, fmt="csv", actor="kim", now=NOW,
                              redact=marking_redact)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["sender"] for r in rows] == ["family", "adviser"]
    assert rows[0]["text"] == "my name is [NAME], call [PHONE]"


def test_export_days_are_days_in_england():
    start, end = export.day_range(date(2026, 7, 1), date(2026, 7, 1))  # British Summer Time
    assert end - start == 86400 and start == NOW.replace(year=2026, month=6, day=30, hour=23).timestamp()
    with pytest.raises(ValueError, match="before the start"):
        export.day_range(date(2026, 7, 2), date(2026, 7, 1))


# -- formula injection in the CSV export (security review, issue 16) -----------------------------------
@pytest.mark.parametrize("typed", ["=HYPERLINK(\"http://evil.example\",\"click\")", "+44 7700 900123", "-1+1",
                                   "@SUM(A1:A2)", "\tindented", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_read_as_a_formula_is_neutralised(typed):
    assert export.spreadsheet_safe(typed) == "'" + typed


@pytest.mark.parametrize("typed", ["hello", "my son is 5 - nearly 6", " =not first", "", None, "'quoted"])
def test_other_cells_are_left_alone(typed):
    assert export.spreadsheet_safe(typed) == typed


def test_the_csv_export_neutralises_formulas_and_the_jsonl_export_keeps_the_text(tmp_path):
    cfg = make_config(copy_project(tmp_path / "project"))
    write_tracker(Path(cfg.tracker_db), [
        ("=cmd|' /C calc'!A0", [user("=HYPERLINK(\"http://evil.example\",\"click\")", "greet", 0.9, at(DAY)),
                                 bot("-2+3", at(DAY) + 1, adviser="@sam")]),
    ])
    day = (NOW - timedelta(days=1)).date()
    out = io.StringIO()
    export.export_transcripts(cfg, day, day, out, fmt="csv", actor="kim", now=NOW, redact=lambda text: text)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'-2+3"]
    assert rows[0]["conversation_id"] == "'=cmd|' /C calc'!A0" and rows[1]["adviser"] == "'@sam"
    out = io.StringIO()
    export.export_transcripts(cfg, day, day, out, fmt="jsonl", actor="kim", now=NOW, redact=lambda text: text)
    assert json.loads(out.getvalue().splitlines()[0])["text"] == "=HYPERLINK(\"http://evil.example\",\"click\")"

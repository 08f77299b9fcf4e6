"""Shared by tests/test_retrain_*.py: a project copy in tmp_path, tracker stores written by Rasa's own
SQLTrackerStore (real `events` schema, real event serialisation), gateway stores written by the gateway's
own Store, a fixed clock, and redaction.

Redaction: bot.redact is being written alongside this package. Until it can be imported, tests swap
in `identity_redact_for_tests_only` (monkeypatch); production code has no fallback (see
tests/test_retrain_inbox.py::test_redact_fails_loudly_when_bot_redact_is_missing).
"""
from __future__ import annotations

import asyncio
import importlib
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import pytest

from bot.retrain import privacy
from bot.retrain.config import RetrainConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def at(minutes_before_now: float) -> float:
    """An epoch timestamp this many minutes before NOW."""
    return (NOW - timedelta(minutes=minutes_before_now)).timestamp()


def identity_redact_for_tests_only(text: str) -> str:
    return text


def marking_redact(text: str) -> str:
    """A stand-in redactor whose work is visible: phone numbers and the name Sarah become placeholders."""
    import re

    text = re.sub(r"\b0\d{4} ?\d{6}\b", "[PHONE]", text)
    return text.replace("Sarah", "[NAME]")


def real_redact_available() -> bool:
    try:
        return hasattr(importlib.import_module("bot.redact"), "redact")
    except ImportError:
        return False


@pytest.fixture
def redaction(monkeypatch):
    """The real bot.redact.redact when it exists, else the identity stand-in (tests only)."""
    if not real_redact_available():
        monkeypatch.setattr(privacy, "redact", identity_redact_for_tests_only)
    return privacy.redact


def copy_project(target: Path, rasa_config: Optional[Path] = None) -> Path:
    """data/, domain.yml, config.yml (or `rasa_config`), tests/nlu_test.yml, config/retrain.yml in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copy(ROOT / "domain.yml", target / "domain.yml")
    shutil.copy(rasa_config or ROOT / "config.yml", target / "config.yml")
    (target / "tests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "nlu_test.yml", target / "tests" / "nlu_test.yml")
    (target / "config").mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "retrain.yml", target / "config" / "retrain.yml")
    (target / "models").mkdir(exist_ok=True)
    return target


def make_config(project: Path, **changes) -> RetrainConfig:
    """The project's config/retrain.yml read for `project`, with databases and the token in tmp."""
    cfg = load_config(root=project, env={"VAR_DIR": str(project / "var")})
    defaults = dict(tracker_db=str(project / "var" / "tracker.db"),
                    gateway_db_url=f"sqlite:///{project / 'var' / 'gateway.db'}", rasa_token="test-token")
    defaults.update(changes)
    (project / "var").mkdir(exist_ok=True)
    return cfg.with_changes(**defaults)


# --- tracker store events, written by Rasa -------------------------------------------------------

def user(text: str, intent: str, confidence: float, ts: float,
         ranking: Optional[Sequence[Tuple[str, float]]] = None):
    from rasa.shared.core.events import UserUttered

    ranking = list(ranking or [(intent, confidence)])
    parse_data = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
                  "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
    return UserUttered(text, intent={"name": intent, "confidence": confidence}, parse_data=parse_data,
                       timestamp=ts)


def bot(text: str, ts: float, adviser: Optional[str] = None):
    from rasa.shared.core.events import BotUttered

    metadata = {"source": "adviser", "adviser": adviser} if adviser else {}
    return BotUttered(text, metadata=metadata, timestamp=ts)


def action(name: str, ts: float):
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name, timestamp=ts)


def pause(ts: float):
    from rasa.shared.core.events import ConversationPaused

    return ConversationPaused(timestamp=ts)


def resume(ts: float):
    from rasa.shared.core.events import ConversationResumed

    return ConversationResumed(timestamp=ts)


def write_tracker(db: Path, conversations: Iterable[Tuple[str, List]]) -> Path:
    """Save conversations (sender id, events) with Rasa's SQLTrackerStore into SQLite file `db`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    db.parent.mkdir(parents=True, exist_ok=True)
    store = SQLTrackerStore(dialect="sqlite", db=str(db))
    for sender_id, events in conversations:
        tracker = DialogueStateTracker.from_events(sender_id, events, slots=[])
        asyncio.run(store.save(tracker))
    store.engine.dispose()
    return db


def events_from(db: Path) -> list:
    from bot.retrain import stores

    return stores.read_events(db)


# --- gateway store, written by the gateway's own Store --------------------------------------------

def gateway_conversation(url: str, conversation_id: str, messages: Sequence[Tuple[str, str, datetime]],
                         unhelpful: Sequence[int] = ()) -> List[str]:
    """A gateway conversation with (sender, text, at) messages; the messages at the indices in
    `unhelpful` (bot messages) are marked "not helpful". Returns the message ids."""
    from bot.gateway.store import Store

    store = Store(url)
    store.ensure_conversation(conversation_id, messages[0][2] if messages else NOW)
    ids = []
    for sender, text, when in messages:
        ids.append(store.add_message(conversation_id, sender, text, when, ask_feedback=sender == "bot").id)
    for index in unhelpful:
        store.record_feedback(ids[index], conversation_id, False, messages[index][2] + timedelta(seconds=30))
    store.close()
    return ids

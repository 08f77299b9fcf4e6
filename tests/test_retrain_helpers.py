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


HELD_OUT = (("dev", "tests/nlu_test.yml"), ("blind", "tests/nlu_test_fresh.yml"), ("wild", "tests/nlu_wild.yml"))
CRISIS_SET = "tests/crisis_wild.tsv"


def copy_project(target: Path, rasa_config: Optional[Path] = None) -> Path:
    """data/, domain.yml, config.yml (or `rasa_config`), the held-out sets and the crisis set (tests/),
    config/retrain.yml in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copy(ROOT / "domain.yml", target / "domain.yml")
    shutil.copy(rasa_config or ROOT / "config.yml", target / "config.yml")
    (target / "tests").mkdir(exist_ok=True)
    for relative in [path for _, path in HELD_OUT] + [CRISIS_SET]:
        shutil.copy(ROOT / relative, target / relative)
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


# --- synthetic answers for the promotion gate (no model is trained or loaded) ----------------------

LIVE_MISTAKES = 0.06  # the synthetic live model gets about this share of held-out messages wrong


def live_inputs(seed: int = 7, crisis_recall: float = 0.95):
    """The gate's inputs for the project's real held-out sets and crisis set, with a synthetic live model
    (right except for a fixed, seeded ~6% of messages: "not sure" or another intent) and a candidate
    that answers exactly as the live model does. Change the candidate with the helpers below."""
    import random

    from bot.retrain import evaluation, gate
    from scripts.eval_nlu import load_test_set

    rng = random.Random(seed)
    sets = []
    for name, relative in HELD_OUT:
        pairs = load_test_set(ROOT / relative)
        intents = sorted({i for _, i in pairs})
        truth = [i for _, i in pairs]
        live = [t if rng.random() > LIVE_MISTAKES else rng.choice(["nlu_fallback"] + intents) for t in truth]
        sets.append(gate.HeldOutSet(name=name, source=relative, texts=[t for t, _ in pairs], truth=truth,
                                    live=live, candidate=live))
    texts, is_crisis = evaluation.crisis_cases(ROOT / CRISIS_SET)
    flags = [(rng.random() < crisis_recall) if c else (rng.random() < 0.05) for c in is_crisis]
    answers = ["emergency_risk" if f else "out_of_scope" for f in flags]
    crisis = gate.CrisisSet(source=CRISIS_SET, texts=texts, is_crisis=is_crisis, live=answers, candidate=answers)
    return gate.GateInputs(sets=tuple(sets), crisis=crisis, labelled=())


def with_answer(inputs, set_name: str, index: int, intent: str):
    """`inputs` with the candidate answering message `index` of set `set_name` with `intent`."""
    import dataclasses

    sets = []
    for held in inputs.sets:
        if held.name == set_name:
            answers = list(held.candidate)
            answers[index] = intent
            held = dataclasses.replace(held, candidate=answers)
        sets.append(held)
    return dataclasses.replace(inputs, sets=tuple(sets))


def first_right(inputs, set_name: str, intent: str, count: int = 1) -> List[int]:
    """Indices of the first `count` messages of `intent` in set `set_name` that the live model gets right."""
    held = next(s for s in inputs.sets if s.name == set_name)
    found = [k for k, (t, a) in enumerate(zip(held.truth, held.live)) if t == intent and a == t]
    return found[:count]


def damaged(inputs, intent: str, into: str, share: float = 0.3):
    """A damaged candidate: in every held-out set, `share` of `intent`'s messages (rounded up; ones the
    live model gets right) are answered `into` instead."""
    import math

    for held in inputs.sets:
        total = sum(t == intent for t in held.truth)
        for index in first_right(inputs, held.name, intent, math.ceil(share * total)):
            inputs = with_answer(inputs, held.name, index, into)
    return inputs


def crisis_lost(inputs, count: int = 1, answer: str = "kinship_care_options"):
    """The candidate no longer flags the first `count` crisis messages the live model flags."""
    import dataclasses

    crisis = inputs.crisis
    answers = list(crisis.candidate)
    caught = [k for k, (c, a) in enumerate(zip(crisis.is_crisis, crisis.live)) if c and a == "emergency_risk"]
    for index in caught[:count]:
        answers[index] = answer
    return dataclasses.replace(inputs, crisis=dataclasses.replace(crisis, candidate=answers))

"""Promotion bookkeeping (models/, live.json, audit log) and the promotion gate as `promote` applies it:
on the answers the evaluation recorded, decided again with the rules in config/retrain.yml now. The gate's
rules on their own are in tests/test_retrain_gate.py.

The Rasa side of promote and rollback (PUT /model on a real server) is in
tests/test_retrain_end_to_end.py; here a recording stand-in takes its place."""
import json
import os

import pytest

from bot.retrain import deploy, evaluation
from bot.retrain.audit import AuditLog
from bot.retrain.model_server import ModelServerError
from bot.retrain.promotion import summary
from bot.retrain.config import PromotionRules
from tests.test_retrain_helpers import NOW, copy_project, damaged, first_right, live_inputs, make_config, with_answer


def metrics(macro, **f1):
    return {"macro_f1": macro, "accuracy": macro, "per_intent": {i: {"f1": v} for i, v in f1.items()}}


LIVE = metrics(0.90, section_20=0.96, legal_aid=0.80, greet=1.0)


def test_summary_lists_what_got_better_and_worse():
    result = summary(LIVE, metrics(0.91, section_20=0.97, legal_aid=0.78, greet=1.0))
    assert result["macro_f1"] == [0.9, 0.91] and result["better"] == {"section_20": 0.01}
    assert result["worse"] == {"legal_aid": -0.02}


# --- promote / rollback bookkeeping ---------------------------------------------------------------

class RecordingServer:
    """Stands in for the Rasa HTTP API: records the models it was asked to load."""

    def __init__(self, serving=None, fail=False):
        self.loaded, self.serving, self.fail = [], serving, fail

    def status(self):
        return {"model_file": self.serving}

    def load(self, path):
        if self.fail:
            raise ModelServerError("cannot reach the Rasa server")
        self.loaded.append(str(path))
        self.serving = os.path.basename(path)


@pytest.fixture
def setup(tmp_path):
    project = copy_project(tmp_path / "project")
    cfg = make_config(project)
    live = project / "models" / "20261101-000000-live.tar.gz"
    live.write_bytes(b"live model")
    os.utime(live, (NOW.timestamp() - 86400, NOW.timestamp() - 86400))  # file times fixed, not the clock's
    cfg.candidates_dir.mkdir(parents=True)
    candidate = cfg.candidates_dir / "candidate-20261120-110000.tar.gz"
    candidate.write_bytes(b"candidate model")
    return cfg, live, candidate


def write_report(cfg, live, candidate, inputs=None):
    """The evaluation `evaluate_candidate` writes, on synthetic answers (no pictures, no parsing)."""
    return evaluation.write_report(cfg, live, candidate, inputs or live_inputs(), now=NOW, pictures=False)


def test_promotion_needs_an_evaluation(setup):
    cfg, live, candidate = setup
    with pytest.raises(deploy.PromotionRefused, match="has not been evaluated yet"):
        deploy.promote(cfg, candidate, "kim", NOW, server=None)
    assert [e["action"] for e in AuditLog(cfg.audit_log).entries()] == ["promote_refused"]


def test_promotion_is_refused_with_the_rule_that_failed(setup):
    cfg, live, candidate = setup
    report = write_report(cfg, live, candidate, damaged(live_inputs(), "section_20", "legal_aid"))
    assert not report["promotion"]["ok"] and report["promotion"]["verdict"].startswith("Refused: ")
    with pytest.raises(deploy.PromotionRefused) as refused:
        deploy.promote(cfg, candidate, "kim", NOW, server=RecordingServer())
    [reason] = [r for r in refused.value.reasons if r.startswith("section_20 ")]
    assert reason.startswith("section_20 F1 is worse: ") and "90% interval" in reason
    assert refused.value.reasons == report["promotion"]["reasons"]
    assert not (cfg.models_dir / candidate.name).exists()
    entry = list(AuditLog(cfg.audit_log).entries())[-1]
    assert entry["action"] == "promote_refused" and entry["reasons"] == refused.value.reasons


def test_promotion_decides_again_with_the_rules_of_now(setup):
    cfg, live, candidate = setup
    inputs = live_inputs()
    for index in first_right(inputs, "dev", "section_20", 4):  # 4 of its 46 messages: worse in about 98%
        inputs = with_answer(inputs, "dev", index, "legal_aid")
    write_report(cfg, live, candidate, inputs)
    report = evaluation.read_report(cfg, candidate.name)
    reasons = deploy.check_candidate(cfg, candidate, report, live)
    assert any(r.startswith("section_20 F1 is worse") for r in reasons)
    stricter_evidence = cfg.with_changes(promotion=PromotionRules(confidence=0.99))
    assert deploy.check_candidate(stricter_evidence, candidate, report, live) == []


def test_promotion_is_refused_when_the_test_sets_changed_or_the_report_is_old(setup):
    cfg, live, candidate = setup
    report = write_report(cfg, live, candidate)
    assert deploy.check_candidate(cfg, candidate, report, live) == []
    wild = cfg.root / "tests" / "nlu_wild.yml"
    wild.write_text(wild.read_text() + "\n")
    assert deploy.check_candidate(cfg, candidate, report, live) == [
        "the test sets changed since the evaluation; evaluate it again"]
    old = {k: v for k, v in report.items() if k != "inputs"}
    assert deploy.check_candidate(cfg, candidate, old, live) == [
        "it was evaluated before the promotion rules changed (issue 20); evaluate it again"]


def test_promotion_is_refused_when_the_live_model_changed_since_the_evaluation(setup):
    cfg, live, candidate = setup
    write_report(cfg, live, candidate)
    newer = cfg.models_dir / "20261119-000000-newer.tar.gz"
    newer.write_bytes(b"someone trained and restarted since")
    os.utime(newer, (NOW.timestamp(), NOW.timestamp()))
    with pytest.raises(deploy.PromotionRefused, match="the live model is now 20261119-000000-newer.tar.gz"):
        deploy.promote(cfg, candidate, "kim", NOW, server=None)


def test_promote_copies_swaps_records_and_rollback_undoes_it(setup):
    cfg, live, candidate = setup
    write_report(cfg, live, candidate)
    server = RecordingServer(serving=live.name)
    state = deploy.promote(cfg, candidate, "kim", NOW, server=server)
    promoted = cfg.models_dir / candidate.name
    assert promoted.read_bytes() == b"candidate model"
    assert server.loaded == [str(promoted.resolve())]  # an absolute path, as PUT /model needs
    assert deploy.newest_model(cfg.models_dir) == promoted  # a restart serves it too
    assert state["live"] == str(promoted.resolve()) and state["previous"] == str(live.resolve())
    assert json.loads(cfg.live_file.read_text()) == state
    assert deploy.live_model(cfg) == promoted.resolve()

    back = deploy.rollback(cfg, "sam", NOW, server=server)
    assert server.loaded[-1] == str(live.resolve())
    assert back["live"] == str(live.resolve()) and back["previous"] == str(promoted.resolve())
    assert deploy.newest_model(cfg.models_dir) == live  # a restart serves the rolled-back-to model
    actions = [(e["action"], e["actor"]) for e in AuditLog(cfg.audit_log).entries()]
    assert actions == [("promote", "kim"), ("rollback", "sam")]


def test_a_server_that_does_not_load_the_model_leaves_everything_as_it_was(setup):
    cfg, live, candidate = setup
    write_report(cfg, live, candidate)
    with pytest.raises(deploy.PromotionRefused, match="did not load it"):
        deploy.promote(cfg, candidate, "kim", NOW, server=RecordingServer(fail=True))
    assert not (cfg.models_dir / candidate.name).exists() and not cfg.live_file.exists()


def test_rollback_needs_a_previous_model(setup):
    cfg, _, _ = setup
    with pytest.raises(deploy.PromotionRefused, match="no previous model"):
        deploy.rollback(cfg, "kim", NOW, server=None)


def test_offline_promotion_only_changes_the_model_served_at_the_next_start(setup):
    cfg, live, candidate = setup
    write_report(cfg, live, candidate)
    state = deploy.promote(cfg, candidate, "kim", NOW, server=None)
    assert state["swapped_into_running_server"] is False
    assert deploy.newest_model(cfg.models_dir).name == candidate.name

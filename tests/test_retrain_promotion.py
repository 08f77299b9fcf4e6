"""Promotion rules (pure), and promote / rollback bookkeeping (models/, live.json, audit log).

The Rasa side of promote and rollback (PUT /model on a real server) is in
tests/test_retrain_end_to_end.py; here a recording stand-in takes its place."""
import json
import os

import pytest

from bot.retrain import deploy, evaluation
from bot.retrain.audit import AuditLog
from bot.retrain.config import PromotionRules
from bot.retrain.model_server import ModelServerError
from bot.retrain.promotion import check_promotion, summary
from tests.test_retrain_helpers import NOW, copy_project, make_config

RULES = PromotionRules()  # macro-F1 may not fall, no intent may fall by more than 0.05, no minimum


def metrics(macro, **f1):
    return {"macro_f1": macro, "accuracy": macro, "per_intent": {i: {"f1": v} for i, v in f1.items()}}


LIVE = metrics(0.90, section_20=0.96, legal_aid=0.80, greet=1.0)


def test_a_candidate_that_is_no_worse_is_promoted():
    assert check_promotion(LIVE, metrics(0.91, section_20=0.97, legal_aid=0.80, greet=1.0), RULES) == (True, [])
    assert check_promotion(LIVE, LIVE, RULES) == (True, [])


def test_a_small_intent_drop_within_the_limit_is_allowed():
    ok, reasons = check_promotion(LIVE, metrics(0.90, section_20=0.91, legal_aid=0.85, greet=1.0), RULES)
    assert ok and reasons == []  # section_20 fell by exactly 0.05


def test_refused_when_macro_f1_falls():
    ok, reasons = check_promotion(LIVE, metrics(0.899, section_20=0.96, legal_aid=0.80, greet=1.0), RULES)
    assert not ok
    assert reasons == ["macro-F1 fell from 0.900 to 0.899; it may not fall"]


def test_macro_f1_may_fall_within_a_configured_tolerance():
    rules = PromotionRules(macro_f1_tolerance=0.01)
    assert check_promotion(LIVE, metrics(0.895, section_20=0.96, legal_aid=0.80, greet=1.0), rules)[0]
    ok, reasons = check_promotion(LIVE, metrics(0.88, section_20=0.96, legal_aid=0.80, greet=1.0), rules)
    assert reasons == ["macro-F1 fell from 0.900 to 0.880 (more than the allowed 0.010)"]


def test_refused_when_one_intent_falls_by_more_than_the_limit():
    ok, reasons = check_promotion(LIVE, metrics(0.92, section_20=0.88, legal_aid=0.90, greet=1.0), RULES)
    assert not ok
    assert reasons == ["section_20 F1 fell from 0.96 to 0.88 (more than 0.05)"]


def test_the_intent_limit_is_configurable():
    rules = PromotionRules(max_intent_f1_drop=0.10)
    assert check_promotion(LIVE, metrics(0.92, section_20=0.88, legal_aid=0.90, greet=1.0), rules) == (True, [])


def test_an_intent_the_candidate_never_predicts_counts_as_f1_zero():
    ok, reasons = check_promotion(LIVE, metrics(0.95, section_20=0.96, legal_aid=0.80), RULES)
    assert reasons == ["greet F1 fell from 1.00 to 0.00 (more than 0.05)"]


def test_refused_below_the_minimum_macro_f1():
    rules = PromotionRules(min_macro_f1=0.93)
    ok, reasons = check_promotion(LIVE, metrics(0.92, section_20=0.96, legal_aid=0.80, greet=1.0), rules)
    assert reasons == ["macro-F1 0.920 is below the minimum of 0.930"]


def test_every_reason_is_given():
    rules = PromotionRules(min_macro_f1=0.95)
    ok, reasons = check_promotion(LIVE, metrics(0.80, section_20=0.50, legal_aid=0.70, greet=1.0), rules)
    assert reasons == ["macro-F1 fell from 0.900 to 0.800; it may not fall",
                       "macro-F1 0.800 is below the minimum of 0.950",
                       "legal_aid F1 fell from 0.80 to 0.70 (more than 0.05)",
                       "section_20 F1 fell from 0.96 to 0.50 (more than 0.05)"]


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


def write_report(cfg, live, candidate, live_metrics=LIVE, candidate_metrics=LIVE):
    out = cfg.work_dir / "candidate-20261120-110000"
    out.mkdir(parents=True, exist_ok=True)
    ok, reasons = check_promotion(live_metrics, candidate_metrics, cfg.promotion)
    report = {"test_set_sha256": evaluation.sha256_file(cfg.test_set),
              "live": dict(live_metrics, model=str(live), model_sha256=evaluation.sha256_file(live)),
              "candidate": dict(candidate_metrics, model=str(candidate),
                                model_sha256=evaluation.sha256_file(candidate)),
              "promotion": {"ok": ok, "reasons": reasons, "summary": {}},
              "files": {"report": str(out / "report.json")}}
    (out / "report.json").write_text(json.dumps(report))
    return report


def test_promotion_needs_an_evaluation(setup):
    cfg, live, candidate = setup
    with pytest.raises(deploy.PromotionRefused, match="has not been evaluated yet"):
        deploy.promote(cfg, candidate, "kim", NOW, server=None)
    assert [e["action"] for e in AuditLog(cfg.audit_log).entries()] == ["promote_refused"]


def test_promotion_is_refused_with_the_rule_that_failed(setup):
    cfg, live, candidate = setup
    write_report(cfg, live, candidate, candidate_metrics=metrics(0.92, section_20=0.88, legal_aid=0.9, greet=1.0))
    with pytest.raises(deploy.PromotionRefused) as refused:
        deploy.promote(cfg, candidate, "kim", NOW, server=RecordingServer())
    assert refused.value.reasons == ["section_20 F1 fell from 0.96 to 0.88 (more than 0.05)"]
    assert not (cfg.models_dir / candidate.name).exists()


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

"""Evaluation metrics and pictures (the full candidate-against-live evaluation with real models runs in
tests/test_retrain_end_to_end.py)."""
import pytest

from bot.retrain import evaluation
from scripts.eval_nlu import scores

TRUTH = ["greet", "greet", "section_20", "section_20", "legal_aid", "legal_aid"]
PREDICTED = ["greet", "thanks", "section_20", "legal_aid", "legal_aid", "nlu_fallback"]


def test_metrics_match_make_eval_and_add_precision_recall_and_support():
    result = evaluation.metrics(TRUTH, PREDICTED)
    reference = scores(TRUTH, PREDICTED)
    assert result["accuracy"] == pytest.approx(reference["accuracy"]) == 0.5
    assert result["macro_f1"] == pytest.approx(reference["macro_f1"])
    assert set(result["per_intent"]) == {"greet", "section_20", "legal_aid"}  # the test set's intents
    assert result["per_intent"]["section_20"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                                  "support": 2}
    assert result["per_intent"]["legal_aid"]["precision"] == 0.5


def test_pictures_are_png_files(tmp_path):
    evaluation.confusion_png(TRUTH, PREDICTED, tmp_path / "confusion.png", "test")
    live, candidate = evaluation.metrics(TRUTH, PREDICTED), evaluation.metrics(TRUTH, TRUTH)
    evaluation.comparison_png(live, candidate, tmp_path / "comparison.png", "test")
    for name in ("confusion.png", "comparison.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_the_test_set_is_read_like_make_eval_does():
    from tests.test_retrain_helpers import ROOT

    pairs = evaluation.held_out_pairs(ROOT / "tests" / "nlu_test.yml")
    assert len(pairs) > 200 and all(text and intent for text, intent in pairs)


# --- what the promotion gate is given (issue 20): every held-out set, the crisis set, the labels ---------
def answering(monkeypatch, answers):
    """parse_in_child replaced: model file name -> function(text) -> intent. Records each call."""
    calls = []

    def parse(model, texts, work, nice=0, cwd=None):
        calls.append((model.name, len(texts)))
        return [{"intent": answers[model.name](t), "confidence": 0.9} for t in texts]

    monkeypatch.setattr(evaluation, "parse_in_child", parse)
    return calls


@pytest.fixture
def project(tmp_path):
    from tests.test_retrain_helpers import copy_project, make_config

    cfg = make_config(copy_project(tmp_path / "project"))
    cfg.candidates_dir.mkdir(parents=True)
    live, candidate = cfg.models_dir / "live.tar.gz", cfg.candidates_dir / "candidate-20261120-110000.tar.gz"
    live.write_bytes(b"live")
    candidate.write_bytes(b"candidate")
    return cfg, live, candidate


def test_the_labels_checked_are_the_ones_since_the_live_models_training(project):
    from datetime import timedelta

    from bot.retrain.audit import AuditLog
    from tests.test_retrain_helpers import NOW

    cfg, live, candidate = project
    log = AuditLog(cfg.audit_log)

    def label(minutes, text, intent):
        log.record("kim", "label", NOW + timedelta(minutes=minutes), before={"text": text},
                   after={"intent": intent, "example": text, "file": "data/nlu/x.yml", "line": 1})

    log.record("kim", "train", NOW, after={"candidate": "live"})                 # the live model's training
    label(-5, "before the live model", "ombudsman")                              # already in the live model
    label(5, "who is above the council", "complaints_procedure")
    label(6, "who is above the council", "ombudsman")                            # relabelled: the latest counts
    label(7, "my nan has the kids", "kinship_care_options")
    log.record("kim", "train", NOW + timedelta(minutes=10), after={"candidate": "candidate-20261120-110000"})
    label(15, "after the candidate started", "ombudsman")                        # not in this candidate
    assert evaluation.model_started(cfg, candidate) == NOW + timedelta(minutes=10)
    assert [(i["text"], i["intent"]) for i in evaluation.labelled_since(cfg, live, candidate)] == [
        ("who is above the council", "ombudsman"), ("my nan has the kids", "kinship_care_options")]


def test_gather_asks_each_model_once_for_every_set_and_caches_the_answers(project, monkeypatch):
    from bot.retrain.audit import AuditLog
    from tests.test_retrain_helpers import NOW

    cfg, live, candidate = project
    AuditLog(cfg.audit_log).record("kim", "train", NOW, after={"candidate": "candidate-20261120-110000"})
    calls = answering(monkeypatch, {"live.tar.gz": lambda t: "nlu_fallback",
                                    candidate.name: lambda t: "emergency_risk" if "kill" in t else "ombudsman"})
    inputs = evaluation.gather(cfg, live, candidate)
    assert [(s.name, s.source, len(s.texts)) for s in inputs.sets] == [
        ("dev", "tests/nlu_test.yml", 282), ("blind", "tests/nlu_test_fresh.yml", 360), ("wild", "tests/nlu_wild.yml", 465)]
    assert inputs.crisis.source == "tests/crisis_wild.tsv" and sum(inputs.crisis.is_crisis) == 150
    assert set(inputs.sets[0].live) == {"nlu_fallback"} and "ombudsman" in inputs.sets[2].candidate
    assert calls == [("live.tar.gz", 282 + 360 + 465 + 361), (candidate.name, 282 + 360 + 465 + 361)]
    assert evaluation.gather(cfg, live, candidate) == inputs and len(calls) == 2  # from the cache


def test_a_missing_held_out_set_stops_the_evaluation(project, monkeypatch):
    cfg, live, candidate = project
    (cfg.root / "tests" / "crisis_wild.tsv").unlink()
    answering(monkeypatch, {})
    with pytest.raises(FileNotFoundError, match="the crisis set .* is missing"):
        evaluation.gather(cfg, live, candidate)

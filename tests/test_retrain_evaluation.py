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

"""python -m bot.retrain: plain-English help, the review / label round trip, and clear refusals with a
non-zero exit status on bad input."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.retrain import cli, privacy
from bot.retrain.audit import AuditLog
from tests.test_retrain_helpers import NOW, ROOT, at, copy_project, make_config, marking_redact, user, write_tracker


@pytest.fixture
def project(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    cfg = make_config(project)
    monkeypatch.setenv("TRACKER_DB", cfg.tracker_db)
    monkeypatch.setenv("GATEWAY_DB_URL", cfg.gateway_db_url)
    monkeypatch.setattr(privacy, "redact", marking_redact)
    write_tracker(Path(cfg.tracker_db), [
        ("c1", [user("my name is Sarah, who is above the council", "nlu_fallback", 0.4, at(30),
                     ranking=[("nlu_fallback", 0.4), ("complaints_procedure", 0.35), ("ombudsman", 0.3),
                              ("council_contact", 0.1)])]),
        ("c2", [user("my name is Sarah, who is above the council?", "complaints_procedure", 0.5, at(20))]),
    ])
    return project


def run(project, *argv, stdin_tty=False):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--project", str(project), *argv], clock=lambda: NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_help_is_in_plain_english():
    result = subprocess.run([sys.executable, "-m", "bot.retrain", "--help"], cwd=ROOT, capture_output=True,
                            text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0
    for command in ("review", "label", "train", "evaluate", "promote", "rollback", "export", "purge"):
        assert command in result.stdout
    assert "misunderstood" in result.stdout


def test_review_prints_grouped_redacted_messages_with_ids(project):
    code, out, _ = run(project, "review")
    assert code == 0
    assert "2 to review" not in out and "1 to review" in out
    assert "x2  my name is [NAME], who is above the council" in out
    assert "Sarah" not in out
    assert "top 3: complaints_procedure 0.35, ombudsman 0.30, council_contact 0.10" in out
    code, out, _ = run(project, "review", "--json")
    assert json.loads(out)[0]["count"] == 2


def test_label_by_id_then_it_is_gone_from_the_review(project):
    item_id = json.loads(run(project, "review", "--json")[1])[0]["id"]
    code, out, err = run(project, "label", item_id, "ombudsman", "--actor", "kim")
    assert code == 0, err
    assert "Added to ombudsman in complaints.yml" in out
    assert "my name is [NAME], who is above the council" in (project / "data/nlu/complaints.yml").read_text()
    assert json.loads(run(project, "review", "--json")[1]) == []
    entry = list(AuditLog(project / "var/retrain/audit.jsonl").entries())[-1]
    assert entry["actor"] == "kim" and entry["after"]["intent"] == "ombudsman"


def test_not_useful_and_new_intent(project):
    item_id = json.loads(run(project, "review", "--json")[1])[0]["id"]
    assert run(project, "label", item_id, "--new-intent", "escalation", "--actor", "kim")[0] == 0
    assert run(project, "review", "--json")[1].strip() == "[]"


@pytest.mark.parametrize("argv, status, message", [
    ([], 2, "usage"),
    (["label", "abc", "ombudsman"], 2, "say who you are with --actor NAME"),
    (["label", "abc", "ombudsman", "--not-useful", "--actor", "kim"], 1, "give exactly one of"),
    (["label", "abc", "--actor", "kim"], 1, "give exactly one of"),
    (["label", "nosuchid", "ombudsman", "--actor", "kim"], 1, "no message with id nosuchid"),
    (["label", "abc", "ombudsman", "--actor", "kim\nroot"], 1, "--actor"),
    (["export", "--from", "yesterday", "--to", "2026-11-20", "--actor", "kim"], 2, "is not a date like"),
    (["export", "--from", "2026-11-21", "--to", "2026-11-20", "--actor", "kim"], 1, "before the start date"),
    (["purge", "--actor", "kim"], 1, "add --yes to confirm"),
    (["purge", "--days", "0", "--actor", "kim", "--yes"], 2, "keep at least one day"),
    (["promote", "--actor", "kim", "--offline"], 1, "there is no candidate yet"),
    (["evaluate", "candidate-nope"], 1, "no candidate called 'candidate-nope'"),
    (["rollback", "--actor", "kim", "--offline"], 1, "no previous model"),
])
def test_bad_input_is_refused_with_a_clear_message(project, argv, status, message, capsys):
    code, out, err = run(project, *argv)
    assert code == status
    assert message in err + capsys.readouterr().err


def test_wrong_label_names_the_valid_choice(project):
    item_id = json.loads(run(project, "review", "--json")[1])[0]["id"]
    code, _, err = run(project, "label", item_id, "ombudsmen", "--actor", "kim")
    assert code == 1 and "'ombudsmen' is not an intent in domain.yml. Did you mean ombudsman" in err


def test_purge_and_export(project, tmp_path):
    code, out, err = run(project, "export", "--from", "2026-11-20", "--to", "2026-11-20", "--format", "csv",
                         "--out", str(tmp_path / "out.csv"), "--actor", "kim")
    assert code == 0 and "Wrote 2 messages" in err
    assert "Sarah" not in (tmp_path / "out.csv").read_text()
    assert oct((tmp_path / "out.csv").stat().st_mode & 0o777) == "0o600"
    code, out, _ = run(project, "purge", "--conversation", "c1", "--actor", "kim", "--yes")
    assert code == 0 and "Deleted: 1 tracker events" in out
    code, out, _ = run(project, "status")
    assert code == 0 and "Training: idle" in out


def test_the_settings_file_has_the_documented_safe_defaults():
    from bot.retrain.config import load_config

    cfg = load_config(env={})
    assert (cfg.inbox.low_confidence, cfg.inbox.sample_rate, cfg.inbox.sample_seed, cfg.inbox.duplicate_ratio,
            cfg.inbox.days) == (0.6, 0.05, 42, 90, 30)
    assert (cfg.promotion.confidence, cfg.promotion.resamples, cfg.promotion.seed) == (0.95, 2000, 0)
    assert cfg.held_out_sets == (("dev", ROOT / "tests" / "nlu_test.yml"), ("blind", ROOT / "tests" / "nlu_test_fresh.yml"),
                                 ("wild", ROOT / "tests" / "nlu_wild.yml"))
    assert cfg.crisis_set == ROOT / "tests" / "crisis_wild.tsv"
    assert cfg.retention_days == 90 and cfg.nice == 10
    assert cfg.audit_log == ROOT / "var" / "retrain" / "audit.jsonl" and cfg.models_dir == ROOT / "models"
    assert cfg.candidates_dir == ROOT / "models" / "candidates" and cfg.test_set == ROOT / "tests" / "nlu_test.yml"


@pytest.mark.parametrize("content, message", [
    ("inbox:\n  low_confidence: 1.5\n", "low_confidence: 1.5 must be between 0 and 1"),
    ("inbox:\n  sample_rate: lots\n", "sample_rate: 'lots' is not a number"),
    ("promotion: [1, 2]\n", "promotion should be a section"),
    ("inbox: {low_confidence: [\n", "is not valid YAML"),
    ("promotion:\n  confidence: 0.3\n", "confidence: 0.3 must be between 0.5 and 1"),
    ("promotion:\n  resamples: null\n", "resamples: give a number"),
    ("promotion:\n  max_intent_f1_drop: 0.05\n", "max_intent_f1_drop is no longer used"),
])
def test_a_wrong_setting_is_refused_with_a_clear_message(project, tmp_path, content, message):
    settings = tmp_path / "retrain.yml"
    settings.write_text(content)
    code, _, err = run(project, "--config", str(settings), "status")
    assert code == 1 and message in err
    code, _, err = run(project, "--config", str(tmp_path / "missing.yml"), "status")
    assert code == 1 and "there is no settings file" in err


# --- evaluate: the labels check and what changed, before the decision (issue 20) ------------------
def synthetic_evaluation(project, monkeypatch, inputs):
    """`evaluate` with the models' answers replaced by `inputs` (nothing is parsed, no pictures drawn)."""
    from bot.retrain import evaluation

    cfg = make_config(project)
    live = cfg.models_dir / "20261101-000000-live.tar.gz"
    live.write_bytes(b"live model")
    cfg.candidates_dir.mkdir(parents=True, exist_ok=True)
    (cfg.candidates_dir / "candidate-20261120-110000.tar.gz").write_bytes(b"candidate model")
    monkeypatch.setattr(evaluation, "gather", lambda cfg, live, candidate, with_labels=True: inputs)
    monkeypatch.setattr(evaluation, "confusion_png", lambda *a, **k: None)
    monkeypatch.setattr(evaluation, "comparison_png", lambda *a, **k: None)
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # nothing listens: the newest in models/ is live
    return run(project, "evaluate")


def test_evaluate_says_what_the_labels_and_the_changes_are_before_allowing(project, monkeypatch):
    import dataclasses

    from bot.retrain import gate
    from tests.test_retrain_helpers import first_right, live_inputs, with_answer

    inputs = live_inputs()
    index = first_right(inputs, "dev", "out_of_scope")[0]
    inputs = with_answer(inputs, "dev", index, "nlu_fallback")
    inputs = dataclasses.replace(inputs, labelled=(
        gate.Labelled(text="who is above the council", intent="ombudsman", live="nlu_fallback", candidate="ombudsman"),
        gate.Labelled(text="nan has the kids \x1b[31mnow", intent="kinship_care_options", live="nlu_fallback",
                      candidate="nlu_fallback")))
    code, out, err = synthetic_evaluation(project, monkeypatch, inputs)
    assert code == 0, err
    labels = out.index("Your labels: 1 of the 2 messages you labelled are now understood; this one still is not: "
                       "\u201cnan has the kids [31mnow\u201d (labelled kinship_care_options, the candidate says nlu_fallback).")
    changed = out.index("2 messages get a different answer (1 now wrong, 1 now right, 0 wrong before and after):")
    text = next(s for s in inputs.sets if s.name == "dev").texts[index]
    assert f"WORSE  [dev] \u201c{text}\u201d\n         right: out_of_scope;  out_of_scope \u2192 nlu_fallback " \
           "(right \u2192 wrong)" in out
    assert "better [labelled] \u201cwho is above the council\u201d" in out
    decision = out.index("Allowed: not shown to be worse (refusing needs 95% confidence).")
    assert labels < changed < decision and "90% interval" in out[decision:]
    per_set = out.index("Macro-F1, candidate against live (paired bootstrap, 2,000 resamples, seed 0):")
    per_intent = out.index("Intents whose answers changed (F1 on all held-out messages):\n")
    crisis = out.index("Safety net on tests/crisis_wild.tsv: catches ")
    assert changed < per_set < per_intent < crisis < decision  # the evidence, then the verdict
    assert "\nout_of_scope " in out[per_intent:crisis]
    assert out.rstrip().endswith("The candidate can be promoted (python -m bot.retrain promote --actor NAME).")
    assert "\x1b" not in out  # control characters from a message never reach the terminal


def test_evaluate_refuses_a_damaged_candidate_naming_the_intent(project, monkeypatch):
    from tests.test_retrain_helpers import damaged, live_inputs

    code, out, err = synthetic_evaluation(project, monkeypatch, damaged(live_inputs(), "section_20", "legal_aid"))
    assert code == 0, err
    assert "The candidate cannot be promoted:\n" in out
    assert "  - section_20 F1 is worse: " in out and "15 messages get a different answer (15 now wrong" in out
    code, _, err = run(project, "promote", "--actor", "kim", "--offline")
    assert code == 1 and "not promoted: " in err and "section_20 F1 is worse" in err

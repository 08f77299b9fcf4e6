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
    assert (cfg.promotion.macro_f1_tolerance, cfg.promotion.max_intent_f1_drop, cfg.promotion.min_macro_f1) == (
        0.0, 0.05, None)
    assert cfg.retention_days == 90 and cfg.nice == 10
    assert cfg.audit_log == ROOT / "var" / "retrain" / "audit.jsonl" and cfg.models_dir == ROOT / "models"
    assert cfg.candidates_dir == ROOT / "models" / "candidates" and cfg.test_set == ROOT / "tests" / "nlu_test.yml"


@pytest.mark.parametrize("content, message", [
    ("inbox:\n  low_confidence: 1.5\n", "low_confidence: 1.5 must be between 0 and 1"),
    ("inbox:\n  sample_rate: lots\n", "sample_rate: 'lots' is not a number"),
    ("promotion: [1, 2]\n", "promotion should be a section"),
    ("inbox: {low_confidence: [\n", "is not valid YAML"),
])
def test_a_wrong_setting_is_refused_with_a_clear_message(project, tmp_path, content, message):
    settings = tmp_path / "retrain.yml"
    settings.write_text(content)
    code, _, err = run(project, "--config", str(settings), "status")
    assert code == 1 and message in err
    code, _, err = run(project, "--config", str(tmp_path / "missing.yml"), "status")
    assert code == 1 and "there is no settings file" in err

"""Labelling: surgical YAML edits that keep everything else (comments too), the refusals, the audit
log, and `rasa data validate` passing on a labelled copy of the project's data."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.retrain import inbox, labels, privacy
from bot.retrain.audit import AuditLog
from bot.retrain.inbox import InboxItem
from scripts.eval_nlu import load_test_set
from tests.test_retrain_helpers import NOW, ROOT, at, copy_project, make_config, marking_redact, user, write_tracker

COMMENTED = """\
# Training data for the tests (a comment at the top)
version: "3.1"
nlu:
- intent: greet   # people saying hello
  examples: |
    - hello
    - hi there

# a comment between two intents
- intent: ombudsman
  examples: |
    - what does the ombudsman do
    - can the ombudsman help me
- intent: thanks
  examples: |
    - thanks
"""


def item(text, intent="nlu_fallback", confidence=0.4):
    return InboxItem(id=inbox.item_id(labels.normalise(text)), text=text, count=1, reasons=["fallback"],
                     intent=intent, confidence=confidence, suggestions=[("ombudsman", 0.3)],
                     conversation_ids=["c1"], first_seen=at(5), last_seen=at(5),
                     normalised=[labels.normalise(text)])


@pytest.fixture(autouse=True)
def visible_redaction(monkeypatch):
    """A stand-in redactor with visible, predictable work, so these tests do not depend on bot.redact's
    judgement (tested in its own tests); label_item must still call it."""
    monkeypatch.setattr(privacy, "redact", marking_redact)


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


@pytest.fixture
def cfg(project):
    return make_config(project)


def test_insert_example_adds_one_line_and_keeps_every_other_byte():
    after, line = labels.insert_example(COMMENTED, "ombudsman", "who checks the council")
    before_lines, after_lines = COMMENTED.splitlines(), after.splitlines()
    assert after_lines[line - 1] == "    - who checks the council"
    assert after_lines[:line - 1] + after_lines[line:] == before_lines  # everything else, comments included
    parsed = yaml.safe_load(after)["nlu"]
    assert parsed[1]["examples"].splitlines()[-1] == "- who checks the council"
    labels._check_insert(COMMENTED, after, "ombudsman", "who checks the council")


def test_insert_example_goes_before_blank_lines_and_comments_after_the_block():
    after, line = labels.insert_example(COMMENTED, "greet", "good morning")
    assert after.splitlines()[line - 1] == "    - good morning"
    assert "    - hi there\n    - good morning\n\n# a comment between two intents\n" in after


def test_insert_example_at_the_end_of_a_file_without_a_final_newline():
    after, _ = labels.insert_example(COMMENTED.rstrip("\n"), "thanks", "cheers")
    assert after.endswith("    - thanks\n    - cheers\n")


def test_insert_example_round_trips_every_project_file():
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        text = path.read_text()
        for intent in sorted({b["intent"] for b in yaml.safe_load(text)["nlu"] if "intent" in b}):
            after, _ = labels.insert_example(text, intent, "a brand new example")
            labels._check_insert(text, after, intent, "a brand new example")


def test_the_example_goes_to_the_file_with_most_examples_of_that_intent(project):
    data = labels.TrainingData.load(project / "data" / "nlu")
    assert data.file_for("section_20").name == "care_proceedings.yml"  # not safety_contrast.yml
    assert data.file_for("ombudsman").name == "complaints.yml"
    assert data.file_for("no_such_intent") is None


def test_staff_labels_never_go_into_the_files_traced_to_public_pages(project):
    # public_kinship.yml holds more special_guardianship examples than kinship.yml, but every
    # example there is traced to its page in data/nlu_sources.tsv; a staff label has no page.
    data = labels.TrainingData.load(project / "data" / "nlu")
    public = {p.name for p in data.files if p.name.startswith("public_")}
    assert public
    for intent in ("section_20", "special_guardianship", "ombudsman"):
        assert not data.file_for(intent).name.startswith("public_")


def test_unknown_intents_are_refused_with_a_hint(cfg):
    with pytest.raises(labels.LabelRefused, match=r"'section20' is not an intent in domain.yml. Did you mean section_20"):
        labels.label_item(cfg, item("can i say no to a section 20"), "section20", "kim", NOW)


def test_messages_in_the_test_set_are_refused(cfg):
    text, intent = load_test_set(cfg.test_set)[0]
    before = {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")}
    with pytest.raises(labels.LabelRefused, match=r"in a held-out set \(tests/nlu_test.yml\), which must stay unseen"):
        labels.label_item(cfg, item(text.upper() + "!"), intent, "kim", NOW)
    assert {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")} == before
    assert list(AuditLog(cfg.audit_log).entries()) == []


@pytest.mark.parametrize("name, file", [("blind", "nlu_test_fresh.yml"), ("wild", "nlu_wild.yml"),
                                        ("crisis", "crisis_wild.tsv")])
def test_messages_of_every_held_out_set_and_the_crisis_set_are_refused(cfg, name, file):
    # the promotion gate compares the models on all of them: a label from one would be learned, not tested
    from scripts.eval_nlu import load_case_set

    path = cfg.crisis_set if name == "crisis" else dict(cfg.held_out_sets)[name]
    assert path.name == file
    text = load_case_set(path)["not_crisis"][0] if name == "crisis" else load_test_set(path)[0][0]
    before = {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")}
    with pytest.raises(labels.LabelRefused, match=rf"in a held-out set \(tests/{file}\), which must stay unseen"):
        labels.label_item(cfg, item(text), "kinship_care_options", "kim", NOW)
    assert {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")} == before
    assert list(AuditLog(cfg.audit_log).entries()) == []


def test_duplicates_are_refused_whatever_their_case_and_punctuation(cfg):
    with pytest.raises(labels.LabelRefused, match=r"already in the training data as kinship_financial_support \(kinship.yml\)"):
        labels.label_item(cfg, item("sgo ALLOWANCE"), "special_guardianship", "kim", NOW)


def test_empty_messages_and_missing_actors_are_refused(cfg):
    with pytest.raises(labels.LabelRefused, match="no words"):
        labels.label_item(cfg, item("?!"), "greet", "kim", NOW)
    for only_placeholders in ("[UNREDACTABLE_MESSAGE]", "[NAME], [PHONE]"):  # what redaction left
        with pytest.raises(labels.LabelRefused, match="once personal details are removed"):
            labels.label_item(cfg, item(only_placeholders), "speak_to_adviser", "kim", NOW)
    with pytest.raises(ValueError, match="--actor"):
        labels.label_item(cfg, item("hello friend"), "greet", "", NOW)


def test_label_appends_the_example_and_records_who_what_when(cfg):
    complaints = cfg.nlu_dir / "complaints.yml"
    before = complaints.read_text()
    added = labels.label_item(cfg, item("who is above the council when complaints fail [NAME]"), "ombudsman",
                              "kim", NOW)
    assert added.file == complaints and added.intent == "ombudsman"
    after = complaints.read_text()
    assert after.splitlines()[added.line - 1] == "    - who is above the council when complaints fail [NAME]"
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    entry = list(AuditLog(cfg.audit_log).entries())[-1]
    assert entry["actor"] == "kim" and entry["action"] == "label" and entry["at"] == "2026-11-20T12:00:00Z"
    assert entry["before"]["text"] == "who is above the council when complaints fail [NAME]"
    assert entry["before"]["model_intent"] == "nlu_fallback"
    assert entry["after"] == {"intent": "ombudsman", "example": added.example, "file": "data/nlu/complaints.yml",
                              "line": added.line}
    with pytest.raises(labels.LabelRefused, match="already in the training data"):
        labels.label_item(cfg, item("Who is above the council when complaints fail [NAME]?"), "ombudsman",
                          "kim", NOW)


def test_the_text_is_redacted_again_before_it_is_saved(cfg):
    added = labels.label_item(cfg, item("Sarah needs the ombudsman, ring 07700 900123"), "ombudsman", "kim", NOW)
    assert added.example == "[NAME] needs the ombudsman, ring [PHONE]"
    saved = (cfg.nlu_dir / "complaints.yml").read_text() + cfg.audit_log.read_text()
    assert "Sarah" not in saved and "07700" not in saved


def test_placeholders_are_not_read_as_entity_annotations(cfg):
    added = labels.label_item(cfg, item("my son [NAME](4) lives with me"), "kinship_care_options", "kim", NOW)
    assert added.example == "my son [NAME] (4) lives with me"


def test_a_labelled_or_decided_message_is_not_shown_again(cfg):
    write_tracker(Path(cfg.tracker_db), [("c1", [
        user("who is above the council when complaints fail", "complaints_procedure", 0.3, at(30)),
        user("who is above the council when complaint fails", "complaints_procedure", 0.3, at(25)),  # variant
        user("zxqv plonk", "greet", 0.2, at(20)),
        user("can i get help with school uniform", "out_of_scope", 0.3, at(10)),
    ])])
    items = inbox.load_inbox(cfg, NOW, redact=lambda t: t)
    assert len(items) == 3
    by_text = {i.text: i for i in items}
    assert by_text["who is above the council when complaints fail"].count == 2
    labels.label_item(cfg, by_text["who is above the council when complaints fail"], "ombudsman", "kim", NOW)
    labels.mark_not_useful(cfg, by_text["zxqv plonk"], "kim", NOW, note="keyboard mash")
    training_data = {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")}
    labels.suggest_new_intent(cfg, by_text["can i get help with school uniform"], "school_costs", "kim", NOW,
                              note="several like this")
    assert inbox.load_inbox(cfg, NOW, redact=lambda t: t) == []  # the grouped variant too
    assert "complaint fails" not in cfg.audit_log.read_text()  # only a fingerprint of the variant is kept
    assert [e["action"] for e in AuditLog(cfg.audit_log).entries()] == ["label", "not_useful", "new_intent"]
    assert labels.new_intent_suggestions(cfg) == [{"intent": "school_costs", "text": "can i get help with school uniform",
                                                   "note": "several like this", "actor": "kim",
                                                   "at": "2026-11-20T12:00:00Z"}]
    # a suggestion is for developers: nothing was written to the training data
    assert {p: p.read_text() for p in cfg.nlu_dir.glob("*.yml")} == training_data


def test_new_intent_names_must_be_new_and_well_formed(cfg):
    with pytest.raises(labels.LabelRefused, match="already exists"):
        labels.suggest_new_intent(cfg, item("hi"), "greet", "kim", NOW)
    with pytest.raises(labels.LabelRefused, match="not a usable intent name"):
        labels.suggest_new_intent(cfg, item("hi"), "School Costs!", "kim", NOW)


def test_the_audit_log_is_append_only_json_lines(cfg):
    log = AuditLog(cfg.audit_log)
    log.record("kim", "not_useful", NOW, before={"text": "one"})
    first = cfg.audit_log.read_text()
    log.record("sam", "not_useful", NOW, before={"text": "two"})
    assert cfg.audit_log.read_text().startswith(first)
    assert [json.loads(line)["actor"] for line in cfg.audit_log.read_text().splitlines()] == ["kim", "sam"]
    assert oct(cfg.audit_log.stat().st_mode & 0o777) == "0o600"


def test_rasa_data_validate_passes_on_a_labelled_copy_of_the_project(cfg, project):
    """Label into several files of a copy of the real data, then run Rasa's own validator on it."""
    for text, intent in [("who is above the council when complaints fail", "ombudsman"),
                         ("my grandaughter's social worker keeps shouting", "complaint_about_social_worker"),
                         ("howdy folks", "greet"),
                         ("the council's plo letter came today what now", "pre_proceedings_letter")]:
        labels.label_item(cfg, item(text), intent, "kim", NOW)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
               PYTHONPATH=str(ROOT))
    rasa = str(Path(sys.executable).parent / "rasa")
    result = subprocess.run(["nice", "-n", "10", rasa, "data", "validate", "--fail-on-warnings", "--max-history", "4",
                             "--data", "data", "--domain", "domain.yml", "--config", "config.yml"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # and the project's own training-data gates still hold for the labelled copy
    from tests.test_training_data import examples, plain

    train = {}
    for path in sorted((project / "data" / "nlu").glob("*.yml")):
        for intent, lines in examples(path).items():
            train.setdefault(intent, []).extend(lines)
    trained = {plain(t) for lines in train.values() for t in lines}
    assert not [t for t, _ in load_test_set(cfg.test_set) if plain(t) in trained]
    assert "who is above the council when complaints fail" in train["ombudsman"]

"""The review inbox: every selection rule, grouping, what is never shown, redaction.

Events are written by Rasa's own SQLTrackerStore into a SQLite file and read back the way the inbox
reads the live store; gateway feedback is written by the gateway's own Store."""
import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.retrain import inbox, privacy
from bot.retrain.audit import AuditLog
from bot.retrain.config import InboxRules
from tests.test_retrain_helpers import (NOW, action, at, bot, copy_project, events_from, gateway_conversation,
                                        identity_redact_for_tests_only, make_config, marking_redact, pause,
                                        resume, user, write_tracker)

NO_SAMPLE = InboxRules(sample_rate=0.0)
SURE = 0.95


def select(tmp_path, conversations, rules=NO_SAMPLE, marks=(), known=frozenset(), test_texts=frozenset(),
           redact=identity_redact_for_tests_only):
    events = events_from(write_tracker(tmp_path / "tracker.db", conversations))
    return inbox.build_inbox(events, list(marks), rules, redact=redact, known_texts=set(known),
                             test_texts=set(test_texts))


def texts(items):
    return [i.text for i in items]


def test_low_confidence_messages_are_shown_and_confident_ones_are_not(tmp_path):
    items = select(tmp_path, [("c1", [
        user("what is an sgo", "special_guardianship", SURE, at(30)),
        user("my nan has the kids what now", "kinship_care_options", 0.55, at(29)),
        user("exactly at the threshold", "kinship_care_options", 0.6, at(28)),
    ])])
    assert texts(items) == ["my nan has the kids what now"]
    assert items[0].reasons == ["low_confidence"]
    assert items[0].intent == "kinship_care_options" and items[0].confidence == 0.55


def test_the_threshold_is_configurable(tmp_path):
    items = select(tmp_path, [("c1", [user("my nan has the kids", "kinship_care_options", 0.75, at(5))])],
                   rules=InboxRules(low_confidence=0.8, sample_rate=0.0))
    assert texts(items) == ["my nan has the kids"]


def test_fallback_messages_are_shown(tmp_path):
    items = select(tmp_path, [("c1", [
        user("blah blah council thingy", "nlu_fallback", 0.4, at(5),
             ranking=[("nlu_fallback", 0.4), ("council_contact", 0.31), ("kinship_local_policy", 0.2),
                      ("complaints_procedure", 0.1), ("greet", 0.05)]),
    ])])
    assert items[0].reasons == ["fallback"]
    # the model's top 3 (without nlu_fallback) are the suggestions
    assert items[0].suggestions == [("council_contact", 0.31), ("kinship_local_policy", 0.2),
                                    ("complaints_procedure", 0.1)]


def test_a_confident_message_just_before_not_helpful_is_shown(tmp_path):
    items = select(tmp_path, [("c1", [
        user("can they take my grandson", "care_proceedings_overview", SURE, at(10)),
        bot("Care proceedings are...", at(10) + 1),
        user("that's not what i asked", "not_helpful", SURE, at(9)),
    ])])
    assert texts(items) == ["can they take my grandson"]
    assert items[0].reasons == ["before_not_helpful"]


def test_a_confident_message_just_before_asking_for_a_person_is_shown(tmp_path):
    items = select(tmp_path, [("c1", [
        user("what is a s20", "section_20", SURE, at(10)),
        user("i want to speak to a real person", "speak_to_adviser", SURE, at(9)),
        action("action_handoff", at(9) + 1),
    ])])
    assert texts(items) == ["what is a s20"]
    assert items[0].reasons == ["before_handoff"]


def test_a_message_the_bot_handed_off_after_without_being_asked_is_shown(tmp_path):
    # a second misunderstanding: the bot offers a person straight after this message
    items = select(tmp_path, [("c1", [
        user("hello", "greet", SURE, at(12)),
        user("the sw said the plo thing again", "child_in_need", 0.7, at(10)),
        action("action_handoff", at(10) + 1),
    ])])
    assert texts(items) == ["the sw said the plo thing again"]
    assert items[0].reasons == ["before_handoff"]


def test_a_message_whose_answer_the_family_marked_unhelpful_is_shown(tmp_path):
    """The gateway's feedback is per bot message; the match is the last family message in that
    conversation sent before the marked bot message."""
    write_tracker(tmp_path / "tracker.db", [("c1", [
        user("who pays for the kids", "kinship_financial_support", SURE, at(20)),
        bot("Money for kinship carers...", at(20) + 2),
        user("ok and what about school", "out_of_scope", SURE, at(10)),
        bot("I can't help with that", at(10) + 2),
    ]), ("c2", [user("who pays for the kids", "kinship_financial_support", SURE, at(20))])])
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    when = lambda minutes: NOW - timedelta(minutes=minutes)  # noqa: E731
    gateway_conversation(url, "c1", [("family", "who pays for the kids", when(20)),
                                     ("bot", "Money for kinship carers...", when(20) + timedelta(seconds=3)),
                                     ("family", "ok and what about school", when(10)),
                                     ("bot", "I can't help with that", when(10) + timedelta(seconds=3))],
                         unhelpful=[1])
    from bot.retrain import stores

    marks = stores.read_unhelpful_marks(url)
    assert len(marks) == 1 and marks[0].conversation_id == "c1"
    items = inbox.build_inbox(stores.read_events(tmp_path / "tracker.db"), marks, NO_SAMPLE,
                              redact=identity_redact_for_tests_only, known_texts=set(), test_texts=set())
    assert texts(items) == ["who pays for the kids"]  # c1's first message only; c2's is confident
    assert items[0].reasons == ["marked_unhelpful"] and items[0].conversation_ids == ["c1"]


def test_a_repeatable_random_sample_of_confident_messages_is_shown(tmp_path):
    conversation = [user(f"question {hashlib.md5(str(n).encode()).hexdigest()}", "kinship_care_options", SURE,
                         at(1000 - n)) for n in range(400)]
    events = events_from(write_tracker(tmp_path / "tracker.db", [("c1", conversation)]))

    def sample(rate, seed):
        items = inbox.build_inbox(events, [], InboxRules(sample_rate=rate, sample_seed=seed, duplicate_ratio=100),
                                  redact=identity_redact_for_tests_only, known_texts=set(), test_texts=set())
        assert all(i.reasons == ["sample"] for i in items)
        return texts(items)

    assert sample(0.0, 42) == []
    assert len(sample(1.0, 42)) == 400
    five_percent = sample(0.05, 42)
    assert 8 <= len(five_percent) <= 35  # about 20 of 400
    assert sample(0.05, 42) == five_percent  # same seed, same pick
    assert sample(0.05, 7) != five_percent  # another seed, another pick


def test_flagged_items_come_before_the_random_sample(tmp_path):
    items = select(tmp_path, [("c1", [
        user("confident one", "greet", SURE, at(10)),
        user("unsure one", "greet", 0.3, at(5)),
    ])], rules=InboxRules(sample_rate=1.0))
    assert [(i.text, i.reasons) for i in items] == [("unsure one", ["low_confidence"]),
                                                   ("confident one", ["sample"])]


def test_button_payloads_are_never_shown(tmp_path):
    items = select(tmp_path, [("c1", [
        user("/section_20", "section_20", 0.2, at(10)),
        user('/inform{"proceedings_stage": "court"}', "inform", 0.1, at(9)),
        user("i need help", "speak_to_adviser", 0.5, at(8)),
    ])], rules=InboxRules(sample_rate=1.0))
    assert texts(items) == ["i need help"]


def test_the_payload_before_a_handoff_is_not_shown_either(tmp_path):
    items = select(tmp_path, [("c1", [
        user("/section_20", "section_20", 1.0, at(10)),
        user("can i talk to someone", "speak_to_adviser", SURE, at(9)),
    ])])
    assert texts(items) == []


def test_messages_to_an_adviser_while_rasa_was_paused_are_not_shown(tmp_path):
    items = select(tmp_path, [("c1", [
        user("help with my sgo", "special_guardianship", 0.5, at(20)),
        pause(at(19)),
        user("thanks Sam, his name is Tom and hes 4", "thanks", 0.3, at(18)),
        bot("Thanks, noted", at(17), adviser="sam"),
        resume(at(15)),
        user("back to the bot now, what about money", "kinship_financial_support", 0.5, at(14)),
    ])])
    assert texts(items) == ["back to the bot now, what about money", "help with my sgo"]  # newest first


def test_near_duplicates_are_grouped_with_a_count(tmp_path):
    items = select(tmp_path, [
        ("c1", [user("what is a special guardianship order", "special_guardianship", 0.5, at(30))]),
        ("c2", [user("What is a special guardianship order?", "special_guardianship", 0.45, at(20))]),
        ("c3", [user("what is a special guardianship ordr", "nlu_fallback", 0.4, at(10))]),
        ("c4", [user("what is a child arrangements order", "child_arrangements_order", 0.5, at(5))]),
    ])
    assert [(i.text, i.count) for i in items] == [("what is a special guardianship order", 3),
                                                  ("what is a child arrangements order", 1)]
    group = items[0]
    assert group.reasons == ["fallback", "low_confidence"]
    assert group.conversation_ids == ["c1", "c2", "c3"]
    assert group.variants == ["what is a special guardianship ordr"]  # the exact repeat is not a variant
    assert group.first_seen == at(30) and group.last_seen == at(10)


def test_grouping_uses_the_configured_similarity(tmp_path):
    conversations = [("c1", [user("what is a special guardianship order", "special_guardianship", 0.5, at(30))]),
                     ("c2", [user("what is a special guardianship ordr", "special_guardianship", 0.5, at(20))])]
    assert len(select(tmp_path, conversations, rules=InboxRules(sample_rate=0, duplicate_ratio=100))) == 2


def test_already_labelled_or_decided_messages_are_not_shown_again(tmp_path):
    items = select(tmp_path, [("c1", [
        user("What is an SGO??", "special_guardianship", 0.5, at(10)),
        user("something new", "greet", 0.5, at(9)),
    ])], known={"what is an sgo"})
    assert texts(items) == ["something new"]


def test_messages_in_the_test_set_are_flagged_so_they_cannot_be_labelled(tmp_path):
    items = select(tmp_path, [("c1", [user("sgo allowance how much", "kinship_financial_support", 0.5, at(10))])],
                   test_texts={"sgo allowance how much"})
    assert items[0].in_test_set


def test_every_text_is_redacted_before_it_is_grouped_or_shown(tmp_path):
    items = select(tmp_path, [
        ("c1", [user("my name is Sarah call me on 07700 900123", "speak_to_adviser", 0.5, at(10))]),
        ("c2", [user("my name is Sarah call me on 07700 900999", "speak_to_adviser", 0.5, at(9))]),
    ], redact=marking_redact)
    assert [(i.text, i.count) for i in items] == [("my name is [NAME] call me on [PHONE]", 2)]
    shown = str([i.to_dict() for i in items])
    assert "Sarah" not in shown and "07700" not in shown
    assert items[0].normalised == ["my name is name call me on phone"]


def test_ids_are_stable_and_items_serialise(tmp_path):
    conversations = [("c1", [user("what about contact with my grandson", "contact_with_child", 0.5, at(10))])]
    first = select(tmp_path, conversations)[0]
    assert first.id == inbox.item_id("what about contact with my grandson") and len(first.id) == 8
    data = first.to_dict()
    assert data["reason_text"] == ["the model was unsure"] and data["last_seen"] == "2026-11-20T11:50:00Z"


def test_load_inbox_reads_the_stores_and_leaves_out_old_and_decided_messages(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    cfg = make_config(project)
    write_tracker(Path(cfg.tracker_db), [("c1", [
        user("message from long ago", "greet", 0.2, at(60 * 24 * 31)),          # older than 30 days
        user("my name is Sarah, what is an sgo", "special_guardianship", 0.3, at(60)),
        user("a message staff marked not useful", "greet", 0.2, at(50)),
        user("SGO allowance?", "kinship_financial_support", 0.2, at(40)),       # already training data
    ])])
    AuditLog(cfg.audit_log).record("kim", "not_useful", NOW, before={
        "text": "a message staff marked not useful",
        "fingerprints": [privacy.fingerprint("a message staff marked not useful")]})
    monkeypatch.setattr(privacy, "redact", marking_redact)
    items = inbox.load_inbox(cfg, NOW)
    assert texts(items) == ["my name is [NAME], what is an sgo"]
    assert inbox.find_item(items, items[0].id) is items[0] and inbox.find_item(items, "nope") is None


def test_redact_fails_loudly_when_bot_redact_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "bot.redact", None)  # import bot.redact -> ImportError
    with pytest.raises(privacy.RedactionUnavailable, match="refuse"):
        privacy.redact("my name is Sarah")


def test_the_inbox_refuses_to_show_anything_without_redaction(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    cfg = make_config(project)
    write_tracker(project / "var" / "tracker.db", [("c1", [user("my name is Sarah", "greet", 0.2, at(60))])])
    monkeypatch.setitem(sys.modules, "bot.redact", None)
    with pytest.raises(privacy.RedactionUnavailable):
        inbox.load_inbox(cfg, NOW)


def test_normalise_matches_the_training_data_checks():
    assert privacy.normalise("  What's an [SGO](kinship_arrangement)?!  ") == "whats an sgo"
    assert privacy.normalise("hi\n\tthere") == "hi there"

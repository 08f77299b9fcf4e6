"""Every custom action run through rasa_sdk with a real Tracker and dispatcher."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_gate
from actions.content_store import load_content
from actions.actions import (
    ActionAnswerTopic,
    ActionClarify,
    ActionHandoff,
    ActionEmergency,
    ActionNotHelpful,
    ActionNotePlace,
    ActionTellMore,
    ActionYesNo,
)


def tracker(text, intent, slots=None, entities=None, ranking=None):
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    return Tracker("test-user", slots or {}, latest, [], False, None, {}, "action_listen")


async def run_raw(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


async def run(action, t):
    """What the family sees (signals to the gateway, sent as custom payloads, left out)."""
    messages, events = await run_raw(action, t)
    return [m for m in messages if not m.get("custom")], events


def signals(messages):
    return [m["custom"] for m in messages if m.get("custom")]


async def test_answer_topic_sends_bubbles_and_sets_last_topic():
    messages, events = await run(ActionAnswerTopic(), tracker("what is an SGO", "special_guardianship"))
    assert len(messages) >= 2 and "special guardian" in messages[0]["text"].lower()
    assert messages[-1]["buttons"]  # tell me more / talk to a person
    assert SlotSet("last_topic", "special_guardianship") in events


async def test_answer_topic_asks_then_tailors_financial_support():
    messages, events = await run(ActionAnswerTopic(), tracker("money?", "kinship_financial_support"))
    assert SlotSet("pending_question", "kinship_arrangement") in events
    assert any('"kinship_arrangement":"cao"' in b["payload"] for b in messages[-1]["buttons"])
    slots = {"pending_question": "kinship_arrangement", "kinship_arrangement": "cao"}
    messages, events = await run(ActionAnswerTopic(), tracker('/inform{"kinship_arrangement":"cao"}', "inform", slots))
    assert SlotSet("kinship_arrangement", "cao") in events
    assert "0808 801 0366" in messages[-1]["text"]


async def test_tell_more():
    messages, _ = await run(ActionTellMore(), tracker("go on", "more", {"last_topic": "section_20"}))
    assert messages and messages[-1]["text"]


async def test_the_words_of_the_message_choose_a_sub_answer_in_both_actions():
    final = load_content().aspects["final_hearing"].answer
    messages, events = await run(ActionAnswerTopic(), tracker("what happens at the final hearing?",
                                                             "care_proceedings_overview"))
    assert [m["text"] for m in messages[: len(final)]] == final
    assert SlotSet("last_topic", "care_proceedings_overview") in events
    assert SlotSet("pending_question", None) in events  # no stage question before this answer
    messages, _ = await run(ActionTellMore(), tracker("tell me more about the final hearing", "more",
                                                      {"last_topic": "care_proceedings_overview"}))
    assert [m["text"] for m in messages[: len(final)]] == final


async def test_clarify_uses_the_intent_ranking():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "legal_aid", "confidence": 0.3}]
    messages, events = await run(ActionClarify(), tracker("blah solicitor blah", "nlu_fallback", ranking=ranking))
    assert [b["payload"] for b in messages[0]["buttons"]][0] == "/legal_aid"
    assert SlotSet("misunderstood_count", 1.0) in events


async def test_not_helpful_offers_a_person():
    messages, _ = await run(ActionNotHelpful(), tracker("useless", "not_helpful"))
    assert "0808 801 0366" in " ".join(m["text"] for m in messages)


@pytest.mark.parametrize("text", ["he's hitting my daughter right now", "i'm going to kill myself tonight"])
async def test_emergency_first_message_has_999(text):
    messages, events = await run(ActionEmergency(), tracker(text, "emergency_risk"))
    assert "999" in messages[0]["text"]
    assert SlotSet("emergency_flag", True) in events


async def test_emergency_offers_the_topic_the_classifier_read_after_the_numbers():
    t = tracker("they said they'd take the baby into care at the hospital tomorrow", "emergency_risk")
    t.latest_message["safety_net"] = {"override": True, "by": "model", "classifier_intent": "care_proceedings_overview",
                                      "classifier_confidence": 0.55}
    messages, _ = await run(ActionEmergency(), t)
    assert "999" in messages[0]["text"]
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/care_proceedings_overview"]


async def test_note_place_reads_the_entity_and_remembers_the_council():
    entities = [{"entity": "place", "value": "Kirklees", "start": 14, "end": 22}]
    messages, events = await run(ActionNotePlace(), tracker("my council is Kirklees", "inform_council", entities=entities))
    assert "Kirklees Council" in messages[0]["text"]
    assert SlotSet("council", "Kirklees Council") in events


async def test_note_place_falls_back_to_the_whole_message_when_the_entity_is_wrong():
    entities = [{"entity": "place", "value": "live", "start": 3, "end": 7}]
    messages, events = await run(ActionNotePlace(), tracker("we live near Harrogate", "inform_council", entities=entities))
    assert SlotSet("council", "North Yorkshire Council") in events


async def test_note_place_unknown_place_asks_again():
    messages, events = await run(ActionNotePlace(), tracker("Narnia", "inform_council"))
    assert "couldn't find \"Narnia\"" in messages[0]["text"]
    assert SlotSet("pending_question", "place") in events


async def test_clarify_reads_a_short_answer_to_where_do_you_live_as_a_place_attempt():
    slots = {"pending_question": "place", "place_tries": 1.0}
    messages, events = await run(ActionClarify(), tracker("Little Snoringham", "nlu_fallback", slots=slots))
    assert "type your council's name" in messages[0]["text"]  # the second miss: no third question
    assert SlotSet("pending_question", None) in events


async def test_local_policy_uses_the_council_named_in_the_question():
    messages, events = await run(ActionAnswerTopic(), tracker("what does Leeds council offer kinship carers", "kinship_local_policy"))
    text = " ".join(m["text"] for m in messages)
    from bot.councils.directory import load_directory
    leeds = next(c for c in load_directory().councils if c.name == "Leeds City Council")
    offer = leeds.links.get("kinship_local_offer")
    assert "Leeds City Council" in text and (offer.url if offer else leeds.website) in text
    assert SlotSet("council", "Leeds City Council") in events


async def test_local_policy_without_a_council_asks_where_they_live_then_answers():
    messages, events = await run(ActionAnswerTopic(), tracker("what support does my council give kinship carers", "kinship_local_policy"))
    assert SlotSet("pending_question", "place") in events
    slots = {"pending_question": "place", "last_topic": "kinship_local_policy"}
    messages, events = await run(ActionAnswerTopic(), tracker("Crawley", "out_of_scope", slots))
    text = " ".join(m["text"] for m in messages)
    assert "West Sussex County Council" in text and "kinship local offer" in text
    assert SlotSet("council", "West Sussex County Council") in events


async def test_yes_no():
    messages, _ = await run(ActionYesNo(), tracker("no", "deny", {"last_topic": "legal_aid"}))
    assert messages[-1]["buttons"]


async def test_answers_ask_for_feedback_but_questions_do_not():
    messages, _ = await run_raw(ActionAnswerTopic(), tracker("what is an SGO", "special_guardianship"))
    assert signals(messages) == [{"ask_feedback": True, "topic": "special_guardianship"}]  # topic: the reports
    messages, _ = await run_raw(ActionAnswerTopic(), tracker("money?", "kinship_financial_support"))
    assert signals(messages) == []


@pytest.fixture
def gateway_says(monkeypatch):
    """Fix the clock and what the gateway would say about available advisers."""
    from datetime import datetime, timezone

    def fix(when, advisers):
        monkeypatch.setattr(handoff_gate, "clock", lambda: when)

        async def available():
            return advisers

        monkeypatch.setattr(handoff_gate, "advisers_available", available)

    fix.thursday_afternoon = datetime(2026, 12, 3, 13, 30, tzinfo=timezone.utc)
    fix.saturday = datetime(2026, 12, 5, 11, 0, tzinfo=timezone.utc)
    return fix


async def test_handoff_in_hours_with_an_adviser_asks_the_gateway_to_queue(gateway_says):
    gateway_says(gateway_says.thursday_afternoon, 1)
    messages, events = await run_raw(ActionHandoff(), tracker("can I talk to someone", "speak_to_adviser"))
    assert signals(messages) == [{"handoff": "request"}]
    assert "queue" in messages[0]["text"]


async def test_handoff_out_of_hours_says_when_and_what_else(gateway_says):
    gateway_says(gateway_says.saturday, 1)
    messages, _ = await run_raw(ActionHandoff(), tracker("can I talk to someone", "speak_to_adviser"))
    assert signals(messages) == [{"person_wanted": "closed"}]  # counted in the reports
    text = messages[0]["text"]
    assert "Monday 7 December, 1pm" in text and "0808 801 0366" in text and "email advice enquiry form" in text
    assert messages[0]["buttons"]  # topics to keep going with the bot


async def test_handoff_in_hours_with_nobody_free_does_not_queue(gateway_says):
    gateway_says(gateway_says.thursday_afternoon, 0)
    messages, _ = await run_raw(ActionHandoff(), tracker("adviser please", "speak_to_adviser"))
    assert signals(messages) == [{"person_wanted": "no_adviser"}] and "no adviser is free" in messages[0]["text"]


async def test_second_misunderstanding_runs_the_handoff_decision(gateway_says):
    gateway_says(gateway_says.thursday_afternoon, 2)
    messages, events = await run_raw(ActionClarify(), tracker("blah", "nlu_fallback", {"misunderstood_count": 1.0}))
    assert "still not understanding" in messages[0]["text"]
    assert signals(messages) == [{"handoff": "request"}, {"not_sure": True}]
    assert SlotSet("misunderstood_count", 0.0) in events


async def test_gateway_unreachable_means_nobody_is_available(monkeypatch):
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert await handoff_gate.advisers_available() == 0


async def test_clarify_answers_a_place_it_recognises_instead_of_guessing():
    messages, events = await run(ActionClarify(), tracker("we are in Swansea now", "nlu_fallback",
                                                          ranking=[{"name": "nlu_fallback", "confidence": 0.5}]))
    assert "England" in messages[0]["text"]


async def test_a_question_and_a_place_in_one_message_answers_the_question_for_that_council():
    text = "my granddaughter is in foster care and i want her to live with me. we live in leeds"
    ranking = [{"name": "inform_council", "confidence": 0.5}, {"name": "kinship_foster_care", "confidence": 0.3},
               {"name": "kinship_care_options", "confidence": 0.1}]
    messages, events = await run(ActionNotePlace(), tracker(text, "inform_council", ranking=ranking,
                                                            entities=[{"entity": "place", "value": "leeds"}]))
    texts = [m["text"] for m in messages if m.get("text")]
    topic = load_content().topics["kinship_foster_care"]
    assert topic.answer[0] in texts  # the question is answered, not dropped
    assert SlotSet("council", "Leeds City Council") in events
    assert SlotSet("last_topic", "kinship_foster_care") in events  # the adviser's queue card shows the topic


async def test_a_place_alone_is_noted_without_guessing_a_topic():
    ranking = [{"name": "inform_council", "confidence": 0.9}, {"name": "kinship_foster_care", "confidence": 0.05}]
    messages, events = await run(ActionNotePlace(), tracker("we live in leeds", "inform_council", ranking=ranking,
                                                            entities=[{"entity": "place", "value": "leeds"}]))
    assert SlotSet("council", "Leeds City Council") in events
    assert not any(e.get("name") == "last_topic" for e in events)

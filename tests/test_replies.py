"""Every branch of every flow, through the pure reply planner (actions/replies.py)."""
import json

from actions import replies
from actions.content_store import load_content

C = load_content()
EMPTY = {"misunderstood_count": 0.0}


def payloads(reply):
    return [b["payload"] for bubble in reply.bubbles for b in bubble.buttons]


def test_plain_topic_answer_ends_with_next_step_and_offers_more_and_a_person():
    reply = replies.answer_topic(C, "section_20", "what is section 20", EMPTY)
    topic = C.topics["section_20"]
    assert reply.texts[: len(topic.answer)] == topic.answer
    assert reply.texts[-1] == C.next_steps[topic.next_step]
    assert "/more" in payloads(reply) and "/speak_to_adviser" in payloads(reply)
    assert reply.slots["last_topic"] == "section_20"
    assert reply.slots["pending_question"] is None


def test_financial_support_asks_the_arrangement_when_unknown():
    reply = replies.answer_topic(C, "kinship_financial_support", "can i get money", EMPTY)
    assert reply.slots["pending_question"] == "kinship_arrangement"
    assert '/inform{"kinship_arrangement":"sgo"}' in payloads(reply)


def test_financial_support_is_tailored_by_button_answer():
    slots = {"pending_question": "kinship_arrangement", "kinship_arrangement": "sgo"}
    reply = replies.answer_topic(C, "inform", '/inform{"kinship_arrangement":"sgo"}', slots)
    assert reply.texts[: len(C.variant("kinship_financial_support", "sgo"))] == C.variant("kinship_financial_support", "sgo")
    assert reply.slots["kinship_arrangement"] == "sgo" and reply.slots["pending_question"] is None


def test_financial_support_is_tailored_by_free_text_even_if_classified_as_another_topic():
    slots = {"pending_question": "kinship_arrangement"}
    reply = replies.answer_topic(C, "special_guardianship", "special guardianship order", slots)
    assert reply.texts[0] == C.variant("kinship_financial_support", "sgo")[0]


def test_known_arrangement_in_the_question_answers_straight_away():
    reply = replies.answer_topic(C, "kinship_financial_support", "what money do foster carers for family get", EMPTY)
    assert reply.texts[0] == C.variant("kinship_financial_support", "kinship_foster")[0]


def test_unclear_answer_to_the_question_asks_again_with_buttons():
    slots = {"pending_question": "proceedings_stage"}
    reply = replies.answer_topic(C, "inform", "hmm well it's complicated", slots)
    assert reply.slots == {"pending_question": "proceedings_stage"}
    assert '/inform{"proceedings_stage":"court"}' in payloads(reply)


def test_a_different_question_while_one_is_pending_is_answered_and_clears_it():
    slots = {"pending_question": "proceedings_stage"}
    reply = replies.answer_topic(C, "ombudsman", "how do i go to the ombudsman", slots)
    assert reply.slots["last_topic"] == "ombudsman" and reply.slots["pending_question"] is None


def test_care_proceedings_tailored_by_stage():
    for stage in ("sw_visits", "cp_conference", "pre_proceedings", "court", "child_removed", "not_sure"):
        reply = replies.answer_topic(C, "inform", "", {"pending_question": "proceedings_stage", "proceedings_stage": stage})
        assert reply.texts[0] == C.variant("care_proceedings_stage", stage)[0], stage


def test_complaint_routes_differ_and_court_decisions_are_appeals():
    routes = {}
    for who in ("social_worker", "council", "cafcass", "court", "solicitor"):
        reply = replies.answer_topic(C, "inform", "", {"pending_question": "complaint_about", "complaint_about": who})
        routes[who] = reply.texts[0]
    assert len(set(routes.values())) == 5
    assert "appeal" in " ".join(C.variant("complaint_route", "court")).lower()


def test_complaint_about_social_worker_sets_who_it_is_about():
    reply = replies.answer_topic(C, "complaint_about_social_worker", "my sw is rude", EMPTY)
    assert reply.slots["complaint_about"] == "social_worker"


def test_inform_without_a_question_notes_the_situation_and_offers_topics():
    reply = replies.answer_topic(C, "inform", "I'm her special guardian", EMPTY)
    assert reply.slots["kinship_arrangement"] == "sgo"
    assert "/kinship_financial_support" in payloads(reply)


def test_tell_more_uses_the_last_topic_and_handles_none():
    reply = replies.tell_more(C, {"last_topic": "special_guardianship"})
    assert reply.texts[: len(C.topics["special_guardianship"].more)] == C.topics["special_guardianship"].more
    assert "/more" not in payloads(reply)
    assert "/kinship_care_options" in payloads(replies.tell_more(C, {}))


def test_clarify_offers_closest_topics_then_a_person_after_two_misses():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "section_20", "confidence": 0.3},
               {"name": "emergency_risk", "confidence": 0.1}, {"name": "greet", "confidence": 0.05},
               {"name": "legal_aid", "confidence": 0.05}]
    first = replies.clarify(C, ranking, EMPTY)
    assert first.texts == [C.say("clarify", "first")]
    assert payloads(first) == ["/section_20", "/legal_aid", "/speak_to_adviser"]
    assert first.slots["misunderstood_count"] == 1.0
    second = replies.clarify(C, ranking, {"misunderstood_count": 1.0})
    assert second.texts == [C.say("clarify", "again")] and second.wants_person
    assert second.slots["misunderstood_count"] == 0.0


def test_clarify_with_no_usable_guess_shows_the_menu():
    reply = replies.clarify(C, [], EMPTY)
    assert "/kinship_care_options" in payloads(reply)


def test_not_helpful_offers_a_person_and_topics():
    reply = replies.not_helpful(C, {"last_topic": "section_20"})
    assert "0808 801 0366" in " ".join(reply.texts) and "/speak_to_adviser" in payloads(reply)


def test_emergency_reply_is_fitted_to_who_is_in_danger():
    self_harm = replies.emergency(C, "i want to kill myself")
    assert "999" in self_harm.texts[0] and "116 123" in " ".join(self_harm.texts)
    child = replies.emergency(C, "he is hitting the baby right now")
    assert "999" in child.texts[0] and "0808 800 5000" in " ".join(child.texts)
    unknown = replies.emergency(C, "something the classifier flagged")
    assert "999" in unknown.texts[0]
    assert self_harm.slots["emergency_flag"] is True


def test_a_topic_read_under_an_emergency_is_offered_after_the_numbers():
    net = {"override": True, "by": "model", "classifier_intent": "section_20", "classifier_confidence": 0.62}
    reply = replies.emergency(C, "the police came and took my kids under section 20, can they do that", net)
    assert "999" in reply.texts[0]
    assert reply.bubbles[-1].text == C.say("emergency", "also")
    assert payloads(reply)[-1] == "/section_20"
    assert reply.slots["emergency_flag"] is True
    # nothing is offered when the classifier itself read danger, was unsure, or read no topic
    for other in ({**net, "classifier_intent": "emergency_risk"}, {**net, "classifier_confidence": 0.1},
                  {**net, "classifier_intent": "nlu_fallback"}, {**net, "override": False}, None):
        assert "/section_20" not in payloads(replies.emergency(C, "he is hitting her now", other))


def test_yes_no():
    assert replies.yes_no(C, "affirm", {"last_topic": "section_20"}).texts[0] == C.topics["section_20"].more[0]
    assert replies.yes_no(C, "deny", {"last_topic": "section_20"}).texts[0] == C.say("clarify", "deny")
    asked = replies.yes_no(C, "affirm", {"pending_question": "complaint_about"})
    assert asked.slots == {"pending_question": "complaint_about"}


def test_button_payloads_are_valid_rasa_payloads():
    reply = replies.answer_topic(C, "complaints_procedure", "how do i complain", EMPTY)
    for p in payloads(reply):
        if "{" in p:
            json.loads(p[p.index("{"):])


def test_person_queues_only_when_the_decision_says_so():
    from datetime import datetime, timezone

    from bot.handoff_decision import decide
    from bot.service_hours import load_policy

    policy = load_policy(env={})
    thursday = datetime(2026, 12, 3, 13, 30, tzinfo=timezone.utc)
    queued = replies.person(C, decide(policy, thursday, 1))
    assert queued.handoff and queued.texts == [C.say("handoff", "queue")]
    lead = replies.clarify(C, [], {"misunderstood_count": 1.0})
    closed = replies.person(C, decide(policy, datetime(2026, 12, 5, 11, tzinfo=timezone.utc), 1), lead)
    assert not closed.handoff and closed.texts[0] == C.say("clarify", "again")
    assert "0808 801 0366" in closed.texts[1] and "/speak_to_adviser" not in payloads(closed)
    assert closed.slots["misunderstood_count"] == 0.0 and closed.slots["pending_question"] is None


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_a_message_with_two_topics_answers_the_main_one_and_offers_the_other_as_a_button():
    text = "we have an sgo for our grandson, can we get an allowance, and his dad wants contact"
    reply = replies.answer_topic(C, "special_guardianship", text, EMPTY,
                                 ranking=ranking(("special_guardianship", 0.55), ("contact_with_child", 0.3)))
    topic = C.topics["special_guardianship"]
    assert reply.texts[: len(topic.answer)] == topic.answer
    assert C.say("clarify", "also") in reply.texts
    assert "/contact_with_child" in payloads(reply)
    assert reply.slots["last_topic"] == "special_guardianship"


def test_no_second_topic_button_when_the_runner_up_is_weak_or_not_a_topic():
    weak = replies.answer_topic(C, "section_20", "what is section 20", EMPTY,
                                ranking=ranking(("section_20", 0.9), ("interim_care_order", 0.05)))
    assert C.say("clarify", "also") not in weak.texts
    not_topic = replies.second_topic(C, ranking(("section_20", 0.5), ("greet", 0.4)), "section_20")
    assert not_topic is None


def test_second_topic_skips_the_chosen_intent_and_looks_only_at_the_next_two():
    rows = ranking(("ombudsman", 0.4), ("complaints_procedure", 0.35), ("legal_aid", 0.1), ("section_20", 0.1))
    assert replies.second_topic(C, rows, "ombudsman") == "complaints_procedure"
    assert replies.second_topic(C, rows, "complaints_procedure") is None  # ombudsman is first, not a runner-up
    assert replies.second_topic(C, [], "ombudsman") is None


# Sub-answers chosen by words in the message (`aspects` in answers.yml): the family's own phrasing of a
# question the classifier files under the nearest topic reaches the right answer, with no intent of its own.

import pytest  # noqa: E402

ASPECT_PHRASINGS = [
    ("care_proceedings_overview", "what happens at the final hearing?", "final_hearing"),
    ("care_proceedings_overview", "the final hearing is next week, what do i do", "final_hearing"),
    ("care_proceedings_overview", "can i appeal the judges decision", "final_hearing"),
    ("interim_care_order", "when is the final hearing after an ICO", "final_hearing"),
    ("care_proceedings_overview", "what is a placement order", "placement_and_adoption"),
    ("care_proceedings_overview", "social services want my baby adopted", "placement_and_adoption"),
    ("legal_aid", "can i get legal aid to fight the adoption", "placement_and_adoption"),
    ("legal_aid", "what is civil legal advice", "civil_legal_advice"),
    ("legal_aid", "is there a government helpline for legal aid", "civil_legal_advice"),
    ("kinship_foster_care", "what is staying put", "staying_put"),
    ("kinship_foster_care", "can my foster grandson stay with me after he turns 18", "staying_put"),
    ("child_in_need", "what help do care leavers get", "staying_put"),
    ("kinship_foster_care", "who is the IRO and what do they do", "reviewing_officer"),
    ("care_proceedings_overview", "i want to speak to the independent reviewing officer", "reviewing_officer"),
    ("kinship_local_policy", "can the council give me a one-off payment for a bed", "practical_help"),
    ("kinship_local_policy", "are there support groups for grandparents raising grandkids", "practical_help"),
    ("kinship_care_options", "we need a bigger house now the kids live with us", "practical_help"),
    ("kinship_care_options", "what is a viability assessment", "viability_assessment"),
    ("care_proceedings_overview", "the letter says parallel planning, what does that mean", "parallel_planning"),
    ("care_proceedings_overview", "they said twin track for adoption", "parallel_planning"),
]


@pytest.mark.parametrize("intent,text,aspect", ASPECT_PHRASINGS)
def test_the_planner_picks_the_sub_answer_the_message_asks_for(intent, text, aspect):
    assert C.aspect_for(intent, text).name == aspect
    reply = replies.answer_topic(C, intent, text, EMPTY)
    answer = C.aspects[aspect].answer
    assert reply.texts[: len(answer)] == answer
    assert reply.texts[-1] == C.next_steps[C.aspects[aspect].next_step]
    assert reply.slots["last_topic"] == intent
    # no question about the family's situation; only the council topics ask where they live
    assert reply.slots["pending_question"] == ("place" if intent in replies.ASK_FOR_COUNCIL else None)
    assert "/speak_to_adviser" in payloads(reply)


def test_twin_track_for_adoption_is_parallel_planning_not_the_adoption_answer():
    # "twin track for adoption" names adoption, but asks what twin-track planning is
    assert C.aspect_for("care_proceedings_overview", "twin track for adoption").name == "parallel_planning"


@pytest.mark.parametrize("intent,text", [
    ("care_proceedings_overview", "they made a care order on my son"),
    ("care_proceedings_overview", "what happens in care proceedings"),
    ("kinship_financial_support", "can i get housing benefit for my niece"),
    ("kinship_financial_support", "can i get money"),
    ("kinship_care_options", "can i adopt my grandson"),  # a carer adopting: not the parents' placement answer
    ("special_guardianship", "what happens when she turns 18"),
    ("section_20", '/inform{"proceedings_stage":"court"}'),
])
def test_no_sub_answer_without_its_words_and_flows_still_ask_their_question(intent, text):
    assert C.aspect_for(intent, text) is None
    reply = replies.answer_topic(C, intent, text, EMPTY)
    topic = C.topics[intent]
    if intent in replies.FLOWS:
        assert reply.slots["pending_question"] == replies.FLOWS[intent].slot
    else:
        assert reply.texts[: len(topic.answer)] == topic.answer


def test_a_sub_answer_only_under_its_own_topics():
    assert C.aspect_for("ombudsman", "what is a placement order") is None
    assert C.aspect_for("complaints_procedure", "what happens at the final hearing") is None


def test_tell_me_more_after_a_sub_answer_gives_the_topics_detail():
    reply = replies.answer_topic(C, "care_proceedings_overview", "what happens at the final hearing", EMPTY)
    assert "/more" in payloads(reply)
    more = replies.tell_more(C, reply.slots).texts
    assert more[: len(C.topics["care_proceedings_overview"].more)] == C.topics["care_proceedings_overview"].more


def test_sub_answer_words_stay_fast_on_the_longest_message_a_family_can_send():
    import time

    from bot.settings import Settings

    longest = Settings.__dataclass_fields__["max_message_chars"].default  # MAX_MESSAGE_CHARS, 2000
    for text in ("stay" * (longest // 4), "staying a " * (longest // 10), "after " * (longest // 6), "x" * longest):
        start = time.perf_counter()
        for intent in C.topics:
            C.aspect_for(intent, text)
        assert time.perf_counter() - start < 0.2, text[:20]


def test_tell_me_more_about_a_sub_subject_gives_that_sub_answer():
    slots = {"last_topic": "care_proceedings_overview"}
    reply = replies.tell_more(C, slots, "tell me more about the final hearing")
    answer = C.aspects["final_hearing"].answer
    assert reply.texts[: len(answer)] == answer
    assert reply.texts[-1] == C.next_steps["solicitor"]
    assert "/more" in payloads(reply)  # the topic's own detail is still one tap away
    assert reply.slots["last_topic"] == "care_proceedings_overview"
    plain = replies.tell_more(C, slots, "tell me more")
    assert plain.texts[: len(C.topics["care_proceedings_overview"].more)] == C.topics["care_proceedings_overview"].more
    assert replies.tell_more(C, slots, "/more").texts == plain.texts

"""What the bot says about a family's council (actions/council_replies.py), including links."""
from actions.content_store import load_content
import pytest

from actions.council_replies import council_bubbles, place_reply, waiting_for_place
from bot.councils.directory import load_directory, parse_directory
from bot.councils.matcher import CouncilMatcher

C = load_content()
D = load_directory()
M = CouncilMatcher(D)


def reply_for(text, **slots):
    return place_reply(C, D, M.match(text), text, slots)


def test_found_council_is_remembered_and_menu_offered():
    reply = reply_for("we live in Harrogate")
    assert "North Yorkshire Council" in reply.texts[0]
    assert reply.slots == {"council": "North Yorkshire Council", "pending_question": None, "place_tries": 0.0}
    assert "/council_contact" in [b["payload"] for b in reply.bubbles[-1].buttons]


def test_found_council_after_a_local_offer_question_answers_it_and_says_we_lack_the_link():
    reply = reply_for("Kirklees", last_topic="kinship_local_policy")
    text = " ".join(reply.texts)
    assert "We don't hold a link to Kirklees Council's kinship local offer" in text
    assert "https://www.kirklees.gov.uk" in text
    assert "who leads on kinship care" in text and "senior manager" not in text


def test_links_are_shown_when_the_directory_holds_them():
    data = {"councils": [{"name": "Testshire Council", "type": "unitary", "region": "London",
                          "website": "https://www.testshire.gov.uk", "source": "s", "checked": "2026-11-22",
                          "links": {"kinship_local_offer": {"url": "https://www.testshire.gov.uk/kinship",
                                                            "source": "s", "checked": "2026-11-22"}}}]}
    council = parse_directory(data).councils[0]
    texts = [b.text for b in council_bubbles(C, council, "offer")]
    assert any("https://www.testshire.gov.uk/kinship" in t for t in texts)
    assert not any("don't hold a link" in t for t in texts)


def test_ambiguous_place_asks_which_with_buttons():
    reply = reply_for("Richmond")
    payloads = [b["payload"] for b in reply.bubbles[0].buttons]
    assert '/inform_council{"place":"London Borough of Richmond upon Thames"}' in payloads
    assert reply.slots["pending_question"] == "place"
    assert M.match("London Borough of Richmond upon Thames").council == "London Borough of Richmond upon Thames"


def test_outside_england_explains_and_signposts():
    reply = reply_for("we live in Cardiff")
    text = " ".join(reply.texts)
    assert "England only" in text and "Wales" in text and "999" in text
    assert reply.slots["council"] is None


def test_postcode_district_answers_and_unknown_and_dont_know():
    assert "Leeds City Council" in reply_for("LS6 2AB").texts[0]
    assert "couldn't find that postcode" in reply_for("ZZ9 9ZZ").texts[0]
    assert "couldn't find \"Narnia\"" in reply_for("Narnia").texts[0]


def test_an_unknown_place_gets_a_second_try_then_the_council_name_or_a_person():
    first = reply_for("Narnia")
    assert "Which town or city is it near?" in first.texts[0]
    assert first.slots == {"pending_question": "place", "place_tries": 1.0}
    second = reply_for("Cair Paravel", **first.slots)
    assert "type your council's name" in second.texts[0]
    assert [b["payload"] for b in second.bubbles[0].buttons] == ["/speak_to_adviser"]
    assert second.slots == {"pending_question": None, "place_tries": 0.0}  # no third "where do you live?"
    found = reply_for("Norfolk County Council", **second.slots)
    assert "Norfolk County Council" in found.texts[0] and found.slots["place_tries"] == 0.0


def test_a_postcode_we_cannot_place_and_dont_know_count_as_tries_too():
    first = reply_for("ZZ9 9ZZ")
    assert "couldn't find that postcode" in first.texts[0]
    assert "type your council's name" in reply_for("dunno", **first.slots).texts[0]


WAITING = {"pending_question": "place"}


@pytest.mark.parametrize("text", ["Little Snoringham", "thorpe on the wold", "Westcombe-under-Edge"])
def test_a_short_answer_to_where_do_you_live_is_read_as_a_place_first(text):
    reply = waiting_for_place(C, text, "out_of_scope", WAITING)
    assert f'couldn\'t find "{text}"' in reply.texts[0]
    assert reply.slots["pending_question"] == "place"


@pytest.mark.parametrize("text", ["why?", "Why do you need to know", "what for", "how come?", "whats that for??"])
def test_why_do_you_ask_is_answered_and_the_question_asked_again(text):
    reply = waiting_for_place(C, text, "out_of_scope", WAITING)
    assert "I ask so I can point you to your own council" in reply.texts[0]
    assert "Which town, city or council area" in reply.texts[1]
    assert reply.slots == {"pending_question": "place"}  # not counted as a try


@pytest.mark.parametrize("text", ["??", "...", "hmm", "dunno", "not sure tbh"])
def test_non_answers_are_met_with_help_not_dropped(text):
    reply = waiting_for_place(C, text, "greet", WAITING)
    assert "lots of people don't" in reply.texts[0]


def test_a_clear_question_or_a_long_message_is_not_taken_for_a_place():
    assert waiting_for_place(C, "legal aid?", "legal_aid", WAITING) is None
    long = "actually can you tell me what happens at the first court hearing"
    assert waiting_for_place(C, long, "out_of_scope", WAITING) is None
    assert waiting_for_place(C, "Little Snoringham", "out_of_scope", {}) is None  # nothing was asked
    # a question that starts with "why" is a question, not "why do you ask?"
    assert waiting_for_place(C, "why is social services taking my kids", "care_proceedings_overview",
                             WAITING) is None
    assert "Tell me the town" in reply_for("I don't know which council I'm in").texts[0]


def test_hostile_text_is_cut_and_not_interpreted():
    reply = reply_for("<b>" * 1000)
    assert len(reply.texts[0]) < 200

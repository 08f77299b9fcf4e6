"""What the bot says about a family's council (actions/council_replies.py), including links."""
from actions.content_store import load_content
from actions.council_replies import council_bubbles, place_reply
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
    assert reply.slots == {"council": "North Yorkshire Council", "pending_question": None}
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
    assert "don't recognise" in reply_for("Narnia").texts[0]
    assert "Tell me the town" in reply_for("I don't know which council I'm in").texts[0]


def test_hostile_text_is_cut_and_not_interpreted():
    reply = reply_for("<b>" * 1000)
    assert len(reply.texts[0]) < 200

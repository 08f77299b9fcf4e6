"""How answers read: the first reply of every topic and every tailored variant, through the reply
planner (actions/replies.answer_topic), as the family sees it.

- It says the information is general, not legal advice, and offers "Talk to a person".
- The answer itself is at most MAX_WORDS words; the detail is behind "Tell me more".
- A legal term is explained the first time the reply uses it; no case names; for a removed child,
  the police or a court come before section 20.
"""
import re

import pytest

from actions import replies
from actions.content_store import load_content
from actions.council_replies import COUNCIL_TOPICS
from bot.councils.directory import parse_directory

C = load_content()
EMPTY = {"misunderstood_count": 0.0}
GENERAL_INFORMATION = "general information, not legal advice"
PERSON = "/speak_to_adviser"
COUNCIL = parse_directory({"councils": [{"name": "Testshire Council", "type": "unitary", "region": "London",
                                         "website": "https://www.testshire.gov.uk", "source": "s",
                                         "checked": "2026-11-22"}]}).councils[0]


def first_replies():
    """(name, reply, answer paragraphs) for every topic, every topic with a known council, and every
    variant (the reply once the family has said which case is theirs)."""
    cases = []
    for intent, topic in C.topics.items():
        cases.append((intent, replies.answer_topic(C, intent, "", dict(EMPTY)), topic.answer))
    for intent in COUNCIL_TOPICS:
        reply = replies.answer_topic(C, intent, "", dict(EMPTY), council=COUNCIL)
        cases.append((f"{intent} (council known)", reply, reply.texts[: len(C.topics[intent].answer)]))
    for intent, flow in replies.FLOWS.items():
        for value in C.variants[flow.variants]:
            slots = {"pending_question": flow.slot, flow.slot: value}
            cases.append((f"{intent}:{value}", replies.answer_topic(C, "inform", "", slots),
                          C.variant(flow.variants, value)))
    for name, aspect in C.aspects.items():  # a sub-answer is a first reply too, under each of its topics
        for intent in aspect.topics:
            reply = replies.answer_topic(C, intent, ASPECT_ASKED[name], dict(EMPTY))
            cases.append((f"{intent}/{name}", reply, aspect.answer))
    return cases


# A message that asks for each sub-answer (`aspects` in answers.yml).
ASPECT_ASKED = {
    "final_hearing": "what happens at the final hearing",
    "parallel_planning": "what is parallel planning",
    "viability_assessment": "what is a viability assessment",
    "placement_and_adoption": "what is a placement order",
    "civil_legal_advice": "what is civil legal advice",
    "staying_put": "what is staying put",
    "reviewing_officer": "who is the IRO",
    "practical_help": "are there support groups",
}


def test_every_sub_answer_is_asked_for_here():
    assert set(ASPECT_ASKED) == set(C.aspects)
    for name, aspect in C.aspects.items():
        for intent in aspect.topics:
            assert C.aspect_for(intent, ASPECT_ASKED[name]) is aspect, (intent, name)


FIRST_REPLIES = first_replies()
IDS = [name for name, _, _ in FIRST_REPLIES]


def test_every_topic_and_every_option_of_every_question_is_covered():
    names = set(IDS)
    assert set(C.topics) <= names
    for intent, flow in replies.FLOWS.items():
        options = {button["value"] for button in C.say("questions", flow.slot)["buttons"]}
        assert set(C.variants[flow.variants]) == options, "a variant for each option, and no stray keys"
        assert set(C.variants_more.get(flow.variants, {})) <= options
        for value in options:
            assert f"{intent}:{value}" in names


# 1. The general-information line and a person, under every first reply.

@pytest.mark.parametrize("name,reply,paragraphs", FIRST_REPLIES, ids=IDS)
def test_first_reply_says_general_information_and_offers_a_person(name, reply, paragraphs):
    assert reply.texts[: len(paragraphs)] == paragraphs, "the answer comes first"
    after = reply.texts[len(paragraphs):]
    assert any(GENERAL_INFORMATION in text.lower() for text in after), name
    person = [b for bubble in reply.bubbles for b in bubble.buttons if b["payload"] == PERSON]
    assert person and person[0]["title"] == C.say("buttons", "person"), name


def test_a_question_asked_first_comes_with_the_general_information_line_and_a_person():
    reply = replies.answer_topic(C, "care_proceedings_overview", "what happens in care proceedings", EMPTY)
    assert reply.slots["pending_question"] == "proceedings_stage"
    assert reply.texts[-2] == C.say("general_information")
    payloads = [b["payload"] for b in reply.bubbles[-1].buttons]
    assert '/inform{"proceedings_stage":"court"}' in payloads and payloads[-1] == PERSON


def test_a_topic_without_a_next_step_still_ends_with_the_general_information_line():
    topic = C.topics["section_20"]
    bare = type(topic)(intent=topic.intent, title=topic.title, answer=topic.answer, more=topic.more, next_step=None)
    footer = replies._footer(C, bare, offer_more=True)
    assert footer[-1].text == C.say("general_information")
    assert [b["payload"] for b in footer[-1].buttons] == ["/more", PERSON]


# 2. Short first replies.
#
# What is counted: the words of the answer itself, the topic's `answer` paragraphs (or the variant's
# paragraphs) as they are shown, one bubble each, at the start of the reply. Left out: the bubbles
# after them (the family's council, "you may also be asking about", the general-information line
# with the next step, the question the bot asks) and all buttons. A word is a run of characters
# between spaces with at least one letter or digit in it, so "0808 801 0366" is three words, "(20"
# one, and a lone dash none.

MAX_WORDS = 90


def word_count(paragraphs):
    return sum(1 for p in paragraphs for token in p.split() if re.search(r"[A-Za-z0-9]", token))


def test_word_count_counts_words_not_punctuation():
    assert word_count(["Call 0808 801 0366 - now (free)."]) == 6
    assert word_count(["One two.", "Three"]) == 3


@pytest.mark.parametrize("name,reply,paragraphs", FIRST_REPLIES, ids=IDS)
def test_first_reply_is_at_most_90_words(name, reply, paragraphs):
    assert word_count(paragraphs) <= MAX_WORDS, f"{name}: {word_count(paragraphs)} words"


def test_long_variants_keep_their_detail_behind_tell_me_more():
    slots = {"last_topic": "care_proceedings_overview", "proceedings_stage": "child_removed"}
    more = " ".join(replies.tell_more(C, slots).texts)
    assert "7 days" in more and "Williams v Hackney" in more
    plain = replies.tell_more(C, {"last_topic": "care_proceedings_overview"}).texts
    assert plain[: len(C.topics["care_proceedings_overview"].more)] == C.topics["care_proceedings_overview"].more
    answered = replies.answer_topic(C, "inform", "", {"pending_question": "proceedings_stage",
                                                      "proceedings_stage": "child_removed"})
    assert "/more" in [b["payload"] for bubble in answered.bubbles for b in bubble.buttons]


# 3. Legal terms explained where a first reply first uses them; no case names.
#
# Explained means one of: a bracket straight after the term ("parental responsibility (the legal
# right to make decisions for a child)"); the term in brackets straight after what it means ("if
# you agreed to your child going into care (section 20)"); or the sentence that defines it, with
# the term as its subject ("Section 20 is when ...", "A 'child in need' is ...").

LEGAL_TERMS = [
    "parental responsibility", "section 20", "section 47", "section 17", "care proceedings",
    "interim care order", "care order", "supervision order", "placement order",
    "special guardianship order", "child arrangements order", "legal aid", "means test",
    "means-tested", "merits test", "child in need", "letter before proceedings", "children's guardian",
    "kinship local offer", "threshold document", "connected person", "private fostering",
]
_BEFORE_BRACKET = re.compile(r"\((?:an? |the |called )?'?$", re.IGNORECASE)
_AFTER_BRACKET = re.compile(r"^s?'?\s*\((?![A-Z]{2,5}\))")  # not just initials: "(SGO)"
_DEFINES = re.compile(r"^s?'?(?:\s*\([^)]*\))?(?:,[^,]*,)?\s+(?:is|are|means)\b", re.IGNORECASE)
_SUBJECT = re.compile(r"^(?:(?:a|an|the|your)\s+)?'?$", re.IGNORECASE)


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def first_uses(text):
    """(term, sentence, start, end) for the first use of each legal term in the text, a shorter term
    inside a longer one ("care order" in "interim care order") not counted."""
    spans = []
    for term in LEGAL_TERMS:
        for m in re.finditer(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, re.IGNORECASE):
            spans.append((term, m.start(), m.end()))
    spans = [s for s in spans if not any(o[1] <= s[1] and s[2] <= o[2] and o != s for o in spans)]
    seen, uses = set(), []
    for term, start, end in sorted(spans, key=lambda s: s[1]):
        if term not in seen:
            seen.add(term)
            uses.append((term, start, end))
    return uses


def explained(text, start, end):
    boundaries = [m.end() for m in re.finditer(r"[.!?:]\s+", text[:start])]
    before, after = text[boundaries[-1] if boundaries else 0:start], text[end:]
    return bool(_AFTER_BRACKET.match(after) or _BEFORE_BRACKET.search(before)
                or (_SUBJECT.match(before) and _DEFINES.match(after)))


def test_explained_accepts_brackets_and_definitions_and_nothing_else():
    def ok(text, term):
        (found, start, end), = [u for u in first_uses(text) if u[0] == term]
        return explained(text, start, end)

    assert ok("You get parental responsibility (the legal right to decide) too.", "parental responsibility")
    assert ok("If you agreed to care (section 20), you can.", "section 20")
    assert ok("It must look into it (called section 47 enquiries).", "section 47")
    assert ok("Section 20 is when a child goes into care.", "section 20")
    assert ok("A 'child in need' is a child who needs help.", "child in need")
    assert ok("Go on. An interim care order (ICO) is a temporary order.", "interim care order")
    assert not ok("You get parental responsibility while it lasts.", "parental responsibility")
    assert not ok("Legal aid for parents is free.", "legal aid")
    assert not ok("Ask if the council's section 20 is right.", "section 20")
    assert not ok("Apply for a special guardianship order (SGO) now.", "special guardianship order")
    assert [u[0] for u in first_uses("An interim care order, then a care order.")] == ["interim care order", "care order"]


@pytest.mark.parametrize("name,reply,paragraphs", FIRST_REPLIES, ids=IDS)
def test_legal_terms_are_explained_the_first_time_a_first_reply_uses_them(name, reply, paragraphs):
    text = " ".join(paragraphs)
    unexplained = [term for term, start, end in first_uses(text) if not explained(text, start, end)]
    assert not unexplained, f"{name}: explain {unexplained} where first used"


CASE_NAME = re.compile(r"\b[A-Z][\w()]*(?: [A-Z]\w*)* v\.? [A-Z]|\bRe [A-Z]{1,3}\b|\[\d{4}\]|\bEWCA\b|\bUKSC\b")


def test_case_name_pattern():
    for name in ("Williams v Hackney", "R (X) v Tower Hamlets", "Re B-S", "[2018] UKSC 37", "Re S and Re W"):
        assert CASE_NAME.search(name), name
    assert not CASE_NAME.search("The Supreme Court said so in 2018. Re-read the letter.")


@pytest.mark.parametrize("name,reply,paragraphs", FIRST_REPLIES, ids=IDS)
def test_no_case_names_in_first_replies(name, reply, paragraphs):
    for text in reply.texts:
        assert not CASE_NAME.search(text), f"{name}: {text}"


def test_for_a_removed_child_the_police_or_a_court_come_before_section_20():
    reply = replies.answer_topic(C, "inform", "", {"pending_question": "proceedings_stage",
                                                   "proceedings_stage": "child_removed"})
    text = " ".join(reply.texts).lower()
    assert "police" in text and "court" in text and "section 20" in text
    assert text.index("police") < text.index("section 20")
    assert text.index("court") < text.index("section 20")
    assert "solicitor" in reply.texts[0].lower()

"""What the bot says next: pure functions from (content, what was said, slots) to a Reply.

The rasa_sdk actions in actions/actions.py are thin wrappers around these, so every branch of
every flow is tested directly in tests/test_replies.py without a Rasa server.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from actions.content_store import Aspect, Content, Topic
from actions.council_replies import COUNCIL_TOPICS, council_bubbles
from actions.reply_types import Bubble, Reply, payload
from actions.situation import (
    arrangement_from_text,
    complaint_about_from_text,
    stage_from_text,
)
from bot.councils.directory import Council
from bot.handoff_decision import HandoffDecision, HandoffKind, handoff_text
from bot.safety.crisis import assess

Slots = Mapping[str, Any]


@dataclass(frozen=True)
class Flow:
    """A topic whose answer depends on one fact about the family, which the bot asks for."""

    slot: str
    variants: str
    read: Callable[[Optional[str]], Optional[str]]


FLOWS: Dict[str, Flow] = {
    "kinship_financial_support": Flow("kinship_arrangement", "kinship_financial_support", arrangement_from_text),
    "care_proceedings_overview": Flow("proceedings_stage", "care_proceedings_stage", stage_from_text),
    "complaints_procedure": Flow("complaint_about", "complaint_route", complaint_about_from_text),
}
FLOW_BY_SLOT = {flow.slot: intent for intent, flow in FLOWS.items()}

# Asking about one of these is itself the answer to "who is the complaint about".
IMPLIED_SLOTS: Dict[str, Dict[str, str]] = {
    "complaint_about_social_worker": {"complaint_about": "social_worker"},
}

# Topics never offered as "did you mean" guesses.
NOT_GUESSED = {"emergency_risk", "out_of_scope", "nlu_fallback"}
MENU = ["kinship_care_options", "care_proceedings_overview", "complaints_procedure"]


def _person_button(content: Content) -> Dict[str, str]:
    return {"title": content.say("buttons", "person"), "payload": payload("speak_to_adviser")}


def _topic_buttons(content: Content, intents: Sequence[str]) -> List[Dict[str, str]]:
    return [
        {"title": content.topics[i].title, "payload": payload(i)}
        for i in intents
        if i in content.topics
    ]


def menu_buttons(content: Content) -> List[Dict[str, str]]:
    return _topic_buttons(content, MENU) + [_person_button(content)]


def _footer(content: Content, topic: Topic, offer_more: bool, next_step: Optional[str] = None) -> List[Bubble]:
    """The closing bubble: general-information wording and the human next step, with buttons
    ("Tell me more" when there is more, and always "Talk to a person")."""
    buttons = []
    if offer_more:
        buttons.append({"title": content.say("buttons", "more"), "payload": payload("more")})
    buttons.append(_person_button(content))
    step = content.next_step(next_step or topic.next_step) or content.say("general_information")
    return [Bubble(step, buttons)]


def _more(content: Content, topic: Topic, slots: Slots) -> List[str]:
    """"Tell me more" for a topic: the tailored variant's own detail when the family's answer
    chose one (e.g. the special guardian's money), otherwise the topic's."""
    flow = FLOWS.get(topic.intent)
    value = slots.get(flow.slot) if flow else None
    if flow and value:
        return content.variant_more(flow.variants, value) or topic.more
    return topic.more


# Topics that are only useful with the family's own council: ask for it when we don't know it.
ASK_FOR_COUNCIL = {"kinship_local_policy", "council_contact"}


def _local(content: Content, intent: str, council: Optional[Council], slots: Dict[str, Any]) -> List[Bubble]:
    """The family's own council's part of an answer, or a question asking where they live."""
    need = COUNCIL_TOPICS.get(intent)
    if need == "complaints" and slots.get("complaint_about") not in (None, "council", "social_worker"):
        return []  # Cafcass, courts and solicitors have their own routes
    if need and council is not None:
        slots["council"] = council.name
        return council_bubbles(content, council, need)
    if intent in ASK_FOR_COUNCIL:
        slots["pending_question"] = "place"
        return [Bubble(content.say("council", "ask_to_tailor"))]
    return []


# A message that holds two topics: the second is offered as a button when the classifier gives it at
# least this much confidence (the ensemble's probabilities sum to 1 over 30-odd intents).
ALSO_THRESHOLD = 0.2


def second_topic(content: Content, ranking: Sequence[Mapping[str, Any]], chosen: str) -> Optional[str]:
    """The other topic a two-topic message asks about, if the classifier is fairly sure of it too."""
    for candidate in ranking[1:3]:
        name = candidate.get("name")
        if name == chosen or name not in content.topics or name in NOT_GUESSED:
            continue
        if float(candidate.get("confidence") or 0.0) >= ALSO_THRESHOLD:
            return name
    return None


QUESTION_WORDS = 4  # a message this much longer than the place it names is more than "where I live"


def topic_beside_place(content: Content, ranking: Sequence[Mapping[str, Any]], text: Optional[str],
                       place: Optional[str]) -> Optional[str]:
    """The topic a message asks about as well as naming a place ("my granddaughter is in foster care
    and I want her to live with me. we live in leeds"), if the classifier is fairly sure of one."""
    words = len((text or "").split()) - len((place or "").split())
    if words < QUESTION_WORDS:
        return None
    for candidate in ranking[:3]:
        name = candidate.get("name")
        if name in content.topics and name not in NOT_GUESSED and name != "speak_to_adviser":
            return name if float(candidate.get("confidence") or 0.0) >= ALSO_THRESHOLD else None
    return None


def _also_bubble(content: Content, also: Optional[str]) -> List[Bubble]:
    if not also or also not in content.topics:
        return []
    return [Bubble(content.say("clarify", "also"), _topic_buttons(content, [also]))]


def _answer(content: Content, topic: Topic, paragraphs: List[str], slots: Dict[str, Any],
            council: Optional[Council] = None, also: Optional[str] = None,
            aspect: Optional[Aspect] = None) -> Reply:
    slots.update({"last_topic": topic.intent, "pending_question": None, "misunderstood_count": 0.0})
    local = _local(content, topic.intent, council, slots)
    bubbles = ([Bubble(p) for p in paragraphs] + local + _also_bubble(content, also)
               + _footer(content, topic, offer_more=bool(_more(content, topic, slots)),
                         next_step=aspect.next_step if aspect else None))
    return Reply(bubbles, slots)


def _question(content: Content, slot: str) -> Bubble:
    spec = content.say("questions", slot)
    buttons = [
        {"title": b["title"], "payload": payload("inform", {slot: b["value"]})}
        for b in spec["buttons"]
    ]
    return Bubble(spec["text"], buttons + [_person_button(content)])


def _flow_answer(content: Content, intent: str, value: str, slots: Dict[str, Any],
                 council: Optional[Council], also: Optional[str] = None) -> Reply:
    flow = FLOWS[intent]
    topic = content.topics[intent]
    paragraphs = content.variant(flow.variants, value) or topic.answer
    slots[flow.slot] = value
    return _answer(content, topic, paragraphs, slots, council, also)


def answer_topic(content: Content, intent: str, text: Optional[str], slots: Slots,
                 council: Optional[Council] = None, ranking: Sequence[Mapping[str, Any]] = ()) -> Reply:
    """Answer a topic intent, or an `inform` reply to the question the bot asked last. When the
    message also asks about a second topic (`ranking`), that topic is offered as a button."""
    also = second_topic(content, ranking, intent)
    updates: Dict[str, Any] = {}
    pending = slots.get("pending_question")
    if pending in FLOW_BY_SLOT:
        flow_intent = FLOW_BY_SLOT[pending]
        value = slots.get(pending) or FLOWS[flow_intent].read(text)
        if value:
            return _flow_answer(content, flow_intent, value, updates, council)
        if intent == "inform":  # they answered, but we could not tell which option: ask again
            return Reply([_question(content, pending)], {"pending_question": pending})

    if intent == "inform":
        return _inform_without_question(content, text, slots)

    topic = content.topic(intent)
    if topic is None:
        return Reply([Bubble(content.say("clarify", "no_topic"), menu_buttons(content))])

    updates.update(IMPLIED_SLOTS.get(intent, {}))
    aspect = content.aspect_for(intent, text)
    if aspect:  # "what happens at the final hearing": that sub-answer, before any question
        return _answer(content, topic, list(aspect.answer), updates, council, also, aspect)
    if intent in FLOWS:
        flow = FLOWS[intent]
        value = slots.get(flow.slot) or flow.read(text)
        if value:
            return _flow_answer(content, intent, value, updates, council, also)
        # The first reply before we know which case is theirs: the general answer, the
        # general-information line, then the question (with "Talk to a person" among its buttons).
        bubbles = ([Bubble(p) for p in topic.answer] + _also_bubble(content, also)
                   + [Bubble(content.say("general_information")), _question(content, flow.slot)])
        updates.update({"last_topic": intent, "pending_question": flow.slot, "misunderstood_count": 0.0})
        return Reply(bubbles, updates)
    return _answer(content, topic, list(topic.answer), updates, council, also)


def _inform_without_question(content: Content, text: Optional[str], slots: Slots) -> Reply:
    """They told us something about their situation without being asked: note it, offer topics."""
    updates: Dict[str, Any] = {}
    for intent, flow in FLOWS.items():
        value = slots.get(flow.slot) or flow.read(text)
        if value and value != "not_sure":
            updates[flow.slot] = value
    buttons = _topic_buttons(content, [i for i, f in FLOWS.items() if f.slot in updates]) or menu_buttons(content)
    if updates:
        return Reply([Bubble(content.say("inform_thanks")), Bubble(content.say("clarify", "no_topic"), buttons)], updates)
    return Reply([Bubble(content.say("clarify", "no_guess"), menu_buttons(content))])


def tell_more(content: Content, slots: Slots, text: Optional[str] = None) -> Reply:
    topic = content.topic(slots.get("last_topic") or "")
    if topic is None:
        return Reply([Bubble(content.say("clarify", "no_topic"), menu_buttons(content))])
    aspect = content.aspect_for(topic.intent, text)
    if aspect:  # "tell me more about the final hearing": that sub-answer, then the topic's detail on request
        return _answer(content, topic, list(aspect.answer), {}, aspect=aspect)
    paragraphs = _more(content, topic, slots) or [content.say("clarify", "no_more")]
    bubbles = [Bubble(p) for p in paragraphs] + _footer(content, topic, offer_more=False)
    return Reply(bubbles, {"pending_question": None})


def _offer_person(content: Content, lead: str) -> List[Bubble]:
    return [Bubble(lead), Bubble(content.say("clarify", "human"), [_person_button(content)])]


def clarify(content: Content, ranking: Sequence[Mapping[str, Any]], slots: Slots) -> Reply:
    """Low confidence: say so honestly, offer the closest topics; after two misses, a person."""
    misses = int(slots.get("misunderstood_count") or 0) + 1
    if misses >= 2:  # never a third guess: the action decides how a person can help (handoff below)
        return Reply([Bubble(content.say("clarify", "again"))], {"misunderstood_count": 0.0}, wants_person=True)
    guesses = [
        r["name"] for r in ranking
        if r.get("name") in content.topics and r.get("name") not in NOT_GUESSED
    ][:3]
    if guesses:
        bubble = Bubble(content.say("clarify", "first"), _topic_buttons(content, guesses) + [_person_button(content)])
    else:
        bubble = Bubble(content.say("clarify", "no_guess"), menu_buttons(content))
    return Reply([bubble], {"misunderstood_count": float(misses)})


def not_helpful(content: Content, slots: Slots) -> Reply:
    bubbles = _offer_person(content, content.say("clarify", "not_helpful"))
    bubbles.append(Bubble(content.say("clarify", "no_topic"), menu_buttons(content)))
    return Reply(bubbles, {"misunderstood_count": 0.0, "pending_question": None})


def yes_no(content: Content, intent: str, slots: Slots) -> Reply:
    pending = slots.get("pending_question")
    if pending in FLOW_BY_SLOT:  # "yes"/"no" does not answer "which kind": ask with the buttons
        return Reply([_question(content, pending)], {"pending_question": pending})
    if intent == "affirm" and slots.get("last_topic"):
        return tell_more(content, slots)
    return Reply([Bubble(content.say("clarify", "deny"), menu_buttons(content))], {"pending_question": None})


def person(content: Content, decision: HandoffDecision, lead: Optional[Reply] = None) -> Reply:
    """A family asked for a person (or was misunderstood twice): queue them for an adviser when webchat
    is staffed and someone is free, otherwise say exactly when a person is next available."""
    bubbles = list(lead.bubbles) if lead else []
    slots = dict(lead.slots) if lead else {}
    slots.update(pending_question=None, misunderstood_count=0.0)
    text = handoff_text(decision, content)
    if decision.kind is HandoffKind.QUEUE:
        return Reply(bubbles + [Bubble(text)], slots, handoff=True)
    return Reply(bubbles + [Bubble(text, _topic_buttons(content, MENU))], slots)


def emergency(content: Content, text: Optional[str], safety_net: Optional[Mapping[str, Any]] = None) -> Reply:
    """Emergency numbers first, fitted to who is in danger when we can tell. When the message also
    asked about a topic (the intent classifier's own reading, before the safety net overrode it), that
    topic is offered after the numbers: a family whose question only sounded like a crisis is one tap
    from its answer, and nobody in danger gets anything before the numbers."""
    kind = assess(text or "").kind or "general"
    bubbles = [Bubble(p) for p in content.say("emergency", kind)]
    bubbles.append(Bubble(content.say("emergency", "after"), [_person_button(content)]))
    also = topic_under_the_alarm(content, safety_net)
    if also:
        bubbles.append(Bubble(content.say("emergency", "also"), _topic_buttons(content, [also])))
    return Reply(bubbles, {"emergency_flag": True, "pending_question": None})


def topic_under_the_alarm(content: Content, safety_net: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The topic the intent classifier read in a message the safety net turned into an emergency, if
    it was fairly sure of one (the same bar as a second topic in a two-topic message)."""
    if not safety_net or not safety_net.get("override"):
        return None
    name = safety_net.get("classifier_intent")
    if name not in content.topics or name in NOT_GUESSED or name == "speak_to_adviser":
        return None
    return name if float(safety_net.get("classifier_confidence") or 0.0) >= ALSO_THRESHOLD else None

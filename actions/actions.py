"""Custom actions: thin rasa_sdk wrappers around the pure reply planner in actions/replies.py."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_gate, replies
from actions.content_store import load_content
from actions.council_replies import place_reply, waiting_for_place
from actions.reply_types import Reply
from bot.councils.directory import Council, load_directory
from bot.councils.matcher import NO_MATCH, CouncilMatcher, Match
from bot.handoff_decision import HandoffKind

MAX_TEXT = 5000  # longer messages are cut before matching; nothing here needs more


@lru_cache(maxsize=None)
def matcher() -> CouncilMatcher:
    return CouncilMatcher(load_directory())


def find_place(text: Optional[str]) -> Match:
    """The place a free-text message names, if any (button payloads name none)."""
    if not text or text.startswith("/"):
        return NO_MATCH
    return matcher().match(text[:MAX_TEXT])


def known_council(tracker: Tracker, match: Match) -> Optional[Council]:
    name = match.council or tracker.get_slot("council")
    return load_directory().by_name(name) if name else None


def _slots(tracker: Tracker) -> Dict[str, Any]:
    return dict(tracker.slots)  # every slot in domain.yml; the planners read them with .get()


def _send(dispatcher: CollectingDispatcher, reply: Reply, answer: bool = False) -> List[EventType]:
    """Say the bubbles. Two signals for the webchat gateway ride along as custom payloads:
    ask_feedback ("Was this helpful?" under an answer) and handoff (queue the family for an adviser).
    The gateway's reports also read the topic and council beside ask_feedback, and crisis."""
    for bubble in reply.bubbles:
        dispatcher.utter_message(text=bubble.text, buttons=bubble.buttons or None)
    if answer and reply.bubbles and not reply.slots.get("pending_question"):
        signal: Dict[str, Any] = {"ask_feedback": True}
        for name, slot in (("topic", "last_topic"), ("council", "council")):
            if isinstance(reply.slots.get(slot), str) and reply.slots[slot]:
                signal[name] = reply.slots[slot]
        dispatcher.utter_message(json_message=signal)
    if reply.slots.get("emergency_flag"):
        dispatcher.utter_message(json_message={"crisis": True})
    if reply.handoff:
        dispatcher.utter_message(json_message={"handoff": "request"})
    return [SlotSet(name, value) for name, value in reply.slots.items()]


async def _person(dispatcher: CollectingDispatcher, lead: Optional[Reply] = None) -> List[EventType]:
    decision = await handoff_gate.current_decision()
    events = _send(dispatcher, replies.person(load_content(), decision, lead))
    if decision.kind is not HandoffKind.QUEUE:  # for the reports: a person wanted, none could take them
        dispatcher.utter_message(json_message={"person_wanted": decision.kind.value})
    return events


def _intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


class ActionAnswerTopic(Action):
    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = tracker.latest_message.get("text")
        match = find_place(text)
        if tracker.get_slot("pending_question") == "place" and match.kind != "none":
            return _send(dispatcher, place_reply(load_content(), load_directory(), match, text, _slots(tracker)))
        waiting = waiting_for_place(load_content(), text, _intent(tracker), _slots(tracker))
        if waiting:
            return _send(dispatcher, waiting)
        reply = replies.answer_topic(load_content(), _intent(tracker), text, _slots(tracker),
                                     known_council(tracker, match),
                                     ranking=tracker.latest_message.get("intent_ranking") or [])
        return _send(dispatcher, reply, answer=True)


class ActionTellMore(Action):
    def name(self) -> Text:
        return "action_tell_more"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = tracker.latest_message.get("text")
        return _send(dispatcher, replies.tell_more(load_content(), _slots(tracker), text), answer=True)


class ActionClarify(Action):
    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = tracker.latest_message.get("text")
        match = find_place(text)
        if match.kind != "none":  # unsure of the intent, sure of a place: "we're in Swansea"
            return _send(dispatcher, place_reply(load_content(), load_directory(), match, text, _slots(tracker)))
        waiting = waiting_for_place(load_content(), text, "nlu_fallback", _slots(tracker))
        if waiting:
            return _send(dispatcher, waiting)
        ranking = tracker.latest_message.get("intent_ranking") or []
        reply = replies.clarify(load_content(), ranking, _slots(tracker))
        events = await _person(dispatcher, reply) if reply.wants_person else _send(dispatcher, reply)
        dispatcher.utter_message(json_message={"not_sure": True})  # for the reports: the bot was unsure
        return events


class ActionHandoff(Action):
    """A family asked for a person: queue them when an adviser is on webchat, else say when and how."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return await _person(dispatcher)


class ActionNotHelpful(Action):
    def name(self) -> Text:
        return "action_not_helpful"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.not_helpful(load_content(), _slots(tracker)))


class ActionEmergency(Action):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        latest = tracker.latest_message
        return _send(dispatcher, replies.emergency(load_content(), latest.get("text"), latest.get("safety_net")))


class ActionNotePlace(Action):
    def name(self) -> Text:
        return "action_note_place"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        entity = next(tracker.get_latest_entity_values("place"), None)
        match = matcher().match(entity) if entity else NO_MATCH
        if match.kind == "none":  # the entity was wrong or missing: look at the whole message
            match = find_place(text)
        typed = entity or (match.matched if match.kind != "none" else text)
        content, directory = load_content(), load_directory()
        place = place_reply(content, directory, match, typed, _slots(tracker))
        ranking = tracker.latest_message.get("intent_ranking") or []
        topic = replies.topic_beside_place(content, ranking, text, typed)
        council = directory.by_name(place.slots.get("council") or "") if place.slots.get("council") else None
        if topic and council:  # a question and a place in one message: answer it for that council
            reply = replies.answer_topic(content, topic, text, {**_slots(tracker), **place.slots}, council,
                                         ranking=ranking)
            return _send(dispatcher, Reply(reply.bubbles, {**place.slots, **reply.slots}), answer=True)
        return _send(dispatcher, place)


class ActionYesNo(Action):
    def name(self) -> Text:
        return "action_yes_no"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.yes_no(load_content(), _intent(tracker), _slots(tracker)))

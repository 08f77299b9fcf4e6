"""Custom actions: thin rasa_sdk wrappers around the pure reply planner in actions/replies.py."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.content_store import load_content

SLOTS = ("kinship_arrangement", "proceedings_stage", "complaint_about", "place", "last_topic",
         "pending_question", "misunderstood_count", "emergency_flag")


def _slots(tracker: Tracker) -> Dict[str, Any]:
    return {name: tracker.get_slot(name) for name in SLOTS}


def _send(dispatcher: CollectingDispatcher, reply: replies.Reply) -> List[EventType]:
    for bubble in reply.bubbles:
        dispatcher.utter_message(text=bubble.text, buttons=bubble.buttons or None)
    return [SlotSet(name, value) for name, value in reply.slots.items()]


def _intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


class ActionAnswerTopic(Action):
    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reply = replies.answer_topic(load_content(), _intent(tracker), tracker.latest_message.get("text"), _slots(tracker))
        return _send(dispatcher, reply)


class ActionTellMore(Action):
    def name(self) -> Text:
        return "action_tell_more"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.tell_more(load_content(), _slots(tracker)))


class ActionClarify(Action):
    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        return _send(dispatcher, replies.clarify(load_content(), ranking, _slots(tracker)))


class ActionNotHelpful(Action):
    def name(self) -> Text:
        return "action_not_helpful"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.not_helpful(load_content(), _slots(tracker)))


class ActionEmergency(Action):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.emergency(load_content(), tracker.latest_message.get("text")))


class ActionNotePlace(Action):
    def name(self) -> Text:
        return "action_note_place"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        place = next(tracker.get_latest_entity_values("place"), None) or tracker.get_slot("place")
        return _send(dispatcher, replies.note_place(load_content(), place, _slots(tracker)))


class ActionYesNo(Action):
    def name(self) -> Text:
        return "action_yes_no"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        return _send(dispatcher, replies.yes_no(load_content(), _intent(tracker), _slots(tracker)))

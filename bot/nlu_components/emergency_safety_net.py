"""Rasa NLU component: the emergency safety net, applied after the intent classifier.

- If bot.safety.crisis says a message is about danger now, the intent becomes emergency_risk
  (confidence 1.0) whatever the classifier thought, including nlu_fallback.
- If the classifier chose emergency_risk but the message only uses crisis words as an idiom,
  a legal term or about the past, the next intent in the ranking is used instead.
The decision is added to the parse result as "safety_net" so staff can see why.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety.crisis import assess, is_figure_of_speech

EMERGENCY_INTENT = "emergency_risk"
FALLBACK_INTENT = "nlu_fallback"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class EmergencySafetyNet(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # When the classifier's emergency guess is overruled, the next intent is used only if it is
        # at least this confident; otherwise the message becomes nlu_fallback ("not sure").
        return {"fallback_threshold": 0.4}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._fallback_threshold = float(config.get("fallback_threshold", 0.4))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencySafetyNet":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._apply(message)
        return messages

    def _apply(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        ranking: List[Dict[Text, Any]] = list(message.get(INTENT_RANKING_KEY) or [])
        if not text or text.startswith("/"):
            return  # button payloads are explicit choices, not free text
        result = assess(text)
        if result.is_crisis:
            decision = {
                "override": True,
                "kind": result.kind,
                "classifier_intent": intent.get("name"),
                "matched": result.matched_clause,
            }
            new_intent = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            ranking = [new_intent] + [r for r in ranking if r.get("name") != EMERGENCY_INTENT]
        elif intent.get("name") == EMERGENCY_INTENT and is_figure_of_speech(text):
            new_intent = _next_best(ranking, self._fallback_threshold)
            decision = {"override": True, "kind": None, "classifier_intent": EMERGENCY_INTENT,
                        "reason": "idiom, legal term or past event"}
            ranking = [new_intent] + [
                r for r in ranking if r.get("name") not in (EMERGENCY_INTENT, new_intent["name"])
            ]
        else:
            message.set("safety_net", {"override": False}, add_to_output=True)
            return
        message.set(INTENT, new_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set("safety_net", decision, add_to_output=True)


def _next_best(ranking: List[Dict[Text, Any]], threshold: float) -> Dict[Text, Any]:
    for candidate in ranking:
        if candidate.get("name") not in (EMERGENCY_INTENT, FALLBACK_INTENT):
            if float(candidate.get("confidence") or 0.0) >= threshold:
                return dict(candidate)
            break
    return {"name": FALLBACK_INTENT, "confidence": threshold}

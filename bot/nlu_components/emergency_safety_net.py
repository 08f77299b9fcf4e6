"""Rasa NLU component: the emergency safety net, applied after the intent classifier.

Two detectors decide together whether a message says someone is in danger now:
- the pattern rules of bot.safety.crisis (precise, explainable, with their own discounting of
  idioms, past events, negations and hypotheticals);
- the crisis model of bot.safety.crisis_model, trained here from the training data's
  emergency_risk examples and data/crisis/warning_signs.tsv (published warning signs and their
  contrasts), which reads meaning as well as words, sentence by sentence.

- Either says crisis: the intent becomes emergency_risk (confidence 1.0), whatever the classifier
  thought, including nlu_fallback.
- Neither does but the classifier chose emergency_risk: kept when the crisis model gives the message
  at least `keep_threshold`, unless the rules read it as an idiom, a legal term or a past event;
  otherwise the next intent in the ranking is used instead (or nlu_fallback when it is not confident
  enough). Without a crisis model (not trained), only idioms, legal terms and past events are overruled.
The decision is added to the parse result as "safety_net" so staff can see why.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety.crisis import assess, is_figure_of_speech
from bot.safety.crisis_model import WARNING_SIGNS, CrisisModel, read_warning_signs, samples_from_intents

log = logging.getLogger(__name__)
EMERGENCY_INTENT = "emergency_risk"
FALLBACK_INTENT = "nlu_fallback"
MODEL_FILE = "crisis_model.skops"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmergencySafetyNet(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # fallback_threshold: when the classifier's emergency guess is overruled, the next intent is
        # used only if it is at least this confident; otherwise "not sure".
        # threshold / encoder_weight / C: the crisis model (chosen by scripts/choose_crisis.py).
        # warning_signs: the published warning signs it learns from (relative to the project).
        return {"fallback_threshold": 0.4, "threshold": 0.4, "keep_threshold": 0.25, "encoder_weight": 1.0, "C": 10.0,
                "warning_signs": str(WARNING_SIGNS.relative_to(WARNING_SIGNS.parents[2]))}

    def __init__(self, config: Dict[Text, Any], model_storage: Optional[ModelStorage] = None,
                 resource: Optional[Resource] = None, model: Optional[CrisisModel] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._fallback_threshold = float(self._config["fallback_threshold"])
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "EmergencySafetyNet":
        return cls(config, model_storage, resource)

    # --- training ----------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        pairs = [(m.get(TEXT), m.get(INTENT), f"intent:{m.get(INTENT)}")
                 for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        samples = samples_from_intents(pairs)
        signs = Path(self._config["warning_signs"])
        signs = signs if signs.is_absolute() else WARNING_SIGNS.parents[2] / signs
        if signs.exists():
            samples += read_warning_signs(signs)
        if len({s.crisis for s in samples}) < 2:
            log.debug("no crisis examples: the crisis model is not trained, the rules decide alone")
            return self._resource
        self._model = CrisisModel(C=float(self._config["C"]), encoder_weight=float(self._config["encoder_weight"]),
                                  threshold=float(self._config["threshold"])).fit(samples)
        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            sio.dump(self._model.state(), directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "EmergencySafetyNet":
        import skops.io as sio

        model = None
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
                if refused:
                    raise ValueError(f"unexpected types in {MODEL_FILE}: {refused}")
                model = CrisisModel.from_state(sio.load(path, trusted=untrusted))
        except ValueError as error:  # not trained (no resource) or refused: the rules decide alone
            log.warning("crisis model not loaded (%s); the pattern rules decide alone", error)
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    # --- the decision ----------------------------------------------------------------------------

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
        rules = assess(text)
        score = self._model.score(text) if self._model is not None else None
        by_model = score is not None and score >= self._model.threshold
        if rules.is_crisis or by_model:
            decision = {
                "override": True,
                "kind": rules.kind,
                "by": "rules" if rules.is_crisis else "model",
                "score": score,
                "classifier_intent": intent.get("name"),
                "classifier_confidence": intent.get("confidence"),
                "matched": rules.matched_clause,
            }
            new_intent = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            ranking = [new_intent] + [r for r in ranking if r.get("name") != EMERGENCY_INTENT]
        elif intent.get("name") == EMERGENCY_INTENT and self._overrule(text, score):
            new_intent = _next_best(ranking, self._fallback_threshold)
            decision = {"override": True, "kind": None, "classifier_intent": EMERGENCY_INTENT, "score": score,
                        "reason": "idiom, legal term, past event, or no danger now by the crisis model"}
            ranking = [new_intent] + [
                r for r in ranking if r.get("name") not in (EMERGENCY_INTENT, new_intent["name"])
            ]
        else:
            kept = {"override": False} if score is None else {"override": False, "score": score}
            message.set("safety_net", kept, add_to_output=True)
            return
        message.set(INTENT, new_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set("safety_net", decision, add_to_output=True)

    def _overrule(self, text: str, score: Optional[float]) -> bool:
        """Whether the classifier's own emergency_risk guess is overruled (neither detector fired)."""
        if is_figure_of_speech(text):
            return True
        return score is not None and score < float(self._config["keep_threshold"])


def _next_best(ranking: List[Dict[Text, Any]], threshold: float) -> Dict[Text, Any]:
    for candidate in ranking:
        if candidate.get("name") not in (EMERGENCY_INTENT, FALLBACK_INTENT):
            if float(candidate.get("confidence") or 0.0) >= threshold:
                return dict(candidate)
            break
    return {"name": FALLBACK_INTENT, "confidence": threshold}

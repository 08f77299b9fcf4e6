"""Rasa NLU component: a linear intent classifier averaged with DIET's intent ranking.

DIET is a neural model; with ~40 examples an intent it overfits phrasing it has seen. A logistic
regression over TF-IDF word and character n-grams and the all-MiniLM-L6-v2 sentence embedding
(bot/nlu_components/intent_features.py) is stable with little data, and the embedding carries meaning
that shares no words with the training data. Averaging the two models' probabilities (a soft-voting
ensemble) makes fewer mistakes than either alone because they err on different messages.

How it was chosen (README "Intent classification"): by grouped cross-validation on the training data
alone, holding out whole public pages (scripts/choose_nlu.py); no test set chose anything.

Runs after DIETClassifier (which must report its whole ranking: `ranking_length: 0`) and before
the FallbackClassifier, so "not sure" uses the ensemble's confidence.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu_components.intent_features import LinearIntentModel

log = logging.getLogger(__name__)
MODEL_FILE = "linear_intent.skops"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
RANKING_LENGTH = 10


def blend(neural: Dict[str, float], linear: Dict[str, float], weight: float) -> List[Dict[str, Any]]:
    """Weighted average of two intent -> probability maps, best first. An intent one model does not
    rank counts as 0 there."""
    names = set(neural) | set(linear)
    mixed = {n: weight * neural.get(n, 0.0) + (1 - weight) * linear.get(n, 0.0) for n in names}
    return [{"name": n, "confidence": float(p)} for n, p in sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentEnsemble(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # neural_weight: share of DIET's probability in the average (0.5 = equal votes).
        # encoder_weight: scale of the sentence embedding beside the TF-IDF features (0 = none).
        return {"C": 20.0, "neural_weight": 0.5, "encoder_weight": 0.0, "random_seed": 42}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 classifier: Optional[LinearIntentModel] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentEnsemble":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            log.debug("fewer than two intents: the linear classifier is not trained")
            return self._resource
        classifier = LinearIntentModel(C=float(self._config["C"]), encoder_weight=float(self._config["encoder_weight"]),
                                       seed=int(self._config["random_seed"]))
        self._classifier = classifier.fit([m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples])
        self.persist()
        return self._resource

    def persist(self) -> None:
        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            sio.dump(self._classifier.state(), directory / MODEL_FILE)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentEnsemble":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
                if refused:
                    raise ValueError(f"unexpected types in {MODEL_FILE}: {refused}")
                classifier = LinearIntentModel.from_state(sio.load(path, trusted=untrusted))
        except ValueError as error:  # not trained (no resource) or refused: DIET alone decides
            log.warning("linear intent classifier not loaded (%s); using DIET alone", error)
            classifier = None
        return cls(config, model_storage, resource, classifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if self._classifier is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        probabilities = self._classifier.predict_proba(texts)
        classes = self._classifier.classes
        for message, row in zip(messages, probabilities):
            self._apply(message, dict(zip(classes, np.asarray(row, dtype=float))))
        return messages

    def _apply(self, message: Message, linear: Dict[str, float]) -> None:
        ranking = message.get(INTENT_RANKING_KEY) or []
        neural = {item["name"]: float(item["confidence"]) for item in ranking}
        if not neural:  # DIET gave nothing (e.g. empty text): keep what is there
            return
        ranked = blend(neural, linear, float(self._config["neural_weight"]))
        message.set(INTENT, ranked[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranked[:RANKING_LENGTH], add_to_output=True)

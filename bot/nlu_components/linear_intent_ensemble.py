"""Rasa NLU component: a linear intent classifier averaged with DIET's intent ranking.

DIET is a neural model; with ~40 examples an intent it overfits phrasing it has seen. A logistic
regression over TF-IDF word 1-2 grams and character 1-4 grams inside words is a strong, stable
classifier for short texts with little data. Averaging the two models' probabilities (a soft-voting
ensemble) makes fewer mistakes than either alone because they err on different messages.

How it was chosen (see README "Intent classification"): C by 5-fold cross-validation on the training
data alone (accuracy plateaus from C=10 to C=50); equal weights, fixed in advance, not tuned.

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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_union

log = logging.getLogger(__name__)
MODEL_FILE = "linear_intent.skops"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
RANKING_LENGTH = 10


def build_classifier(c: float, seed: int) -> Pipeline:
    features = make_union(
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
    )
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    return Pipeline([("features", features), ("model", model)])


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
        return {"C": 20.0, "neural_weight": 0.5, "random_seed": 42}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 classifier: Optional[Pipeline] = None) -> None:
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
        classifier = build_classifier(float(self._config["C"]), int(self._config["random_seed"]))
        classifier.fit([m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples])
        self._classifier = classifier
        self.persist()
        return self._resource

    def persist(self) -> None:
        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            sio.dump(self._classifier, directory / MODEL_FILE)

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
                classifier = sio.load(path, trusted=untrusted)
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
        classes = list(self._classifier.classes_)
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

"""The linear intent model: logistic regression over TF-IDF n-grams and, optionally, sentence embeddings.

Plain scikit-learn and numpy, no Rasa: the Rasa component (linear_intent_ensemble.py) and the model
selection script (scripts/choose_nlu.py) use the same class, so what was cross-validated is what runs.

- TF-IDF word 1-2-grams and character 1-4-grams inside words: robust to misspellings and text-speak.
- all-MiniLM-L6-v2 sentence embeddings (bot/nlu_components/sentence_encoder.py), scaled by
  `encoder_weight`: they carry meaning that shares no words with the training data ("she shouted at
  us on the doorstep" is a complaint about a social worker).
- `focus`: a long message is also read sentence by sentence, and the most confident sentence counts
  as much as the whole message, so the question at the end of a story is not drowned by the story.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_union

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
MIN_SENTENCE_WORDS = 3


def sentences(text: str) -> List[str]:
    """The sentences of a message worth reading alone (three words or more)."""
    parts = [p.strip() for p in _SENTENCE_END.split(text or "") if p and p.strip()]
    return [p for p in parts if len(p.split()) >= MIN_SENTENCE_WORDS]


def _vectorizer() -> FeatureUnion:
    return make_union(
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
    )


class LinearIntentModel:
    def __init__(self, C: float = 20.0, encoder_weight: float = 0.0, tfidf: bool = True, focus: bool = False,
                 seed: int = 42, vectorizer: Optional[FeatureUnion] = None,
                 classifier: Optional[LogisticRegression] = None) -> None:
        self.C = float(C)
        self.encoder_weight = float(encoder_weight)
        self.tfidf = bool(tfidf)
        self.focus = bool(focus)
        self.seed = int(seed)
        self.vectorizer = vectorizer
        self.classifier = classifier

    # --- features --------------------------------------------------------------------------------

    def _features(self, texts: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        parts = []
        if self.tfidf:
            if fit:
                self.vectorizer = _vectorizer()
                parts.append(self.vectorizer.fit_transform(texts))
            else:
                parts.append(self.vectorizer.transform(texts))
        if self.encoder_weight > 0:
            from bot.nlu_components.sentence_encoder import get_encoder

            parts.append(sparse.csr_matrix(get_encoder().encode(texts) * self.encoder_weight))
        return sparse.hstack(parts).tocsr()

    # --- training and prediction -----------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "LinearIntentModel":
        features = self._features(list(texts), fit=True)
        self.classifier = LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced",
                                             random_state=self.seed)
        self.classifier.fit(features, list(labels))
        return self

    @property
    def classes(self) -> List[str]:
        return list(self.classifier.classes_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t or "" for t in texts]
        if not self.focus:
            return self.classifier.predict_proba(self._features(texts))
        # Whole messages and their sentences in one batch, then each message's whole-text row is
        # averaged with its most confident sentence's row.
        pieces: List[str] = []
        spans: List[Tuple[int, int]] = []
        for text in texts:
            own = sentences(text)
            start = len(pieces)
            pieces.append(text)
            if len(own) >= 2:
                pieces.extend(own)
            spans.append((start, len(pieces)))
        rows = self.classifier.predict_proba(self._features(pieces))
        out = np.empty((len(texts), rows.shape[1]))
        for i, (start, end) in enumerate(spans):
            whole = rows[start]
            if end - start == 1:
                out[i] = whole
                continue
            parts = rows[start + 1: end]
            best = parts[int(parts.max(axis=1).argmax())]
            out[i] = 0.5 * whole + 0.5 * best
        return out

    def predict_proba_dicts(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        classes = self.classes
        return [dict(zip(classes, map(float, row))) for row in self.predict_proba(texts)]

    # --- persistence (skops: sklearn, numpy, scipy and builtins only) -----------------------------

    def state(self) -> dict:
        return {"config": {"C": self.C, "encoder_weight": self.encoder_weight, "tfidf": self.tfidf,
                           "focus": self.focus, "seed": self.seed},
                "vectorizer": self.vectorizer, "classifier": self.classifier}

    @classmethod
    def from_state(cls, state: dict) -> "LinearIntentModel":
        return cls(**state["config"], vectorizer=state["vectorizer"], classifier=state["classifier"])

"""A learned crisis detector beside the pattern rules: is someone in danger now?

Pure scikit-learn and numpy (plus the sentence encoder); no Rasa, no I/O except reading its data.
Rules (bot/safety/crisis.py) are precise but only know the phrasings written into them; people in a
crisis say it a thousand ways ("I won't be a problem for anyone much longer", "she's got a handprint
on her cheek"). This model reads meaning as well as words:

- features: TF-IDF word 1-2-grams and character 2-4-grams, and the all-MiniLM-L6-v2 embedding;
- positives: the warning signs in published guidance (Samaritans, NHS, Papyrus, NSPCC), turned into
  chat messages (data/crisis/warning_signs.tsv, each row with its page), and every `emergency_risk`
  training example;
- negatives: the guidance's contrasts (idioms, past events, procedures, hypotheticals, distress
  without danger; same file), and every other training example;
- a message is scored whole and sentence by sentence, and its score is the highest, so a crisis at
  the end of a long message about court is not averaged away.

The threshold is chosen for recall by grouped cross-validation on the training material only
(scripts/choose_crisis.py; the figures are in the README).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_union

ROOT = Path(__file__).resolve().parents[2]
WARNING_SIGNS = ROOT / "data" / "crisis" / "warning_signs.tsv"
EMERGENCY_INTENT = "emergency_risk"
_PIECES = re.compile(r"(?<=[.!?])\s+|\n+|,\s*(?=(?:but|and now|and|so|because|cos)\b)|\s+(?=but\b)")


@dataclass(frozen=True)
class Sample:
    text: str
    crisis: bool
    group: str  # the page (or the file) it came from, for grouped cross-validation


def _long_enough(parts: Iterable[str]) -> List[str]:
    parts = [p.strip(" ,") for p in parts if p and p.strip(" ,")]
    return [p for p in parts if len(p.split()) >= 3]


def pieces(text: str) -> List[str]:
    """The sentences and clauses of a message that are long enough to mean something alone."""
    return _long_enough(_PIECES.split(text or ""))


def readable_pieces(text: str, discount: Callable[[str], Optional[str]]) -> List[str]:
    """What the model reads of a message: the whole message and its sentences and clauses, leaving out
    any the rules read as past, negated, hypothetical, an idiom or explained (`discount`).
    (Reading every comma-separated part too was tried: on held-out warning-sign pages it caught one
    more crisis in 190 for 7 more false alarms in 140; scripts/choose_crisis.py, README.)"""
    text = text or ""
    own = [text] + [p for p in pieces(text) if p != text]
    return [p for p in own if discount(p) is None]


def read_warning_signs(path: Path = WARNING_SIGNS) -> List[Sample]:
    with Path(path).open(newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [Sample(" ".join(r["text"].split()), r["kind"] == "crisis", r["source_url"])
            for r in csv.DictReader(lines, delimiter="\t")]


def samples_from_intents(pairs: Iterable[Tuple[str, str, str]]) -> List[Sample]:
    """(text, intent, group) training examples as crisis (emergency_risk) or not (every other intent)."""
    return [Sample(text, intent == EMERGENCY_INTENT, group) for text, intent, group in pairs]


def _vectorizer() -> FeatureUnion:
    return make_union(
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
    )


class CrisisModel:
    def __init__(self, C: float = 10.0, encoder_weight: float = 2.0, threshold: float = 0.5, seed: int = 42,
                 vectorizer: Optional[FeatureUnion] = None, classifier: Optional[LogisticRegression] = None) -> None:
        self.C = float(C)
        self.encoder_weight = float(encoder_weight)
        self.threshold = float(threshold)
        self.seed = int(seed)
        self.vectorizer = vectorizer
        self.classifier = classifier

    def _features(self, texts: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        words = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        parts = [words]
        if self.encoder_weight > 0:
            from bot.nlu_components.sentence_encoder import get_encoder

            parts.append(sparse.csr_matrix(get_encoder().encode(texts) * self.encoder_weight))
        return sparse.hstack(parts).tocsr()

    def fit(self, samples: Sequence[Sample]) -> "CrisisModel":
        self.vectorizer = _vectorizer()
        features = self._features([s.text for s in samples], fit=True)
        self.classifier = LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced",
                                             random_state=self.seed)
        self.classifier.fit(features, [int(s.crisis) for s in samples])
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Each message's crisis probability: the highest of the whole message and its pieces, leaving
        out any piece the rules read as past, negated, hypothetical, an idiom or explained
        (bot.safety.crisis.context_discount): the same reading of context for both detectors."""
        from bot.safety.crisis import context_discount

        batch: List[str] = []
        owner: List[int] = []
        for i, text in enumerate(texts):
            kept = readable_pieces(text, context_discount)
            batch.extend(kept)
            owner.extend([i] * len(kept))
        if not batch:
            return np.zeros(len(texts))
        probabilities = self.classifier.predict_proba(self._features(batch))[:, 1]
        out = np.zeros(len(texts))
        for i, p in zip(owner, probabilities):
            out[i] = max(out[i], p)
        return out

    def score(self, text: str) -> float:
        return float(self.scores([text])[0])

    def is_crisis(self, text: str) -> bool:
        return self.score(text) >= self.threshold

    def state(self) -> dict:
        return {"config": {"C": self.C, "encoder_weight": self.encoder_weight, "threshold": self.threshold,
                           "seed": self.seed},
                "vectorizer": self.vectorizer, "classifier": self.classifier}

    @classmethod
    def from_state(cls, state: dict) -> "CrisisModel":
        return cls(**state["config"], vectorizer=state["vectorizer"], classifier=state["classifier"])

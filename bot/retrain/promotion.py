"""What changed between the live model's and a candidate's evaluation, for the page, the CLI and the
audit log. Whether a candidate may replace the live model is decided by bot.retrain.gate on the two
models' answers (a paired bootstrap on every held-out set, and the crisis recall); the fixed limits that
were here before issue 20 ("macro-F1 may not fall", "no intent may fall by more than 0.05") refused
one-example retrains over noise on 8 to 12 messages, and are gone.
"""
from __future__ import annotations

from typing import Dict, Mapping

EPSILON = 1e-9  # F1 scores are ratios of small counts: do not report floating-point noise as a change


def _f1(metrics: Mapping[str, object], intent: str) -> float:
    return float(((metrics.get("per_intent") or {}).get(intent) or {}).get("f1", 0.0))


def summary(live: Mapping[str, object], candidate: Mapping[str, object]) -> Dict[str, object]:
    """What changed, for the page and the CLI: macro-F1 and accuracy before and after, and the intents
    whose F1 went up or down."""
    intents = sorted(set(live.get("per_intent") or {}) | set(candidate.get("per_intent") or {}))
    changes = {i: round(_f1(candidate, i) - _f1(live, i), 4) for i in intents}
    return {
        "macro_f1": [round(float(live["macro_f1"]), 4), round(float(candidate["macro_f1"]), 4)],
        "accuracy": [round(float(live["accuracy"]), 4), round(float(candidate["accuracy"]), 4)],
        "better": {i: d for i, d in changes.items() if d > EPSILON},
        "worse": {i: d for i, d in changes.items() if d < -EPSILON},
    }

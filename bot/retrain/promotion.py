"""When a candidate may replace the live model: pure rules on two evaluations of the same test set.

A candidate is promoted only when it is no worse than the live model (config/retrain.yml `promotion`):
- its macro-F1 may not fall by more than `macro_f1_tolerance` (default 0: may not fall at all);
- no intent's F1 may fall by more than `max_intent_f1_drop` (default 0.05);
- if `min_macro_f1` is set, its macro-F1 must be at least that.
`check_promotion` returns (ok, reasons); every reason names the number that failed, e.g.
"section_20 F1 fell from 0.96 to 0.88 (more than 0.05)".
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Tuple

from bot.retrain.config import PromotionRules

EPSILON = 1e-9  # F1 scores are ratios of small counts: do not refuse over floating-point noise


def _f1(metrics: Mapping[str, object], intent: str) -> float:
    return float(((metrics.get("per_intent") or {}).get(intent) or {}).get("f1", 0.0))


def check_promotion(live: Mapping[str, object], candidate: Mapping[str, object],
                    rules: PromotionRules) -> Tuple[bool, List[str]]:
    """(True, []) if `candidate` may replace `live`, else (False, the reasons in plain English).

    `live` and `candidate` are evaluation metrics: {"macro_f1": x, "per_intent": {intent: {"f1": y}}}."""
    reasons: List[str] = []
    live_macro, cand_macro = float(live["macro_f1"]), float(candidate["macro_f1"])
    if cand_macro < live_macro - rules.macro_f1_tolerance - EPSILON:
        allowed = (f" (more than the allowed {rules.macro_f1_tolerance:.3f})" if rules.macro_f1_tolerance
                   else "; it may not fall")
        reasons.append(f"macro-F1 fell from {live_macro:.3f} to {cand_macro:.3f}{allowed}")
    if rules.min_macro_f1 is not None and cand_macro < rules.min_macro_f1 - EPSILON:
        reasons.append(f"macro-F1 {cand_macro:.3f} is below the minimum of {rules.min_macro_f1:.3f}")
    intents = sorted(set(live.get("per_intent") or {}) | set(candidate.get("per_intent") or {}))
    for intent in intents:
        before, after = _f1(live, intent), _f1(candidate, intent)
        if before - after > rules.max_intent_f1_drop + EPSILON:
            reasons.append(f"{intent} F1 fell from {before:.2f} to {after:.2f} "
                           f"(more than {rules.max_intent_f1_drop:.2f})")
    return not reasons, reasons


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

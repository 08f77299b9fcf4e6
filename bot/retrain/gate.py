"""May a candidate replace the live model? A decision on evidence, not on fixed drops (issue 20).

Pure functions of the two models' answers; no model, file or clock here (bot.retrain.evaluation gathers
the answers; tests give synthetic ones). The inputs:

- the held-out sets (config/retrain.yml `paths`: tests/nlu_test.yml "dev", tests/nlu_test_fresh.yml
  "blind", tests/nlu_wild.yml "wild"): each message, its right intent, the live model's intent and the
  candidate's;
- the crisis set (tests/crisis_wild.tsv): each message, whether it is a crisis, and both models'
  intents. A message is flagged by the safety net when its parsed intent is emergency_risk (the net
  forces that intent; scripts/eval_nlu.py counts it the same way);
- the messages staff labelled since the live model was trained, with the label and both answers.

The rules (`decide`), with R resamples (config `promotion.resamples`, 2,000), a fixed seed
(`promotion.seed`) and c = `promotion.confidence` (0.95):

1. Paired bootstrap: R times, every held-out set is resampled with replacement within itself (each
   keeps its size), and the same resampled messages are scored for both models. On each resample:
   the candidate's macro-F1 minus the live model's, on all held-out messages together and on each set,
   and each intent's F1 difference on all held-out messages together. F1 and macro-F1 are computed as
   `make eval` does (scripts/eval_nlu.py `scores`: macro over the intents of the right answers,
   "not sure" and wrong intents count against the right one, zero when undefined).
2. Refused when the candidate is worse with at least confidence c: its difference is below zero in
   at least c of the resamples (then the upper end of the (2c-1) interval, 90% for c = 0.95, is below
   zero), for macro-F1 on all held-out messages, for macro-F1 on any one set, or for any intent's
   F1. A resample where both models give the same answers counts as "not worse", so a change of one
   or two messages can never be refused on its own: the issue's one-example retrains pass.
3. Refused, whatever the statistics, when the safety net catches fewer crisis messages of the crisis
   set with the candidate than with the live model (recall may not fall at all), or when there is no
   crisis set to check.
4. Otherwise allowed, with how sure we are: the difference and its (2c-1) interval on all held-out
   messages, and the share of resamples where the candidate was better and worse.

What the gate says (reasons, the verdict, the labels check) is worded in config/retrain_text.yml
(bot.retrain.wording); every function that words something takes a `wording`, the project's by default.

Not a rule, a check for staff: `labels_check` says how many of the labelled messages the candidate now
gives their label, naming the ones it does not. `changed_messages` lists every held-out, crisis-set and
labelled message whose answer differs between the two models, with whether each was and is right.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bot.retrain.wording import Wording, default_wording

CRISIS_INTENT = "emergency_risk"
EPSILON = 1e-12  # differences this small are ties (both models gave the same answers)
SHOWN_LOST = 5   # crisis messages no longer caught, named in the refusal


# -- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeldOutSet:
    """One held-out set: messages, right intents, and each model's intent for each message."""
    name: str                    # "dev", "blind", "wild"
    source: str                  # where it came from, e.g. tests/nlu_wild.yml
    texts: Tuple[str, ...]
    truth: Tuple[str, ...]
    live: Tuple[str, ...]
    candidate: Tuple[str, ...]

    def __post_init__(self):
        for name in ("texts", "truth", "live", "candidate"):
            object.__setattr__(self, name, tuple(str(v) for v in getattr(self, name)))
        if not len(self.texts) == len(self.truth) == len(self.live) == len(self.candidate):
            raise ValueError(f"held-out set {self.name}: texts, right intents and both models' answers "
                             "must have one entry per message")


@dataclass(frozen=True)
class CrisisSet:
    """The crisis case set: messages, which are crises, and each model's intent for each message."""
    source: str
    texts: Tuple[str, ...]
    is_crisis: Tuple[bool, ...]
    live: Tuple[str, ...]
    candidate: Tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "texts", tuple(str(t) for t in self.texts))
        object.__setattr__(self, "is_crisis", tuple(bool(c) for c in self.is_crisis))
        object.__setattr__(self, "live", tuple(str(i) for i in self.live))
        object.__setattr__(self, "candidate", tuple(str(i) for i in self.candidate))
        if not len(self.texts) == len(self.is_crisis) == len(self.live) == len(self.candidate):
            raise ValueError("crisis set: texts, crisis labels and both models' answers must have one entry "
                             "per message")


@dataclass(frozen=True)
class Labelled:
    """A message staff labelled since the live model was trained (redacted, as saved)."""
    text: str
    intent: str                  # the label
    live: str                    # what the live model says
    candidate: str               # what the candidate says
    actor: Optional[str] = None
    at: Optional[str] = None


@dataclass(frozen=True)
class GateInputs:
    sets: Tuple[HeldOutSet, ...]
    crisis: Optional[CrisisSet]
    labelled: Tuple[Labelled, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "sets", tuple(self.sets))
        object.__setattr__(self, "labelled", tuple(self.labelled))

    def to_dict(self) -> Dict[str, Any]:
        return {"sets": [asdict(s) for s in self.sets], "crisis": asdict(self.crisis) if self.crisis else None,
                "labelled": [asdict(item) for item in self.labelled]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "GateInputs":
        """From `to_dict`'s output (report.json); ValueError if it is not that."""
        try:
            return cls(sets=tuple(HeldOutSet(**s) for s in data["sets"]),
                       crisis=CrisisSet(**data["crisis"]) if data.get("crisis") else None,
                       labelled=tuple(Labelled(**item) for item in data.get("labelled") or ()))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not the inputs of a promotion decision: {error}") from error


# -- the bootstrap --------------------------------------------------------------------------------
def resample_counts(sizes: Sequence[int], resamples: int, seed: int) -> np.ndarray:
    """(resamples x sum(sizes)) array: how often each message is drawn in each resample. Each block of
    `sizes` (one held-out set) is resampled with replacement within itself, keeping its size."""
    rng = np.random.default_rng(seed)
    blocks = []
    for n in sizes:
        if n == 0:
            blocks.append(np.zeros((resamples, 0)))
            continue
        picks = rng.integers(0, n, (resamples, n)) + (np.arange(resamples) * n)[:, None]
        blocks.append(np.bincount(picks.ravel(), minlength=resamples * n).reshape(resamples, n))
    return np.hstack(blocks).astype(np.float64)


def _one_hot(values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(values), len(labels)))
    for row, value in enumerate(values):
        if value in index:
            matrix[row, index[value]] = 1.0
    return matrix


def f1_per_intent(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                  weights: np.ndarray) -> np.ndarray:
    """F1 of each label in `labels` when message i counts weights[..., i] times: (resamples x labels),
    or (labels,) for one weight vector. Equal to sklearn's f1_score(average=None, zero_division=0) on the
    resampled messages: 2 TP / (2 TP + FP + FN), 0 when that is 0 / 0."""
    right, guessed = _one_hot(truth, labels), _one_hot(predicted, labels)
    true_positive = weights @ (right * guessed)
    denominator = weights @ right + weights @ guessed
    return np.divide(2 * true_positive, denominator, out=np.zeros_like(denominator), where=denominator > 0)


@dataclass
class Comparison:
    """The candidate's score minus the live model's: on all messages, and across the resamples."""
    live: float
    candidate: float
    difference: float
    low: float                   # the (2c-1) interval of the difference
    high: float
    worse_share: float           # share of resamples where the candidate was worse
    better_share: float

    @classmethod
    def of(cls, live: float, candidate: float, differences: np.ndarray, confidence: float) -> "Comparison":
        low, high = np.percentile(differences, [100 * (1 - confidence), 100 * confidence])
        return cls(live=float(live), candidate=float(candidate), difference=float(candidate - live),
                   low=float(low), high=float(high),
                   worse_share=float(np.mean(differences < -EPSILON)),
                   better_share=float(np.mean(differences > EPSILON)))

    def worse(self, confidence: float) -> bool:
        return self.worse_share >= confidence


def _signed(value: float, digits: int = 3) -> str:
    """+0.011, −0.004 (a real minus sign), 0.000."""
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+.{digits}f}".replace("-", "\u2212")


def share_text(value: float) -> str:
    """A share of resamples: 63%; near the line with one decimal, rounded down (94.9% is not 95%)."""
    if 0.9 <= value < 1:
        return f"{math.floor(value * 1000) / 10:.1f}%"
    return f"{value:.0%}"


def interval_text(comparison: Comparison, confidence: float, wording: Optional[Wording] = None) -> str:
    """e.g. "90% interval −0.004 to +0.011"."""
    return (wording or default_wording()).say("interval", level=f"{2 * confidence - 1:.0%}",
                                              low=_signed(comparison.low), high=_signed(comparison.high))


def _sureness(comparison: Comparison, rules, wording: Wording) -> str:
    return wording.say("sureness", interval=interval_text(comparison, rules.confidence, wording),
                       better=share_text(comparison.better_share), worse=share_text(comparison.worse_share),
                       resamples=int(rules.resamples))


# -- the crisis rule, the labels check, the changed messages --------------------------------------
def crisis_check(crisis: Optional[CrisisSet], wording: Optional[Wording] = None) -> Dict[str, Any]:
    """The safety net's recall on the crisis set for each model (flagged = parsed intent emergency_risk),
    false alarms on its other messages, and the crisis messages caught by one model only."""
    wording = wording or default_wording()
    if crisis is None:
        return {"checked": False, "ok": False, "reason": wording.say("crisis.no_set")}
    live_flag = [i == CRISIS_INTENT for i in crisis.live]
    cand_flag = [i == CRISIS_INTENT for i in crisis.candidate]
    crises = [k for k, c in enumerate(crisis.is_crisis) if c]
    others = [k for k, c in enumerate(crisis.is_crisis) if not c]
    if not crises:
        return {"checked": False, "ok": False, "source": crisis.source,
                "reason": wording.say("crisis.no_crisis_messages", source=crisis.source)}
    live_caught, cand_caught = sum(live_flag[k] for k in crises), sum(cand_flag[k] for k in crises)
    result = {
        "checked": True, "source": crisis.source, "crisis_messages": len(crises), "other_messages": len(others),
        "live_caught": live_caught, "candidate_caught": cand_caught,
        "live_recall": live_caught / len(crises), "candidate_recall": cand_caught / len(crises),
        "live_false_alarms": sum(live_flag[k] for k in others),
        "candidate_false_alarms": sum(cand_flag[k] for k in others),
        "lost": [crisis.texts[k] for k in crises if live_flag[k] and not cand_flag[k]],
        "gained": [crisis.texts[k] for k in crises if cand_flag[k] and not live_flag[k]],
        "ok": cand_caught >= live_caught,
    }
    if not result["ok"]:
        named = "; ".join(wording.say("crisis.lost_item", text=text) for text in result["lost"][:SHOWN_LOST])
        more = len(result["lost"]) - SHOWN_LOST
        result["reason"] = wording.say(
            "crisis.fewer_caught", source=crisis.source, candidate_caught=cand_caught, live_caught=live_caught,
            total=len(crises), candidate_recall=result["candidate_recall"], live_recall=result["live_recall"],
            named=named) + (wording.say("crisis.and_more", more=more) if more > 0 else "")
    return result


def labels_check(labelled: Sequence[Labelled], wording: Optional[Wording] = None) -> Dict[str, Any]:
    """Do the messages staff labelled now get their label? Counts, the ones that do not, and a sentence
    like "9 of the 10 messages you labelled are now understood; this one still is not: ..."."""
    say = (wording or default_wording()).say
    labelled = list(labelled)
    missed = [item for item in labelled if item.candidate != item.intent]
    understood = len(labelled) - len(missed)
    if not labelled:
        text = say("labels_check.none")
    elif not missed:
        text = (say("labels_check.one_understood") if len(labelled) == 1
                else say("labels_check.all_understood", count=len(labelled)))
    else:
        listed = "; ".join(say("labels_check.missed_item", text=item.text, intent=item.intent,
                               candidate=item.candidate) for item in missed)
        which = (say("labels_check.which_one") if len(missed) == 1
                 else say("labels_check.which_many", missed=len(missed)))
        if len(labelled) == 1:
            text = say("labels_check.one_missed", listed=listed)
        elif not understood:
            text = say("labels_check.none_understood", count=len(labelled), listed=listed)
        else:
            text = say("labels_check.some_understood", understood=understood, count=len(labelled), which=which,
                       listed=listed)
    return {"labelled": len(labelled), "understood": understood, "text": text,
            "not_understood": [asdict(item) for item in missed],
            "messages": [dict(asdict(item), understood=item.candidate == item.intent) for item in labelled]}


def changed_messages(inputs: GateInputs) -> List[Dict[str, Any]]:
    """Every message whose answer differs between live and candidate: held-out messages and labelled
    ones whose intent changed, crisis-set messages whose flag changed. Worse first (was right, now
    wrong), then better, then wrong either way; each with its set, right answer, before and after."""
    changed: List[Dict[str, Any]] = []
    for held in inputs.sets:
        for text, truth, before, after in zip(held.texts, held.truth, held.live, held.candidate):
            if before != after:
                changed.append({"set": held.name, "source": held.source, "text": text, "right": truth,
                                "before": before, "after": after, "was_right": before == truth,
                                "now_right": after == truth})
    for item in inputs.labelled:
        if item.live != item.candidate:
            changed.append({"set": "labelled", "source": "staff labels", "text": item.text, "right": item.intent,
                            "before": item.live, "after": item.candidate, "was_right": item.live == item.intent,
                            "now_right": item.candidate == item.intent})
    if inputs.crisis is not None:
        crisis = inputs.crisis
        for text, is_crisis, before, after in zip(crisis.texts, crisis.is_crisis, crisis.live, crisis.candidate):
            flagged_before, flagged_after = before == CRISIS_INTENT, after == CRISIS_INTENT
            if flagged_before != flagged_after:
                changed.append({"set": "crisis", "source": crisis.source, "text": text,
                                "right": "crisis" if is_crisis else "not a crisis",
                                "before": before, "after": after, "was_right": flagged_before == is_crisis,
                                "now_right": flagged_after == is_crisis})
    for entry in changed:
        entry["change"] = ("worse" if entry["was_right"] and not entry["now_right"] else
                           "better" if entry["now_right"] and not entry["was_right"] else "still wrong")
    order = {"worse": 0, "better": 1, "still wrong": 2}
    return sorted(changed, key=lambda e: order[e["change"]])  # stable: set order, then message order


# -- the decision ---------------------------------------------------------------------------------
@dataclass
class Decision:
    ok: bool
    reasons: List[str]
    verdict: str                 # one paragraph: allowed and how sure, or refused
    overall: Dict[str, Any]      # macro-F1 on all held-out messages
    sets: List[Dict[str, Any]]   # macro-F1 on each set
    intents: List[Dict[str, Any]]  # each intent's F1 on all held-out messages (only those that changed)
    crisis: Dict[str, Any]
    labels: Dict[str, Any]
    changed: List[Dict[str, Any]]
    rules: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _rules_dict(rules) -> Dict[str, Any]:
    return {"confidence": float(rules.confidence), "resamples": int(rules.resamples), "seed": int(rules.seed)}


def decide(inputs: GateInputs, rules, wording: Optional[Wording] = None) -> Decision:
    """Allow or refuse the candidate (see the module's docstring for the rules). `rules` has
    `confidence`, `resamples` and `seed` (config.PromotionRules)."""
    wording = wording or default_wording()
    say = wording.say
    confidence = float(rules.confidence)
    sets = [s for s in inputs.sets if s.texts]
    reasons: List[str] = []
    if not sets:
        reasons.append(say("reasons.no_messages"))
    truth = [t for s in sets for t in s.truth]
    live = [p for s in sets for p in s.live]
    cand = [p for s in sets for p in s.candidate]
    total = len(truth)

    overall: Dict[str, Any] = {}
    whole: Optional[Comparison] = None
    per_set: List[Dict[str, Any]] = []
    intents: List[Dict[str, Any]] = []
    if sets:
        weights = resample_counts([len(s.texts) for s in sets], int(rules.resamples), int(rules.seed))
        everything = np.ones(total)
        labels = sorted(set(truth))
        live_f1, cand_f1 = f1_per_intent(truth, live, labels, weights), f1_per_intent(truth, cand, labels, weights)
        point_live, point_cand = (f1_per_intent(truth, live, labels, everything),
                                  f1_per_intent(truth, cand, labels, everything))
        whole = Comparison.of(point_live.mean(), point_cand.mean(), cand_f1.mean(axis=1) - live_f1.mean(axis=1),
                              confidence)
        overall = dict(asdict(whole), messages=total, sets=[s.name for s in sets], worse=whole.worse(confidence))
        if whole.worse(confidence):
            reasons.append(say("reasons.overall_worse", total=total, live=whole.live, candidate=whole.candidate,
                               difference=_signed(whole.difference), sureness=_sureness(whole, rules, wording)))

        start = 0
        for held in sets:
            end = start + len(held.texts)
            set_labels = sorted(set(held.truth))
            block = weights[:, start:end]
            ones = np.ones(end - start)
            live_set = f1_per_intent(held.truth, held.live, set_labels, block).mean(axis=1)
            cand_set = f1_per_intent(held.truth, held.candidate, set_labels, block).mean(axis=1)
            one = Comparison.of(f1_per_intent(held.truth, held.live, set_labels, ones).mean(),
                                f1_per_intent(held.truth, held.candidate, set_labels, ones).mean(),
                                cand_set - live_set, confidence)
            per_set.append(dict(asdict(one), name=held.name, source=held.source, messages=len(held.texts),
                                changed=sum(a != b for a, b in zip(held.live, held.candidate)),
                                worse=one.worse(confidence)))
            if one.worse(confidence):
                reasons.append(say("reasons.set_worse", name=held.name, source=held.source,
                                   messages=len(held.texts), live=one.live, candidate=one.candidate,
                                   difference=_signed(one.difference), sureness=_sureness(one, rules, wording)))
            start = end

        support = dict(zip(labels, _one_hot(truth, labels).sum(axis=0).astype(int)))
        touched = {label for t, a, b in zip(truth, live, cand) if a != b for label in (t, a, b)}
        for k, intent in enumerate(labels):
            if intent not in touched:
                continue  # no answer involving this intent changed: its F1 is the same in every resample
            one = Comparison.of(point_live[k], point_cand[k], cand_f1[:, k] - live_f1[:, k], confidence)
            intents.append(dict(asdict(one), intent=intent, messages=int(support[intent]),
                                worse=one.worse(confidence)))
            if one.worse(confidence):
                reasons.append(say("reasons.intent_worse", intent=intent, live=one.live, candidate=one.candidate,
                                   messages=int(support[intent]), difference=_signed(one.difference, 2),
                                   sureness=_sureness(one, rules, wording)))

    crisis = crisis_check(inputs.crisis, wording)
    if not crisis["ok"]:
        reasons.append(crisis["reason"])
    labels_result = labels_check(inputs.labelled, wording)
    ok = not reasons
    if ok:
        how = (say("verdict.no_worse") if whole.worse_share <= whole.better_share
               else say("verdict.not_shown_worse", confidence=f"{confidence:.0%}"))
        verdict = say("verdict.allowed", how=how, total=total, live=whole.live, candidate=whole.candidate,
                      difference=_signed(whole.difference), sureness=_sureness(whole, rules, wording),
                      confidence=f"{confidence:.0%}", candidate_caught=crisis["candidate_caught"],
                      crisis_messages=crisis["crisis_messages"], live_caught=crisis["live_caught"])
    else:
        verdict = say("verdict.refused", reasons="; ".join(reasons))
    return Decision(ok=ok, reasons=reasons, verdict=verdict, overall=overall, sets=per_set,
                    intents=sorted(intents, key=lambda i: i["difference"]), crisis=crisis,
                    labels=labels_result, changed=changed_messages(inputs), rules=_rules_dict(rules))

"""`make eval`: our NLU pipeline against Rasa's default pipeline, and the emergency safety net.

1. Trains an NLU model from data/nlu/ with config.yml (ours) and with config_default.yml (Rasa's
   default pipeline), both with fixed seeds, into var/eval/.
2. Parses every message of three test sets (none is ever trained on) with each model and prints
   intent accuracy, macro-F1, the "not sure" rate and the right topic in the top 3 (the clarifying
   buttons offer three) side by side, a paired bootstrap of the macro-F1 difference, then a per-intent
   F1 table:
   - tests/nlu_test.yml, the DEV set: written separately from the training data, but earlier sessions
     looked at results on it while choosing the pipeline (C, the threshold), so its figures are optimistic;
   - tests/nlu_test_fresh.yml, the BLIND set: written on 2026-12-01 by someone who never saw the
     training data or the dev set, and not used for any choice; but written in our own voice;
   - tests/nlu_wild.yml, the WILD set: real-world messages paraphrased from public pages (sources in
     tests/nlu_wild_sources.tsv) by helpers who never saw data/; never used for a choice. The
     figure that says most about real families.
   What chose what: the encoder, the sentence focus, C and the "not sure" threshold were chosen by
   grouped cross-validation on the training data alone (scripts/choose_nlu.py); the safety net's
   model and threshold likewise (scripts/choose_crisis.py). No test set chose anything this time.
3. Prints the safety net's recall and false-alarm rate on the crisis case sets: the hand-written
   ones in tests/data/ (dev) and tests/crisis_wild.tsv (blind, from public pages): the pattern
   rules alone, the default model alone, and our full pipeline (model + net).
4. Prints the council matcher's accuracy on tests/data/council_hard_cases.yml, with its misses.
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.safety.crisis import is_crisis  # noqa: E402

OUT = ROOT / "var" / "eval"
RASA = str(Path(sys.executable).parent / "rasa")
PIPELINES = {"ours": "config.yml", "rasa default": "config_default.yml"}
TEST_SETS = {
    "nlu_test.yml": "dev set: earlier sessions chose C and the threshold on it",
    "nlu_test_fresh.yml": "blind set, our voice: never used for a choice",
    "nlu_wild.yml": "wild set, from public pages: never used for a choice",
}
CASE_SETS = {
    "safety_cases.yml": "dev set (patterns tuned on it)",
    "safety_cases_holdout.yml": "second set (tuned on after its first run)",
    "safety_cases_fresh.yml": "earlier fresh set (looked at while extending the rules in 2026-12)",
    "crisis_wild.tsv": "wild set from public pages: never tuned on",
}
NOT_TOPICS = {"nlu_fallback"}


def load_case_set(path: Path) -> Dict[str, List[str]]:
    """{"crisis": [...], "not_crisis": [...]} from a YAML case set or a TSV with a label column."""
    if path.suffix == ".tsv":
        import csv

        with path.open(newline="") as handle:
            rows = list(csv.DictReader([l for l in handle if not l.startswith("#")], delimiter="\t"))
        return {"crisis": [r["text"] for r in rows if r["label"] == "crisis"],
                "not_crisis": [r["text"] for r in rows if r["label"] != "crisis"]}
    return yaml.safe_load(path.read_text())


def top3(truth: List[str], rankings: List[List[str]]) -> float:
    """Share of messages whose right topic is among the first three guesses ("not sure" skipped)."""
    hits = [t in [r for r in ranked if r not in NOT_TOPICS][:3] for t, ranked in zip(truth, rankings)]
    return sum(hits) / len(hits) if hits else float("nan")


def load_test_set(path: Path) -> List[Tuple[str, str]]:
    pairs = []
    for block in yaml.safe_load(path.read_text())["nlu"]:
        for line in (block.get("examples") or "").strip().splitlines():
            pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def train(name: str, config: str) -> Path:
    fixed = name.replace(" ", "_")
    target = OUT / "models"
    started = time.monotonic()
    subprocess.run(
        [RASA, "train", "nlu", "--config", config, "--nlu", "data/nlu", "--out", str(target),
         "--fixed-model-name", fixed, "--quiet"],
        cwd=ROOT, check=True,
    )
    print(f"  trained {name!r} in {time.monotonic() - started:.0f} s (Rasa reuses cached components)", flush=True)
    return target / f"{fixed}.tar.gz"


async def parse_all(model: Path, texts: List[str]) -> List[dict]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-message debug lines
    agent = Agent.load(str(model))
    return [await agent.parse_message(t) for t in texts]


def scores(truth: List[str], predicted: List[str]) -> Dict[str, float]:
    labels = sorted(set(truth))
    return {
        "accuracy": accuracy_score(truth, predicted),
        "macro_f1": f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
        "per_intent": dict(zip(labels, f1_score(truth, predicted, labels=labels, average=None, zero_division=0))),
    }


def paired_bootstrap(truth: List[str], ours: List[str], theirs: List[str], rounds: int = 2000,
                     seed: int = 0) -> Tuple[float, float, float]:
    """How sure the macro-F1 difference (ours - theirs) is, resampling the test messages with
    replacement (fixed seed): (share of resamples where ours is better, 2.5th and 97.5th percentile
    of the difference)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = sorted(set(truth))
    truth_a, ours_a, theirs_a = np.array(truth), np.array(ours), np.array(theirs)
    differences = []
    for _ in range(rounds):
        pick = rng.integers(0, len(truth), len(truth))
        differences.append(
            f1_score(truth_a[pick], ours_a[pick], labels=labels, average="macro", zero_division=0)
            - f1_score(truth_a[pick], theirs_a[pick], labels=labels, average="macro", zero_division=0))
    differences = np.array(differences)
    return float((differences > 0).mean()), float(np.percentile(differences, 2.5)), \
        float(np.percentile(differences, 97.5))


def rate(flags: List[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def alarm_topics(parses: List[dict]) -> Tuple[int, int]:
    """Of the non-crisis messages flagged as emergencies: how many, and how many of those still offer
    the topic the classifier read (actions/replies.py, topic_under_the_alarm) after the numbers."""
    from actions.content_store import load_content
    from actions.replies import topic_under_the_alarm

    content = load_content()
    alarms = [p for p in parses if p["intent"]["name"] == "emergency_risk"]
    return sum(topic_under_the_alarm(content, p.get("safety_net")) is not None for p in alarms), len(alarms)


def council_matcher_report() -> None:
    from bot.councils.directory import load_directory
    from bot.councils.matcher import CouncilMatcher

    path = ROOT / "tests" / "data" / "council_hard_cases.yml"
    if not path.exists():
        return
    matcher = CouncilMatcher(load_directory())
    cases = yaml.safe_load(path.read_text())["cases"]
    misses = []
    for case in cases:
        result = matcher.match(case["text"])
        got = {"council": result.council, "outside_england": result.nation}.get(result.kind, result.kind)
        if got != case["expect"]:
            misses.append(f"  {case['text'][:60]!r}: expected {case['expect']}, got {got}")
    print(f"\nCouncil matcher on {path.name}: {len(cases) - len(misses)}/{len(cases)} right "
          f"({(len(cases) - len(misses)) / len(cases):.3f})")
    print("\n".join(misses))


def main() -> int:
    logging.disable(logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    tests = {name: load_test_set(ROOT / "tests" / name) for name in TEST_SETS}
    texts = [t for pairs in tests.values() for t, _ in pairs]
    case_paths = {name: next((p for p in (ROOT / "tests" / "data" / name, ROOT / "tests" / name) if p.exists()), None)
                  for name in CASE_SETS}
    case_sets = {name: load_case_set(path) for name, path in case_paths.items() if path is not None}

    sizes = ", ".join(f"{name} {len(pairs)}" for name, pairs in tests.items())
    print(f"Training both pipelines on data/nlu/ (test messages: {sizes})...", flush=True)
    results: Dict[str, Dict[str, dict]] = {name: {} for name in tests}
    crisis_predictions = {}
    crisis_texts = [t for cases in case_sets.values() for t in cases["crisis"] + cases["not_crisis"]]
    for name, config in PIPELINES.items():
        model = train(name, config)
        parsed = asyncio.run(parse_all(model, texts + crisis_texts))  # one model load per pipeline
        predicted = iter(parsed[: len(texts)])
        for set_name, pairs in tests.items():
            parses = [next(predicted) for _ in pairs]
            guesses = [p["intent"]["name"] for p in parses]
            ranked = [[r["name"] for r in p.get("intent_ranking") or []] for p in parses]
            truth = [i for _, i in pairs]
            results[set_name][name] = dict(scores(truth, guesses), predicted=guesses, top3=top3(truth, ranked),
                                           not_sure=guesses.count("nlu_fallback") / len(guesses))
        flags = iter(p["intent"]["name"] == "emergency_risk" for p in parsed[len(texts):])
        crisis_predictions[name] = {
            set_name: ([next(flags) for _ in cases["crisis"]], [next(flags) for _ in cases["not_crisis"]])
            for set_name, cases in case_sets.items()
        }
        if name == "ours":
            alarms_with_topic, start = {}, len(texts)
            for set_name, cases in case_sets.items():
                start += len(cases["crisis"])  # the non-crisis messages follow each set's crises
                alarms_with_topic[set_name] = alarm_topics(parsed[start:start + len(cases["not_crisis"])])
                start += len(cases["not_crisis"])

    for set_name, by_pipeline in results.items():
        print(f"\nIntent classification on tests/{set_name} ({TEST_SETS[set_name]}, "
              f"{len(tests[set_name])} messages)")
        print(f"{'pipeline':<14} {'accuracy':>9} {'macro-F1':>9} {'not sure':>9} {'top 3':>7}")
        for name, r in by_pipeline.items():
            print(f"{name:<14} {r['accuracy']:>9.3f} {r['macro_f1']:>9.3f} {r['not_sure']:>9.3f} {r['top3']:>7.3f}")
        better, low, high = paired_bootstrap([i for _, i in tests[set_name]], by_pipeline["ours"]["predicted"],
                                             by_pipeline["rasa default"]["predicted"])
        print(f"macro-F1 ours - default, paired bootstrap (2,000 resamples): ours better in {better:.0%}, "
              f"95% interval {low:+.3f} to {high:+.3f}")

    print(f"\nPer-intent F1{'':<17} " + " ".join(f"{s[:-4]:>23}" for s in results))
    print(f"{'intent':<30} " + " ".join(f"{'ours':>11} {'default':>11}" for _ in results))
    for intent in sorted(set().union(*(r["ours"]["per_intent"] for r in results.values()))):
        cells = [f"{r[p]['per_intent'].get(intent, float('nan')):>11.2f}"
                 for r in results.values() for p in ("ours", "rasa default")]
        print(f"{intent:<30} " + " ".join(cells))

    print("\nEmergency safety net: recall (crisis caught) / false-alarm rate (non-crisis flagged)")
    print(f"{'case set':<28} {'n':>7} {'patterns':>15} {'default model':>15} {'ours (model+net)':>17}")
    for set_name, cases in case_sets.items():
        pattern = ([is_crisis(t) for t in cases["crisis"]], [is_crisis(t) for t in cases["not_crisis"]])
        cells = [pattern, crisis_predictions["rasa default"][set_name], crisis_predictions["ours"][set_name]]
        shown = [f"{rate(c):.3f}/{rate(n):.3f}" for c, n in cells]
        n = f"{len(cases['crisis'])}+{len(cases['not_crisis'])}"
        print(f"{set_name:<28} {n:>7} {shown[0]:>15} {shown[1]:>15} {shown[2]:>17}")
        print(f"  ({CASE_SETS[set_name]})")
        offered, alarms = alarms_with_topic[set_name]
        print(f"  ours: {offered} of its {alarms} false alarms still offer the message's topic after the numbers")
    council_matcher_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())

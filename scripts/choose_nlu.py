"""How the NLU pipeline's choices were made: grouped cross-validation on the TRAINING data only.

The evaluation sets (tests/nlu_test*.yml, tests/nlu_wild.yml, tests/crisis_wild.tsv) play no part.
Folds hold out whole public pages: each fold trains on every hand-written example plus the public
examples of the other pages, and is scored on the held-out pages' public examples, which are the
nearest thing in the training data to a real family's message. Printed for each variant:
macro-F1, accuracy, "not sure" rate and right topic in the top 3, at several "not sure" thresholds.

  python scripts/choose_nlu.py            # linear variants (about 2 minutes)
  python scripts/choose_nlu.py --diet     # also DIET per fold through `rasa train nlu` (about 15 minutes),
                                          # cached in var/choose/, to simulate the ensembles
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import yaml
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.nlu_components.intent_features import LinearIntentModel  # noqa: E402
from bot.nlu_components.training_data import Example, load_examples  # noqa: E402

OUT = ROOT / "var" / "choose"
FOLDS = 5
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4)
TOPIC_EXCLUDED = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "inform", "inform_council",
                  "more", "not_helpful"}


def folds(examples: Sequence[Example]):
    public = [i for i, e in enumerate(examples) if e.page and e.intent not in TOPIC_EXCLUDED]
    groups = [examples[i].page for i in public]
    for _, held in GroupKFold(n_splits=FOLDS).split(public, groups=groups):
        held_idx = {public[j] for j in held}
        train = [e for i, e in enumerate(examples) if i not in held_idx]
        test = [examples[i] for i in sorted(held_idx)]
        yield train, test


def report(name: str, truth: List[str], probs: List[Dict[str, float]]) -> Dict[str, float]:
    labels = sorted(set(truth))
    rows = {}
    top3 = np.mean([t in sorted(p, key=p.get, reverse=True)[:3] for t, p in zip(truth, probs)])
    for threshold in THRESHOLDS:
        predicted = []
        for p in probs:
            ranked = sorted(p, key=p.get, reverse=True)
            best, second = ranked[0], (ranked[1] if len(ranked) > 1 else None)
            unsure = p[best] < threshold or (second is not None and p[best] - p[second] < 0.08)
            predicted.append("nlu_fallback" if unsure else best)
        rows[threshold] = (accuracy_score(truth, predicted),
                           f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
                           float(np.mean([x == "nlu_fallback" for x in predicted])))
    cells = "  ".join(f"@{t:.2f} F1 {f:.3f} acc {a:.3f} unsure {u:.2f}" for t, (a, f, u) in rows.items())
    print(f"{name:<34} top3 {top3:.3f}  {cells}", flush=True)
    return {"top3": float(top3), **{f"f1@{t}": r[1] for t, r in rows.items()}}


def linear_variant(train: Sequence[Example], test: Sequence[Example], **options) -> List[Dict[str, float]]:
    model = LinearIntentModel(**options).fit([e.text for e in train], [e.intent for e in train])
    return model.predict_proba_dicts([e.text for e in test])


def diet_rankings(fold: int, train: Sequence[Example], test: Sequence[Example]) -> List[Dict[str, float]]:
    """DIET alone (config.yml's DIET settings) trained on the fold: its whole ranking per message."""
    cache = OUT / f"diet_fold{fold}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    folder = OUT / f"fold{fold}"
    folder.mkdir(parents=True, exist_ok=True)
    blocks: Dict[str, List[str]] = {}
    for e in train:
        blocks.setdefault(e.intent, []).append(e.text)
    nlu = {"version": "3.1", "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in ts)} for i, ts in blocks.items()]}
    (folder / "nlu.yml").write_text(yaml.safe_dump(nlu, allow_unicode=True, sort_keys=False))
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].startswith("bot.")
                          and c["name"] not in ("FallbackClassifier",)]
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    rasa = str(Path(sys.executable).parent / "rasa")
    subprocess.run([rasa, "train", "nlu", "--config", str(folder / "config.yml"), "--nlu", str(folder / "nlu.yml"),
                    "--out", str(folder), "--fixed-model-name", "diet", "--quiet"], cwd=ROOT, check=True)

    async def parse() -> List[Dict[str, float]]:
        from rasa.core.agent import Agent

        agent = Agent.load(str(folder / "diet.tar.gz"))
        out = []
        for e in test:
            result = await agent.parse_message(e.text)
            out.append({r["name"]: float(r["confidence"]) for r in result["intent_ranking"]})
        return out

    rankings = asyncio.run(parse())
    cache.write_text(json.dumps(rankings))
    return rankings


def mix(a: List[Dict[str, float]], b: List[Dict[str, float]], weight: float) -> List[Dict[str, float]]:
    return [{k: weight * x.get(k, 0.0) + (1 - weight) * y.get(k, 0.0) for k in set(x) | set(y)} for x, y in zip(a, b)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diet", action="store_true", help="also cross-validate DIET and the ensembles")
    parser.add_argument("--only", nargs="*", help="only these linear variants (by name)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    examples = load_examples()
    from bot.nlu_components.sentence_encoder import get_encoder

    get_encoder().cache_size = 200_000  # every text and sentence is embedded once for all folds
    variants = {
        "tfidf (C=20)": dict(encoder_weight=0.0),
        "tfidf + encoder (w=1)": dict(encoder_weight=1.0),
        "tfidf + encoder (w=2)": dict(encoder_weight=2.0),
        "encoder alone": dict(encoder_weight=1.0, tfidf=False),
        "tfidf + encoder (w=1) + focus": dict(encoder_weight=1.0, focus=True),
        "tfidf + focus": dict(encoder_weight=0.0, focus=True),
        "tfidf + encoder (w=1, C=10)": dict(encoder_weight=1.0, C=10.0),
        "tfidf + encoder (w=1, C=50)": dict(encoder_weight=1.0, C=50.0),
    }
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}
    truth: List[str] = []
    probs: Dict[str, List[Dict[str, float]]] = {name: [] for name in variants}
    diet: List[Dict[str, float]] = []
    public_pages = {e.page for e in examples if e.page}
    print(f"{len(examples)} training examples, {sum(1 for e in examples if e.page)} public from "
          f"{len(public_pages)} pages; {FOLDS} folds grouped by page\n", flush=True)
    for number, (train, test) in enumerate(folds(examples)):
        truth += [e.intent for e in test]
        for name, options in variants.items():
            probs[name] += linear_variant(train, test, **options)
        if args.diet:
            diet += diet_rankings(number, train, test)
    for name in variants:
        report(name, truth, probs[name])
    if args.diet:
        report("DIET alone", truth, diet)
        for name in variants:
            for weight in (0.5, 0.3):
                report(f"DIET x{weight} + {name}", truth, mix(diet, probs[name], weight))
    return 0


if __name__ == "__main__":
    sys.exit(main())

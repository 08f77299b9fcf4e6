"""Evaluating a candidate against the live model on the fixed test set (tests/nlu_test.yml).

Both models parse every test message (scripts/eval_nlu.py's `load_test_set` and `parse_all`, in a child
process so TensorFlow never loads into the caller, e.g. the gateway). The report has, for each model,
accuracy and macro-F1 (eval_nlu's `scores`) and per-intent precision, recall, F1 and support; the
promotion verdict (bot.retrain.promotion); and two pictures. Everything goes to
var/retrain/<candidate>/: report.json, confusion.png (the candidate's confusion matrix) and
comparison.png (F1 per intent, live against candidate). The live model's answers are cached per model
file and test set, so evaluating the next candidate parses only the candidate.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot.retrain import promotion
from bot.retrain.audit import iso
from bot.retrain.config import RetrainConfig


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def held_out_pairs(test_set: Path) -> List[Tuple[str, str]]:
    from scripts.eval_nlu import load_test_set

    return load_test_set(Path(test_set))


def parse_in_child(model: Path, texts: Sequence[str], work: Path, nice: int = 0,
                   cwd: Optional[Path] = None) -> List[Dict[str, object]]:
    """[{intent, confidence}] for each text, from `model`, parsed in a child Python process run in the
    project folder `cwd` (the pipeline's relative paths, e.g. var/spacy/, are read from there)."""
    from bot.retrain.training import child_env

    work.mkdir(parents=True, exist_ok=True)
    stem = hashlib.sha1(str(model).encode()).hexdigest()[:10]
    texts_file, out_file = work / f"texts-{stem}.json", work / f"parsed-{stem}.json"
    texts_file.write_text(json.dumps(list(texts)))
    command = [sys.executable, "-m", "bot.retrain.evaluation", str(model), str(texts_file), str(out_file)]
    if nice and shutil.which("nice"):
        command = ["nice", "-n", str(nice)] + command
    result = subprocess.run(command, env=child_env(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"could not parse the test set with {model.name}:\n{result.stdout[-2000:]}")
    parsed = json.loads(out_file.read_text())
    texts_file.unlink()
    out_file.unlink()
    return parsed


def predictions(model: Path, texts: Sequence[str], cache_dir: Path, nice: int = 0,
                cwd: Optional[Path] = None) -> List[str]:
    """The intent `model` gives each text; cached by the model file's and the texts' hashes."""
    key = hashlib.sha256((sha256_file(model) + json.dumps(list(texts))).encode()).hexdigest()[:24]
    cached = cache_dir / f"{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    intents = [str(p["intent"]) for p in parse_in_child(model, texts, cache_dir, nice, cwd)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(intents))
    return intents


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> Dict[str, object]:
    """Accuracy, macro-F1 (as `make eval` computes them) and per-intent precision/recall/F1/support."""
    from sklearn.metrics import precision_recall_fscore_support
    from scripts.eval_nlu import scores

    summary = scores(list(truth), list(predicted))
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(summary["accuracy"]),
        "macro_f1": float(summary["macro_f1"]),
        "per_intent": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                       for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(truth: Sequence[str], predicted: Sequence[str], path: Path, title: str) -> None:
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    labels = sorted(set(truth)) + sorted(set(predicted) - set(truth))  # e.g. nlu_fallback last
    matrix = confusion_matrix(truth, predicted, labels=labels)
    size = max(6.0, 0.32 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent (tests/nlu_test.yml)")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def comparison_png(live: Dict[str, object], candidate: Dict[str, object], path: Path, title: str) -> None:
    plt = _pyplot()
    intents = sorted(candidate["per_intent"])
    live_f1 = [live["per_intent"].get(i, {}).get("f1", 0.0) for i in intents]
    cand_f1 = [candidate["per_intent"][i]["f1"] for i in intents]
    fig, ax = plt.subplots(figsize=(8, max(4.0, 0.3 * len(intents) + 1.5)))
    rows = range(len(intents))
    ax.barh([r - 0.2 for r in rows], live_f1, height=0.4, label=f"live (macro-F1 {live['macro_f1']:.3f})",
            color="#9e9e9e")
    ax.barh([r + 0.2 for r in rows], cand_f1, height=0.4,
            label=f"candidate (macro-F1 {candidate['macro_f1']:.3f})", color="#1d70b8")
    ax.set_yticks(list(rows), intents, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 on tests/nlu_test.yml")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def live_model(cfg: RetrainConfig) -> Path:
    """The model being served: var/retrain/live.json if a promotion wrote it, else the newest in models/
    (the one `make run` serves)."""
    from bot.retrain import deploy

    live = deploy.live_model(cfg)
    if live is None:
        raise FileNotFoundError(f"no model in {cfg.models_dir}/: train and start the assistant first")
    return live


def evaluate_candidate(cfg: RetrainConfig, candidate: Path, *, now: datetime,
                       live: Optional[Path] = None) -> Dict[str, object]:
    """Evaluate `candidate` against the live model; write report.json and the pictures; return the report."""
    candidate = Path(candidate).resolve()
    if not candidate.exists():
        raise FileNotFoundError(f"no candidate model at {candidate}")
    live = Path(live).resolve() if live else live_model(cfg).resolve()  # callers pass deploy.current_live()
    pairs = held_out_pairs(cfg.test_set)
    texts, truth = [t for t, _ in pairs], [i for _, i in pairs]
    cache = cfg.work_dir / "predictions"
    live_pred = predictions(live, texts, cache, cfg.nice, cfg.root)
    cand_pred = predictions(candidate, texts, cache, cfg.nice, cfg.root)
    live_metrics, cand_metrics = metrics(truth, live_pred), metrics(truth, cand_pred)
    ok, reasons = promotion.check_promotion(live_metrics, cand_metrics, cfg.promotion)
    name = candidate.name.replace(".tar.gz", "")
    out = cfg.work_dir / name
    out.mkdir(parents=True, exist_ok=True)
    confusion_png(truth, cand_pred, out / "confusion.png", f"{name}: confusion matrix on the test set")
    comparison_png(live_metrics, cand_metrics, out / "comparison.png", f"F1 per intent: live {live.name} "
                   f"against {name}")
    report = {
        "evaluated_at": iso(now),
        "test_set": str(cfg.test_set), "test_set_sha256": sha256_file(cfg.test_set), "messages": len(texts),
        "live": dict(live_metrics, model=str(live), model_sha256=sha256_file(live)),
        "candidate": dict(cand_metrics, model=str(candidate), model_sha256=sha256_file(candidate)),
        "promotion": {"ok": ok, "reasons": reasons,
                      "summary": promotion.summary(live_metrics, cand_metrics)},
        "files": {"report": str(out / "report.json"), "confusion": str(out / "confusion.png"),
                  "comparison": str(out / "comparison.png")},
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))
    return report


def read_report(cfg: RetrainConfig, candidate_name: str) -> Optional[Dict[str, object]]:
    path = cfg.work_dir / candidate_name.replace(".tar.gz", "") / "report.json"
    return json.loads(path.read_text()) if path.exists() else None


def _parse_worker(argv: List[str]) -> int:
    """Child process: python -m bot.retrain.evaluation MODEL TEXTS.json OUT.json"""
    import asyncio
    import logging

    from scripts.eval_nlu import parse_all

    model, texts_file, out_file = argv
    logging.disable(logging.WARNING)
    parsed = asyncio.run(parse_all(Path(model), json.loads(Path(texts_file).read_text())))
    Path(out_file).write_text(json.dumps([{"intent": p["intent"]["name"],
                                           "confidence": p["intent"].get("confidence")} for p in parsed]))
    return 0


if __name__ == "__main__":
    sys.exit(_parse_worker(sys.argv[1:]))

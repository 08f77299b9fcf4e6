"""Evaluating a candidate against the live model on every held-out set, and deciding on the evidence.

Both models parse every message of the held-out sets (config/retrain.yml `paths`: the dev set
tests/nlu_test.yml, the blind set tests/nlu_test_fresh.yml, the wild set tests/nlu_wild.yml), of the
crisis set (tests/crisis_wild.tsv) and the messages staff labelled since the live model was trained
(from the audit log), with scripts/eval_nlu.py's loaders and `parse_all`, in one child process per
model so TensorFlow never loads into the caller (e.g. the gateway). The promotion gate
(bot.retrain.gate) decides on those answers; its decision, the answers it decided on, accuracy and
macro-F1 and per-intent precision, recall, F1 and support (on all held-out messages together and on
each set) and two pictures go to var/retrain/<candidate>/: report.json, confusion.png (the candidate's
confusion matrix on all held-out messages) and comparison.png (F1 per intent, live against candidate).
Answers are cached per model file and list of messages, so evaluating the next candidate parses the
live model again only for newly labelled messages.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot.retrain import gate, promotion
from bot.retrain.audit import AuditLog, iso
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


def crisis_cases(crisis_set: Path) -> Tuple[List[str], List[bool]]:
    """The crisis set's messages and whether each is a crisis (scripts/eval_nlu.py `load_case_set`)."""
    from scripts.eval_nlu import load_case_set

    cases = load_case_set(Path(crisis_set))
    return cases["crisis"] + cases["not_crisis"], [True] * len(cases["crisis"]) + [False] * len(cases["not_crisis"])


def set_fingerprints(cfg: RetrainConfig) -> Dict[str, Optional[str]]:
    """sha256 of each held-out set and of the crisis set (None: missing), to tell when they changed."""
    files = dict(cfg.held_out_sets)
    if cfg.crisis_set is not None:
        files["crisis"] = Path(cfg.crisis_set)
    return {name: sha256_file(path) if path.is_file() else None for name, path in files.items()}


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
    return predictions_by_set(model, {"texts": list(texts)}, cache_dir, nice, cwd)["texts"]


def predictions_by_set(model: Path, segments: Dict[str, Sequence[str]], cache_dir: Path, nice: int = 0,
                       cwd: Optional[Path] = None) -> Dict[str, List[str]]:
    """{name: the intent `model` gives each of those texts}. Each list is cached by the model file's and
    its texts' hashes; the lists not cached yet are parsed together (one model load)."""
    model_hash = sha256_file(model)
    found: Dict[str, List[str]] = {}
    missing: Dict[str, Tuple[List[str], Path]] = {}
    for name, texts in segments.items():
        texts = list(texts)
        if not texts:
            found[name] = []
            continue
        key = hashlib.sha256((model_hash + json.dumps(texts)).encode()).hexdigest()[:24]
        cached = cache_dir / f"{key}.json"
        if cached.exists():
            found[name] = json.loads(cached.read_text())
        else:
            missing[name] = (texts, cached)
    if missing:
        everything = [t for texts, _ in missing.values() for t in texts]
        intents = iter([str(p["intent"]) for p in parse_in_child(model, everything, cache_dir, nice, cwd)])
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name, (texts, cached) in missing.items():
            found[name] = [next(intents) for _ in texts]
            cached.write_text(json.dumps(found[name]))
    return {name: found[name] for name in segments}


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
    ax.set_ylabel("true intent (held-out sets)")
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
    ax.set_xlabel("F1 on the held-out sets")
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


def _moment(text: str) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def model_started(cfg: RetrainConfig, model: Path) -> Optional[datetime]:
    """When the training of `model` read the training data: the audit log's `train` entry for it (a
    candidate trained here, promoted or not), else Rasa's `trained_at` in the model's metadata.json,
    else the file's modification time. None if there is no such file."""
    model = Path(model)
    name = model.name.replace(".tar.gz", "")
    for entry in AuditLog(cfg.audit_log).entries():
        if entry.get("action") == "train" and (entry.get("after") or {}).get("candidate") == name:
            return _moment(entry["at"])
    if not model.exists():
        return None
    try:
        import tarfile

        with tarfile.open(model) as archive:
            for member in archive:
                if member.name.lstrip("./") == "metadata.json":
                    moment = _moment(json.loads(archive.extractfile(member).read()).get("trained_at") or "")
                    if moment:
                        return moment
                    break
    except Exception:  # not a Rasa archive (tests use stand-ins): fall back to the file's time
        pass
    return datetime.fromtimestamp(model.stat().st_mtime, timezone.utc)


def labelled_since(cfg: RetrainConfig, live: Path, candidate: Path) -> List[Dict[str, str]]:
    """The messages staff labelled (audit log `label` entries: the redacted example and its intent)
    after the live model's training started and before the candidate's: the ones the candidate has
    learned from and the live model has not. One entry per message (its latest label)."""
    from bot.retrain.privacy import normalise

    since, until = model_started(cfg, live), model_started(cfg, candidate)
    found: Dict[str, Dict[str, str]] = {}
    for entry in AuditLog(cfg.audit_log).entries():
        after = entry.get("after") or {}
        if entry.get("action") != "label" or not after.get("example") or not after.get("intent"):
            continue
        at = _moment(entry.get("at") or "")
        if at is None or (since is not None and at <= since) or (until is not None and at > until):
            continue
        found[normalise(after["example"])] = {"text": after["example"], "intent": after["intent"],
                                              "actor": entry.get("actor"), "at": entry.get("at")}
    return list(found.values())


def gather(cfg: RetrainConfig, live: Path, candidate: Path,
           with_labels: bool = True) -> gate.GateInputs:
    """Both models' answers on every held-out set, the crisis set and the labelled messages: the promotion
    gate's inputs. Raises FileNotFoundError if a configured set is missing."""
    sets, segments = [], {}
    for name, path in cfg.held_out_sets:
        if not path.is_file():
            raise FileNotFoundError(f"the held-out set {path} is missing; the candidate cannot be compared on it")
        pairs = held_out_pairs(path)
        sets.append((name, path, pairs))
        segments[f"set:{name}"] = [t for t, _ in pairs]
    crisis_texts, is_crisis = [], []
    if cfg.crisis_set is not None:
        if not Path(cfg.crisis_set).is_file():
            raise FileNotFoundError(f"the crisis set {cfg.crisis_set} is missing; the safety net cannot be checked")
        crisis_texts, is_crisis = crisis_cases(cfg.crisis_set)
        segments["crisis"] = crisis_texts
    labelled = labelled_since(cfg, live, candidate) if with_labels else []
    segments["labelled"] = [item["text"] for item in labelled]
    cache = cfg.work_dir / "predictions"
    live_answers = predictions_by_set(live, segments, cache, cfg.nice, cfg.root)
    cand_answers = predictions_by_set(candidate, segments, cache, cfg.nice, cfg.root)

    def shown(path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(cfg.root.resolve()))
        except ValueError:
            return str(path)

    return gate.GateInputs(
        sets=tuple(gate.HeldOutSet(name=name, source=shown(path), texts=[t for t, _ in pairs],
                                   truth=[i for _, i in pairs], live=live_answers[f"set:{name}"],
                                   candidate=cand_answers[f"set:{name}"]) for name, path, pairs in sets),
        crisis=gate.CrisisSet(source=shown(cfg.crisis_set), texts=crisis_texts, is_crisis=is_crisis,
                              live=live_answers["crisis"], candidate=cand_answers["crisis"])
        if cfg.crisis_set is not None else None,
        labelled=tuple(gate.Labelled(text=item["text"], intent=item["intent"], actor=item["actor"], at=item["at"],
                                     live=a, candidate=b)
                       for item, a, b in zip(labelled, live_answers["labelled"], cand_answers["labelled"])))


def evaluate_candidate(cfg: RetrainConfig, candidate: Path, *, now: datetime,
                       live: Optional[Path] = None) -> Dict[str, object]:
    """Evaluate `candidate` against the live model; write report.json and the pictures; return the report."""
    candidate = Path(candidate).resolve()
    if not candidate.exists():
        raise FileNotFoundError(f"no candidate model at {candidate}")
    live = Path(live).resolve() if live else live_model(cfg).resolve()  # callers pass deploy.current_live()
    return write_report(cfg, live, candidate, gather(cfg, live, candidate), now=now)


def write_report(cfg: RetrainConfig, live: Path, candidate: Path, inputs: gate.GateInputs, *, now: datetime,
                 pictures: bool = True) -> Dict[str, object]:
    """The promotion gate's decision on `inputs` (both models' answers), the scores, and the pictures
    (unless `pictures` is False), written to var/retrain/<candidate>/report.json; returns the report."""
    decision = gate.decide(inputs, cfg.promotion)
    truth = [t for s in inputs.sets for t in s.truth]
    live_pred = [p for s in inputs.sets for p in s.live]
    cand_pred = [p for s in inputs.sets for p in s.candidate]
    live_metrics, cand_metrics = metrics(truth, live_pred), metrics(truth, cand_pred)
    name = Path(candidate).name.replace(".tar.gz", "")
    out = cfg.work_dir / name
    out.mkdir(parents=True, exist_ok=True)
    if pictures:
        confusion_png(truth, cand_pred, out / "confusion.png", f"{name}: confusion matrix on the held-out sets")
        comparison_png(live_metrics, cand_metrics, out / "comparison.png", f"F1 per intent: live {Path(live).name} "
                       f"against {name}")
    report = {
        "evaluated_at": iso(now),
        "test_set": str(cfg.test_set), "test_set_sha256": sha256_file(cfg.test_set), "messages": len(truth),
        "held_out": [{"name": s.name, "file": s.source, "messages": len(s.texts),
                      "live": metrics(s.truth, s.live), "candidate": metrics(s.truth, s.candidate)}
                     for s in inputs.sets],
        "sets_sha256": set_fingerprints(cfg),
        "live": dict(live_metrics, model=str(live), model_sha256=sha256_file(live)),
        "candidate": dict(cand_metrics, model=str(candidate), model_sha256=sha256_file(candidate)),
        "promotion": {"ok": decision.ok, "reasons": decision.reasons, "verdict": decision.verdict,
                      "labels": decision.labels["text"], "summary": promotion.summary(live_metrics, cand_metrics)},
        "gate": decision.to_dict(),
        "inputs": inputs.to_dict(),
        "files": {"report": str(out / "report.json"), "confusion": str(out / "confusion.png"),
                  "comparison": str(out / "comparison.png")},
    }
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
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

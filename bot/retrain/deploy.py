"""Putting a candidate live, and taking it back (one step).

`promote` refuses unless the candidate's evaluation (var/retrain/<candidate>/report.json) was made
against the model that is live now, on the held-out sets as they are now, and the promotion gate
(bot.retrain.gate) allows it. It then copies the candidate into
models/ (where it is now the newest file, so a restart serves it too), asks the running Rasa server to
load it (PUT /model: conversations are kept), and records in var/retrain/live.json which model is live
and which was live before. `rollback` puts the previous one back the same way and swaps the two in
live.json. Both are written to the audit log.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.retrain.audit import AuditLog, check_actor, iso
from bot.retrain.config import RetrainConfig
from bot.retrain.model_server import ModelServer, ModelServerError


class PromotionRefused(RuntimeError):
    def __init__(self, reasons: List[str]):
        self.reasons = reasons
        super().__init__("not promoted: " + "; ".join(reasons))


def read_live(cfg: RetrainConfig) -> Dict[str, Any]:
    """{"live": path, "previous": path or None, "changed_at", "by", "action"}, or {} before any promotion."""
    try:
        return json.loads(cfg.live_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _write_live(cfg: RetrainConfig, state: Dict[str, Any]) -> None:
    cfg.live_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfg.live_file.with_name(cfg.live_file.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, cfg.live_file)


def newest_model(models_dir: Path) -> Optional[Path]:
    """The model bot/run_local.py serves at start: the newest *.tar.gz in models/ (not in subfolders)."""
    models = sorted(Path(models_dir).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def live_model(cfg: RetrainConfig) -> Optional[Path]:
    recorded = read_live(cfg).get("live")
    if recorded and Path(recorded).exists():
        return Path(recorded)
    return newest_model(cfg.models_dir)


def current_live(cfg: RetrainConfig, server: Optional[ModelServer] = None) -> Optional[Path]:
    """The model live now: the one the running server says it serves (GET /status) if it is in models/
    or models/candidates/; else live.json's; else the newest in models/. Candidates are evaluated
    against it, and promotion checks the evaluation was."""
    if server is not None:
        with contextlib.suppress(ModelServerError):
            name = Path(str(server.status().get("model_file") or "")).name
            for folder in (cfg.models_dir, cfg.candidates_dir):
                if name and (folder / name).exists():
                    return (folder / name).resolve()
    live = live_model(cfg)
    return live.resolve() if live else None


def check_candidate(cfg: RetrainConfig, candidate: Path, report: Optional[Dict[str, Any]],
                    live: Optional[Path]) -> List[str]:
    """Why this candidate may not be promoted now (empty list: it may). The promotion gate decides again
    on the answers the evaluation recorded, with the rules in config/retrain.yml now."""
    if not candidate.exists():
        return [f"no candidate model at {candidate}"]
    if report is None:
        return ["it has not been evaluated yet (python -m bot.retrain evaluate)"]
    from bot.retrain import gate
    from bot.retrain.evaluation import set_fingerprints, sha256_file

    if report["candidate"].get("model_sha256") != sha256_file(candidate):
        return ["its evaluation is for a different model file; evaluate it again"]
    if live is not None and report["live"].get("model_sha256") != sha256_file(live):
        return [f"the live model is now {live.name}, not the one it was evaluated against; evaluate it again"]
    if "inputs" not in report:
        return ["it was evaluated before the promotion rules changed (issue 20); evaluate it again"]
    if report.get("sets_sha256") != set_fingerprints(cfg):
        return ["the test sets changed since the evaluation; evaluate it again"]
    try:
        inputs = gate.GateInputs.from_dict(report["inputs"])
    except ValueError:
        return ["its evaluation cannot be read; evaluate it again"]
    return gate.decide(inputs, cfg.promotion).reasons


def promote(cfg: RetrainConfig, candidate: Path, actor: str, now: datetime, *,
            server: Optional[ModelServer], report: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Put `candidate` live if its evaluation allows it. `server=None`: only copy it into models/ (it is
    served from the next start). Returns the new live.json. Raises PromotionRefused saying why not."""
    from bot.retrain.evaluation import read_report

    actor = check_actor(actor)
    candidate = Path(candidate).resolve()
    report = report if report is not None else read_report(cfg, candidate.name)
    previous = current_live(cfg, server)
    reasons = check_candidate(cfg, candidate, report, previous)
    if reasons:
        AuditLog(cfg.audit_log).record(actor, "promote_refused", now, after={"candidate": candidate.name},
                                       reasons=reasons)
        raise PromotionRefused(reasons)
    target = (cfg.models_dir / candidate.name).resolve()
    if target.exists():
        raise PromotionRefused([f"{target.name} is already in {cfg.models_dir.name}/"])
    cfg.models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(candidate, target)  # a new file: the newest in models/, so a restart serves it too
    if server is not None:
        try:
            server.load(target)
        except ModelServerError as error:
            target.unlink()
            raise PromotionRefused([f"the Rasa server did not load it: {error}"]) from error
    state = {"live": str(target), "previous": str(previous) if previous else None, "changed_at": iso(now),
             "by": actor, "action": "promote", "report": (report or {}).get("files", {}).get("report"),
             "swapped_into_running_server": server is not None}
    _write_live(cfg, state)
    AuditLog(cfg.audit_log).record(actor, "promote", now, before={"live": state["previous"]},
                                   after={"live": state["live"]}, summary=report["promotion"].get("summary"),
                                   verdict=report["promotion"].get("verdict"))
    return state


def rollback(cfg: RetrainConfig, actor: str, now: datetime, *, server: Optional[ModelServer]) -> Dict[str, Any]:
    """Put the previous model back (one step) and record it; a second rollback undoes the first."""
    actor = check_actor(actor)
    state = read_live(cfg)
    previous = state.get("previous")
    if not previous:
        raise PromotionRefused(["there is no previous model to go back to (nothing was promoted here)"])
    if not Path(previous).exists():
        raise PromotionRefused([f"the previous model {previous} is no longer there"])
    if server is not None:
        try:
            server.load(Path(previous))
        except ModelServerError as error:
            raise PromotionRefused([f"the Rasa server did not load it: {error}"]) from error
    newest = newest_model(cfg.models_dir)
    stamp = max(now.timestamp(), newest.stat().st_mtime + 1 if newest else 0)
    os.utime(previous, (stamp, stamp))  # the newest in models/ again, so a restart serves it
    new_state = {"live": previous, "previous": state.get("live"), "changed_at": iso(now), "by": actor,
                 "action": "rollback", "swapped_into_running_server": server is not None}
    _write_live(cfg, new_state)
    AuditLog(cfg.audit_log).record(actor, "rollback", now, before={"live": state.get("live")},
                                   after={"live": previous})
    return new_state

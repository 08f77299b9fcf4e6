"""Training a candidate model in the background, with progress a web page can poll.

`start_training(cfg, actor)` runs

    nice -n 10 rasa train --config config.yml --domain domain.yml --data data \
        --out models/candidates --fixed-model-name candidate-<UTC time>

in the project folder, in a background thread, and keeps `var/retrain/training.json` up to date:
state (running, evaluating, done, failed), percent, the component being trained, when it started and
finished, the last lines of Rasa's output, and at the end the candidate and its evaluation. Progress
comes from Rasa's own output: "Starting to train component 'DIETClassifier'", the epoch bars
("Epochs:  40%|####      | 40/100") of DIET and TED, "Finished training component" / "Restored
component ... from cache", and "Your Rasa model is trained and saved at ...". Each epoch-trained
component counts in proportion to its epochs. Only one training runs at a time (a lock file).
"""
from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional, Tuple

import yaml

from bot import settings as settings_mod
from bot.retrain.audit import AuditLog, check_actor, iso
from bot.retrain.config import RetrainConfig

Clock = Callable[[], datetime]
EPOCH_COMPONENTS = {"DIETClassifier": 300, "ResponseSelector": 300, "TEDPolicy": 1, "UnexpecTEDIntentPolicy": 1}
RUNNING_STATES = ("starting", "running", "evaluating")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STARTING = re.compile(r"Starting to train component '(\w+)'")
_FINISHED = re.compile(r"(?:Finished training|Restored) component '(\w+)'")
_EPOCHS = re.compile(r"Epochs:\s*(\d{1,3})%\|")
_SAVED = re.compile(r"Your Rasa model is trained and saved at '([^']+)'")
_NOISE = ("Processed trackers", "Processed story blocks", "Processed rules", "Processed actions",
          "DeprecationWarning", "declare_namespace", "pkg_resources", "Implementing implicit namespace",
          "  import ", "  from ", "MovedIn20Warning", "  Base: ", "setParseAction", "parseString",
          "resetCache", "  rasa.shared.utils.io.raise_warning", "  ).setParse", "  self._parser")
LOG_TAIL = 15


class TrainingBusy(RuntimeError):
    """Another training is running."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def candidate_name(now: datetime) -> str:
    return "candidate-" + now.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")


def epoch_components(rasa_config: Path) -> List[Tuple[str, int]]:
    """The components of a Rasa config that train in epochs (they print progress bars), with their epochs."""
    config = yaml.safe_load(Path(rasa_config).read_text()) or {}
    found = []
    for entry in (config.get("pipeline") or []) + (config.get("policies") or []):
        name = str((entry or {}).get("name", "")).rsplit(".", 1)[-1]
        if name in EPOCH_COMPONENTS:
            found.append((name, int(entry.get("epochs", EPOCH_COMPONENTS[name]))))
    return found


def split_output(buffer: str) -> Tuple[List[str], str]:
    """Complete lines from a chunk of output (progress bars end in \\r, log lines in \\n) and the rest."""
    parts = re.split(r"[\r\n]", buffer)
    return [_ANSI.sub("", p).rstrip() for p in parts[:-1] if p.strip()], parts[-1]


class ProgressParser:
    """Turns `rasa train` output lines into a percentage, the component being trained and the model path."""

    def __init__(self, components: List[Tuple[str, int]]):
        self.pending = list(components)             # (name, epochs) not finished yet
        self.total = sum(e for _, e in components)
        self.done = 0
        self.current: Optional[str] = None
        self.fraction = 0.0                          # of the current component's epochs
        self.percent = 0.0
        self.model_path: Optional[str] = None

    def _epochs_of(self, name: Optional[str]) -> int:
        return next((e for n, e in self.pending if n == name), 0)

    def feed(self, line: str) -> bool:
        """Read one line; True if the percentage, component or model path changed."""
        before = (round(self.percent), self.current, self.model_path)
        if "Started validating domain and training data" in line:
            self.percent = max(self.percent, 2.0)
        elif _STARTING.search(line):
            self.current, self.fraction = _STARTING.search(line).group(1), 0.0
            self.percent = max(self.percent, 5.0)
        elif _EPOCHS.search(line) and self.current:
            self.fraction = min(100, int(_EPOCHS.search(line).group(1))) / 100
        elif _FINISHED.search(line):
            name = _FINISHED.search(line).group(1)
            epochs = self._epochs_of(name)
            if epochs:
                self.pending.remove((name, epochs))
                self.done += epochs
            if name == self.current:
                self.current, self.fraction = None, 0.0
        elif _SAVED.search(line):
            self.model_path = _SAVED.search(line).group(1)
            self.percent, self.current = 100.0, None
        if self.model_path is None and self.total and self.percent >= 5.0:  # components have started
            share = (self.done + self.fraction * self._epochs_of(self.current)) / self.total
            self.percent = max(self.percent, 5.0 + 90.0 * share)
        return (round(self.percent), self.current, self.model_path) != before


@dataclass
class TrainingStatus:
    state: str = "idle"                  # idle | starting | running | evaluating | done | failed
    percent: float = 0.0
    component: Optional[str] = None
    candidate: Optional[str] = None      # candidate name, e.g. candidate-20261201-093000
    candidate_path: Optional[str] = None
    actor: Optional[str] = None
    started: Optional[str] = None
    finished: Optional[str] = None
    message: str = ""
    log_tail: List[str] = field(default_factory=list)
    report: Optional[str] = None         # var/retrain/<candidate>/report.json when evaluated
    promotion: Optional[Dict[str, object]] = None  # {"ok": bool, "reasons": [...]} from the evaluation
    seconds_left: Optional[int] = None   # the training's estimated time left (`seconds_left()`), None: unknown
    time_left: str = ""                  # the same in words, for the page and the progress bar

    def to_dict(self) -> Dict[str, object]:
        data = asdict(self)
        data["percent"] = round(self.percent, 1)
        return data


ESTIMATE_FROM = 10.0  # percent: before this, the progress is loading, not training, and says little of the pace


def seconds_left(percent: float, elapsed: float) -> Optional[int]:
    """The training's time left if it goes on at its pace so far: elapsed x (100 - percent) / percent
    seconds. None before ESTIMATE_FROM percent, when finished, or when no time has passed."""
    if percent < ESTIMATE_FROM or percent >= 100 or elapsed <= 0:
        return None
    return int(round(elapsed * (100 - percent) / percent))


def time_left_text(seconds: Optional[int]) -> str:
    """"about 4 minutes left", "less than a minute left"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = int(round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''} left"


def write_status(path: Path, status: TrainingStatus) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(status.to_dict(), indent=1))
    os.replace(tmp, path)


def read_status(cfg: RetrainConfig) -> Dict[str, object]:
    """The latest training's status (what the console page polls). {"state": "idle"} if none yet."""
    try:
        status = json.loads(cfg.status_file.read_text())
    except (FileNotFoundError, ValueError):
        return TrainingStatus().to_dict()
    if status.get("state") in RUNNING_STATES and not _lock_owner_alive(cfg):
        status.update(state="failed", message="the training process stopped before it finished")
    return status


def train_command(cfg: RetrainConfig, name: str) -> List[str]:
    from scripts.eval_nlu import RASA

    command = [RASA, "train", "--config", str(cfg.rasa_config), "--domain", str(cfg.domain),
               "--data", str(cfg.root / "data"), "--out", str(cfg.candidates_dir), "--fixed-model-name", name]
    if cfg.nice and shutil.which("nice"):
        command = ["nice", "-n", str(cfg.nice)] + command
    return command


def child_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(settings_mod.ROOT), os.environ.get("PYTHONPATH")])))
    return env


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_owner(cfg: RetrainConfig) -> int:
    try:
        return int((cfg.work_dir / "training.lock").read_text().strip() or 0)
    except (ValueError, FileNotFoundError):
        return 0


def _lock_owner_alive(cfg: RetrainConfig) -> bool:
    owner = _lock_owner(cfg)
    return bool(owner) and _pid_alive(owner)


@contextlib.contextmanager
def training_lock(cfg: RetrainConfig):
    """One training at a time on this machine; a lock left by a process that died is taken over."""
    path = cfg.work_dir / "training.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = path.with_name(f"training.lock.{os.getpid()}.{threading.get_ident()}")
    mine.write_text(str(os.getpid()))
    try:
        for _ in range(2):
            try:
                os.link(mine, path)  # atomic: the lock appears with its owner already written in it
                break
            except FileExistsError:
                if _lock_owner_alive(cfg):
                    raise TrainingBusy("a training is already running; wait for it to finish "
                                       "(python -m bot.retrain status)")
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        else:
            raise TrainingBusy("could not take the training lock")
    finally:
        mine.unlink()
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class TrainingJob:
    """One `rasa train` of a candidate, then (optionally) its evaluation. `start()` runs it in a thread;
    `run()` runs it here. `status` is always current; it is also written to cfg.status_file."""

    def __init__(self, cfg: RetrainConfig, actor: str, *, clock: Clock = utc_now, evaluate: bool = True,
                 on_progress: Optional[Callable[[TrainingStatus], None]] = None,
                 command: Optional[List[str]] = None, server=None, audit_action: str = "train"):
        self.cfg, self.actor, self.clock, self.evaluate = cfg, check_actor(actor), clock, evaluate
        self.audit_action = audit_action  # "train": a candidate (evaluation.model_started looks for it)
        self.server = server  # the running Rasa server: the candidate is evaluated against what it serves
        self.on_progress = on_progress
        self._started = clock()
        self.name = candidate_name(self._started)
        self.command = command or train_command(cfg, self.name)
        self.status = TrainingStatus(state="starting", candidate=self.name, actor=self.actor,
                                     started=iso(self._started), message="starting rasa train")
        self.process: Optional[subprocess.Popen] = None
        self.thread: Optional[threading.Thread] = None
        self._tail: Deque[str] = deque(maxlen=LOG_TAIL)
        self._lock = training_lock(cfg)

    # public ------------------------------------------------------------------------------------
    def start(self) -> "TrainingJob":
        self._lock.__enter__()  # raises TrainingBusy now, not in the thread
        self._publish()
        self.thread = threading.Thread(target=self._run_locked, name=f"train {self.name}", daemon=True)
        self.thread.start()
        return self

    def run(self) -> TrainingStatus:
        self._lock.__enter__()
        self._publish()
        self._run_locked()
        return self.status

    def wait(self, timeout: Optional[float] = None) -> TrainingStatus:
        if self.thread:
            self.thread.join(timeout)
        return self.status

    def cancel(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)

    @property
    def candidate_path(self) -> Path:
        return self.cfg.candidates_dir / f"{self.name}.tar.gz"

    # inside ------------------------------------------------------------------------------------
    def _publish(self) -> None:
        self.status.log_tail = list(self._tail)
        left = None
        if self.status.state == "running":
            left = seconds_left(self.status.percent, (self.clock() - self._started).total_seconds())
        self.status.seconds_left, self.status.time_left = left, time_left_text(left)
        write_status(self.cfg.status_file, self.status)
        if self.on_progress:
            self.on_progress(self.status)

    def _run_locked(self) -> None:
        try:
            self._train()
            if self.status.state == "running" and self.evaluate:
                self._evaluate()
            if self.status.state in RUNNING_STATES:
                self.status.state = "done"
        except Exception as error:  # reported to whoever polls, not lost in a thread
            self.status.state, self.status.message = "failed", f"{type(error).__name__}: {error}"
        finally:
            self.status.finished = iso(self.clock())
            self._publish()
            self._lock.__exit__(None, None, None)

    def _train(self) -> None:
        parser = ProgressParser(epoch_components(self.cfg.rasa_config))
        log_dir = self.cfg.work_dir / self.name
        log_dir.mkdir(parents=True, exist_ok=True)
        AuditLog(self.cfg.audit_log).record(self.actor, self.audit_action, self.clock(),
                                            after={"candidate": self.name})
        self.status.state, self.status.message = "running", "training"
        self._publish()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        with open(log_dir / "train.log", "w") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cfg.root, env=child_env(),
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            assert self.process.stdout is not None
            rest = ""
            while True:
                chunk = os.read(self.process.stdout.fileno(), 8192)
                if not chunk:
                    break
                text = decoder.decode(chunk)
                log.write(text)
                lines, rest = split_output(rest + text)
                for line in lines:
                    if not any(noise in line for noise in _NOISE) and not _EPOCHS.search(line):
                        self._tail.append(line[:300])
                    if parser.feed(line):
                        self.status.percent, self.status.component = parser.percent, parser.current
                        self._publish()
            returncode = self.process.wait()
        if returncode != 0 or not self.candidate_path.exists():
            self.status.state = "failed"
            self.status.message = (f"rasa train stopped with exit code {returncode}; "
                                   f"see {log_dir / 'train.log'}")
            return
        self.status.percent, self.status.component = 100.0, None
        self.status.candidate_path = str(self.candidate_path)
        self.status.message = "trained"

    def _evaluate(self) -> None:
        from bot.retrain import evaluation

        self.status.state, self.status.message = "evaluating", "evaluating on the test set"
        self._publish()
        from bot.retrain.deploy import current_live

        report = evaluation.evaluate_candidate(self.cfg, self.candidate_path, now=self.clock(),
                                               live=current_live(self.cfg, self.server))
        self.status.report = report["files"]["report"]
        self.status.promotion = report["promotion"]
        self.status.message = "evaluated: " + ("can be promoted" if report["promotion"]["ok"]
                                               else "cannot be promoted: " + "; ".join(report["promotion"]["reasons"]))


def start_training(cfg: RetrainConfig, actor: str, *, clock: Clock = utc_now, evaluate: bool = True,
                   on_progress: Optional[Callable[[TrainingStatus], None]] = None, server=None) -> TrainingJob:
    """Start training (and then evaluating, against what `server` serves) a candidate in the background;
    poll `read_status(cfg)` or `job.status`. Raises TrainingBusy if one is running."""
    return TrainingJob(cfg, actor, clock=clock, evaluate=evaluate, on_progress=on_progress, server=server).start()


def train_candidate(cfg: RetrainConfig, actor: str, *, clock: Clock = utc_now, evaluate: bool = True,
                    on_progress: Optional[Callable[[TrainingStatus], None]] = None,
                    server=None) -> TrainingStatus:
    """Train (and evaluate) a candidate here, returning when done (the CLI uses this)."""
    return TrainingJob(cfg, actor, clock=clock, evaluate=evaluate, on_progress=on_progress, server=server).run()


# -- how much do two trainings on the same data differ? (issue 20) --------------------------------
def noise_command(cfg: RetrainConfig, name: str, out: Path, nlu_dir: Path) -> List[str]:
    """`rasa train nlu` on `nlu_dir` (the NLU is what the gate compares) with Rasa's training cache off,
    so nothing is restored from an earlier training: both trainings of `measure_noise` start from scratch."""
    from scripts.eval_nlu import RASA

    command = ["env", "RASA_MAX_CACHE_SIZE=0", RASA, "train", "nlu", "--config", str(cfg.rasa_config),
               "--nlu", str(nlu_dir), "--out", str(out), "--fixed-model-name", name]
    if cfg.nice and shutil.which("nice"):
        command = ["nice", "-n", str(cfg.nice)] + command
    return command


def measure_noise(cfg: RetrainConfig, actor: str, *, clock: Clock = utc_now,
                  on_progress: Optional[Callable[[TrainingStatus], None]] = None,
                  keep_models: bool = False, one_more: Optional[Tuple[str, str]] = None) -> Dict[str, object]:
    """Train the NLU twice on identical data (data/nlu now, config.yml), then compare the second model
    with the first as the promotion gate compares a candidate with the live model. What differs is
    training noise: how many held-out answers change, the macro-F1 spread and its interval, and whether
    the gate would refuse (it should not). With `one_more` (text, intent), the second training's data
    is a copy of data/nlu with that one example added, as a staff label would add it. Holds the training
    lock throughout; no candidate is made and data/nlu is not changed. Writes
    var/retrain/noise/<time>/noise.json and returns what it holds; the two models are deleted unless
    `keep_models`. About twice as long as one training."""
    from bot.retrain import evaluation, gate, labels

    actor = check_actor(actor)
    stamp = clock().astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = cfg.work_dir / "noise" / stamp
    with training_lock(cfg):
        AuditLog(cfg.audit_log).record(actor, "measure_noise", clock(), after={"folder": str(folder)})
        models = []
        for run in ("a", "b"):
            run_cfg = cfg.with_changes(work_dir=folder / run, candidates_dir=folder / run / "models")
            nlu_dir = cfg.nlu_dir
            if run == "b" and one_more is not None:
                nlu_dir = folder / run / "nlu"
                shutil.copytree(cfg.nlu_dir, nlu_dir)
                labels.add_training_example(one_more[0], one_more[1], nlu_dir=nlu_dir, domain=cfg.domain,
                                            held_out=cfg.unseen_sets)
            name = f"noise-{stamp}-{run}"
            job = TrainingJob(run_cfg, actor, clock=clock, evaluate=False, on_progress=on_progress,
                              command=noise_command(run_cfg, name, run_cfg.candidates_dir, nlu_dir),
                              audit_action="measure_noise_train")
            job.name, job.status.candidate = name, name
            status = job.run()
            if status.state != "done" or not job.candidate_path.exists():
                raise RuntimeError(f"training {run} of the noise measurement failed: {status.message}\n"
                                   + "\n".join(status.log_tail[-8:]))
            models.append(job.candidate_path)
        inputs = evaluation.gather(cfg, models[0], models[1], with_labels=False)
        decision = gate.decide(inputs, cfg.promotion)
    result = {
        "measured_at": iso(clock()), "runs": [m.name for m in models],
        "one_more": {"text": one_more[0], "intent": one_more[1]} if one_more else None,
        "held_out_messages": sum(len(s.texts) for s in inputs.sets),
        "changed_held_out": sum(a != b for s in inputs.sets for a, b in zip(s.live, s.candidate)),
        "crisis_messages": len(inputs.crisis.texts) if inputs.crisis else 0,
        "changed_crisis": sum(a != b for a, b in zip(inputs.crisis.live, inputs.crisis.candidate))
        if inputs.crisis else 0,
        "sets": [{"name": s["name"], "messages": s["messages"], "first": s["live"], "second": s["candidate"],
                  "difference": s["difference"], "low": s["low"], "high": s["high"], "changed": s["changed"]}
                 for s in decision.sets],
        "gate": decision.to_dict(),
        "file": str(folder / "noise.json"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "noise.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if not keep_models:
        for model in models:
            with contextlib.suppress(FileNotFoundError):
                model.unlink()
    return result

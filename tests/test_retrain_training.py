"""Background training: progress parsed from Rasa's output, the status file a page polls, one training
at a time. `rasa train` itself runs in tests/test_retrain_end_to_end.py; here a child process replays
output in Rasa's format (log lines and tqdm epoch bars, \\r-separated as on a terminal)."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.retrain import training
from bot.retrain.audit import AuditLog
from tests.test_retrain_helpers import NOW, ROOT, copy_project, make_config

RASA_OUTPUT = (
    "2026-11-30 23:13:18 INFO     rasa.cli.train  - Started validating domain and training data...\n"
    "2026-11-30 23:13:20 INFO     rasa.validator  - Validating intents...\n"
    "2026-11-30 23:13:22 INFO     rasa.engine.training.hooks  - Starting to train component 'CountVectorsFeaturizer'.\n"
    "2026-11-30 23:13:22 INFO     rasa.engine.training.hooks  - Finished training component 'CountVectorsFeaturizer'.\n"
    "2026-11-30 23:13:23 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n"
    "\x1b[93m/x/rasa/utils/train_utils.py:530: UserWarning: constrain_similarities is set to `False`.\n\x1b[0m"
    "Epochs:   0%|          | 0/100 [00:00<?, ?it/s]\r"
    "Epochs:  10%|█         | 10/100 [00:13<02:00, 13.40s/it, t_loss=16.1, i_acc=0.2]\r"
    "Epochs:  50%|█████     | 50/100 [00:13<00:46,  5.81s/it, t_loss=10.3, i_acc=0.492]\r"
    "Epochs: 100%|██████████| 100/100 [00:17<00:00,  1.79s/it, t_loss=4.4, i_acc=0.795]\n"
    "2026-11-30 23:13:42 INFO     rasa.engine.training.hooks  - Finished training component 'DIETClassifier'.\n"
    "Processed trackers: 100%|██████████| 40/40 [00:00<00:00, 1983.43it/s]\n"
    "2026-11-30 23:13:44 INFO     rasa.engine.training.hooks  - Restored component 'TEDPolicy' from cache.\n"
    "2026-11-30 23:13:44 INFO     rasa.engine.training.hooks  - Finished training component 'RulePolicy'.\n"
    "\x1b[92mYour Rasa model is trained and saved at 'models/candidates/candidate-x.tar.gz'.\x1b[0m\n"
)
PROJECT_COMPONENTS = [("DIETClassifier", 100), ("TEDPolicy", 40)]


def feed_all(parser, text):
    lines, rest = training.split_output(text)
    assert rest == ""
    return [(line, parser.feed(line), round(parser.percent, 1), parser.current) for line in lines]


def test_the_project_config_trains_diet_and_ted_in_epochs():
    assert training.epoch_components(ROOT / "config.yml") == PROJECT_COMPONENTS
    assert training.epoch_components(ROOT / "tests" / "data" / "tiny_config.yml") == [("DIETClassifier", 20)]


def test_output_is_split_on_carriage_returns_and_newlines_without_colour_codes():
    lines, rest = training.split_output("a\rb\n\x1b[92mc\x1b[0m\nEpochs:  4")
    assert lines == ["a", "b", "c"] and rest == "Epochs:  4"


def test_progress_follows_the_components_and_their_epoch_bars():
    parser = training.ProgressParser(PROJECT_COMPONENTS)
    steps = feed_all(parser, RASA_OUTPUT)
    percents = [p for _, _, p, _ in steps]
    assert percents == sorted(percents)  # never goes backwards

    def after(text):  # (percent, component) right after the first line containing `text`
        return next((p, c) for line, _, p, c in steps if text in line)

    assert after("Started validating domain") == (2.0, None)
    assert after("Starting to train component 'DIETClassifier'") == (5.0, "DIETClassifier")
    assert after("Epochs:  50%") == (round(5 + 90 * 50 / 140, 1), "DIETClassifier")  # DIET: 100 of 140 epochs
    assert after("Finished training component 'DIETClassifier'") == (round(5 + 90 * 100 / 140, 1), None)
    assert after("Restored component 'TEDPolicy' from cache") == (95.0, None)
    assert parser.percent == 100.0 and parser.model_path == "models/candidates/candidate-x.tar.gz"


def test_progress_without_epoch_components_jumps_to_done():
    parser = training.ProgressParser([])
    feed_all(parser, RASA_OUTPUT)
    assert parser.percent == 100.0


def test_the_candidate_is_named_after_the_time():
    assert training.candidate_name(NOW) == "candidate-20261120-120000"


def test_the_train_command_is_a_full_rasa_train_at_low_priority(tmp_path):
    cfg = make_config(copy_project(tmp_path / "project"))
    command = training.train_command(cfg, "candidate-20261120-120000")
    assert command[:3] == ["nice", "-n", "10"]
    assert command[3].endswith("/rasa") and command[4] == "train"
    assert command[command.index("--out") + 1] == str(cfg.candidates_dir)
    assert command[command.index("--fixed-model-name") + 1] == "candidate-20261120-120000"


REPLAY = """
import sys, time
from pathlib import Path
output, model, code = open(sys.argv[1], newline="").read(), Path(sys.argv[2]), int(sys.argv[3])
for start in range(0, len(output), 97):  # in chunks that split lines, like a pipe does
    sys.stdout.write(output[start:start + 97]); sys.stdout.flush()
if code == 0:
    model.parent.mkdir(parents=True, exist_ok=True); model.write_bytes(b"model")
sys.exit(code)
"""


def replay_job(cfg, tmp_path, code=0, **kwargs):
    with open(tmp_path / "output.txt", "w", newline="") as out:
        out.write(RASA_OUTPUT)
    name = training.candidate_name(NOW)
    command = [sys.executable, "-c", REPLAY, str(tmp_path / "output.txt"),
               str(cfg.candidates_dir / f"{name}.tar.gz"), str(code)]
    return training.TrainingJob(cfg, "kim", clock=lambda: NOW, evaluate=False, command=command, **kwargs)


@pytest.fixture
def cfg(tmp_path):
    project = copy_project(tmp_path / "project", ROOT / "config.yml")
    return make_config(project)


def test_a_background_training_reports_progress_in_its_status_file(cfg, tmp_path):
    seen = []
    job = replay_job(cfg, tmp_path, on_progress=lambda s: seen.append((s.state, round(s.percent, 1))))
    job.start()
    status = job.wait(60)
    assert status.state == "done", status.message
    assert status.candidate == "candidate-20261120-120000" and status.started == status.finished == "2026-11-20T12:00:00Z"
    assert status.candidate_path == str(cfg.candidates_dir / "candidate-20261120-120000.tar.gz")
    percents = [p for state, p in seen if state == "running"]
    assert percents == sorted(percents) and percents[-1] == 100.0 and len(set(percents)) >= 5
    polled = training.read_status(cfg)
    assert polled["state"] == "done" and polled["percent"] == 100.0
    assert any("Finished training component 'DIETClassifier'" in line for line in polled["log_tail"])
    assert not any(line.startswith(("Epochs:", "Processed trackers")) for line in polled["log_tail"])
    with open(cfg.work_dir / "candidate-20261120-120000" / "train.log", newline="") as log:
        assert log.read() == RASA_OUTPUT  # the whole output is kept
    assert [e["action"] for e in AuditLog(cfg.audit_log).entries()] == ["train"]
    assert not (cfg.work_dir / "training.lock").exists()


@pytest.mark.parametrize("percent, elapsed, left, text", [
    (0.0, 30, None, ""), (5.0, 30, None, ""),          # loading, not training yet: no estimate
    (10.0, 30, 270, "about 4 minutes left"), (50.0, 120, 120, "about 2 minutes left"),
    (80.0, 200, 50, "less than a minute left"), (75.0, 180, 60, "about 1 minute left"),
    (100.0, 300, None, ""), (40.0, 0, None, ""),
])
def test_the_time_left_is_the_pace_so_far_carried_on(percent, elapsed, left, text):
    assert training.seconds_left(percent, elapsed) == left
    assert training.time_left_text(left) == text


def test_the_status_and_the_progress_bar_say_how_long_is_left(cfg, tmp_path):
    from datetime import timedelta

    from bot.retrain import cli

    ticks = iter(range(0, 10_000, 20))  # every look at the clock is 20 seconds later
    seen, bar = [], io.StringIO()
    progress = cli._ProgressBar(bar)

    def on_progress(status):
        seen.append((status.state, status.percent, status.seconds_left, status.time_left))
        progress(status)

    job = replay_job(cfg, tmp_path, on_progress=on_progress)
    job.clock = lambda: NOW + timedelta(seconds=next(ticks))
    status = job.run()
    assert status.state == "done", status.message
    running = [(p, s, t) for state, p, s, t in seen if state == "running" and p >= training.ESTIMATE_FROM and p < 100]
    assert running and all(s is not None and s > 0 and t.endswith(" left") for _, s, t in running)
    assert all(s is None and t == "" for state, p, s, t in seen if state != "running" or p < training.ESTIMATE_FROM
               or p == 100)
    assert any(t in bar.getvalue() for _, _, t in running)
    assert training.read_status(cfg)["time_left"] == ""  # finished: nothing left to estimate


def test_a_failed_training_says_so(cfg, tmp_path):
    status = replay_job(cfg, tmp_path, code=1).run()
    assert status.state == "failed" and "exit code 1" in status.message
    assert training.read_status(cfg)["state"] == "failed"


def test_only_one_training_runs_at_a_time(cfg, tmp_path):
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    (cfg.work_dir / "training.lock").write_text(str(os.getpid()))  # a live process holds it
    training.write_status(cfg.status_file, training.TrainingStatus(state="running", percent=40))
    with pytest.raises(training.TrainingBusy, match="already running"):
        replay_job(cfg, tmp_path).start()
    assert training.read_status(cfg)["percent"] == 40  # the running one's status is untouched


def test_a_lock_left_by_a_process_that_died_is_taken_over(cfg, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    (cfg.work_dir / "training.lock").write_text(str(dead.pid))
    training.write_status(cfg.status_file, training.TrainingStatus(state="running", percent=40))
    assert training.read_status(cfg)["state"] == "failed"  # its status no longer claims to be running
    assert replay_job(cfg, tmp_path).run().state == "done"


def test_the_status_before_any_training_is_idle(cfg):
    assert training.read_status(cfg)["state"] == "idle"
    assert json.loads(json.dumps(training.read_status(cfg)))["percent"] == 0.0


# --- measuring training noise (issue 20): two trainings on the same data, compared as the gate would ---
FAKE_NLU_TRAIN = r"""
import pathlib, sys
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1]) / (sys.argv[sys.argv.index("--fixed-model-name") + 1] + ".tar.gz")
print("Starting to train component 'DIETClassifier'", flush=True)
print("Finished training component 'DIETClassifier'", flush=True)
out.parent.mkdir(parents=True, exist_ok=True)
out.write_bytes(b"model " + out.name.encode())
print(f"Your Rasa model is trained and saved at '{out}'.", flush=True)
"""


def test_measure_noise_trains_twice_and_reports_the_spread(tmp_path, monkeypatch):
    from bot.retrain import cli, evaluation
    from tests.test_retrain_helpers import first_right, live_inputs, with_answer

    cfg = make_config(copy_project(tmp_path / "project"))
    commands, real_command = [], training.noise_command

    def command(run_cfg, name, out, nlu_dir):
        commands.append(real_command(run_cfg, name, out, nlu_dir))
        return [sys.executable, "-c", FAKE_NLU_TRAIN, "--out", str(out), "--fixed-model-name", name]

    inputs = live_inputs()
    inputs = with_answer(inputs, "wild", first_right(inputs, "wild", "legal_aid")[0], "ombudsman")

    def gather(cfg_, first, second, with_labels=True):
        assert first.exists() and second.exists() and first != second and not with_labels
        return inputs

    monkeypatch.setattr(training, "noise_command", command)
    monkeypatch.setattr(evaluation, "gather", gather)
    result = training.measure_noise(cfg, "kim", clock=lambda: NOW)
    assert [c[:2] for c in commands] == [["nice", "-n"]] * 2
    assert all("RASA_MAX_CACHE_SIZE=0" in c and c[c.index("RASA_MAX_CACHE_SIZE=0") + 2:][:2] == ["train", "nlu"]
               for c in commands)  # nothing restored from Rasa's cache: both train from scratch
    assert result["runs"] == ["noise-20261120-120000-a.tar.gz", "noise-20261120-120000-b.tar.gz"]
    assert (result["changed_held_out"], result["held_out_messages"]) == (1, 1107)
    assert result["gate"]["ok"] and [s["name"] for s in result["sets"]] == ["dev", "blind", "wild"]
    assert json.loads((cfg.work_dir / "noise" / "20261120-120000" / "noise.json").read_text()) == result
    assert not list((cfg.work_dir / "noise").rglob("*.tar.gz"))  # the two models are not kept
    assert not (cfg.work_dir / "training.lock").exists() and not list(cfg.candidates_dir.glob("*"))
    actions = [e["action"] for e in AuditLog(cfg.audit_log).entries()]
    assert actions == ["measure_noise", "measure_noise_train", "measure_noise_train"]  # no candidate "train"

    out = io.StringIO()
    cli._print_noise(result, out)
    assert "1 of 1,107 held-out messages and 0 of 361 crisis-set messages get a different answer" in out.getvalue()
    assert "the promotion gate would allow it." in out.getvalue()


def test_measure_noise_with_one_more_example_trains_the_second_on_a_copy_with_it(tmp_path, monkeypatch):
    from bot.retrain import cli, evaluation
    from tests.test_retrain_helpers import live_inputs

    cfg = make_config(copy_project(tmp_path / "project"))
    data_before = {p.name: p.read_text() for p in cfg.nlu_dir.glob("*.yml")}
    commands, real_command = [], training.noise_command

    def command(run_cfg, name, out, nlu_dir):
        commands.append(real_command(run_cfg, name, out, nlu_dir))
        return [sys.executable, "-c", FAKE_NLU_TRAIN, "--out", str(out), "--fixed-model-name", name]

    monkeypatch.setattr(training, "noise_command", command)
    monkeypatch.setattr(evaluation, "gather", lambda cfg_, first, second, with_labels=True: live_inputs())
    result = training.measure_noise(cfg, "kim", clock=lambda: NOW, one_more=("st ives", "inform_council"))
    first, second = (Path(c[c.index("--nlu") + 1]) for c in commands)
    assert first == cfg.nlu_dir and second == cfg.work_dir / "noise" / "20261120-120000" / "b" / "nlu"
    added = [p for p in second.glob("*.yml") if p.read_text() != data_before[p.name]]
    assert len(added) == 1 and "    - st ives\n" in added[0].read_text()
    assert {p.name: p.read_text() for p in cfg.nlu_dir.glob("*.yml")} == data_before  # data/nlu untouched
    assert result["one_more"] == {"text": "st ives", "intent": "inform_council"}
    out = io.StringIO()
    cli._print_noise(result, out)
    assert out.getvalue().startswith("Trained twice, the second with one more example (\u201cst ives\u201d as "
                                     "inform_council): noise-20261120-120000-a.tar.gz and ")
    from scripts.eval_retrain_noise import summary_lines  # what `make eval` prints of it

    lines = summary_lines("one-more", result)
    assert lines[0] == "one-more: 0 of 1,107 held-out answers and 0 of 361 crisis-set answers differ"
    assert [line.split()[0] for line in lines[1:4]] == ["dev", "blind", "wild"]
    assert lines[-1] == "  the promotion gate would allow the second model"

"""Stopping is as reliable as starting (bot/supervisor.py, bot/run_local.py), with real processes:
Ctrl-C twice, SIGTERM to the process group, `kill -9` of the supervisor; after each, no child is left
and the next start works."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from bot import run_local
from bot.supervisor import clear_leftovers, port_holder

ROOT = Path(__file__).resolve().parent.parent
GONE_WITHIN = 20.0

# A small supervisor with three children: two ordinary sleepers and one that ignores SIGTERM (so
# stopping has to escalate). It prints READY once all are started, then waits like `make run`.
DRIVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bot.supervisor import Supervisor
    sup = Supervisor(pid_file=Path(sys.argv[1]), grace=float(sys.argv[2]))
    sup.install_signal_handlers()
    try:
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        stubborn = [sys.executable, "-c",
                    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"]
        for name, cmd in (("a", sleeper), ("b", sleeper), ("stubborn", stubborn)):
            sup.start(name, cmd)
            time.sleep(0.2)
        print("READY", flush=True)
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sup.stop()
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its (dead) parent's reaper is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def all_gone(pids, within=GONE_WITHIN) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def start_driver(tmp_path: Path, grace: float = 2.0):
    pid_file = tmp_path / "children.json"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(pid_file), str(grace)], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == "READY"
    children = [row["pid"] for row in json.loads(pid_file.read_text())["children"]]
    assert len(children) == 3 and all(alive(p) for p in children)
    return proc, children, pid_file


def test_ctrl_c_twice_quickly_still_stops_every_child(tmp_path):
    proc, children, pid_file = start_driver(tmp_path, grace=10.0)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.1)
    os.kill(proc.pid, signal.SIGINT)  # while the first stop waits for the stubborn child
    proc.wait(timeout=GONE_WITHIN)
    assert all_gone(children)
    assert not pid_file.exists()


def test_sigterm_to_the_process_group_stops_every_child(tmp_path):
    proc, children, _ = start_driver(tmp_path)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=GONE_WITHIN)
    assert all_gone(children)


def test_kill_9_of_the_supervisor_takes_its_children_with_it(tmp_path):
    proc, children, _ = start_driver(tmp_path)
    proc.kill()
    proc.wait()
    assert all_gone(children)


def test_leftovers_of_an_earlier_run_are_cleared_but_a_recycled_pid_is_not_touched(tmp_path):
    cmd = [sys.executable, "-c", "import time; time.sleep(600)"]
    left = subprocess.Popen(cmd, start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(601)"], start_new_session=True)
    pid_file = tmp_path / "run.json"
    pid_file.write_text(json.dumps({"supervisor": 999999999, "children": [
        {"name": "rasa server", "pid": left.pid, "cmd": cmd},
        {"name": "gateway", "pid": other.pid, "cmd": ["something", "else"]},  # pid reused by another program
    ]}))
    try:
        assert clear_leftovers(pid_file, grace=5) == [f"rasa server (process {left.pid})"]
        left.wait(timeout=GONE_WITHIN)
        assert other.poll() is None
        assert not pid_file.exists()
        assert clear_leftovers(pid_file) == []  # nothing recorded: nothing to do
    finally:
        other.kill()
        other.wait()


def test_port_holder_names_the_process_that_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_holder(port).startswith(f"pid {os.getpid()}:")
    assert port_holder(port) is None


# --- make run itself: the real servers ---------------------------------------------------------------

def run_local_env(var: Path):
    env = run_local.isolated_env(var, "stop-test-token")
    return dict(env, PYTHONPATH=str(ROOT), INTERNAL_TOKEN="stop-test-internal")


def recorded_children(var: Path, timeout: float = 30.0):
    pid_file = var / run_local.PID_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = json.loads(pid_file.read_text())["children"]
            if rows:
                return [r["pid"] for r in rows]
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError("run_local recorded no children")


def wait_ready(url: str, timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def start_run_local(env, running: bool):
    proc = subprocess.Popen([sys.executable, "-m", "bot.run_local"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    if running:  # Rasa has loaded its model and the gateway answers
        assert wait_ready(f"http://127.0.0.1:{env['RASA_PORT']}/status?token={env['RASA_TOKEN']}")
        assert wait_ready(f"http://127.0.0.1:{env['GATEWAY_PORT']}/health")
    return proc


def ctrl_c_twice(proc):
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=GONE_WITHIN)


@pytest.mark.skipif(not list((ROOT / "models").glob("*.tar.gz")), reason="no trained model: run make train")
def test_make_run_leaves_nothing_running_after_ctrl_c_twice_or_kill_9(tmp_path):
    env = run_local_env(tmp_path)
    ports = [int(env[k]) for k in ("RASA_PORT", "ACTION_PORT", "GATEWAY_PORT")]
    procs = []
    try:
        # Ctrl-C twice, 100 ms apart, while Rasa is still loading its model.
        procs.append(start_run_local(env, running=False))
        time.sleep(1.0)
        children = recorded_children(tmp_path)
        ctrl_c_twice(procs[-1])
        assert all_gone(children)
        # The next start works; Ctrl-C twice once it is running.
        procs.append(start_run_local(env, running=True))
        children = recorded_children(tmp_path)
        assert len(children) == 3
        ctrl_c_twice(procs[-1])
        assert all_gone(children)
        # And again; `kill -9` of the supervisor itself leaves nothing behind either.
        procs.append(start_run_local(env, running=True))
        children = recorded_children(tmp_path)
        procs[-1].kill()
        procs[-1].wait()
        assert all_gone(children)
        assert {port: port_holder(port) for port in ports} == {port: None for port in ports}  # names any holder
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

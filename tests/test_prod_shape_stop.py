"""The scaled shape (`make run-prod-local`, bot/prod_local.py) stops as reliably as it starts, with
real processes: Ctrl-C twice during start-up, `kill -9` of the supervisor once it is up. After each,
every server it started (PostgreSQL, Redis, Rasa, action servers, gateways, nginx) is gone and every
port is free; the second start after the first stop works."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bot import prod_local
from bot.supervisor import port_holder
from tests.stack import ALWAYS_OPEN
from tests.test_supervisor import GONE_WITHIN, all_gone

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not list((ROOT / "models").glob("*.tar.gz")) or shutil.which("nginx") is None,
    reason="needs a trained model and the scaled shape's servers (scripts/setup_prod.sh)")


def shape_env(base: Path, ports: prod_local.Ports) -> dict:
    hours = base / "service_hours.yml"
    hours.write_text(ALWAYS_OPEN)
    hours.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_TOKEN", "INTERNAL_TOKEN", "SESSION_SECRET")}
    return dict(env, PYTHONPATH=str(ROOT), SERVICE_HOURS_FILE=str(hours),
                PROD_NGINX_PORT=str(ports.nginx), PROD_PG_PORT=str(ports.postgres), PROD_REDIS_PORT=str(ports.redis),
                PROD_RASA_PORTS=",".join(map(str, ports.rasa)), PROD_ACTION_PORTS=",".join(map(str, ports.actions)),
                PROD_GATEWAY_PORTS=",".join(map(str, ports.gateways)), PROD_RASA_LB_PORT=str(ports.rasa_lb),
                PROD_ACTION_LB_PORT=str(ports.action_lb), PROD_GATEWAY_LB_PORT=str(ports.gateway_lb))


def children(base: Path, at_least: int, timeout: float = 120.0):
    path = base / "run" / prod_local.CHILDREN_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = json.loads(path.read_text())["children"]
            if len(rows) >= at_least:
                return [r["pid"] for r in rows]
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} servers started")


def up(log: Path, timeout: float = 600.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "The production shape is up" in log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


def ports_free(ports: prod_local.Ports, within: float = GONE_WITHIN) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(port_holder(p) is None for p in ports.all()):
            return True
        time.sleep(0.2)
    return False


def test_scaled_shape_leaves_nothing_running_after_ctrl_c_twice_or_kill_9():
    (ROOT / "var").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="test-prod-stop-", dir=ROOT / "var"))  # reachable by the postgres user
    base.chmod(0o755)
    ports = prod_local.Ports.free()
    env = shape_env(base, ports)
    command = [sys.executable, "-m", "bot.prod_local", "--dir", str(base)]
    procs = []
    try:
        with open(base / "supervisor.log", "w") as log:
            # Ctrl-C twice, 100 ms apart, while the shape is still starting (the databases are up).
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
            started = children(base, at_least=2)
            procs[-1].send_signal(signal.SIGINT)
            time.sleep(0.1)
            procs[-1].send_signal(signal.SIGINT)
            procs[-1].wait(timeout=60)
            assert all_gone(started), (base / "supervisor.log").read_text()[-3000:]
            assert ports_free(ports)

            # The next start works; once it is up, `kill -9` of the supervisor leaves nothing behind.
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
            assert up(base / "supervisor.log"), (base / "supervisor.log").read_text()[-3000:]
            started = children(base, at_least=len(ports.all()) - 3)  # all but the three internal balancers
            procs[-1].kill()
            procs[-1].wait()
            assert all_gone(started)
            assert ports_free(ports), [port_holder(p) for p in ports.all()]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        subprocess.run(["pkill", "-KILL", "-f", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)

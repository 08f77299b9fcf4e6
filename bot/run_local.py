"""Start the action server, the Rasa server and the webchat gateway on loopback, supervise them,
stop them on Ctrl-C.

`make run` calls this after setup and training. If any process exits, the others are stopped
too, so nothing is left half-running. However it is stopped (Ctrl-C, pressed once or several times,
SIGTERM to the process group, the terminal closing, or `kill -9` of this process), no server is left
running (bot/supervisor.py), and a later start clears what an earlier one left (var/run_local.json)
or says exactly what holds a port. Usage: python -m bot.run_local
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from bot import launchers
from bot import settings as settings_mod
from bot.ports import free_port
from bot.supervisor import Supervisor, clear_leftovers, port_holder

VENV_BIN = Path(sys.executable).parent
PID_FILE = "run_local.json"  # under VAR_DIR: the servers this run started, for the next start to clear


def _latest_model(model_dir: Path) -> Path:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {model_dir}/. Run `make train` first.")
    return models[-1]


def commands(cfg: settings_mod.Settings, token: str) -> Dict[str, List[str]]:
    python = str(VENV_BIN / "python")
    return {
        "action server": launchers.action_server(python, port=cfg.action_port),
        "rasa server": launchers.rasa_server(
            str(VENV_BIN / "rasa"), token=token, interface=cfg.bind_host, port=cfg.rasa_port,
            model=str(_latest_model(cfg.model_dir)), endpoints="endpoints.yml", credentials="credentials.yml"),
        "gateway": launchers.gateway(python),
    }


def isolated_env(var_dir: Path, token: str) -> Dict[str, str]:
    """Environment for a private copy of the servers (tests, benchmarks): free loopback ports,
    its own var/ folder and tracker database, a known API token."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ACTION_SERVER_URL", "TRACKER_DB", "GATEWAY_URL", "GATEWAY_DB_URL", "INTERNAL_TOKEN",
                         "RASA_URL", "ACTION_URL", "GATEWAY_REDIS_URL", "GATEWAY_INSTANCE")}
    env.update(RASA_PORT=str(free_port()), ACTION_PORT=str(free_port()), GATEWAY_PORT=str(free_port()),
               VAR_DIR=str(var_dir), RASA_TOKEN=token, **settings_mod.NO_ADDRESS_LIMITS)
    return env


def start_all(cfg: settings_mod.Settings, token: str, env: Dict[str, str], output=None,
              quiet: bool = False, supervisor: Optional[Supervisor] = None) -> Dict[str, subprocess.Popen]:
    """Start the action server, the Rasa server and the gateway, each in its own process group and
    dying with this process, and wait until all answer. Returns the processes; raises RuntimeError
    (after stopping them) if one fails. Pass a `supervisor` to stop what was started so far if this
    is interrupted."""
    supervisor = supervisor or Supervisor()
    env = dict(env, INTERNAL_TOKEN=settings_mod.internal_token(cfg, env), RASA_TOKEN=token)
    for name, cmd in commands(cfg, token).items():
        if not quiet:
            print(f"==> starting {name}", flush=True)
        supervisor.start(name, cmd, cwd=settings_mod.ROOT, env=cfg.child_env(env), stdout=output,
                         stderr=subprocess.STDOUT if output else None)
    procs = supervisor.procs
    # Rasa's /status answers 200 only once its model is loaded (/ answers even when loading failed).
    if not (wait_for(f"{cfg.action_url}/health", 60, procs)
            and wait_for(f"{cfg.rasa_url}/status?token={token}", 300, procs)
            and wait_for(f"http://{cfg.bind_host}:{cfg.gateway_port}/health", 60, procs)):
        supervisor.stop()
        raise RuntimeError("a process failed to start")
    return dict(procs)


def wait_for(url: str, timeout: float, procs: Dict[str, subprocess.Popen]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def stop_all(procs: Dict[str, subprocess.Popen]) -> None:
    supervisor = Supervisor()
    supervisor.procs = dict(procs)
    supervisor.stop()


def busy_ports(cfg: settings_mod.Settings) -> List[str]:
    """What already listens on the ports we need, in words a person can act on."""
    busy = []
    for name, port in (("Rasa", cfg.rasa_port), ("action server", cfg.action_port), ("gateway", cfg.gateway_port)):
        holder = port_holder(port)
        if holder:
            busy.append(f"port {port} ({name}) is in use by {holder}")
    return busy


def main() -> int:
    cfg = settings_mod.load()
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    token = settings_mod.rasa_token(cfg)
    pid_file = cfg.var_dir / PID_FILE
    try:
        for left in clear_leftovers(pid_file):
            print(f"==> stopped {left}, left running by an earlier start", flush=True)
    except RuntimeError as error:
        print(f"!! {error}", file=sys.stderr)
        return 1
    busy = busy_ports(cfg)
    if busy:
        print("!! cannot start: " + "; ".join(busy) + ". Stop that process (kill PID), or choose other "
              "ports with RASA_PORT, ACTION_PORT and GATEWAY_PORT.", file=sys.stderr)
        return 1
    supervisor = Supervisor(pid_file=pid_file)
    supervisor.install_signal_handlers()
    try:
        try:
            procs = start_all(cfg, token, dict(os.environ), supervisor=supervisor)
        except RuntimeError:
            print("!! a process failed to start; stopped everything", file=sys.stderr)
            return 1
        print(
            "\nThe assistant is running (Ctrl-C stops everything):\n"
            f"  Family webchat http://{cfg.bind_host}:{cfg.gateway_port}/\n"
            f"  Adviser console http://{cfg.bind_host}:{cfg.gateway_port}/console "
            "(make an account: .venv/bin/python -m bot.gateway.users add NAME --role adviser)\n"
            f"  Rasa server    {cfg.rasa_url}  (REST channel: POST {cfg.rasa_url}/webhooks/rest/webhook)\n"
            f"  action server  {cfg.action_url}  (GET /health)\n\n"
            "Talk to it:\n"
            f"  curl -s {cfg.rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
            "       -d '{\"sender\": \"me\", \"message\": \"what is a special guardianship order?\"}'\n"
            "  or, in another terminal: make shell\n",
            flush=True,
        )
        while True:
            name = supervisor.exited()
            if name:
                print(f"!! {name} exited with code {procs[name].returncode}; stopping everything", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> stopping (Ctrl-C again stops at once)", flush=True)
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())

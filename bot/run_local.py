"""Start the action server, the Rasa server and the webchat gateway on loopback, supervise them,
stop them on Ctrl-C.

`make run` calls this after setup and training. If any process exits, the others are stopped
too, so nothing is left half-running. Usage: python -m bot.run_local
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

from bot import settings as settings_mod

VENV_BIN = Path(sys.executable).parent


def _latest_model(model_dir: Path) -> Path:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {model_dir}/. Run `make train` first.")
    return models[-1]


def commands(cfg: settings_mod.Settings, token: str) -> Dict[str, List[str]]:
    return {
        "action server": [
            str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
            "--port", str(cfg.action_port), "--quiet",
        ],
        "rasa server": [
            str(VENV_BIN / "rasa"), "run", "--enable-api",
            "--interface", cfg.bind_host, "--port", str(cfg.rasa_port),
            f"--auth-token={token}",  # "=": a generated token may start with "-"
            "--model", str(_latest_model(cfg.model_dir)),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        ],
        "gateway": [str(VENV_BIN / "python"), "-m", "bot.gateway"],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(var_dir: Path, token: str) -> Dict[str, str]:
    """Environment for a private copy of the servers (tests, benchmarks): free loopback ports,
    its own var/ folder and tracker database, a known API token."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ACTION_SERVER_URL", "TRACKER_DB", "GATEWAY_URL", "GATEWAY_DB_URL", "INTERNAL_TOKEN",
                         "RASA_URL", "ACTION_URL", "GATEWAY_REDIS_URL", "GATEWAY_INSTANCE")}
    env.update(RASA_PORT=str(free_port()), ACTION_PORT=str(free_port()), GATEWAY_PORT=str(free_port()),
               VAR_DIR=str(var_dir), RASA_TOKEN=token)
    return env


def start_all(cfg: settings_mod.Settings, token: str, env: Dict[str, str], output=None,
              quiet: bool = False) -> Dict[str, subprocess.Popen]:
    """Start the action server, the Rasa server and the gateway, each in its own process group, and
    wait until all answer. Returns the processes; raises RuntimeError (after stopping them) if one fails."""
    procs: Dict[str, subprocess.Popen] = {}
    env = dict(env, INTERNAL_TOKEN=settings_mod.internal_token(cfg, env), RASA_TOKEN=token)
    for name, cmd in commands(cfg, token).items():
        if not quiet:
            print(f"==> starting {name}", flush=True)
        procs[name] = subprocess.Popen(cmd, cwd=settings_mod.ROOT, env=cfg.child_env(env), stdout=output,
                                       stderr=subprocess.STDOUT if output else None, start_new_session=True)
    # Rasa's /status answers 200 only once its model is loaded (/ answers even when loading failed).
    if not (wait_for(f"{cfg.action_url}/health", 60, procs)
            and wait_for(f"{cfg.rasa_url}/status?token={token}", 300, procs)
            and wait_for(f"http://{cfg.bind_host}:{cfg.gateway_port}/health", 60, procs)):
        stop_all(procs)
        raise RuntimeError("a process failed to start")
    return procs


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
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    cfg = settings_mod.load()
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    token = settings_mod.rasa_token(cfg)
    procs: Dict[str, subprocess.Popen] = {}

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored
    try:
        try:
            procs = start_all(cfg, token, dict(os.environ))
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
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"!! {name} exited with code {proc.returncode}; stopping everything", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> stopping")
        return 0
    finally:
        stop_all(procs)


if __name__ == "__main__":
    sys.exit(main())

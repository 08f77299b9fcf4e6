"""All run-time configuration, from environment variables with safe defaults.

| variable          | default                     | what it is                                            |
|-------------------|-----------------------------|-------------------------------------------------------|
| BIND_HOST         | 127.0.0.1                   | interface every process listens on (loopback only)    |
| RASA_PORT         | 5005                        | Rasa server (REST channel + HTTP API)                 |
| ACTION_PORT       | 5055                        | action server (GET /health answers)                   |
| GATEWAY_PORT      | 8080                        | webchat gateway (public port, behind a TLS proxy)     |
| MODEL_DIR         | models                      | where `make train` writes models; newest one is served|
| TRACKER_DB        | var/tracker.db              | SQLite tracker store (embedded default)               |
| RASA_TOKEN        | generated in var/secrets/   | token for Rasa's HTTP API (/model/parse, /conversations)|
| ACTION_SERVER_URL | http://BIND_HOST:ACTION_PORT/webhook | where Rasa calls the actions                 |
| VAR_DIR           | var                         | generated data: databases, secrets, eval output       |
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    bind_host: str
    rasa_port: int
    action_port: int
    gateway_port: int
    model_dir: Path
    tracker_db: Path
    var_dir: Path
    rasa_token: Optional[str]
    action_server_url: str

    @property
    def rasa_url(self) -> str:
        return f"http://{self.bind_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.bind_host}:{self.action_port}"

    def child_env(self, base: Mapping[str, str]) -> dict:
        """Environment for the processes we start (endpoints.yml reads these)."""
        env = dict(base)
        env.update(
            ACTION_SERVER_URL=self.action_server_url,
            TRACKER_DB=str(self.tracker_db),
            SANIC_HOST=self.bind_host,  # rasa_sdk's action server has no --interface flag
            RASA_TELEMETRY_ENABLED="false",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")])),
        )
        return env


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number")
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={port} is out of range")
    return port


def load(env: Mapping[str, str] = os.environ) -> Settings:
    var_dir = Path(env.get("VAR_DIR", ROOT / "var"))
    bind_host = env.get("BIND_HOST", "127.0.0.1")
    action_port = _port(env, "ACTION_PORT", 5055)
    return Settings(
        bind_host=bind_host,
        rasa_port=_port(env, "RASA_PORT", 5005),
        action_port=action_port,
        gateway_port=_port(env, "GATEWAY_PORT", 8080),
        model_dir=Path(env.get("MODEL_DIR", ROOT / "models")),
        tracker_db=Path(env.get("TRACKER_DB", var_dir / "tracker.db")),
        var_dir=var_dir,
        rasa_token=env.get("RASA_TOKEN"),
        action_server_url=env.get("ACTION_SERVER_URL") or f"http://{bind_host}:{action_port}/webhook",
    )


def rasa_token(settings: Settings) -> str:
    """The Rasa API token: from RASA_TOKEN, else generated once and kept in var/secrets/."""
    if settings.rasa_token:
        return settings.rasa_token
    path = settings.var_dir / "secrets" / "rasa_token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()

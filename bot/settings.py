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
| GATEWAY_DB_URL    | sqlite:///VAR_DIR/gateway.db | gateway store (queue, advisers, transcripts, audit)  |
| GATEWAY_URL       | http://BIND_HOST:GATEWAY_PORT | where the action server asks about advisers        |
| INTERNAL_TOKEN    | generated in var/secrets/   | shared by the action server and the gateway           |
| SESSION_SECRET    | generated in var/secrets/   | key of the advisers' encrypted session cookies (Fernet)|
| COOKIE_SECURE     | 0                           | 1 behind a TLS proxy: cookies only sent over HTTPS    |
| SERVICE_HOURS_FILE| config/service_hours.yml    | staffed webchat and advice line hours, closures       |
| MAX_MESSAGE_CHARS | 2000                        | longest message a family can send                     |
| RATE_LIMIT        | 8/20                        | messages per seconds a family can send (8 in 20 s)    |
| SOCKET_BUFFER_BYTES | 32768                     | largest socket.io packet or websocket frame accepted; bigger closes that socket |
| NEW_CHATS_PER_ADDRESS | 10/600                  | new chats per seconds from one client address, shared by every gateway (0: no limit) |
| MESSAGES_PER_ADDRESS | 24/20                   | messages per seconds from one client address across all its chats, shared by every gateway (0: no limit) |
| QUEUE_PLACES_PER_ADDRESS | 1                    | chats from one client address queued or live at once (0: no limit) |
| SESSION_IDLE_MINUTES | 30                       | an adviser is logged out after this long without a request (ASVS L2) |
| RESUME_IDLE_MINUTES | 60                        | a family's stored chat id resumes its chat only within this long of its last activity (queued or live chats: always) |
| RASA_URL          | http://BIND_HOST:RASA_PORT  | where the gateway reaches Rasa (scaled: a load balancer)|
| ACTION_URL        | http://BIND_HOST:ACTION_PORT | action server base URL the gateway health-checks     |
| RASA_SERVER_URLS  | RASA_URL                    | every Rasa server, comma-separated: a promoted model is loaded into each |
| GATEWAY_REDIS_URL | (empty: one process)        | Redis shared by several gateways (socket.io rooms)    |
| GATEWAY_INSTANCE  | host name and port          | this gateway's name in logs and adviser presence      |
"""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Tuple, Union

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    bind_host: str
    rasa_port: int
    action_port: int
    gateway_port: int
    model_dir: Path
    tracker_db: Union[Path, str]  # a SQLite file, or an SQLAlchemy URL (the scaled shape's PostgreSQL)
    var_dir: Path
    rasa_token: Optional[str]
    action_server_url: str
    gateway_db_url: str = ""
    gateway_url: str = ""
    cookie_secure: bool = False
    max_message_chars: int = 2000
    rate_limit: Tuple[int, int] = (8, 20)
    socket_buffer_bytes: int = 32 * 1024
    new_chats_per_address: Tuple[int, int] = (10, 600)  # (0, 0): no limit
    queue_places_per_address: int = 1  # 0: no limit
    messages_per_address: Tuple[int, int] = (24, 20)  # (0, 0): no limit
    session_idle_minutes: int = 30
    resume_idle_minutes: int = 60
    rasa_url_override: str = ""
    action_url_override: str = ""
    redis_url: str = ""
    instance: str = ""
    rasa_server_urls: Tuple[str, ...] = ()

    @property
    def rasa_servers(self) -> Tuple[str, ...]:
        """Every Rasa server (RASA_URL may be a load balancer, which reaches only one of them)."""
        return self.rasa_server_urls or (self.rasa_url,)

    @property
    def rasa_url(self) -> str:
        return self.rasa_url_override or f"http://{self.bind_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return self.action_url_override or f"http://{self.bind_host}:{self.action_port}"

    def child_env(self, base: Mapping[str, str]) -> dict:
        """Environment for the processes we start (endpoints.yml reads these)."""
        env = dict(base)
        env.update(
            ACTION_SERVER_URL=self.action_server_url,
            TRACKER_DB=str(self.tracker_db),
            GATEWAY_URL=self.gateway_url,
            SANIC_HOST=self.bind_host,  # rasa_sdk's action server has no --interface flag
            RASA_TELEMETRY_ENABLED="false",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")])),
        )
        return env


def _path_or_url(raw: str) -> Union[Path, str]:
    return raw if "://" in raw else Path(raw)


def port_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    """A port number from an environment variable (unset or empty: the default), or a clear exit."""
    raw = env.get(name) or str(default)
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number")
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={port} is out of range")
    return port


def _int(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number")
    if value < low:
        raise SystemExit(f"{name}={value} must be at least {low}")
    return value


# Servers started for tests and benchmarks see every client at one loopback address, so the limits
# per client address are switched off there; they have tests of their own (tests/test_gateway.py,
# tests/test_limits.py, make bench-flood).
NO_ADDRESS_LIMITS = {"NEW_CHATS_PER_ADDRESS": "0", "MESSAGES_PER_ADDRESS": "0", "QUEUE_PLACES_PER_ADDRESS": "0"}


def _rate(env: Mapping[str, str], name: str = "RATE_LIMIT", default: str = "8/20", what: str = "messages",
          may_be_off: bool = False) -> Tuple[int, int]:
    raw = env.get(name, default)
    if may_be_off and raw.strip() == "0":
        return 0, 0
    try:
        count, seconds = (int(part) for part in raw.split("/"))
    except ValueError:
        raise SystemExit(f"{name}={raw!r} should look like {default} ({what}/seconds)")
    if count < 1 or seconds < 1:
        raise SystemExit(f"{name}={raw!r} must be positive" + (" (or 0 for no limit)" if may_be_off else ""))
    return count, seconds


def load(env: Mapping[str, str] = os.environ) -> Settings:
    var_dir = Path(env.get("VAR_DIR", ROOT / "var"))
    bind_host = env.get("BIND_HOST", "127.0.0.1")
    action_port = port_from_env(env, "ACTION_PORT", 5055)
    gateway_port = port_from_env(env, "GATEWAY_PORT", 8080)
    return Settings(
        bind_host=bind_host,
        rasa_port=port_from_env(env, "RASA_PORT", 5005),
        action_port=action_port,
        gateway_port=gateway_port,
        model_dir=Path(env.get("MODEL_DIR", ROOT / "models")),
        tracker_db=_path_or_url(env.get("TRACKER_DB") or str(var_dir / "tracker.db")),
        var_dir=var_dir,
        rasa_token=env.get("RASA_TOKEN"),
        action_server_url=env.get("ACTION_SERVER_URL") or f"http://{bind_host}:{action_port}/webhook",
        gateway_db_url=env.get("GATEWAY_DB_URL") or f"sqlite:///{var_dir / 'gateway.db'}",
        gateway_url=env.get("GATEWAY_URL") or f"http://{bind_host}:{gateway_port}",
        cookie_secure=env.get("COOKIE_SECURE", "0").lower() in ("1", "true", "yes"),
        max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 2000),
        rate_limit=_rate(env),
        # 4096 at least: a message of MAX_MESSAGE_CHARS must fit, or it would close the socket instead
        # of getting the polite "too long" answer
        socket_buffer_bytes=_int(env, "SOCKET_BUFFER_BYTES", 32 * 1024, low=4096),
        new_chats_per_address=_rate(env, "NEW_CHATS_PER_ADDRESS", "10/600", "chats", may_be_off=True),
        queue_places_per_address=_int(env, "QUEUE_PLACES_PER_ADDRESS", 1, low=0),
        messages_per_address=_rate(env, "MESSAGES_PER_ADDRESS", "24/20", "messages", may_be_off=True),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 30),
        resume_idle_minutes=_int(env, "RESUME_IDLE_MINUTES", 60),
        rasa_url_override=env.get("RASA_URL", "").rstrip("/"),
        action_url_override=env.get("ACTION_URL", "").rstrip("/"),
        redis_url=env.get("GATEWAY_REDIS_URL", ""),
        instance=env.get("GATEWAY_INSTANCE") or f"{socket.gethostname()}:{gateway_port}",
        rasa_server_urls=tuple(u.strip().rstrip("/") for u in env.get("RASA_SERVER_URLS", "").split(",") if u.strip()),
    )


def secret_file(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """A secret generated once into `path` (the file mode 0600, its folder 0700), then read from it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def fernet_key() -> str:
    """A new key for Fernet (the advisers' encrypted session cookies): 32 bytes, urlsafe base64."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _secret(settings: Settings, name: str, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """A secret generated once and kept in var/secrets/<name>."""
    return secret_file(settings.var_dir / "secrets" / name, make)


def rasa_token(settings: Settings) -> str:
    """The Rasa API token: from RASA_TOKEN, else generated once and kept in var/secrets/."""
    return settings.rasa_token or _secret(settings, "rasa_token")


def internal_token(settings: Settings, env: Mapping[str, str] = os.environ) -> str:
    """Token the action server shows the gateway when it asks whether an adviser is free."""
    return env.get("INTERNAL_TOKEN") or _secret(settings, "internal_token")


def session_secret(settings: Settings, env: Mapping[str, str] = os.environ) -> str:
    """A Fernet key (32 bytes, urlsafe base64) for the advisers' encrypted session cookies."""
    return env.get("SESSION_SECRET") or _secret(settings, "session_key", fernet_key)

"""The production shape on one machine, on loopback: PostgreSQL, Redis, 2 action servers, 2 Rasa
servers, 2 webchat gateways and nginx in front, all private instances under var/prod/.

    python -m bot.prod_local          # make run-prod-local; Ctrl-C (or SIGTERM) stops everything

What runs (default ports; each can be changed by the environment variable in brackets):

    family / console  --> nginx 127.0.0.1:8088 [PROD_NGINX_PORT]
                             /socket.io/  sticky: hash $arg_route$remote_addr consistent
                             everything else: any gateway
    gateways          --> gateway1 8081, gateway2 8082 [PROD_GATEWAY_PORTS="8081,8082"]
    nginx upstreams      Rasa servers   127.0.0.1:58005 [PROD_RASA_LB_PORT]    (RASA_URL)
    (loopback only)      action servers 127.0.0.1:58055 [PROD_ACTION_LB_PORT]  (ACTION_SERVER_URL, ACTION_URL)
                         gateways       127.0.0.1:58080 [PROD_GATEWAY_LB_PORT] (GATEWAY_URL)
    Rasa servers      --> rasa1 55005, rasa2 55006 [PROD_RASA_PORTS]
    action servers    --> actions1 55055, actions2 55056 [PROD_ACTION_PORTS]
    PostgreSQL 15     --> 127.0.0.1:55432 [PROD_PG_PORT]: databases `rasa` (tracker) and `gateway`
    Redis             --> 127.0.0.1:56379 [PROD_REDIS_PORT]: db 0 Rasa's lock store, db 1 the gateways

The number of Rasa servers, action servers and gateways is the number of ports in the lists.
Logs are in var/prod/logs/<name>.log; var/prod/env holds every variable of the shape in the format of
/etc/family-advice/env (mode 0600), so `set -a; . var/prod/env; set +a` gives a shell the same
settings (e.g. to add an adviser account to the PostgreSQL store with `python -m bot.gateway.users`).
The PostgreSQL and Redis passwords are generated once into var/secrets/ (mode 0600).

Tests and benchmarks use the context manager:

    with running_shape(tmp_dir, ports=Ports.free()) as shape:
        shape.public_url                      # http://127.0.0.1:<nginx port>
        shape.kill("rasa1"); shape.start("rasa1"); shape.restart("redis"); shape.restart("postgres")

Process names: postgres, redis, actions1.., rasa1.., gateway1.., nginx (shape.names()).
"""
from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from bot import launchers
from bot.ports import free_port
from bot.settings import fernet_key, port_from_env, secret_file
from bot.supervisor import clear_leftovers, die_with_parent, write_pid_file

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ENDPOINTS = ROOT / "deploy" / "endpoints.yml"
DB_ROLE = "familyadvice"
CHILDREN_FILE = "children.json"  # under run/: the servers this start launched, for the next start to clear
REDIS_LOCK_DB = 0
REDIS_GATEWAY_DB = 1
MAX_BODY = "256k"  # the gateway's client_max_size (bot/gateway/app.py)


class ShapeError(RuntimeError):
    """A process of the shape did not start or did not become healthy."""


# ------------------------------------------------------------------------------------------ ports

def _env_ports(env: Mapping[str, str], name: str, default: Tuple[int, ...]) -> Tuple[int, ...]:
    raw = env.get(name)
    if not raw:
        return default
    ports = tuple(port_from_env({name: part.strip()}, name, 0) for part in raw.split(",") if part.strip())
    if not ports:
        raise SystemExit(f"{name}={raw!r}: give one or more ports separated by commas")
    return ports


@dataclass(frozen=True)
class Ports:
    nginx: int = 8088
    postgres: int = 55432
    redis: int = 56379
    rasa: Tuple[int, ...] = (55005, 55006)
    actions: Tuple[int, ...] = (55055, 55056)
    gateways: Tuple[int, ...] = (8081, 8082)
    rasa_lb: int = 58005
    action_lb: int = 58055
    gateway_lb: int = 58080

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Ports":
        d = cls()
        return cls(
            nginx=port_from_env(env, "PROD_NGINX_PORT", d.nginx),
            postgres=port_from_env(env, "PROD_PG_PORT", d.postgres),
            redis=port_from_env(env, "PROD_REDIS_PORT", d.redis),
            rasa=_env_ports(env, "PROD_RASA_PORTS", d.rasa),
            actions=_env_ports(env, "PROD_ACTION_PORTS", d.actions),
            gateways=_env_ports(env, "PROD_GATEWAY_PORTS", d.gateways),
            rasa_lb=port_from_env(env, "PROD_RASA_LB_PORT", d.rasa_lb),
            action_lb=port_from_env(env, "PROD_ACTION_LB_PORT", d.action_lb),
            gateway_lb=port_from_env(env, "PROD_GATEWAY_LB_PORT", d.gateway_lb),
        )

    @classmethod
    def free(cls, rasa: int = 2, actions: int = 2, gateways: int = 2) -> "Ports":
        """Free loopback ports (tests: no clash with `make run` or `make run-prod-local`)."""
        return cls(nginx=free_port(), postgres=free_port(), redis=free_port(),
                   rasa=tuple(free_port() for _ in range(rasa)),
                   actions=tuple(free_port() for _ in range(actions)),
                   gateways=tuple(free_port() for _ in range(gateways)),
                   rasa_lb=free_port(), action_lb=free_port(), gateway_lb=free_port())

    def all(self) -> List[int]:
        return [self.nginx, self.postgres, self.redis, *self.rasa, *self.actions, *self.gateways,
                self.rasa_lb, self.action_lb, self.gateway_lb]


# ------------------------------------------------------------------------------------------ helpers

def latest_model(model_dir: Path = ROOT / "models") -> Path:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {model_dir}/. Run `make train` first.")
    return models[-1]


def postgres_bin() -> Path:
    """The newest PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise SystemExit("PostgreSQL is not installed: run scripts/setup_prod.sh (as root)")
    return found[-1]


def _need(program: str, hint: str = "run scripts/setup_prod.sh (as root)") -> str:
    path = shutil.which(program) or next((p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}")
                                          if os.access(p, os.X_OK)), None)
    if not path:
        raise SystemExit(f"{program} is not installed: {hint}")
    return path


def _http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


@dataclass
class Process:
    name: str
    command: List[str]
    env: Dict[str, str]
    healthy: Callable[[], bool]
    start_timeout: float = 60
    as_postgres: bool = False          # run as the postgres OS user (we are root)
    run_as: Optional[str] = None       # another OS user to run as when we are root (nginx: nobody)
    stop_signal: int = signal.SIGTERM  # sent to the whole process group
    popen: Optional[subprocess.Popen] = None
    log: Optional[Path] = None
    after_start: List[Callable[[], None]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


# ------------------------------------------------------------------------------------------ the shape

class Shape:
    """The scaled shape under `base` (default var/prod). Build with `running_shape()` or call
    `start_all()` / `stop_all()` yourself. Every process runs in its own process group."""

    def __init__(self, base: Path, ports: Optional[Ports] = None, *, secrets_dir: Optional[Path] = None,
                 model: Optional[Path] = None, env: Optional[Mapping[str, str]] = None, quiet: bool = False):
        self.base = Path(base).resolve()
        self.ports = ports or Ports.from_env()
        default_base = self.base == (ROOT / "var" / "prod").resolve()  # make run-prod-local: var/secrets/
        self.secrets_dir = (Path(secrets_dir).resolve() if secrets_dir
                            else ROOT / "var" / "secrets" if default_base else self.base / "secrets")
        self.model = Path(model) if model else latest_model()
        self.base_env = dict(env if env is not None else os.environ)
        self.quiet = quiet
        self._spawn_thread: Optional[ThreadPoolExecutor] = None
        self.logs = self.base / "logs"
        self.run_dir = self.base / "run"          # PostgreSQL's unix socket
        self.pg_data = self.base / "pg" / "data"
        self.redis_dir = self.base / "redis"
        self.nginx_dir = self.base / "nginx"
        self.var_dir = self.base / "var"          # the gateways' VAR_DIR (retraining output, ...)
        self.as_root = os.geteuid() == 0
        self.pg_bin = postgres_bin()
        self.processes: Dict[str, Process] = {}
        self.timings: Dict[str, float] = {}  # seconds from start_all() (or start()) until healthy
        self.started_in: Optional[float] = None
        self._t0 = time.monotonic()
        self._prepared = False

    # -- addresses ------------------------------------------------------------------------------
    host = "127.0.0.1"

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.ports.nginx}"

    @property
    def rasa_lb_url(self) -> str:
        return f"http://{self.host}:{self.ports.rasa_lb}"

    @property
    def action_lb_url(self) -> str:
        return f"http://{self.host}:{self.ports.action_lb}"

    @property
    def gateway_lb_url(self) -> str:
        return f"http://{self.host}:{self.ports.gateway_lb}"

    def rasa_url(self, i: int) -> str:
        """Rasa server number i (1-based), directly, not through nginx."""
        return f"http://{self.host}:{self.ports.rasa[i - 1]}"

    def action_url(self, i: int) -> str:
        return f"http://{self.host}:{self.ports.actions[i - 1]}"

    def gateway_url(self, i: int) -> str:
        return f"http://{self.host}:{self.ports.gateways[i - 1]}"

    def db_url(self, database: str) -> str:
        """SQLAlchemy URL of `rasa` (the tracker store) or `gateway` (the gateway store)."""
        return (f"postgresql+psycopg2://{DB_ROLE}:{self.db_password}@{self.host}:{self.ports.postgres}"
                f"/{database}")

    @property
    def redis_url(self) -> str:
        """The gateways' Redis (db 1); Rasa's lock store uses db 0."""
        return f"redis://:{self.redis_password}@{self.host}:{self.ports.redis}/{REDIS_GATEWAY_DB}"

    # -- secrets ---------------------------------------------------------------------------------
    def _load_secrets(self) -> None:
        env = self.base_env
        s = self.secrets_dir
        self.db_password = secret_file(s / "prod_pg_password")
        self.redis_password = secret_file(s / "prod_redis_password")
        self.rasa_token = env.get("RASA_TOKEN") or secret_file(s / "rasa_token")
        self.internal_token = env.get("INTERNAL_TOKEN") or secret_file(s / "internal_token")
        self.session_secret = env.get("SESSION_SECRET") or secret_file(s / "session_key", fernet_key)

    # -- environments ----------------------------------------------------------------------------
    def shared_env(self) -> Dict[str, str]:
        """Every variable of the shape (what /etc/family-advice/env holds in production)."""
        return {
            "BIND_HOST": self.host,
            "RASA_TOKEN": self.rasa_token,
            "INTERNAL_TOKEN": self.internal_token,
            "SESSION_SECRET": self.session_secret,
            "COOKIE_SECURE": "0",  # plain http on loopback; 1 behind TLS
            "VAR_DIR": str(self.var_dir),
            "MODEL_DIR": str(self.model.parent),
            # Rasa (deploy/endpoints.yml)
            "ACTION_SERVER_URL": f"{self.action_lb_url}/webhook",
            "TRACKER_DB_HOST": self.host,
            "TRACKER_DB_PORT": str(self.ports.postgres),
            "TRACKER_DB_NAME": "rasa",
            "TRACKER_DB_USER": DB_ROLE,
            "TRACKER_DB_PASSWORD": self.db_password,
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.ports.redis),
            "REDIS_LOCK_DB": str(REDIS_LOCK_DB),
            "REDIS_PASSWORD": self.redis_password,
            "REDIS_LOCK_PREFIX": "familyadvice",
            # gateways and action servers
            "GATEWAY_DB_URL": self.db_url("gateway"),
            "GATEWAY_REDIS_URL": self.redis_url,
            "TRACKER_DB": self.db_url("rasa"),  # the gateway's retention and review read the tracker
            "RASA_URL": self.rasa_lb_url,
            # every Rasa server, directly: staff "put live" loads the model into each
            "RASA_SERVER_URLS": ",".join(self.rasa_url(i) for i in range(1, len(self.ports.rasa) + 1)),
            "ACTION_URL": self.action_lb_url,
            "GATEWAY_URL": self.gateway_lb_url,
        }

    def _env(self, **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in self.base_env.items() if k not in (
            "GATEWAY_PORT", "RASA_PORT", "ACTION_PORT", "GATEWAY_INSTANCE", "SANIC_HOST")}
        env.update(self.shared_env())
        env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1",
                   PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), self.base_env.get("PYTHONPATH")])))
        env.update(extra)
        return env

    # -- preparing the directories and configs ---------------------------------------------------
    def prepare(self) -> None:
        if self._prepared:
            return
        for program in ("nginx", "redis-server"):
            _need(program)
        self.base.mkdir(parents=True, exist_ok=True)
        for path in (self.logs, self.redis_dir, self.nginx_dir / "tmp", self.var_dir):
            path.mkdir(parents=True, exist_ok=True)
        self._load_secrets()
        self._prepare_postgres()
        self._write_redis_conf()
        self._write_nginx_conf()
        _write_private(self.base / "env", "".join(f"{k}={v}\n" for k, v in self.shared_env().items()))
        self._define_processes()
        self._prepared = True

    def _pg_user(self) -> Optional[pwd.struct_passwd]:
        if not self.as_root:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise SystemExit("no `postgres` OS user: is PostgreSQL installed? run scripts/setup_prod.sh")

    def _as_postgres(self, command: List[str]) -> List[str]:
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def _prepare_postgres(self) -> None:
        user = self._pg_user()
        self.pg_data.parent.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if user:
            # postgres must be able to reach its directories: every parent needs o+x
            for parent in [self.base, *self.base.parents]:
                if not os.stat(parent).st_mode & 0o001:
                    raise SystemExit(f"{parent} is not searchable by the postgres user (chmod o+x {parent}), "
                                     f"or choose a folder under {ROOT / 'var'}")
            for path in (self.pg_data.parent, self.run_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
                os.chmod(path, 0o700)
        if (self.pg_data / "PG_VERSION").exists():
            return
        pwfile = self.pg_data.parent / "initdb.pw"
        _write_private(pwfile, secrets.token_urlsafe(32) + "\n")  # superuser password: only peer login is used
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            result = subprocess.run(
                self._as_postgres([str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "--username=postgres",
                                   f"--pwfile={pwfile}", "--auth-local=peer", "--auth-host=scram-sha-256",
                                   "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"]),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.pg_data, ignore_errors=True)
            raise ShapeError(f"initdb failed:\n{result.stdout[-3000:]}")

    def _write_redis_conf(self) -> None:
        _write_private(self.redis_dir / "redis.conf", "\n".join([
            "# generated by bot/prod_local.py; private instance, loopback only",
            f"bind {self.host}",
            f"port {self.ports.redis}",
            "protected-mode yes",
            "daemonize no",
            "supervised no",
            'logfile ""',
            f"dir {self.redis_dir}",
            "appendonly no",
            'save ""',
            f"requirepass {self.redis_password}",
            "maxmemory 256mb",
            "maxmemory-policy noeviction",
            "",
        ]))

    def _write_nginx_conf(self) -> None:
        (self.nginx_dir / "nginx.conf").write_text(nginx_conf(self.ports, self.nginx_dir, self.logs, self.host))

    # -- the processes ---------------------------------------------------------------------------
    def _define_processes(self) -> None:
        py, rasa = str(VENV_BIN / "python"), str(VENV_BIN / "rasa")
        procs: List[Process] = [
            Process("postgres", [str(self.pg_bin / "postgres"), "-D", str(self.pg_data),
                                 "-c", f"listen_addresses={self.host}", "-c", f"port={self.ports.postgres}",
                                 "-c", f"unix_socket_directories={self.run_dir}",
                                 "-c", "max_connections=200", "-c", "log_line_prefix=%m [%p] %u@%d "],
                    {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
                    self._pg_ready, start_timeout=60, as_postgres=True, stop_signal=signal.SIGINT,
                    after_start=[self._bootstrap_databases]),
            Process("redis", [_need("redis-server"), str(self.redis_dir / "redis.conf")],
                    {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, self._redis_ready, start_timeout=30),
        ]
        for i, port in enumerate(self.ports.actions, 1):
            procs.append(Process(
                f"actions{i}", launchers.action_server(py, port=port),
                self._env(SANIC_HOST=self.host, ACTION_PORT=str(port)),
                self._checker(f"{self.action_url(i)}/health"), start_timeout=90))
        for i, port in enumerate(self.ports.rasa, 1):
            procs.append(Process(
                f"rasa{i}", launchers.rasa_server(rasa, token=self.rasa_token, interface=self.host, port=port,
                                                  model=str(self.model), endpoints=str(ENDPOINTS),
                                                  credentials=str(ROOT / "credentials.yml")),
                self._env(RASA_PORT=str(port)),
                # /status answers 200 only once the model is loaded (/ answers even without one)
                self._checker(f"{self.rasa_url(i)}/status?token={self.rasa_token}"), start_timeout=420))
        for i, port in enumerate(self.ports.gateways, 1):
            procs.append(Process(
                f"gateway{i}", launchers.gateway(py),
                self._env(GATEWAY_PORT=str(port), GATEWAY_INSTANCE=f"gateway{i}"),
                self._checker(f"{self.gateway_url(i)}/health"), start_timeout=90))
        procs.append(Process(
            "nginx", [_need("nginx"), "-c", str(self.nginx_dir / "nginx.conf"), "-p", str(self.nginx_dir),
                      "-e", str(self.logs / "nginx-error.log"), "-g", "daemon off;"],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, self._nginx_ready, start_timeout=30,
            stop_signal=signal.SIGQUIT, run_as="nobody"))
        self.processes = {p.name: p for p in procs}

    def names(self) -> List[str]:
        self.prepare()
        return list(self.processes)

    def _checker(self, url: str) -> Callable[[], bool]:
        return lambda: _http_ok(url)

    def _pg_ready(self) -> bool:
        return subprocess.run([str(self.pg_bin / "pg_isready"), "-q", "-h", self.host, "-p", str(self.ports.postgres),
                               "-t", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def _redis_ready(self) -> bool:
        import redis

        try:
            client = redis.Redis(host=self.host, port=self.ports.redis, password=self.redis_password, socket_timeout=2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False

    def _nginx_ready(self) -> bool:
        return all(_http_ok(url) for url in (f"{self.public_url}/health", f"{self.rasa_lb_url}/",
                                             f"{self.action_lb_url}/health", f"{self.gateway_lb_url}/health"))

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the PostgreSQL superuser over the private unix socket; returns psql's output."""
        result = subprocess.run(
            self._as_postgres([str(self.pg_bin / "psql"), "-h", str(self.run_dir), "-p", str(self.ports.postgres),
                               "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"]),
            input=sql, capture_output=True, text=True)
        if result.returncode != 0:
            raise ShapeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def _bootstrap_databases(self) -> None:
        """Role `familyadvice` (password from var/secrets) owning databases `rasa` and `gateway`."""
        self.psql(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_ROLE}') THEN
    CREATE ROLE {DB_ROLE} LOGIN PASSWORD '{self.db_password}';
  ELSE
    ALTER ROLE {DB_ROLE} LOGIN PASSWORD '{self.db_password}';
  END IF;
END $$;
SELECT 'CREATE DATABASE rasa OWNER {DB_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rasa')\\gexec
SELECT 'CREATE DATABASE gateway OWNER {DB_ROLE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'gateway')\\gexec
""")

    def _tracker_table_exists(self) -> bool:
        try:
            return self.psql("SELECT to_regclass('public.events') IS NOT NULL;", "rasa").strip() == "t"
        except ShapeError:
            return False

    # -- starting and stopping -------------------------------------------------------------------
    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def _spawn(self, name: str) -> Process:
        self.prepare()
        proc = self.processes[name]
        if proc.running:
            raise ShapeError(f"{name} is already running")
        proc.log = self.logs / f"{name}.log"
        with open(proc.log, "a") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(proc.command[:3])} ...\n")
            log.flush()
            kwargs = {}
            user = self._pg_user() if proc.as_postgres else self._os_user(proc.run_as)
            if user and self.as_root:
                kwargs = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
                if proc.run_as:
                    self._hand_over(user, proc)
            self._say(f"==> starting {name}")
            parent = os.getpid()
            # Spawned from the shape's own thread: the kernel's parent-death signal follows the thread
            # that forked, so a child started from a short-lived thread (asyncio.to_thread in a test,
            # whose executor ends with its event loop) would be killed when that thread ends.
            proc.popen = self._spawner().submit(
                subprocess.Popen, proc.command, cwd=ROOT, env=proc.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: die_with_parent(parent), **kwargs).result()  # noqa: PLW1509
            self._record_children()
        return proc

    def _spawner(self) -> ThreadPoolExecutor:
        """The one thread every process of the shape is started from; it lives until stop_all."""
        if self._spawn_thread is None:
            self._spawn_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shape-spawner")
        return self._spawn_thread

    def _os_user(self, name: Optional[str]) -> Optional[pwd.struct_passwd]:
        if not (name and self.as_root):
            return None
        try:
            return pwd.getpwnam(name)
        except KeyError:
            return None

    def _hand_over(self, user: pwd.struct_passwd, proc: "Process") -> None:
        """What an unprivileged process must write (nginx: its temp folder and its two logs)."""
        paths = [self.nginx_dir / "tmp", self.logs / "nginx-error.log", self.logs / "nginx-access.log"]
        for path in paths:
            if not path.exists():
                path.touch()
            os.chown(path, user.pw_uid, user.pw_gid)
        for sub in (self.nginx_dir / "tmp").rglob("*"):
            os.chown(sub, user.pw_uid, user.pw_gid)

    def _record_children(self) -> None:
        """The pid file the next start reads to clear what a killed run left (bot/supervisor.py)."""
        rows = [{"name": p.name, "pid": p.popen.pid, "cmd": list(p.command)}
                for p in self.processes.values() if p.running]
        write_pid_file(self.run_dir / CHILDREN_FILE, rows)

    def _wait(self, names: Sequence[str], timeout: Optional[float] = None) -> None:
        """Wait until every named process is healthy; ShapeError naming the first that died or timed out."""
        pending = list(names)
        deadline = {n: time.monotonic() + (timeout or self.processes[n].start_timeout) for n in names}
        while pending:
            for name in list(pending):
                proc = self.processes[name]
                if not proc.running:
                    code = proc.popen.returncode if proc.popen else None
                    raise ShapeError(self._failure(name, f"exited with code {code}"))
                if proc.healthy():
                    for hook in proc.after_start:
                        hook()
                    pending.remove(name)
                    self.timings[name] = time.monotonic() - self._t0
                    self._say(f"    {name} is up ({self.timings[name]:.1f} s)")
                elif time.monotonic() > deadline[name]:
                    raise ShapeError(self._failure(name, "did not become healthy in time"))
            if pending:
                time.sleep(0.5)

    def _failure(self, name: str, what: str) -> str:
        return f"{name} {what}; the end of {self.logs / (name + '.log')}:\n{self.log_tail(name)}"

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def start(self, name: str, wait: bool = True) -> None:
        """Start one process (again) and, by default, wait until it is healthy."""
        self._t0 = time.monotonic()
        self._spawn(name)
        if wait:
            self._wait([name])

    def stop(self, name: str, timeout: float = 20, _signalled: bool = False) -> None:
        """Stop one process gracefully (its stop signal to its process group; SIGKILL after `timeout`)."""
        proc = self.processes.get(name)
        if proc is None or proc.popen is None:
            return
        if proc.popen.poll() is None:
            if not _signalled:
                self._signal(proc, proc.stop_signal)
            try:
                proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.popen.wait(timeout=10)
        self._reap_group(proc)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process and everything in its process group at once (a crash), and reap it."""
        proc = self.processes[name]
        if proc.popen is None:
            return
        self._signal(proc, sig)
        try:
            proc.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._signal(proc, signal.SIGKILL)
            proc.popen.wait(timeout=10)
        if sig == signal.SIGKILL:
            self._reap_group(proc)

    def restart(self, name: str, wait: bool = True) -> None:
        self.stop(name)
        self.start(name, wait=wait)

    def _signal(self, proc: Process, sig: int) -> None:
        try:
            if proc.name == "postgres" and sig != signal.SIGKILL:
                os.kill(proc.popen.pid, sig)  # the postmaster shuts its backends down itself
            else:
                os.killpg(proc.popen.pid, sig)
        except ProcessLookupError:
            pass

    def kill_group(self, proc: Process) -> None:
        """SIGKILL a process and its group now (safe from a signal handler)."""
        try:
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap_group(self, proc: Process) -> None:
        """Children left in the group (e.g. postgres backends after a SIGKILL) are killed too."""
        try:
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.name == "postgres":
            for _ in range(40):  # a killed postmaster's children leave within a moment
                if not (self.pg_data / "postmaster.pid").exists() or not self._pg_pid_alive():
                    break
                time.sleep(0.25)

    def _pg_pid_alive(self) -> bool:
        try:
            pid = int((self.pg_data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return True
        except (OSError, ValueError, IndexError):
            return False

    def pid(self, name: str) -> Optional[int]:
        proc = self.processes.get(name)
        return proc.popen.pid if proc and proc.running else None

    def start_all(self) -> None:
        """Start everything in order and wait until each is healthy; on failure stop all, raise ShapeError."""
        started = self._t0 = time.monotonic()  # from the first initdb on
        self.prepare()
        busy = [port for port in self.ports.all() if _port_in_use(self.host, port)]
        if busy:
            raise ShapeError(f"ports already in use on {self.host}: {busy} (another run-prod-local? "
                             "set PROD_*_PORT(S), see python -m bot.prod_local --help)")
        try:
            self._spawn("postgres")
            self._spawn("redis")
            self._wait(["postgres", "redis"])
            actions = [n for n in self.processes if n.startswith("actions")]
            rasas = [n for n in self.processes if n.startswith("rasa")]
            gateways = [n for n in self.processes if n.startswith("gateway")]
            for name in actions:
                self._spawn(name)
            # The first Rasa server creates the tracker table; the others start once it exists, so
            # they do not race to create it (two CREATE TABLEs at once fail in PostgreSQL).
            self._spawn(rasas[0])
            deadline = time.monotonic() + 180
            while not self._tracker_table_exists():
                if not self.processes[rasas[0]].running:
                    self._wait([rasas[0]])  # raises, with the log
                if time.monotonic() > deadline:
                    raise ShapeError(self._failure(rasas[0], "did not create the tracker table in time"))
                time.sleep(0.5)
            for name in rasas[1:]:
                self._spawn(name)
            # Gateways one at a time: each migrates the gateway database at start.
            for name in gateways:
                self._spawn(name)
                self._wait([name])
            self._spawn("nginx")
            self._wait([*actions, *rasas])
            self._wait(["nginx"])  # its health goes through every upstream
        except BaseException:
            self.stop_all()
            raise
        self.started_in = time.monotonic() - started

    def stop_all(self) -> None:
        """Stop everything, front to back (nginx and gateways first, the databases last)."""
        order = list(reversed(list(self.processes)))
        front = [n for n in order if n not in ("postgres", "redis")]
        for name in front:  # signal all at once, then wait: faster than one by one
            proc = self.processes[name]
            if proc.running:
                self._signal(proc, proc.stop_signal)
            elif proc.popen is not None:
                self._reap_group(proc)
        for name in front:
            self.stop(name, _signalled=True)
        for name in ("redis", "postgres"):
            if name in self.processes:
                self.stop(name, timeout=30)
        if self._spawn_thread is not None:
            self._spawn_thread.shutdown()
            self._spawn_thread = None

    def __enter__(self) -> "Shape":
        self.start_all()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def running_shape(base: Optional[Path] = None, ports: Optional[Ports] = None, **kwargs) -> Iterator[Shape]:
    """The whole shape, started and healthy, stopped on exit. `base` defaults to var/prod/; pass
    `ports=Ports.free()` in tests. Raises ShapeError (naming the process, with its log) if one fails."""
    shape = Shape(base or ROOT / "var" / "prod", ports, **kwargs)
    with shape:
        yield shape


# ------------------------------------------------------------------------------------------ nginx

def nginx_conf(ports: Ports, prefix: Path, logs: Path, host: str = "127.0.0.1") -> str:
    """nginx.conf for the one-machine shape (deploy/nginx.conf is the production one, with TLS)."""
    def servers(port_list: Sequence[int], extra: str = "") -> str:
        return "".join(f"        server {host}:{p} max_fails=1 fail_timeout=5s;\n" for p in port_list) + extra

    def balancer(port: int, upstream: str, max_body: str, read_timeout: str) -> str:
        """An internal load balancer on loopback (RASA_URL, ACTION_SERVER_URL, GATEWAY_URL point here)."""
        return (f"    server {{\n        listen {host}:{port};\n        client_max_body_size {max_body};\n"
                f"        location / {{\n            proxy_pass http://{upstream};{proxy_common}\n"
                f"            proxy_set_header Connection \"\";\n            proxy_read_timeout {read_timeout};\n"
                f"        }}\n    }}\n")

    keepalive = "        keepalive 16;\n"
    # Rasa and the action server (Sanic) close an idle kept-alive connection after 5 s; nginx must
    # drop it first, or it reuses one just closed and a POST (not retried elsewhere) fails with 502.
    sanic_keepalive = keepalive + "        keepalive_timeout 4s;\n"
    proxy_common = """
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;"""
    return f"""# generated by bot/prod_local.py for the one-machine shape; production: deploy/nginx.conf
# One process (no master and workers), started as `nobody` when we are root: a master's workers
# outlive it when it is killed, this one process dies with the supervisor (bot/supervisor.py).
master_process off;
pid {prefix}/tmp/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{ worker_connections 1024; }}

http {{
    log_format shape '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr $request_time';
    access_log {logs}/nginx-access.log shape;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server_tokens off;
    types {{ }}
    default_type application/octet-stream;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    # socket.io: every request of one engine.io session (long-polling and the websocket upgrade)
    # must reach the same gateway. The widget and console send a random per-tab `route` query
    # parameter; other clients are spread by address.
    upstream gateways_sticky {{
        hash $arg_route$remote_addr consistent;
{servers(ports.gateways)}    }}
    upstream gateways {{
{servers(ports.gateways, keepalive)}    }}
    upstream rasa_servers {{
{servers(ports.rasa, sanic_keepalive)}    }}
    upstream action_servers {{
{servers(ports.actions, sanic_keepalive)}    }}

    # the public side (production: 443 with TLS, see deploy/nginx.conf)
    server {{
        listen {host}:{ports.nginx};
        client_max_body_size {MAX_BODY};

        location /socket.io/ {{
            proxy_pass http://gateways_sticky;{proxy_common}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
        }}
        location / {{
            proxy_pass http://gateways;{proxy_common}
            proxy_set_header Connection "";
            proxy_read_timeout 120s;
        }}
        location /internal/ {{
            return 404;  # only for the action servers, through the gateway upstream below
        }}
    }}

    # internal load balancers, loopback only
{balancer(ports.rasa_lb, "rasa_servers", "10m", "300s")}{balancer(ports.action_lb, "action_servers", "10m", "120s")}{balancer(ports.gateway_lb, "gateways", MAX_BODY, "60s")}}}
"""


# ------------------------------------------------------------------------------------------ main

def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bot.prod_local",
        description="Run the production shape (PostgreSQL, Redis, 2 action servers, 2 Rasa servers, 2 gateways, "
                    "nginx) on loopback. Ports: PROD_NGINX_PORT (8088), PROD_PG_PORT (55432), PROD_REDIS_PORT "
                    "(56379), PROD_RASA_PORTS (55005,55006), PROD_ACTION_PORTS (55055,55056), PROD_GATEWAY_PORTS "
                    "(8081,8082), PROD_RASA_LB_PORT (58005), PROD_ACTION_LB_PORT (58055), PROD_GATEWAY_LB_PORT (58080).")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "prod", help="where it all lives (default var/prod)")
    parser.add_argument("--secrets", type=Path, default=None,
                        help="where the generated secrets are kept (default var/secrets for var/prod, else DIR/secrets)")
    args = parser.parse_args(argv)
    base = args.dir.resolve()

    shape = Shape(base, Ports.from_env(), secrets_dir=args.secrets)
    try:
        for left in clear_leftovers(shape.run_dir / CHILDREN_FILE, owner="prod_local"):
            print(f"==> stopped {left}, left running by an earlier start", flush=True)
    except RuntimeError as error:
        print(f"!! {error}", file=sys.stderr)
        return 1
    stopping = []

    def on_signal(signum, _frame):
        if stopping:  # a second Ctrl-C: do not abandon the stop, kill at once
            for proc in shape.processes.values():
                if proc.running:
                    shape.kill_group(proc)
            return
        stopping.append(signum)
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        try:
            shape.start_all()
        except ShapeError as error:
            print(f"!! {error}\n!! stopped everything", file=sys.stderr)
            return 1
        p = shape.ports
        print(
            f"\nThe production shape is up in {shape.started_in:.0f} s (Ctrl-C stops everything):\n"
            f"  Family webchat   {shape.public_url}/        (nginx; socket.io sticky by ?route=)\n"
            f"  Adviser console  {shape.public_url}/console\n"
            f"  gateways         {', '.join(shape.gateway_url(i) for i in range(1, len(p.gateways) + 1))}\n"
            f"  Rasa servers     {', '.join(shape.rasa_url(i) for i in range(1, len(p.rasa) + 1))}"
            f"  (through nginx: {shape.rasa_lb_url})\n"
            f"  action servers   {', '.join(shape.action_url(i) for i in range(1, len(p.actions) + 1))}"
            f"  (through nginx: {shape.action_lb_url})\n"
            f"  PostgreSQL       {shape.host}:{p.postgres} (databases rasa, gateway; role {DB_ROLE})\n"
            f"  Redis            {shape.host}:{p.redis}\n"
            f"  logs             {shape.logs}/\n"
            f"  settings         {shape.base / 'env'}  (set -a; . {shape.base / 'env'}; set +a)\n\n"
            "Add an adviser account to this shape's database:\n"
            f"  (set -a; . {shape.base / 'env'}; set +a; .venv/bin/python -m bot.gateway.users add sam --role adviser)\n",
            flush=True)
        while True:
            for name, proc in shape.processes.items():
                if not proc.running:
                    print(f"!! {name} exited with code {proc.popen.returncode}; stopping everything\n"
                          f"{shape.log_tail(name, 1500)}", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> stopping (Ctrl-C again stops at once)", flush=True)
        return 0
    finally:
        stopping.append("finally")
        shape.stop_all()
        (shape.run_dir / CHILDREN_FILE).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())

"""The whole product on free loopback ports for end-to-end and browser tests: the action server, the
Rasa server (newest model in models/) and the gateway, with its own var/ folder, a staffed-hours
file chosen by the test, and adviser accounts.

The hours file is how tests choose "in hours" or "out of hours" without touching any clock:
- ALWAYS_OPEN: webchat staffed every day, all day (bank holidays ignored);
- CLOSED_THIS_WEEK: the usual Monday/Thursday afternoons, with a staff closure from yesterday to a
  week from today, so webchat is closed now and next open on a known weekday at 1pm.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Dict, Iterator

from bot import run_local, settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "stack-test-token"
PASSWORD = "correct horse battery staple"
ADVISERS = (("sam", "adviser", "Sam"), ("alex", "adviser", "Alex"), ("kim", "staff", "Kim"))

_ADVICE_LINE = "\n".join(f'    - {{day: {d}, start: "09:30", end: "15:00"}}'
                         for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
ALWAYS_OPEN = "timezone: Europe/London\nbank_holidays: false\nservices:\n  webchat:\n" + "\n".join(
    f'    - {{day: {d}, start: "00:00", end: "23:59"}}'
    for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
) + f"\n  advice_line:\n{_ADVICE_LINE}\nclosures: []\n"


def closed_this_week(today: date) -> str:
    return ("timezone: Europe/London\nbank_holidays: true\nservices:\n  webchat:\n"
            '    - {day: Monday, start: "13:00", end: "15:00"}\n    - {day: Thursday, start: "13:00", end: "15:00"}\n'
            f"  advice_line:\n{_ADVICE_LINE}\n"
            f"closures:\n  - {{from: {today - timedelta(days=1)}, to: {today + timedelta(days=7)}, "
            'reason: "test closure", services: [webchat]}\n')


@dataclass
class Stack:
    cfg: settings.Settings
    env: Dict[str, str]
    var: Path

    @property
    def gateway_url(self) -> str:
        return f"http://{self.cfg.bind_host}:{self.cfg.gateway_port}"

    def log_tail(self) -> str:
        return (self.var / "servers.log").read_text()[-4000:]


@contextlib.contextmanager
def running_stack(var: Path, hours: str = ALWAYS_OPEN) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        raise RuntimeError("no trained model in models/: run `make train` first")
    hours_file = var / "service_hours.yml"
    hours_file.write_text(hours)
    env = run_local.isolated_env(var, TOKEN)
    env.update(SERVICE_HOURS_FILE=str(hours_file), INTERNAL_TOKEN="stack-internal", RATE_LIMIT="30/10")
    cfg = settings.load(env)
    for username, role, name in ADVISERS:
        subprocess.run([sys.executable, "-m", "bot.gateway.users", "add", username, "--role", role,
                        "--display-name", name], env=dict(env, ADVISER_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT)),
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with open(var / "servers.log", "w") as log:
        try:
            procs = run_local.start_all(cfg, TOKEN, env, output=log, quiet=True)
        except RuntimeError:
            raise RuntimeError("servers did not start:\n" + (var / "servers.log").read_text()[-4000:])
        try:
            yield Stack(cfg, env, var)
        finally:
            run_local.stop_all(procs)

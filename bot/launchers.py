"""The command line of every server, in one table: `make run` (bot/run_local.py), `make run-prod-local`
(bot/prod_local.py) and the systemd units in deploy/systemd/ (tests/test_launchers.py compares them) all
start the servers the same way. Pure functions: the caller gives the executable and the values (the
units give systemd's placeholders, e.g. ${RASA_TOKEN} and %i)."""
from __future__ import annotations

from typing import List, Union

Value = Union[str, int]


def rasa_server(rasa: str, *, token: str, interface: str, port: Value, model: str, endpoints: str,
                credentials: str) -> List[str]:
    """`rasa run` with its HTTP API. The token is passed as --auth-token=TOKEN, one word: a generated
    token may start with "-", which argparse would take for an option (and Rasa would not start)."""
    return [rasa, "run", "--enable-api", f"--auth-token={token}", "--interface", interface, "--port", str(port),
            "--model", model, "--endpoints", endpoints, "--credentials", credentials]


def action_server(python: str, *, port: Value) -> List[str]:
    return [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port), "--quiet"]


def gateway(python: str) -> List[str]:
    """The webchat gateway reads everything else from the environment (bot/settings.py)."""
    return [python, "-m", "bot.gateway"]

"""Every launcher's command line comes from one table (bot/launchers.py): the systemd units, `make run`
(bot/run_local.py) and `make run-prod-local` (bot/prod_local.py) cannot drift apart, and Rasa's token is
always passed as `--auth-token=TOKEN` (security review, issue 16: a token starting with "-" was taken for
an option, fixed locally in fcc9c39 but not in deploy/systemd/rasa@.service)."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import List

import pytest

from bot import launchers

UNITS = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
OPT = "/opt/family-advice/.venv/bin/"


def exec_start(unit: str) -> List[str]:
    """The ExecStart= command of a unit file, continuation lines joined, split as systemd does (near enough:
    no quoting is used in these units)."""
    text = (UNITS / unit).read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line[len("ExecStart="):])


def test_the_rasa_unit_is_the_table_with_systemds_placeholders():
    assert exec_start("rasa@.service") == launchers.rasa_server(
        OPT + "rasa", token="${RASA_TOKEN}", interface="127.0.0.1", port="%i", model="${MODEL_DIR}",
        endpoints="deploy/endpoints.yml", credentials="credentials.yml")


def test_the_action_server_and_gateway_units_are_the_table():
    assert exec_start("actions@.service") == launchers.action_server(OPT + "python", port="%i")
    assert exec_start("gateway@.service") == launchers.gateway(OPT + "python")


def test_no_unit_passes_rasas_token_as_a_separate_word():
    for unit in UNITS.glob("*.service"):
        words = exec_start(unit.name)
        assert "--auth-token" not in words, unit.name


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "--help", "plain"])
def test_a_token_is_one_word_whatever_it_starts_with(token):
    command = launchers.rasa_server("rasa", token=token, interface="127.0.0.1", port=5005, model="models",
                                    endpoints="endpoints.yml", credentials="credentials.yml")
    assert f"--auth-token={token}" in command and token not in command
    assert [w for w in command if w.startswith("--auth-token")] == [f"--auth-token={token}"]


def test_make_run_uses_the_table(tmp_path, monkeypatch):
    from bot import run_local, settings

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "20261201-000000.tar.gz").write_bytes(b"")
    cfg = settings.load({"MODEL_DIR": str(tmp_path / "models"), "VAR_DIR": str(tmp_path / "var")})
    commands = run_local.commands(cfg, "-tok")
    python, rasa = str(run_local.VENV_BIN / "python"), str(run_local.VENV_BIN / "rasa")
    assert commands["rasa server"] == launchers.rasa_server(
        rasa, token="-tok", interface=cfg.bind_host, port=cfg.rasa_port,
        model=str(tmp_path / "models" / "20261201-000000.tar.gz"), endpoints="endpoints.yml",
        credentials="credentials.yml")
    assert commands["action server"] == launchers.action_server(python, port=cfg.action_port)
    assert commands["gateway"] == launchers.gateway(python)

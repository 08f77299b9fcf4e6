from pathlib import Path

import pytest

from bot import settings


def test_defaults_are_loopback_and_the_agreed_ports():
    cfg = settings.load({})
    assert (cfg.bind_host, cfg.rasa_port, cfg.action_port, cfg.gateway_port) == ("127.0.0.1", 5005, 5055, 8080)
    assert cfg.action_server_url == "http://127.0.0.1:5055/webhook"


def test_every_port_can_be_overridden():
    cfg = settings.load({"RASA_PORT": "6005", "ACTION_PORT": "6055", "GATEWAY_PORT": "9090"})
    assert (cfg.rasa_port, cfg.action_port, cfg.gateway_port) == (6005, 6055, 9090)
    assert cfg.action_server_url.endswith(":6055/webhook")


@pytest.mark.parametrize("bad", ["abc", "0", "70000"])
def test_bad_ports_are_refused_clearly(bad):
    with pytest.raises(SystemExit, match="RASA_PORT"):
        settings.load({"RASA_PORT": bad})


def test_child_processes_get_what_endpoints_yml_needs(tmp_path):
    cfg = settings.load({"VAR_DIR": str(tmp_path)})
    env = cfg.child_env({"PATH": "/bin"})
    assert env["ACTION_SERVER_URL"] == cfg.action_server_url
    assert env["TRACKER_DB"] == str(tmp_path / "tracker.db")
    assert env["SANIC_HOST"] == "127.0.0.1"


def test_token_is_generated_once_and_kept_private(tmp_path):
    cfg = settings.load({"VAR_DIR": str(tmp_path)})
    token = settings.rasa_token(cfg)
    assert len(token) >= 32 and settings.rasa_token(cfg) == token
    assert (Path(tmp_path) / "secrets" / "rasa_token").stat().st_mode & 0o077 == 0
    assert settings.rasa_token(settings.load({"VAR_DIR": str(tmp_path), "RASA_TOKEN": "x"})) == "x"


def test_tracker_db_may_be_a_file_or_a_database_url():
    from pathlib import Path

    assert settings.load({"TRACKER_DB": "var/t.db"}).tracker_db == Path("var/t.db")
    url = "postgresql+psycopg2://u:p@127.0.0.1:55432/rasa"
    assert settings.load({"TRACKER_DB": url}).tracker_db == url


def test_abuse_limits_have_safe_defaults_and_can_be_set_or_switched_off():
    cfg = settings.load({})
    assert (cfg.socket_buffer_bytes, cfg.new_chats_per_address, cfg.queue_places_per_address) == \
        (32 * 1024, (10, 600), 1)
    assert cfg.resume_idle_minutes == 60
    assert cfg.session_idle_minutes == 30  # ASVS level 2: an adviser's session ends after 30 idle minutes
    assert cfg.messages_per_address == (24, 20)  # three chats' worth at the per-chat rate
    assert settings.load({"MESSAGES_PER_ADDRESS": "0"}).messages_per_address == (0, 0)
    assert settings.load({"RESUME_IDLE_MINUTES": "15"}).resume_idle_minutes == 15
    cfg = settings.load({"SOCKET_BUFFER_BYTES": "65536", "NEW_CHATS_PER_ADDRESS": "3/60",
                         "QUEUE_PLACES_PER_ADDRESS": "2"})
    assert (cfg.socket_buffer_bytes, cfg.new_chats_per_address, cfg.queue_places_per_address) == (65536, (3, 60), 2)
    cfg = settings.load({"NEW_CHATS_PER_ADDRESS": "0", "QUEUE_PLACES_PER_ADDRESS": "0"})
    assert (cfg.new_chats_per_address, cfg.queue_places_per_address) == ((0, 0), 0)


@pytest.mark.parametrize("name, bad", [("SOCKET_BUFFER_BYTES", "1024"), ("NEW_CHATS_PER_ADDRESS", "ten"),
                                       ("NEW_CHATS_PER_ADDRESS", "0/600"), ("QUEUE_PLACES_PER_ADDRESS", "-1"),
                                       ("RESUME_IDLE_MINUTES", "0"), ("MESSAGES_PER_ADDRESS", "24")])
def test_bad_abuse_limits_are_refused_clearly(name, bad):
    with pytest.raises(SystemExit, match=name):
        settings.load({name: bad})

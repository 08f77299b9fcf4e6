"""A promoted model goes to every Rasa server of a scaled deployment (RASA_SERVER_URLS), through
bot.retrain.model_server.ModelFleet; here against small HTTP servers on loopback that record requests."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import settings as settings_mod
from bot.retrain.model_server import ModelFleet, ModelServerError


class FakeRasa:
    def __init__(self, broken: bool = False):
        self.loaded = []
        self.broken = broken
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                self._answer(500 if fake.broken else 200, {"model_file": fake.loaded[-1] if fake.loaded else "a"})

            def do_PUT(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.broken:
                    return self._answer(500, {"message": "cannot load"})
                fake.loaded.append(body["model_file"])
                self._answer(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    made = [FakeRasa(), FakeRasa(), FakeRasa(broken=True)]
    yield made
    for server in made:
        server.close()


def test_a_model_is_loaded_into_every_server(servers, tmp_path):
    one, two, _ = servers
    ModelFleet([one.url, two.url], "token").load(tmp_path / "new.tar.gz")
    assert one.loaded == two.loaded == [str(tmp_path / "new.tar.gz")]


def test_a_failing_server_is_named_after_the_others_were_loaded(servers, tmp_path):
    one, two, broken = servers
    with pytest.raises(ModelServerError, match=r"loaded by 2 of 3 Rasa servers; failed: " + broken.url):
        ModelFleet([one.url, broken.url, two.url], "token").load(tmp_path / "new.tar.gz")
    assert one.loaded == two.loaded == [str(tmp_path / "new.tar.gz")]


def test_status_comes_from_the_first_server_that_answers(servers):
    one, _, broken = servers
    assert ModelFleet([broken.url, one.url], "token").status() == {"model_file": "a"}


def test_rasa_server_urls_default_to_rasa_url():
    assert settings_mod.load({"RASA_URL": "http://lb:5000"}).rasa_servers == ("http://lb:5000",)
    listed = settings_mod.load({"RASA_URL": "http://lb:5000", "RASA_SERVER_URLS": "http://a:1/, http://b:2"})
    assert listed.rasa_servers == ("http://a:1", "http://b:2")

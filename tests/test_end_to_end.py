"""End to end: the real action server and Rasa server on loopback, spoken to over HTTP.

Uses the newest trained model in models/ (`make test` trains first) and free ports, so it can run
beside `make run` (the `stack` fixture in tests/conftest.py).
"""
import json
import urllib.request
from pathlib import Path

import pytest

from tests.stack import TOKEN


pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def servers(stack):
    return stack.cfg


def post(url, body, token=None):
    if token:
        url += f"?token={token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def say(cfg, sender, message):
    return post(f"{cfg.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message})


def test_action_server_health(servers):
    with urllib.request.urlopen(f"{servers.action_url}/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


def test_servers_listen_on_loopback_only(servers):
    assert servers.bind_host == "127.0.0.1"


def test_model_parse_returns_topic_intents(servers):
    parsed = post(f"{servers.rasa_url}/model/parse", {"text": "the social worker wants me to sign a section 20"}, TOKEN)
    assert parsed["intent"]["name"] == "section_20"
    parsed = post(f"{servers.rasa_url}/model/parse", {"text": "what is a special guardianship order"}, TOKEN)
    assert parsed["intent"]["name"] == "special_guardianship"


def test_rest_conversation_answers_with_next_step(servers):
    replies = say(servers, "e2e-topic", "what is a special guardianship order")
    texts = [r.get("text", "") for r in replies]
    assert "special guardian" in texts[0].lower()
    assert any("0808 801 0366" in t for t in texts)


def test_emergency_wins_in_the_middle_of_a_flow(servers):
    say(servers, "e2e-crisis", "social services are taking me to court")
    replies = say(servers, "e2e-crisis", "hes here now hitting her pls help")
    assert "999" in replies[0]["text"]


def test_financial_support_flow_asks_then_tailors(servers):
    first = say(servers, "e2e-money", "can i get money for looking after my grandson")
    assert any(r.get("buttons") for r in first)
    second = say(servers, "e2e-money", '/inform{"kinship_arrangement":"sgo"}')
    assert "special guardian" in " ".join(r.get("text", "") for r in second).lower()


def test_odd_input_gets_an_answer_not_a_crash(servers):
    for message in ["", "<script>alert(1)</script>", "x" * 20000, "\u202e\u200b", "asdfghjkl qwerty"]:
        replies = say(servers, "e2e-odd", message)
        assert isinstance(replies, list)
    assert say(servers, "e2e-odd", "hello")  # still answering afterwards


def test_council_is_found_remembered_and_used(servers):
    first = say(servers, "e2e-council", "what does my council offer kinship carers")
    assert any("which town" in r.get("text", "").lower() for r in first)
    second = say(servers, "e2e-council", "we live in Harrogate")
    assert "North Yorkshire Council" in " ".join(r.get("text", "") for r in second)
    third = say(servers, "e2e-council", "how do i make a complaint about childrens services")
    third = third + say(servers, "e2e-council", '/inform{"complaint_about":"council"}')
    assert "North Yorkshire Council" in " ".join(r.get("text", "") for r in third)


def test_welsh_place_gets_the_england_only_explanation(servers):
    replies = say(servers, "e2e-wales", "I live in Swansea")
    assert "England only" in " ".join(r.get("text", "") for r in replies)

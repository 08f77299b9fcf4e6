"""End to end through the gateway with the real Rasa server and action server (tests/stack.py):
a family over socket.io, an adviser over the console API, one Rasa tracker for the whole chat."""
import json
import urllib.request

import pytest

from tests.gateway_harness import Adviser, Family, wait_until
from tests.stack import TOKEN

pytestmark = pytest.mark.integration


def tracker_events(stack, sender):
    url = f"{stack.cfg.rasa_url}/conversations/{sender}/tracker?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


async def test_family_gets_a_real_answer_through_the_gateway(stack):
    family = await Family(stack.gateway_url).connect()
    try:
        await family.say("what is a special guardianship order?", client_id="e2e-1")
        await wait_until(lambda: {"typing": False} in family.of("bot_typing"), timeout=30)
        assert "special guardian" in family.texts()[0].lower()
        assert any(m["metadata"]["message"]["ask_feedback"] for m in family.of("bot_uttered"))
    finally:
        await family.close()


async def test_crisis_message_gets_emergency_numbers_first(stack):
    family = await Family(stack.gateway_url).connect()
    try:
        await family.say("my partner is hitting my son right now")
        await wait_until(lambda: family.texts(), timeout=30)
        assert "999" in family.texts()[0]
    finally:
        await family.close()


async def test_in_hours_takeover_with_one_tracker_for_bot_and_adviser(stack):
    sam = Adviser(stack.gateway_url)
    family = Family(stack.gateway_url)
    try:
        await sam.login("sam")
        await sam.connect_socket()
        assert (await sam.post("/console/api/availability", {"available": True}))[0] == 200
        await family.connect()
        await family.say("what is section 20?")
        await wait_until(lambda: family.texts(), timeout=30)
        await family.say("can I talk to a real person please")
        await wait_until(lambda: family.of("handoff"), timeout=30)
        assert family.of("handoff")[-1]["state"] == "queued"
        await wait_until(lambda: any(q["queue"] for q in sam.of("queue")))
        item = sam.of("queue")[-1]["queue"][0]
        assert item["id"] == family.session_id and item["topic"] == "section_20"

        assert (await sam.post(f"/console/api/conversations/{family.session_id}/takeover"))[0] == 200
        await sam.post(f"/console/api/conversations/{family.session_id}/messages", {"text": "Hi, I'm Sam."})
        await wait_until(lambda: "Hi, I'm Sam." in family.texts())
        await family.say("thank you, the social worker wants me to sign something")
        await wait_until(lambda: any("sign something" in m["message"]["text"] for m in sam.of("message")))
        bot_texts_before = len([t for t in family.texts() if t])

        events = tracker_events(stack, family.session_id)
        kinds = [e["event"] for e in events]
        assert "pause" in kinds
        adviser = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("adviser") == "sam"]
        assert adviser and adviser[0]["text"] == "Hi, I'm Sam."
        users = [e["text"] for e in events if e["event"] == "user"]
        assert "thank you, the social worker wants me to sign something" in users

        assert (await sam.post(f"/console/api/conversations/{family.session_id}/resume"))[0] == 200
        await wait_until(lambda: family.of("handoff")[-1]["state"] == "bot")
        await family.say("what is legal aid?")
        await wait_until(lambda: any("legal aid" in t.lower() for t in family.texts()[bot_texts_before:]),
                         timeout=30)
        assert "resume" in [e["event"] for e in tracker_events(stack, family.session_id)]
    finally:
        await family.close()
        await sam.post("/console/api/availability", {"available": False})
        await sam.close()

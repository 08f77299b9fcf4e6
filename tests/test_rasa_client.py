"""Reading Rasa's tracker to deliver each family message exactly once (bot/gateway/rasa_client.py)."""
from bot.gateway.rasa_client import applied_events, earlier_attempt


def user(text, mid):
    return {"event": "user", "text": text, "metadata": {"client_message_id": mid}}


def test_a_rewind_undoes_the_last_user_message_and_what_followed():
    events = [user("a", "m1"), {"event": "bot", "text": "A"}, user("b", "m2"), {"event": "action"},
              {"event": "rewind"}, user("b", "m2"), {"event": "bot", "text": "B"}]
    assert [e.get("text") for e in applied_events(events) if e["event"] in ("user", "bot")] == ["a", "A", "b", "B"]


def test_not_in_the_tracker():
    assert earlier_attempt([user("a", "m1")], "m2") is None


def test_recorded_with_its_answers_in_the_rest_shape():
    events = [user("a", "m1"),
              {"event": "bot", "text": "A", "data": {"buttons": [{"title": "More", "payload": "/more"}]}},
              {"event": "bot", "text": None, "data": {"custom": {"ask_feedback": True}}},
              {"event": "bot", "text": "from Sam", "metadata": {"source": "adviser"}},
              user("b", "m2"), {"event": "bot", "text": "B"}]
    assert earlier_attempt(events, "m1") == [{"text": "A", "buttons": [{"title": "More", "payload": "/more"}]},
                                             {"custom": {"ask_feedback": True}}]


def test_recorded_but_not_answered():
    assert earlier_attempt([user("a", "m1"), {"event": "action", "name": "action_listen"}], "m1") == []


def test_a_rewound_attempt_does_not_count():
    assert earlier_attempt([user("a", "m1"), {"event": "rewind"}], "m1") is None


async def test_pause_and_resume_are_tried_again_before_giving_up(monkeypatch):
    from bot.gateway.rasa_client import RasaClient, RasaUnavailable

    client, calls = RasaClient("http://127.0.0.1:1", "t"), []

    async def flaky(sender, events):
        calls.append(events[0]["event"])
        if len(calls) < 3:
            raise RasaUnavailable("HTTP 502")

    monkeypatch.setattr(client, "append_events", flaky)
    await client._append_with_retries("s1", {"event": "resume"}, delays=(0, 0, 0))
    assert calls == ["resume"] * 3
    calls.clear()

    async def down(sender, events):
        calls.append(events[0]["event"])
        raise RasaUnavailable("HTTP 502")

    monkeypatch.setattr(client, "append_events", down)
    try:
        await client._append_with_retries("s1", {"event": "pause"}, delays=(0, 0))
    except RasaUnavailable:
        pass
    else:
        raise AssertionError("a Rasa that stays down is reported")
    assert calls == ["pause"] * 3

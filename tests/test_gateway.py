"""The gateway over real sockets on loopback, with a scripted Rasa stand-in and an injected clock."""
from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from bot.gateway.socketio_client import socketio

from tests.gateway_harness import IN_HOURS, OUT_OF_HOURS, Harness, wait_until


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


async def test_family_gets_answers_in_rasas_socketio_shape(h):
    family = await h.family()
    await family.say("what is section 20", client_id="c1")
    await wait_until(lambda: family.texts())
    answer = family.of("bot_uttered")[0]
    assert answer["text"] == "Section 20 is voluntary accommodation."
    assert answer["quick_replies"] == [{"content_type": "text", "title": "Tell me more", "payload": "/more"}]
    message = answer["metadata"]["message"]
    assert message["sender"] == "bot" and message["ask_feedback"] is True
    echo = family.of("user_echo")[0]
    assert echo["client_id"] == "c1" and echo["message"]["text"] == "what is section 20"
    assert h.rasa.received == ["what is section 20"]


async def test_only_ids_the_gateway_issued_are_resumed(h):
    issued = (await h.family()).session_id
    assert len(issued) == 32 and (await h.family(issued)).session_id == issued
    invented = "a" * 32  # well-formed, but never issued: a client cannot choose its conversation
    assert (await h.family(invented)).session_id not in (invented, issued)
    for weak in ("1", "abc", "../../etc", None):
        family = await h.family(weak)
        assert family.session_id != weak and len(family.session_id) >= 22


async def test_reconnect_resumes_with_nothing_lost_or_duplicated(h):
    family = await h.family()
    await family.say("hello there", client_id="c1")
    await wait_until(lambda: family.texts())
    await family.close()
    again = await h.family(family.session_id)
    await again.say("hello there", client_id="c1")  # the widget resends what it was not sure of
    await again.sio.emit("history_request", {"session_id": again.session_id, "after_seq": 0})
    await wait_until(lambda: again.of("history"))
    history = again.of("history")[0]["messages"]
    assert [m["text"] for m in history] == ["hello there", "You said: hello there"]
    assert [m["seq"] for m in history] == [1, 2]
    assert h.rasa.received == ["hello there"]
    assert again.of("user_echo")[0]["message"]["id"] == history[0]["id"]


@pytest.mark.parametrize("bad", ["", "   ", 42, {"x": 1}, ["a"], "\u200b\u202e", "x" * 2001])
async def test_bad_messages_get_a_clear_answer_and_never_reach_rasa(h, bad):
    family = await h.family()
    await family.say(bad)
    await wait_until(lambda: family.texts())
    assert ("empty" in family.texts()[0]) or ("longer than" in family.texts()[0])
    assert h.rasa.received == []


async def test_a_user_uttered_without_a_message_is_ignored(h):
    family = await h.family()
    await family.sio.emit("user_uttered", {"session_id": family.session_id})
    await family.say("hello")
    await wait_until(lambda: family.texts())
    assert family.texts() == ["You said: hello"] and h.rasa.received == ["hello"]


async def test_control_and_invisible_characters_are_removed(h):
    family = await h.family()
    await family.say("hel\x00lo\u200b \u202ethere")
    await wait_until(lambda: family.texts())
    assert h.rasa.received == ["hello there"]


async def test_flooding_is_slowed_politely(h):
    family = await h.family()
    for n in range(10):
        await family.say(f"message {n}")
    await wait_until(lambda: len(family.texts()) >= 10)
    assert sum("faster than I can read" in t for t in family.texts()) == 2
    assert len(h.rasa.received) == 8
    h.clock.advance(21)
    await family.say("after a pause")
    await wait_until(lambda: "after a pause" in h.rasa.received)


async def test_rasa_down_keeps_the_message_and_answers_it_once_rasa_is_back(h):
    family = await h.family()
    h.rasa.down = True
    await family.say("are you there", client_id="c1")
    await family.say("hello?", client_id="c2")
    await wait_until(lambda: len(family.texts()) >= 1)
    assert "0808 801 0366" in family.texts()[0] and "kept your message" in family.texts()[0]
    assert sum("technical problem" in t for t in family.texts()) == 1  # said once, not per message
    h.rasa.down = False
    await h.gateway.tick()
    await wait_until(lambda: "You said: hello?" in family.texts())
    assert h.rasa.received == ["are you there", "hello?"]
    await h.gateway.tick()
    assert h.rasa.received == ["are you there", "hello?"]


async def test_action_server_down_keeps_the_message_too(h):
    family = await h.family()
    h.rasa.actions_down = True
    await family.say("what is section 20", client_id="a1")
    await wait_until(lambda: family.texts())
    assert "technical problem" in family.texts()[0]
    h.rasa.actions_down = False
    await h.gateway.tick()
    await wait_until(lambda: "Section 20 is voluntary accommodation." in family.texts())


async def test_full_takeover_hand_back_and_one_transcript(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("I need to talk to an adviser")
    await wait_until(lambda: family.of("handoff"))
    assert family.of("handoff")[-1] == {"state": "queued", "position": 1}
    # the place itself is in the handoff event (the widget's banner); the chat says only that they wait
    assert any("in the queue for an adviser" in t for t in family.texts())
    assert h.rasa.paused[family.session_id] is True
    await wait_until(lambda: sam.of("queue") and sam.of("queue")[-1]["queue"])
    item = sam.of("queue")[-1]["queue"][0]
    assert (item["topic"], item["council"], item["stage"], item["state"]) == ("section_20", "Leeds City Council",
                                                                             "court", "queued")
    assert "Leeds City Council" in item["summary"]

    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
    assert status == 200
    await wait_until(lambda: family.of("handoff")[-1].get("state") == "live")
    assert family.of("handoff")[-1]["adviser"] == "Sam"

    alex = await h.adviser("alex")
    status, body = await alex.post(f"/console/api/conversations/{family.session_id}/takeover")
    assert status == 409 and "Sam already has this chat" in body["error"]
    status, body = await alex.post(f"/console/api/conversations/{family.session_id}/messages", {"text": "hi"})
    assert status == 409

    status, body = await sam.post(f"/console/api/conversations/{family.session_id}/messages",
                                  {"text": "Hello, I'm Sam. How can I help?"})
    assert status == 200 and body["message"]["sender"] == "adviser"
    await wait_until(lambda: "Hello, I'm Sam. How can I help?" in family.texts())
    said = family.of("bot_uttered")[-1]["metadata"]["message"]
    assert said["sender"] == "adviser" and said["adviser"] == "Sam"

    await family.say("My daughter's children were taken yesterday")
    await wait_until(lambda: any(m["message"]["text"].startswith("My daughter") for m in sam.of("message")))
    assert not any("You said" in t for t in family.texts())  # Rasa is paused: no bot answer

    events = h.rasa.events[family.session_id]
    assert {"event": "pause"} in events
    adviser_events = [e for e in events if e["event"] == "bot" and "metadata" in e]
    assert adviser_events[0]["metadata"] == {"source": "adviser", "adviser": "sam"}
    assert adviser_events[0]["text"] == "Hello, I'm Sam. How can I help?"

    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/resume")
    assert status == 200
    assert h.rasa.paused[family.session_id] is False
    await wait_until(lambda: family.of("handoff")[-1] == {"state": "bot"})
    await family.say("thanks")
    await wait_until(lambda: "You said: thanks" in family.texts())

    status, transcript = await sam.get(f"/console/api/conversations/{family.session_id}")
    senders = [m["sender"] for m in transcript["messages"]]
    assert senders[:2] == ["family", "bot"] and "adviser" in senders and senders[-1] == "bot"


async def test_end_chat_with_a_closing_message(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("/speak_to_adviser")
    await wait_until(lambda: family.of("handoff"))
    await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/end", {"text": "Take care."})
    assert status == 200
    await wait_until(lambda: family.of("handoff")[-1] == {"state": "ended"})
    assert "Take care." in family.texts()
    assert h.gateway.store.conversation(family.session_id).state == "bot"


async def test_emergency_while_waiting_is_flagged_moved_up_and_signposted(h):
    sam = await h.adviser("sam")
    first = await h.family()
    await first.say("can I speak to an adviser")
    second = await h.family()
    await second.say("adviser please")
    await wait_until(lambda: second.of("handoff"))
    assert second.of("handoff")[-1]["position"] == 2
    await second.say("he's hitting her right now and I'm scared he'll kill her")
    await wait_until(lambda: sam.of("alert"))
    assert sam.of("alert")[-1] == {"conversation_id": second.session_id, "reason": "emergency",
                                   "label": "Chat " + second.session_id[:4].upper()}
    assert any("999" in t for t in second.texts())
    await wait_until(lambda: second.of("handoff")[-1].get("position") == 1)
    queue = sam.of("queue")[-1]["queue"]
    assert queue[0]["id"] == second.session_id and queue[0]["urgent"] is True


async def test_the_place_in_the_queue_has_one_source_that_moves_with_the_queue(h):
    sam = await h.adviser("sam")
    first = await h.family()
    await first.say("can I speak to an adviser")
    second = await h.family()
    await second.say("adviser please")
    await wait_until(lambda: second.of("handoff") and second.of("handoff")[-1].get("position") == 2)
    # The chat itself never states a number that could disagree with the banner later.
    queue_lines = [t for t in second.texts() if "queue" in t]
    assert queue_lines and not any(ch.isdigit() for t in queue_lines for ch in t)
    status, _ = await sam.post(f"/console/api/conversations/{first.session_id}/takeover")
    assert status == 200
    await wait_until(lambda: second.of("handoff")[-1].get("position") == 1)


async def test_out_of_hours_nobody_is_queued(h):
    h.clock.now = OUT_OF_HOURS
    await h.adviser("sam")
    family = await h.family()
    await family.say("adviser")
    # the answer may come in more than one message: wait for the one that says when, not the first
    await wait_until(lambda: any("Webchat with an adviser is next open on Monday 7 December, 1pm" in t
                                 for t in family.texts()))
    await h.gateway.tick()
    assert not family.of("handoff")
    assert h.gateway.store.conversation(family.session_id).state == "bot"


async def test_last_adviser_going_offline_tells_the_queue(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser")
    await wait_until(lambda: family.of("handoff"))
    status, _ = await sam.post("/console/api/availability", {"available": False})
    assert status == 200
    await wait_until(lambda: family.of("handoff")[-1] == {"state": "bot"})
    assert any("no adviser is free to join you after all" in t for t in family.texts())
    assert h.rasa.paused[family.session_id] is False


async def test_session_ending_with_families_queued_tells_them(h):
    await h.adviser("sam")
    family = await h.family()
    await family.say("adviser")
    await wait_until(lambda: family.of("handoff"))
    h.clock.advance(2 * 3600)  # 13:30 -> 15:30: the webchat session is over
    assert await h.gateway.conversations.sweep() == 1
    await wait_until(lambda: any("webchat closed before an adviser could join you" in t for t in family.texts()))


async def test_feedback_is_recorded_only_for_the_familys_own_messages(h):
    family = await h.family()
    other = await h.family()
    await family.say("section 20")
    await wait_until(lambda: family.texts())
    message_id = family.of("bot_uttered")[0]["metadata"]["message"]["id"]
    await other.sio.emit("feedback", {"message_id": message_id, "helpful": False})
    await family.sio.emit("feedback", {"message_id": message_id, "helpful": True})
    await wait_until(lambda: h.gateway.store.feedback_for(family.session_id))
    assert h.gateway.store.feedback_for(family.session_id) == {message_id: True}


async def test_console_needs_login_csrf_and_the_right_role(h):
    async with aiohttp.ClientSession() as anonymous:
        response = await anonymous.get(h.base + "/console/api/state")
        assert response.status == 401
        response = await anonymous.get(h.base + "/console", allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == "/console/login"
    sam = await h.adviser("sam", available=False, socket=False)
    status, _ = await sam.post("/console/api/availability", {"available": True}, csrf="wrong")
    assert status == 403
    status, body = await sam.post("/console/api/canned", {"title": "x", "text": "y"})
    assert status == 403 and body["error"] == "Only staff can do that."
    kim = await h.adviser("kim", available=False, socket=False)
    status, body = await kim.post("/console/api/canned", {"title": "Bye", "text": "Goodbye from {adviser}"})
    assert status == 200
    status, state = await sam.get("/console/api/state")
    assert {"title": "Bye", "text": "Goodbye from Sam"} in [{k: c[k] for k in ("title", "text")}
                                                           for c in state["canned"]]


async def test_console_socket_refuses_strangers_and_other_sites(h):
    stranger = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.connect(h.base, transports=["websocket"], namespaces=["/console"])
    sam = await h.adviser("sam", available=False, socket=False)
    other_site = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await other_site.connect(h.base, transports=["websocket"], namespaces=["/console"],
                                 headers={"Cookie": sam.cookie_header(), "Origin": "https://evil.example"})


async def test_failed_logins_are_throttled(h):
    adviser = await h.adviser("sam", available=False, socket=False)
    await adviser.close()
    from tests.gateway_harness import Adviser
    attacker = Adviser(h.base)
    h.advisers.append(attacker)
    for _ in range(5):
        await attacker.login("sam", "wrong password")
    response = await attacker.login("sam")  # even the right password now waits
    assert "Too many failed attempts" in await response.text()
    h.clock.advance(901)
    response = await attacker.login("sam")
    assert response.url.path == "/console"


async def test_login_starts_a_new_session(h):
    adviser = await h.adviser("sam", available=False, socket=False)
    before = adviser.cookie_header()
    await adviser.login("sam")
    assert adviser.cookie_header() != before


async def test_pages_carry_a_content_security_policy(h):
    async with aiohttp.ClientSession() as client:
        for path in ("/", "/console/login", "/health", "/nope"):
            response = await client.get(h.base + path)
            assert "script-src 'self'" in response.headers["Content-Security-Policy"], path


async def test_internal_availability_needs_the_token(h):
    await h.adviser("sam")
    async with aiohttp.ClientSession() as client:
        response = await client.get(h.base + "/internal/availability")
        assert response.status == 403
        response = await client.get(h.base + "/internal/availability", headers={"X-Internal-Token": "internal-test"})
        assert (await response.json()) == {"advisers_available": 1}


async def test_a_button_click_is_shown_by_its_title_and_sent_as_its_payload(h):
    family = await h.family()
    await family.say("section 20")
    await wait_until(lambda: family.texts())
    await family.say("/more", client_id="b1")
    await wait_until(lambda: "You said: /more" in family.texts())
    echo = [e for e in family.of("user_echo") if e["client_id"] == "b1"][0]["message"]
    assert echo["text"] == "Tell me more" and echo["client_id"] == "b1"
    assert h.rasa.received[-1] == "/more"


async def test_a_refusal_names_the_refused_message(h):
    family = await h.family()
    await family.say("", client_id="r1")
    await wait_until(lambda: family.of("bot_uttered"))
    assert family.of("bot_uttered")[0]["metadata"]["rejected_client_id"] == "r1"


async def test_store_outage_closes_the_family_socket_and_the_resent_message_is_answered_once(h, monkeypatch):
    """PostgreSQL restarting: the gateway cannot store the message, so it closes the socket (the widget
    shows its reconnecting banner with the advice line and keeps the message); the resend after the
    reconnect is stored and answered once. The console API answers 503 with a sentence meanwhile."""
    import sqlalchemy as sa

    family = await h.family()
    sam = await h.adviser("sam")
    real_add = h.gateway.store.add_message

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, ConnectionRefusedError("server closed the connection"))

    monkeypatch.setattr(h.gateway.store, "add_message", database_down)
    monkeypatch.setattr(h.gateway.store, "waiting", database_down)
    await family.say("are you there", client_id="c-1")
    await wait_until(lambda: not family.sio.connected)
    status, body = await sam.get("/console/api/state")
    assert status == 503 and "briefly unavailable" in body["error"]

    monkeypatch.setattr(h.gateway.store, "add_message", real_add)
    monkeypatch.undo()
    back = await h.family(family.session_id)  # the widget reconnects to the same conversation...
    await back.say("are you there", client_id="c-1")  # ...and resends its outbox
    await back.say("are you there", client_id="c-1")
    await wait_until(lambda: "You said: are you there" in back.texts())
    assert h.rasa.received.count("are you there") == 1


async def test_rasa_answering_nothing_because_its_stores_are_down_is_retried_not_lost(h):
    """Rasa's REST channel answers [] with HTTP 200 when its tracker or lock store is unreachable."""
    family = await h.family()
    h.rasa.stores_down = True
    await family.say("what is section 20", client_id="s1")
    await wait_until(lambda: any("technical problem" in t for t in family.texts()))
    await h.gateway.tick()  # still down: the retry reads the tracker, which fails too
    h.rasa.stores_down = False
    await h.gateway.tick()
    await wait_until(lambda: "Section 20 is voluntary accommodation." in family.texts())
    assert h.rasa.said(family.session_id) == ["what is section 20"]


async def test_a_retry_after_rasa_recorded_the_message_without_answering_sends_it_once(h):
    """The action server was down: Rasa recorded the message but could not answer. The retry rewinds
    it and sends it again, so the tracker holds it once, answered."""
    family = await h.family()
    h.rasa.actions_down = True
    await family.say("what is section 20", client_id="a1")
    await wait_until(lambda: any("technical problem" in t for t in family.texts()))
    await h.gateway.tick()
    h.rasa.actions_down = False
    await h.gateway.tick()
    await wait_until(lambda: "Section 20 is voluntary accommodation." in family.texts())
    assert h.rasa.said(family.session_id) == ["what is section 20"]
    assert h.rasa.received.count("what is section 20") == 3  # first try, the retry while down, the last


async def test_an_answer_lost_on_the_way_back_is_taken_from_the_tracker_not_asked_twice(h):
    family = await h.family()
    h.rasa.answer_lost = True
    await family.say("what is section 20", client_id="l1")
    await wait_until(lambda: any("technical problem" in t for t in family.texts()))
    h.rasa.answer_lost = False
    await h.gateway.tick()
    await wait_until(lambda: "Section 20 is voluntary accommodation." in family.texts())
    assert h.rasa.received == ["what is section 20"]  # never sent twice
    answer = [d for d in family.of("bot_uttered") if d["text"] == "Section 20 is voluntary accommodation."][0]
    assert answer["quick_replies"][0]["title"] == "Tell me more"
    assert answer["metadata"]["message"]["ask_feedback"] is True


async def test_an_adviser_whose_console_is_gone_is_marked_away_after_the_grace(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser")
    await wait_until(lambda: family.of("handoff"))
    await sam.sio.disconnect()  # the console tab closed (or its gateway died)
    await wait_until(lambda: h.gateway.store.open_sockets("sam", h.clock() - timedelta(seconds=30)) == 0)
    await h.gateway.tick()
    h.clock.advance(60)  # a reload is quicker than this: still available
    await h.gateway.tick()
    assert h.gateway.store.user("sam").available is True
    h.clock.advance(31)  # 91 s without a console anywhere
    await h.gateway.tick()
    assert h.gateway.store.user("sam").available is False
    await wait_until(lambda: family.of("handoff")[-1] == {"state": "bot"})
    assert any("no adviser is free to join you after all" in t for t in family.texts())


async def test_a_console_open_on_another_gateway_keeps_the_adviser_available(h):
    sam = await h.adviser("sam")
    now = h.clock()
    h.gateway.store.socket_opened("elsewhere", "sam", "gw2/abcd", now)  # sam's second tab, on gateway 2
    await sam.sio.disconnect()
    for _ in range(4):
        h.clock.advance(30)
        h.gateway.store.sockets_seen("gw2/abcd", h.clock())  # gateway 2 is alive and vouches for it
        await h.gateway.tick()
    assert h.gateway.store.user("sam").available is True


async def test_while_waiting_the_safety_net_also_asks_rasas_nlu(h):
    """Rasa is paused, so the gateway asks Rasa's NLU (rules and crisis model) about each family message:
    a crisis the pattern rules do not know still gets the emergency numbers and the alert."""
    quiet_crisis = "i have given my guitar to my brother, he will look after it better than me"
    h.rasa.model_crises.append(quiet_crisis)
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    await family.say("thanks, I'll wait")
    await family.say(quiet_crisis)
    await wait_until(lambda: sam.of("alert"))
    assert sam.of("alert")[-1]["reason"] == "emergency"
    assert any("999" in t for t in family.texts())
    assert h.rasa.parsed == ["thanks, I'll wait", quiet_crisis]


async def test_while_waiting_with_rasa_down_the_rules_still_flag_a_crisis(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    h.rasa.down = True
    await family.say("he's got a knife and he's hitting her right now")
    await wait_until(lambda: sam.of("alert"))
    assert any("999" in t for t in family.texts())


# -- security review (issue 16) ------------------------------------------------------------------------
# 1. "/..." reaches Rasa as an intent only if it is a button the bot offered in that conversation.
async def test_a_slash_message_the_bot_did_not_offer_reaches_rasa_as_plain_words(h):
    family = await h.family()
    for typed in ('/inform{"council": "Made-up Council", "proceedings_stage": "court"}', "/restart",
                  "  / /emergency_risk@0.99"):
        await family.say(typed)
    await wait_until(lambda: len(h.rasa.received) == 3)
    assert h.rasa.received == ['inform{"council": "Made-up Council", "proceedings_stage": "court"}', "restart",
                               "emergency_risk@0.99"]
    assert not any(text.lstrip().startswith("/") for text in h.rasa.received)
    # the family's own words are kept as typed, for the family and the adviser
    echoed = [e["message"]["text"] for e in family.of("user_echo")]
    assert echoed[:2] == ['/inform{"council": "Made-up Council", "proceedings_stage": "court"}', "/restart"]


async def test_a_button_offered_in_one_chat_is_not_an_intent_in_another(h):
    offered = await h.family()
    await offered.say("section 20")
    await wait_until(lambda: offered.texts())
    other = await h.family()
    await other.say("/more", client_id="o1")
    await wait_until(lambda: "You said: more" in other.texts())
    await offered.say("/more", client_id="b1")  # the chat that was offered it: sent as the payload
    await wait_until(lambda: "You said: /more" in offered.texts())
    assert h.rasa.received[-2:] == ["more", "/more"]


async def test_rasa_webchats_opening_payload_is_still_an_intent(h):
    family = await h.family()
    await family.say("/greet")
    await wait_until(lambda: family.texts())
    assert h.rasa.received == ["/greet"]


async def test_a_lone_slash_is_answered_as_empty_and_not_sent(h):
    family = await h.family()
    await family.say(" / / ", client_id="s1")
    await wait_until(lambda: family.texts())
    assert "empty" in family.texts()[0] and h.rasa.received == []


async def test_while_waiting_a_slash_message_still_goes_through_the_safety_net(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    await family.say("/he's hitting her right now and I'm scared he'll kill her")
    await wait_until(lambda: sam.of("alert"))
    assert sam.of("alert")[-1]["conversation_id"] == family.session_id
    assert any("999" in t for t in family.texts())
    await family.say("/i have given my guitar away")
    await wait_until(lambda: "i have given my guitar away" in h.rasa.parsed)  # Rasa's NLU asked, without "/"


# 3. Limits per client address, shared by every gateway through the store.
async def test_new_chats_from_one_address_are_limited_with_a_clear_answer(h):
    address = "203.0.113.77"
    first = [await h.family(address=address) for _ in range(10)]
    refused = await h.family(address=address, confirmed=False)
    assert refused.session_id is None  # no session_confirm
    [answer] = refused.of("bot_uttered")
    assert "0808 801 0366" in answer["text"] and "999" in answer["text"]
    assert answer["metadata"]["message"]["sender"] == "system"
    await refused.say("hello?", client_id="r1")  # a message without a session: refused the same way
    await wait_until(lambda: len(refused.of("bot_uttered")) == 2)
    assert refused.of("bot_uttered")[1]["metadata"]["rejected_client_id"] == "r1"
    assert refused.session_id is None and h.rasa.received == []
    assert (await h.family(address="203.0.113.78")).session_id  # another address is not affected
    back = await h.family(first[0].session_id, address=address)  # resuming a chat is not a new one
    assert back.session_id == first[0].session_id
    h.clock.advance(601)  # ten minutes later
    assert (await h.family(address=address)).session_id
    assert any(entry["action"] == "new_chat_refused" for entry in h.gateway.store.audit_log())


async def test_new_chat_limit_is_configurable_and_can_be_switched_off(tmp_path):
    h = await Harness(tmp_path).start(NEW_CHATS_PER_ADDRESS="2/60")
    try:
        for _ in range(2):
            assert (await h.family(address="203.0.113.5")).session_id
        assert (await h.family(address="203.0.113.5", confirmed=False)).session_id is None
    finally:
        await h.stop()
    h = await Harness(tmp_path / "off").start(NEW_CHATS_PER_ADDRESS="0")
    try:
        for _ in range(12):
            assert (await h.family(address="203.0.113.5")).session_id
    finally:
        await h.stop()


async def test_one_queue_place_per_address(h):
    sam = await h.adviser("sam")
    first = await h.family(address="203.0.113.90")
    await first.say("adviser please")
    await wait_until(lambda: first.of("handoff"))
    second = await h.family(address="203.0.113.90")  # another tab on the same connection
    await second.say("adviser please")
    await wait_until(lambda: any("only keep one place in the queue" in t for t in second.texts()))
    assert "0808 801 0366" in [t for t in second.texts() if "one place in the queue" in t][0]
    assert not second.of("handoff") and h.gateway.store.conversation(second.session_id).state == "bot"
    assert [c.id for c in h.gateway.store.waiting()] == [first.session_id]
    other = await h.family(address="203.0.113.91")
    await other.say("adviser please")
    await wait_until(lambda: other.of("handoff"))
    # once the first chat has ended, the second may queue
    await sam.post(f"/console/api/conversations/{first.session_id}/takeover")
    await sam.post(f"/console/api/conversations/{first.session_id}/end", {"text": ""})
    await second.say("adviser please")
    await wait_until(lambda: second.of("handoff"))
    assert h.gateway.store.conversation(second.session_id).state == "queued"


# 4. A chat is resumed only within RESUME_IDLE_MINUTES (60) of its last activity.
def test_resumable_is_a_plain_function_of_the_last_activity():
    from bot.gateway.conversations import resumable

    last = IN_HOURS
    idle = timedelta(minutes=60)
    assert resumable("bot", last, last + idle, idle)  # exactly the limit: still resumed
    assert not resumable("bot", last, last + idle + timedelta(seconds=1), idle)
    assert not resumable("bot", last, last + timedelta(days=89), idle)  # was: 90 days
    assert resumable("bot", last, last + timedelta(days=89), None)  # no limit configured
    assert resumable("queued", last, last + timedelta(hours=3), idle)  # waiting for an adviser keeps its place
    assert resumable("live", last, last + timedelta(hours=3), idle)


async def test_a_chat_idle_for_longer_than_an_hour_is_not_resumed(h):
    family = await h.family()
    await family.say("my private situation", client_id="p1")
    await wait_until(lambda: family.texts())
    await family.close()
    h.clock.advance(59 * 60)
    again = await h.family(family.session_id)  # a reload within the hour: the same chat, its history
    assert again.session_id == family.session_id
    await again.sio.emit("history_request", {"session_id": again.session_id, "after_seq": 0})
    await wait_until(lambda: again.of("history"))
    assert again.of("history")[0]["messages"][0]["text"] == "my private situation"
    await again.close()
    h.clock.advance(60 * 60 + 1)  # idle for an hour since the last message: a new, empty chat
    later = await h.family(family.session_id)
    assert later.session_id != family.session_id
    await later.sio.emit("history_request", {"session_id": family.session_id, "after_seq": 0})
    await wait_until(lambda: later.of("history"))
    assert later.of("history")[0]["messages"] == []
    assert any(e["action"] == "resume_refused" for e in h.gateway.store.audit_log())


async def test_a_family_waiting_for_an_adviser_keeps_its_chat_however_long_the_wait(h):
    await h.adviser("sam")
    family = await h.family()
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    await family.close()
    h.clock.advance(2 * 60 * 60)
    assert (await h.family(family.session_id)).session_id == family.session_id


async def test_the_resume_window_is_configurable(tmp_path):
    h = await Harness(tmp_path).start(RESUME_IDLE_MINUTES="5")
    try:
        family = await h.family()
        await family.say("hello", client_id="c1")
        await wait_until(lambda: family.texts())
        h.clock.advance(4 * 60)
        assert (await h.family(family.session_id)).session_id == family.session_id
        h.clock.advance(5 * 60 + 1)
        assert (await h.family(family.session_id)).session_id != family.session_id
    finally:
        await h.stop()


async def test_refusals_from_one_address_write_a_capped_number_of_audit_rows(h):
    from bot.gateway.limits import AUDIT_ROWS_PER_ADDRESS

    address = "203.0.113.120"
    for _ in range(10):
        await h.family(address=address)
    for _ in range(AUDIT_ROWS_PER_ADDRESS[0] + 5):
        assert (await h.family(address=address, confirmed=False)).session_id is None
    refusals = [e for e in h.gateway.store.audit_log(1000) if e["action"] == "new_chat_refused"]
    assert len(refusals) == AUDIT_ROWS_PER_ADDRESS[0]
    assert (await h.family(address="203.0.113.121")).session_id  # others unaffected


async def test_messages_from_one_address_are_limited_across_all_its_chats(tmp_path):
    """Ten chats from one address may not each send at the per-chat rate: MESSAGES_PER_ADDRESS counts
    them together (every gateway through the store)."""
    h = await Harness(tmp_path).start(MESSAGES_PER_ADDRESS="12/20")
    try:
        chats = [await h.family(address="203.0.113.130") for _ in range(4)]
        other = await h.family(address="203.0.113.131")
        for n in range(4):  # 16 messages in all, 4 per chat: under the per-chat limit (8 per 20 s)
            for i, chat in enumerate(chats):
                await chat.say(f"message {n} in chat {i}", client_id=f"m{n}-{i}")
        await wait_until(lambda: sum(len(c.texts()) for c in chats) == 16)
        too_fast = [t for c in chats for t in c.texts() if "faster than I can read" in t]
        assert len(too_fast) == 4 and len(h.rasa.received) == 12
        await other.say("hello from elsewhere")
        await wait_until(lambda: other.texts() == ["You said: hello from elsewhere"])
        h.clock.advance(21)
        await chats[0].say("later", client_id="later")
        await wait_until(lambda: "You said: later" in chats[0].texts())
    finally:
        await h.stop()


# 5. "End chat and clear": the family ends the chat (and its queue place); it can't be resumed.
async def test_end_chat_gives_up_the_queue_place_tells_the_adviser_and_cannot_be_resumed(h):
    sam = await h.adviser("sam")
    family = await h.family(address="203.0.113.150")
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    assert [c.id for c in h.gateway.store.waiting()] == [family.session_id]
    answer = await family.sio.call("end_chat", {})
    assert answer == {"ended": True}
    assert h.gateway.store.waiting() == []
    assert h.gateway.store.conversation(family.session_id).state == "bot"
    assert h.rasa.paused[family.session_id] is False  # the bot has the (closed) chat back
    await wait_until(lambda: any(m.get("conversation_id") == family.session_id and
                                 "ended the chat" in m["message"]["text"] for m in sam.of("message")))
    await wait_until(lambda: sam.of("queue") and sam.of("queue")[-1]["queue"] == [])
    assert any(e["action"] == "family_ended" for e in h.gateway.store.audit_log())
    # the socket has no chat any more; the old id is not resumed, and the address may queue again
    again = await h.family(family.session_id, address="203.0.113.150")
    assert again.session_id != family.session_id
    await again.say("adviser please")
    await wait_until(lambda: again.of("handoff"))


async def test_end_chat_in_a_live_chat_tells_the_adviser_and_without_a_chat_does_nothing(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("adviser please")
    await wait_until(lambda: family.of("handoff"))
    assert (await sam.post(f"/console/api/conversations/{family.session_id}/takeover"))[0] == 200
    assert await family.sio.call("end_chat", {}) == {"ended": True}
    await wait_until(lambda: {"conversation_id": family.session_id, "state": "ended", "adviser": None}
                     in sam.of("conversation_state"))
    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/messages", {"text": "hello?"})
    assert status == 409  # the adviser can't write into it any more
    assert await family.sio.call("end_chat", {}) == {"ended": False}  # nothing left to end

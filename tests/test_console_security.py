"""The adviser console is closed to everyone who has not logged in, staff pages to advisers, and nobody
reads a conversation that is not theirs by guessing ids. Through public HTTP and socket.io behaviour only
(tests/gateway_harness.py: real sockets on loopback, injected clock)."""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Dict, List, Tuple

import aiohttp
import pytest
from bot.gateway.socketio_client import socketio

from tests.gateway_harness import PASSWORD, Adviser, Harness, wait_until

# Routes anyone may use: the family page and widget, static files, health, the favicon, the login page
# (and its form), and socket.io (whose /console namespace checks the login itself: tested below).
PUBLIC = {("GET", "/"), ("GET", "/widget.js"), ("GET", "/widget.css"), ("GET", "/vendor/socket.io.min.js"),
          ("GET", "/static/{name}"), ("GET", "/health"), ("GET", "/favicon.ico"), ("GET", "/console/login"),
          ("POST", "/console/login")}  # and /socket.io/ (any method): see guarded()
# Needs its own shared secret rather than a login (the action server calls it): refused without it.
INTERNAL = {("GET", "/internal/availability")}
# Logging out without a session just goes back to the login page.
LOGOUT = ("POST", "/console/logout")
SAMPLE = {"id": "c" * 32, "canned_id": "1", "name": "candidate-1", "file": "confusion.png"}


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


def routes(h: Harness) -> List[Tuple[str, str, str]]:
    """(method, canonical path, a concrete URL) for every route of the running app but HEAD."""
    found = []
    for route in h.app.router.routes():
        if route.method == "HEAD":
            continue
        canonical = route.resource.canonical
        url = re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: SAMPLE.get(m.group(1), "x"), canonical)
        found.append((route.method, canonical, url))
    return found


def guarded(h: Harness) -> List[Tuple[str, str, str]]:
    return [r for r in routes(h) if (r[0], r[1]) not in PUBLIC | INTERNAL and r[1] != "/socket.io/"
            and (r[0], r[1]) != LOGOUT]


def state_changing(h: Harness) -> List[Tuple[str, str, str]]:
    return [r for r in guarded(h) if r[0] not in ("GET", "HEAD", "OPTIONS")]


def staff_only(h: Harness) -> List[Tuple[str, str, str]]:
    return [r for r in guarded(h) if r[1].startswith(("/console/api/review", "/console/review", "/console/api/canned",
                                                      "/console/reports", "/console/accounts",
                                                      "/console/api/accounts"))]


async def assert_refused(h: Harness, headers: Dict[str, str]) -> None:
    """The console namespace refuses a socket.io connection made with these headers."""
    client = socketio.AsyncClient(reconnection=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(h.base, transports=["websocket"], namespaces=["/console"], headers=headers)
    finally:
        if client.eio.http is not None:
            await client.eio.http.close()


# -- (a) nothing without a login ----------------------------------------------------------------------
async def test_every_non_public_route_refuses_without_login(h):
    everything = routes(h)
    assert {(m, p) for m, p, _ in everything} >= PUBLIC | INTERNAL  # the allow-list names real routes
    checked = guarded(h)
    assert len(checked) >= 20  # the console page, its API and the review API
    async with aiohttp.ClientSession() as anonymous:
        for method, canonical, url in checked:
            response = await anonymous.request(method, h.base + url, json={}, allow_redirects=False)
            if response.status == 302:
                assert response.headers["Location"] == "/console/login", (method, canonical)
            else:
                assert response.status in (401, 403), (method, canonical, response.status)
                assert set(await response.json()) == {"error"}, (method, canonical)  # and no data
        for method, canonical, url in checked:  # a forged or garbage cookie is no better
            response = await anonymous.request(method, h.base + url, json={}, allow_redirects=False,
                                               headers={"Cookie": "adviser_session=" + secrets.token_urlsafe(60)})
            assert response.status in (302, 401, 403), (method, canonical, response.status)
        response = await anonymous.get(h.base + "/internal/availability")
        assert response.status == 403
        response = await anonymous.post(h.base + "/console/logout", allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == "/console/login"


async def test_console_socket_refuses_without_login_and_its_events_do_nothing_elsewhere(h):
    family = await h.family()
    await family.say("a private message", client_id="p")
    await wait_until(lambda: family.texts())
    for cookie in (None, "adviser_session=" + secrets.token_urlsafe(60), "adviser_session="):
        await assert_refused(h, {"Cookie": cookie} if cookie else {})
    console_events = set(h.gateway.sio.handlers["/console"]) - {"connect", "disconnect"}
    assert "adviser_typing" in console_events
    # a family socket (connected to "/" only) sending the console's events: ignored
    typing_before = len(family.of("bot_typing"))
    for event in console_events:
        await family.sio.emit(event, {"conversation_id": family.session_id, "typing": True})
    async with aiohttp.ClientSession() as raw:  # and on /console without having connected to it
        ws = await raw.ws_connect(h.base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
        await ws.receive()
        await ws.send_str("40")
        await ws.receive()
        for event in console_events:
            await ws.send_str('42/console,' + json.dumps([event, {"conversation_id": family.session_id,
                                                                  "typing": True}]))
        await ws.close()
    await family.say("sync", client_id="s")
    await wait_until(lambda: "You said: sync" in family.texts())
    assert family.of("bot_typing")[typing_before:] == [{"typing": True}, {"typing": False}]  # only the bot's


# -- (b) advisers are not staff ----------------------------------------------------------------------
async def test_an_adviser_gets_403_on_every_staff_page_and_api(h):
    sam = await h.adviser("sam", available=False, socket=False)
    checked = staff_only(h)
    assert len(checked) >= 19  # the review page and API, canned responses, the reports page and CSV, accounts
    for method, canonical, url in checked:
        response = await sam.http.request(method, h.base + url, json={}, allow_redirects=False,
                                          headers={"X-CSRF-Token": sam.csrf})
        assert response.status == 403, (method, canonical, response.status)
        if "/api/" in canonical:
            assert await response.json() == {"error": "Only staff can do that."}
        else:
            assert "Staff only" in await response.text()
    kim = await h.adviser("kim", available=False, socket=False)  # staff: the same page opens
    response = await kim.http.get(h.base + "/console/review")
    assert response.status == 200


# -- (c) nobody reads a conversation that is not theirs ------------------------------------------------
async def test_issued_session_ids_are_unguessable(h):
    ids = []
    for _ in range(40):
        family = await h.family()
        ids.append(family.session_id)
        await family.close()
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)  # 32 hex digits: 128 random bits
    assert len({i[:6] for i in ids}) == len(ids)  # no shared prefix or counter
    numbers = sorted(int(i, 16) for i in ids)
    gaps = [b - a for a, b in zip(numbers, numbers[1:])]
    assert min(gaps) > 2 ** 100  # nowhere near sequential


async def test_short_sequential_or_malformed_ids_never_reach_another_conversation(h):
    victim = await h.family()
    await victim.say("my private situation", client_id="v")
    await wait_until(lambda: victim.texts())
    guesses = ["1", "2", "42", "00000000", victim.session_id[:8], victim.session_id[:21],
               victim.session_id + "x" * 40, victim.session_id.upper() + "!", " " + victim.session_id,
               victim.session_id[:-1] + "/", "../" + victim.session_id, None, 12345, ["a"], {"id": victim.session_id}]
    for guess in guesses:
        attacker = await h.family(guess)
        assert attacker.session_id != victim.session_id, guess
        await attacker.sio.emit("history_request", {"session_id": victim.session_id, "after_seq": 0})
        await wait_until(lambda: attacker.of("history"))
        assert attacker.of("history")[0]["messages"] == [], guess
        await attacker.close()


async def test_a_socket_only_ever_reads_and_writes_its_own_conversation(h):
    victim = await h.family()
    await victim.say("my private situation", client_id="v")
    await wait_until(lambda: victim.texts())
    attacker = await h.family()
    # naming the victim's id in the events does not switch conversation
    await attacker.sio.emit("history_request", {"session_id": victim.session_id, "after_seq": 0})
    await attacker.sio.emit("user_uttered", {"message": "injected", "session_id": victim.session_id})
    await wait_until(lambda: attacker.of("history") and "You said: injected" in attacker.texts())
    assert attacker.of("history")[0]["messages"] == []
    victim_messages = [m.text for m in h.gateway.store.messages_after(victim.session_id)]
    assert "injected" not in victim_messages and "You said: injected" not in victim.texts()
    # feedback on the victim's message from another socket is not recorded
    message_id = victim.of("bot_uttered")[0]["metadata"]["message"]["id"]
    await attacker.sio.emit("feedback", {"message_id": message_id, "helpful": False})
    await attacker.say("sync", client_id="s")
    await wait_until(lambda: "You said: sync" in attacker.texts())
    assert h.gateway.store.feedback_for(victim.session_id) == {}


async def test_a_well_formed_id_nobody_was_given_opens_an_empty_conversation(h):
    victim = await h.family()
    await victim.say("my private situation", client_id="v")
    await wait_until(lambda: victim.texts())
    for _ in range(5):
        guess = secrets.token_hex(16)
        attacker = await h.family(guess)
        await attacker.sio.emit("history_request", {"after_seq": 0})
        await wait_until(lambda: attacker.of("history"))
        assert attacker.of("history")[0]["messages"] == []
        await attacker.close()


async def test_a_client_chosen_weak_id_cannot_be_claimed_by_someone_else(h):
    weak = "0" * 21 + "1"
    first = await h.family(weak)
    await first.say("my private situation", client_id="v")
    await wait_until(lambda: first.texts())
    second = await h.family(weak)  # someone guessing the "next" id of a counter
    await second.sio.emit("history_request", {"after_seq": 0})
    await wait_until(lambda: second.of("history"))
    assert second.of("history")[0]["messages"] == []


async def test_adviser_api_with_made_up_or_someone_elses_conversation(h):
    sam = await h.adviser("sam", socket=False)
    alex = await h.adviser("alex", socket=False)
    family = await h.family()
    await family.say("/speak_to_adviser")
    await wait_until(lambda: family.of("handoff"))
    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
    assert status == 200
    for made_up in (secrets.token_hex(16), "1", "2", family.session_id[:8], "' OR '1'='1", "..%2f..%2fhealth"):
        status, body = await alex.get(f"/console/api/conversations/{made_up}")
        assert status == 404 and body == {"error": "There is no such conversation."}, made_up
        for action in ("takeover", "messages", "resume", "end"):
            status, body = await alex.post(f"/console/api/conversations/{made_up}/{action}", {"text": "hi"})
            assert status == 404 and set(body) == {"error"}, (made_up, action)
    seen_by_family = len(family.received)
    for action in ("takeover", "messages", "resume", "end"):  # Sam's live chat: Alex may not act in it
        status, body = await alex.post(f"/console/api/conversations/{family.session_id}/{action}",
                                       {"text": "from alex"})
        assert status == 409 and set(body) == {"error"}, action
    assert len(family.received) == seen_by_family  # the family saw nothing of it
    conversation = h.gateway.store.conversation(family.session_id)
    assert conversation.state == "live" and conversation.adviser == "sam"
    assert "from alex" not in [m.text for m in h.gateway.store.messages_after(family.session_id)]


# -- (d) login throttling ------------------------------------------------------------------------------
async def login_from(h: Harness, address: str, username: str, password: str) -> str:
    """Log in through the form from `address` (the reverse proxy's X-Forwarded-For); the page's alert."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        page = await (await client.get(h.base + "/console/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        response = await client.post(h.base + "/console/login", headers={"X-Forwarded-For": address},
                                     data={"username": username, "password": password, "csrf": csrf})
        if response.url.path == "/console":
            return "logged in"
        found = re.search(r'role="alert">([^<]+)<', await response.text())
        return found.group(1) if found else ""


async def test_failures_from_one_address_never_lock_the_adviser_out_from_another(h):
    """Security review (issue 16): the lock is per (username, address), so someone guessing Sam's
    password slows down only their own guesses."""
    for _ in range(5):
        assert await login_from(h, "198.51.100.1", "sam", "wrong") == "The username or password is not right."
    assert await login_from(h, "198.51.100.1", "sam", PASSWORD) == "Too many failed attempts. Try again in 1 minute."
    assert await login_from(h, "203.0.113.9", "sam", PASSWORD) == "logged in"  # Sam, from elsewhere
    assert await login_from(h, "198.51.100.1", "alex", PASSWORD) == "logged in"  # others from that address


async def test_each_further_failure_from_that_address_doubles_the_wait(h):
    for _ in range(5):
        await login_from(h, "198.51.100.2", "sam", "wrong")
    waits = (1, 2, 4, 8, 15, 15)  # minutes: doubling from the sixth failure, at most 15
    for number, minutes in enumerate(waits):
        plural = "s" if minutes != 1 else ""
        assert await login_from(h, "198.51.100.2", "sam", "wrong") == \
            f"Too many failed attempts. Try again in {minutes} minute{plural}."
        h.clock.advance(minutes * 60 - 1)
        assert (await login_from(h, "198.51.100.2", "sam", PASSWORD)).startswith("Too many failed attempts")
        h.clock.advance(1)
        if number < len(waits) - 1:  # one more failure: the next wait is longer
            assert await login_from(h, "198.51.100.2", "sam", "wrong") == "The username or password is not right."
    assert await login_from(h, "198.51.100.2", "sam", PASSWORD) == "logged in"
    assert await login_from(h, "198.51.100.2", "sam", "wrong") == "The username or password is not right."  # reset


async def test_twenty_failures_from_one_address_lock_that_address_for_every_user(h):
    for n in range(20):
        assert await login_from(h, "198.51.100.7", f"nobody{n}", "wrong") == "The username or password is not right."
    assert (await login_from(h, "198.51.100.7", "alex", PASSWORD)).startswith("Too many failed attempts")
    assert await login_from(h, "198.51.100.8", "alex", PASSWORD) == "logged in"  # another address
    h.clock.advance(15 * 60 + 1)
    assert await login_from(h, "198.51.100.7", "alex", PASSWORD) == "logged in"


async def test_successful_logins_are_not_held_against_their_address(h):
    for _ in range(22):  # an office where everyone signs in from one address
        assert await login_from(h, "198.51.100.30", "kim", PASSWORD) == "logged in"
    assert await login_from(h, "198.51.100.30", "sam", PASSWORD) == "logged in"


async def test_parallel_guesses_get_no_more_than_the_free_attempts(h, monkeypatch):
    """The password is checked in a worker thread: an attempt is counted before it, so a burst of guesses
    sent at once is not all checked before the first failure is recorded."""
    from bot.gateway import security

    checked = []
    real = security.check_password

    def counting(password_hash, password):
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(security, "check_password", counting)
    answers = await asyncio.gather(*(login_from(h, "198.51.100.40", "sam", f"guess {n}") for n in range(12)))
    assert len(checked) == 5
    assert answers.count("The username or password is not right.") == 5
    assert sum(a.startswith("Too many failed attempts") for a in answers) == 7


async def test_password_checks_run_in_a_worker_thread_not_on_the_event_loop(h, monkeypatch):
    from bot.gateway import security

    loop_thread = threading.get_ident()
    started, release = threading.Event(), threading.Event()
    seen = {}
    real = security.check_password

    def slow(password_hash, password):  # argon2 held up until the test lets it go
        seen["thread"] = threading.get_ident()
        started.set()
        seen["released"] = release.wait(3)
        return real(password_hash, password)

    monkeypatch.setattr(security, "check_password", slow)
    login = asyncio.ensure_future(login_from(h, "198.51.100.50", "sam", PASSWORD))
    await wait_until(started.is_set)
    async with aiohttp.ClientSession() as other:  # meanwhile the gateway still answers everyone else
        assert (await other.get(h.base + "/health")).status == 200
    release.set()
    assert await login == "logged in"
    assert seen["thread"] != loop_thread and seen["released"] is True


async def test_four_failures_then_success_is_not_throttled(h):
    for _ in range(4):
        await login_from(h, "198.51.100.20", "kim", "wrong")
    assert await login_from(h, "198.51.100.21", "kim", PASSWORD) == "logged in"


# -- (e) CSRF ------------------------------------------------------------------------------------------
async def test_every_state_changing_request_needs_the_right_csrf_token(h):
    kim = await h.adviser("kim", available=False, socket=False)  # staff: every route is open to her
    sam = await h.adviser("sam", available=False, socket=False)
    checked = state_changing(h)
    assert len(checked) >= 12
    canned_before = h.gateway.store.canned_responses()
    for method, canonical, url in checked:
        for token in (None, "", "wrong", sam.csrf, kim.csrf + "x", kim.csrf.upper(), "é" * 10):
            headers = {} if token is None else {"X-CSRF-Token": token}
            response = await kim.http.request(method, h.base + url, json={"available": True, "title": "t",
                                                                           "text": "t"}, headers=headers)
            assert response.status == 403, (method, canonical, token, response.status)
            assert await response.json() == {"error": "This page is out of date. Please reload it."}
    assert h.gateway.store.canned_responses() == canned_before
    assert h.gateway.store.user("kim").available is False
    status, _ = await kim.post("/console/api/availability", {"available": True})  # the right token works
    assert status == 200


async def test_login_and_logout_forms_need_their_csrf_field(h):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        await client.get(h.base + "/console/login")
        for csrf in (None, "", "wrong"):
            form = {"username": "sam", "password": PASSWORD}
            if csrf is not None:
                form["csrf"] = csrf
            response = await client.post(h.base + "/console/login", data=form)
            assert response.url.path == "/console/login"
            assert "This page was out of date. Please try again." in await response.text()
        assert (await client.get(h.base + "/console/api/state")).status == 401
    sam = await h.adviser("sam", available=False, socket=False)
    for csrf in (None, "wrong"):
        await sam.http.post(h.base + "/console/logout", data={} if csrf is None else {"csrf": csrf})
        status, _ = await sam.get("/console/api/state")
        assert status == 200  # a forged logout does nothing


# -- (f) session fixation and logout ------------------------------------------------------------------
def session_cookie(response: aiohttp.ClientResponse) -> str:
    cookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookie.load(header)
    return cookie["adviser_session"].value if "adviser_session" in cookie else ""


async def test_login_issues_a_new_cookie_and_the_old_one_never_authenticates(h):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        page = await client.get(h.base + "/console/login")
        before = session_cookie(page)
        assert before
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
        response = await client.post(h.base + "/console/login", allow_redirects=False,
                                     data={"username": "sam", "password": PASSWORD, "csrf": csrf})
        assert response.status == 302 and response.headers["Location"] == "/console"
        after = session_cookie(response)
        assert after and after != before
        state = await client.get(h.base + "/console/api/state")
        assert state.status == 200
        console = await (await client.get(h.base + "/console")).text()
        assert csrf not in console  # a new CSRF token too
    async with aiohttp.ClientSession() as planted:  # the cookie from before the login (planted by someone)
        response = await planted.get(h.base + "/console/api/state", headers={"Cookie": f"adviser_session={before}"})
        assert response.status == 401


async def test_logout_ends_the_session_in_that_browser(h):
    sam = await h.adviser("sam", available=True, socket=False)
    response = await sam.http.post(h.base + "/console/logout", data={"csrf": sam.csrf}, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/console/login"
    status, _ = await sam.get("/console/api/state")
    assert status == 401
    assert h.gateway.store.user("sam").available is False


async def test_a_cookie_copied_before_logout_no_longer_works_after_it(h):
    sam = await h.adviser("sam", available=False, socket=False)
    stolen = sam.cookie_header()
    await sam.http.post(h.base + "/console/logout", data={"csrf": sam.csrf})
    async with aiohttp.ClientSession() as thief:
        response = await thief.get(h.base + "/console/api/state", headers={"Cookie": stolen})
        assert response.status == 401


# -- (g) cookie flags --------------------------------------------------------------------------------
async def test_with_cookie_secure_the_session_cookie_is_secure_httponly_and_strict(tmp_path):
    h = await Harness(tmp_path).start(COOKIE_SECURE="1")
    try:
        assert h.gateway.settings.cookie_secure is True
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            page = await client.get(h.base + "/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
            anonymous_cookie = session_cookie(page)
            response = await client.post(h.base + "/console/login", allow_redirects=False,
                                         headers={"Cookie": f"adviser_session={anonymous_cookie}"},
                                         data={"username": "sam", "password": PASSWORD, "csrf": csrf})
            assert response.status == 302
            for answer in (page, response):
                headers = [v for v in answer.headers.getall("Set-Cookie", []) if v.startswith("adviser_session=")]
                assert headers, answer.url
                cookie = SimpleCookie()
                cookie.load(headers[0])
                morsel = cookie["adviser_session"]
                assert morsel["secure"] is True and morsel["httponly"] is True
                assert morsel["samesite"] == "Strict" and morsel["path"] == "/"
    finally:
        await h.stop()


async def test_the_session_cookie_ends_with_the_browser(h):
    """No Max-Age or Expires: closing the browser signs the adviser out (the gateway still ends the
    session after SESSION_IDLE_MINUTES and 12 hours)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        page = await client.get(h.base + "/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
        response = await client.post(h.base + "/console/login", allow_redirects=False,
                                     data={"username": "sam", "password": PASSWORD, "csrf": csrf})
        assert response.status == 302
        for answer in (page, response):
            [header] = [v for v in answer.headers.getall("Set-Cookie", []) if v.startswith("adviser_session=")]
            morsel = SimpleCookie(header)["adviser_session"]
            assert morsel["max-age"] == "" and morsel["expires"] == "", header
        assert (await client.get(h.base + "/console/api/state")).status == 200


async def test_even_a_busy_session_ends_after_12_hours(h):
    sam = await h.adviser("sam", available=False)
    for _ in range(35):  # a request every 20 minutes: never idle, 11 h 40 min in all
        h.clock.advance(20 * 60)
        assert (await sam.get("/console/api/state"))[0] == 200
    h.clock.advance(20 * 60 + 1)  # just over 12 hours since the login
    assert (await sam.get("/console/api/state"))[0] == 401
    await h.gateway.tick()
    await wait_until(lambda: not sam.sio.connected)


# -- (h) the console socket and other sites -----------------------------------------------------------
async def test_console_socket_refuses_other_origins_and_accepts_its_own(h):
    sam = await h.adviser("sam", available=False, socket=False)
    host = h.base.split("://", 1)[1]
    port = host.rsplit(":", 1)[1]
    for origin in ("https://evil.example", "null", f"http://127.0.0.1:{int(port) + 1}", f"http://{host}.evil.example",
                   f"http://evil.example/{host}", f"http://localhost:{port}", "file://", f"http://{host}@evil.example"):
        await assert_refused(h, {"Cookie": sam.cookie_header(), "Origin": origin})
    for transport in ("websocket", "polling"):
        own = socketio.AsyncClient(reconnection=False)
        await own.connect(h.base, transports=[transport], namespaces=["/console"],
                          headers={"Cookie": sam.cookie_header(), "Origin": h.base})
        assert own.connected
        await own.disconnect()


# -- (i) console sockets end with their session (security review, issue 16) ----------------------------
def session_ids(h: Harness, username: str) -> List[str]:
    import sqlalchemy as sa
    from bot.gateway.store import adviser_sessions

    with h.gateway.store.engine.connect() as conn:
        return list(conn.execute(sa.select(adviser_sessions.c.id)
                                 .where(adviser_sessions.c.username == username)).scalars())


async def test_logout_closes_that_sessions_console_sockets_at_once(h):
    sam = await h.adviser("sam", available=False)
    alex = await h.adviser("alex", available=False)
    assert sam.sio.connected and alex.sio.connected
    await sam.http.post(h.base + "/console/logout", data={"csrf": sam.csrf})
    await wait_until(lambda: not sam.sio.connected)
    assert alex.sio.connected
    assert h.gateway.store.open_sockets("sam", h.clock() - timedelta(seconds=30)) == 0


async def test_logout_on_another_gateway_closes_the_socket_here_within_one_round(h):
    sam = await h.adviser("sam", available=False)
    [session] = session_ids(h, "sam")
    h.gateway.store.end_session(session)  # what a logout through another gateway does
    await h.gateway.tick()
    await wait_until(lambda: not sam.sio.connected)


async def test_an_idle_session_closes_its_console_socket(h):
    sam = await h.adviser("sam", available=False)
    h.clock.advance(29 * 60)  # SESSION_IDLE_MINUTES is 30
    await h.gateway.tick()
    assert sam.sio.connected
    status, _ = await sam.get("/console/api/state")  # a request: the idle time starts again
    assert status == 200
    h.clock.advance(29 * 60)
    await h.gateway.tick()
    assert sam.sio.connected
    h.clock.advance(2 * 60)  # 31 minutes without a request
    await h.gateway.tick()
    await wait_until(lambda: not sam.sio.connected)
    status, _ = await sam.get("/console/api/state")
    assert status == 401


async def test_a_removed_account_loses_its_console_socket(h):
    sam = await h.adviser("sam", available=False)
    h.gateway.store.remove_user("sam")  # python -m bot.gateway.users remove sam
    await h.gateway.tick()
    await wait_until(lambda: not sam.sio.connected)


async def test_every_console_event_checks_the_session_first(h):
    sam = await h.adviser("sam")
    family = await h.family()
    await family.say("/speak_to_adviser")
    await wait_until(lambda: family.of("handoff"))
    status, _ = await sam.post(f"/console/api/conversations/{family.session_id}/takeover")
    assert status == 200
    await sam.sio.emit("adviser_typing", {"conversation_id": family.session_id, "typing": True}, namespace="/console")
    await wait_until(lambda: {"typing": True} in family.of("bot_typing"))
    typing_before = len(family.of("bot_typing"))
    [session] = session_ids(h, "sam")
    h.gateway.store.end_session(session)  # logged out elsewhere; no background round has run yet
    await sam.sio.emit("adviser_typing", {"conversation_id": family.session_id, "typing": True}, namespace="/console")
    await wait_until(lambda: not sam.sio.connected)
    assert len(family.of("bot_typing")) == typing_before  # the family saw nothing of it


# -- (j) who may read a transcript (security review, issue 16) -----------------------------------------
async def test_advisers_read_only_waiting_live_or_their_own_chats_and_staff_reviews_are_audited(h):
    sam = await h.adviser("sam", socket=False)
    alex = await h.adviser("alex", socket=False)
    kim = await h.adviser("kim", available=False, socket=False)
    bot_only = await h.family()
    await bot_only.say("my private situation")
    await wait_until(lambda: bot_only.texts())
    family = await h.family()
    await family.say("/speak_to_adviser")
    await wait_until(lambda: family.of("handoff"))
    chat = f"/console/api/conversations/{family.session_id}"
    assert (await alex.get(chat))[0] == 200  # queued: any adviser may read it before taking it
    assert (await sam.post(chat + "/takeover"))[0] == 200
    assert (await alex.get(chat))[0] == 200  # live
    assert (await sam.post(chat + "/end", {"text": "Take care."}))[0] == 200

    status, body = await alex.get(chat)  # ended, and Alex took no part
    assert status == 403 and set(body) == {"error"} and "staff" in body["error"]
    status, body = await alex.get(f"/console/api/conversations/{bot_only.session_id}")  # never queued
    assert status == 403 and set(body) == {"error"}
    status, transcript = await sam.get(chat)  # Sam took part
    assert status == 200 and "Take care." in [m["text"] for m in transcript["messages"]]
    status, transcript = await kim.get(f"/console/api/conversations/{bot_only.session_id}")  # staff: any
    assert status == 200 and transcript["messages"][0]["text"] == "my private situation"

    log = [(e["actor"], e["action"], e["conversation_id"]) for e in h.gateway.store.audit_log()]
    assert ("kim", "viewed_as_staff", bot_only.session_id) in log
    assert ("alex", "view_refused", family.session_id) in log
    assert ("alex", "view_refused", bot_only.session_id) in log
    assert ("sam", "viewed", family.session_id) in log


async def test_failed_logins_from_one_address_write_a_capped_number_of_audit_rows(h):
    from bot.gateway.limits import AUDIT_ROWS_PER_ADDRESS

    for n in range(AUDIT_ROWS_PER_ADDRESS[0] + 10):  # failures, then "too many" refusals
        await login_from(h, "198.51.100.60", f"nobody{n}", "wrong")
    rows = [e for e in h.gateway.store.audit_log(1000) if e["action"] in ("login_failed", "login_throttled")]
    assert len(rows) == AUDIT_ROWS_PER_ADDRESS[0]
    assert await login_from(h, "198.51.100.61", "sam", PASSWORD) == "logged in"
    assert [e["action"] for e in h.gateway.store.audit_log(1)] == ["login"]  # a login is always audited


async def test_resetting_a_password_ends_that_accounts_sessions(h, monkeypatch):
    from bot.gateway import users

    sam = await h.adviser("sam", available=False)
    alex = await h.adviser("alex", available=False)
    monkeypatch.setenv("VAR_DIR", str(h.tmp))
    monkeypatch.setenv("GATEWAY_DB_URL", h.gateway.settings.gateway_db_url)
    monkeypatch.setenv("ADVISER_PASSWORD", "a new password for sam")
    assert users.main(["add", "sam"]) == 0
    await h.gateway.tick()
    await wait_until(lambda: not sam.sio.connected)
    assert (await sam.get("/console/api/state"))[0] == 401
    assert alex.sio.connected and (await alex.get("/console/api/state"))[0] == 200
    assert await login_from(h, "198.51.100.62", "sam", "a new password for sam") == "logged in"


# -- (k) no client address is kept in the clear, and the pseudonymous keys only as long as needed ------
def table_rows(h: Harness, table) -> list:
    import sqlalchemy as sa

    with h.gateway.store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(table))]


async def test_failed_logins_keep_no_address_in_the_clear(h):
    from bot.gateway.store import login_failures

    await login_from(h, "198.51.100.70", "sam", "wrong")
    keys = [row["key"] for row in table_rows(h, login_failures)]
    assert keys and not any("198.51.100.70" in key for key in keys)
    assert all(h.gateway.address_key("198.51.100.70") in key for key in keys)


async def test_the_background_round_forgets_addresses_no_limit_needs_any_more(h):
    from bot.gateway.store import conversations, login_failures, rate_events

    chatting = await h.family(address="203.0.113.141")
    await chatting.say("hello")
    await wait_until(lambda: chatting.texts())
    await login_from(h, "198.51.100.71", "nobody", "wrong")
    assert table_rows(h, login_failures) and table_rows(h, rate_events)
    h.clock.advance(2 * 3600)
    await h.gateway.tick()
    assert table_rows(h, login_failures) == [] and table_rows(h, rate_events) == []
    h.clock.advance(23 * 3600)  # a day after its last message, an idle chat's address key goes
    await h.gateway.tick()
    keys = {row["id"]: row["address_key"] for row in table_rows(h, conversations)}
    assert keys[chatting.session_id] is None

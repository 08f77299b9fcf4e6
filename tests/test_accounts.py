"""Issue 17: the staff accounts page and its API, the duty_lead role, and capacity (how many chats an
adviser takes at once). Through public HTTP and socket.io behaviour (tests/gateway_harness.py)."""
from __future__ import annotations

import aiohttp
import pytest

from bot.gateway import accounts
from tests.gateway_harness import PASSWORD, Adviser, Harness, wait_until

NEW_PASSWORD = "plum orchard lantern river"


@pytest.fixture
async def h(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


async def queued_family(h: Harness):
    family = await h.family()
    await family.say("/speak_to_adviser")
    await wait_until(lambda: h.gateway.store.conversation(family.session_id)
                     and h.gateway.store.conversation(family.session_id).state == "queued")
    return family


async def signed_in(h: Harness, username: str, password: str = PASSWORD) -> Adviser:
    adviser = Adviser(h.base)
    h.advisers.append(adviser)
    await adviser.login(username, password)
    return adviser


async def internal_count(h: Harness) -> int:
    async with aiohttp.ClientSession() as client:
        response = await client.get(h.base + "/internal/availability", headers={"X-Internal-Token": "internal-test"})
        return (await response.json())["advisers_available"]


def actions(h: Harness) -> list:
    return [(e["actor"], e["action"]) for e in h.gateway.store.audit_log(1000)]


# -- capacity --------------------------------------------------------------------------------------
async def test_an_adviser_at_capacity_cannot_take_another_chat_until_one_ends(h):
    sam = await h.adviser("sam")
    status, body = await sam.post("/console/api/capacity", {"chats": 1})
    assert (status, body) == (200, {"chats": 1, "max_chats": 2})
    first, second = await queued_family(h), await queued_family(h)
    assert (await sam.post(f"/console/api/conversations/{first.session_id}/takeover"))[0] == 200
    status, body = await sam.post(f"/console/api/conversations/{second.session_id}/takeover")
    assert status == 409 and body["error"] == accounts.say("at_capacity", chats=1)
    assert h.gateway.store.conversation(second.session_id).state == "queued"  # still waiting for someone else
    alex = await h.adviser("alex")  # another adviser with room takes it
    assert (await alex.post(f"/console/api/conversations/{second.session_id}/takeover"))[0] == 200
    third = await queued_family(h)
    await sam.post(f"/console/api/conversations/{first.session_id}/end", {"text": "Take care."})
    assert (await sam.post(f"/console/api/conversations/{third.session_id}/takeover"))[0] == 200
    # a chat the adviser already has is never refused for capacity (a reload re-opens it)
    assert (await sam.post(f"/console/api/conversations/{third.session_id}/takeover"))[0] == 200


async def test_the_default_capacity_is_two(h):
    sam = await h.adviser("sam")
    families = [await queued_family(h) for _ in range(3)]
    results = [(await sam.post(f"/console/api/conversations/{f.session_id}/takeover"))[0] for f in families]
    assert results == [200, 200, 409]
    status, state = await sam.get("/console/api/state")
    assert state["capacity"] == {"chats": 2, "max_chats": 2}


async def test_availability_counts_follow_capacity(h):
    sam = await h.adviser("sam")
    alex = await h.adviser("alex")
    await sam.post("/console/api/capacity", {"chats": 1})
    await alex.post("/console/api/capacity", {"chats": 1})
    assert await internal_count(h) == 2
    first = await queued_family(h)
    await sam.post(f"/console/api/conversations/{first.session_id}/takeover")
    assert await internal_count(h) == 1 and h.gateway.store.advisers_with_room() == ["alex"]
    second = await queued_family(h)
    await alex.post(f"/console/api/conversations/{second.session_id}/takeover")
    assert await internal_count(h) == 0
    assert sorted(h.gateway.store.available_advisers()) == ["alex", "sam"]  # still on duty: the queue stays open
    # the handoff: nobody has room, so a family asking for a person is not queued
    third = await h.family()
    await third.say("/speak_to_adviser")
    await wait_until(lambda: third.texts())
    await wait_until(lambda: h.gateway.store.conversation(third.session_id) is not None)
    assert h.gateway.store.conversation(third.session_id).state == "bot"
    await sam.post(f"/console/api/conversations/{first.session_id}/end", {"text": "Bye."})
    assert await internal_count(h) == 1
    # staff raise sam's most chats at once; sam chooses 2: room again for sam
    kim = await h.adviser("kim", available=False, socket=False)
    assert (await kim.post("/console/api/accounts/sam", {"max_chats": 3}))[0] == 200
    assert (await sam.post("/console/api/capacity", {"chats": 3}))[0] == 200


async def test_an_adviser_chooses_capacity_only_up_to_the_maximum(h):
    sam = await h.adviser("sam", socket=False)
    for bad in (0, -1, 11, "two", 1.5, True, None):
        status, body = await sam.post("/console/api/capacity", {"chats": bad})
        assert status == 400 and body["error"], bad
    status, body = await sam.post("/console/api/capacity", {"chats": 3})
    assert status == 400 and body["error"] == accounts.say("above_maximum", max=2)
    assert h.gateway.store.user("sam").chats == 2  # nothing lost
    kim = await h.adviser("kim", available=False, socket=False)
    await kim.post("/console/api/accounts/sam", {"max_chats": 1})  # lowering the maximum lowers the choice
    assert h.gateway.store.user("sam").capacity == 1
    assert ("sam", "capacity") not in actions(h)


# -- the accounts page -----------------------------------------------------------------------------
async def test_staff_add_an_account_that_can_sign_in_and_bad_input_is_refused_and_loses_nothing(h):
    kim = await h.adviser("kim", available=False, socket=False)
    good = {"username": "jo", "display_name": "Jo", "role": "duty_lead", "max_chats": 3, "password": NEW_PASSWORD}
    refusals = [
        (dict(good, username="Jo Smith"), 400, accounts.say("bad_username")),
        (dict(good, role="manager"), 400, accounts.say("unknown_role")),
        (dict(good, max_chats=0), 400, accounts.say("bad_capacity", min=1, max=accounts.MAX_CHATS)),
        (dict(good, max_chats=99), 400, accounts.say("bad_capacity", min=1, max=accounts.MAX_CHATS)),
        (dict(good, password="short"), 400, accounts.say("weak_password", min=accounts.MIN_PASSWORD)),
        (dict(good, password="password1234"), 400, accounts.say("common_password")),
        (dict(good, username="sam"), 409, accounts.say("taken_username", name="sam")),
    ]
    for body, status, error in refusals:
        assert await kim.post("/console/api/accounts", body) == (status, {"error": error}), body
    assert h.gateway.store.user("sam").role == "adviser" and h.gateway.store.user("jo") is None
    assert (await kim.post("/console/api/accounts", good))[0] == 201
    status, listed = await kim.get("/console/api/accounts")
    jo = [a for a in listed["accounts"] if a["username"] == "jo"][0]
    assert jo == {"username": "jo", "display_name": "Jo", "role": "duty_lead", "disabled": False, "max_chats": 3,
                  "chats": 2, "available": False, "live": 0}
    assert all("password" not in str(a) for a in listed["accounts"])
    assert ("kim", "account_added") in actions(h)
    assert NEW_PASSWORD not in str(h.gateway.store.audit_log(1000))
    # the duty lead does what an adviser does, and sees the reports
    jo_browser = await signed_in(h, "jo", NEW_PASSWORD)
    await jo_browser.connect_socket()
    assert (await jo_browser.post("/console/api/availability", {"available": True}))[0] == 200
    family = await queued_family(h)
    assert (await jo_browser.post(f"/console/api/conversations/{family.session_id}/takeover"))[0] == 200
    assert (await jo_browser.http.get(h.base + "/console/reports")).status == 200
    assert (await jo_browser.http.get(h.base + "/console/accounts")).status == 403  # staff only


async def test_disabling_ends_every_session_and_re_enabling_lets_them_back(h):
    sam = await h.adviser("sam")
    other_tab = await signed_in(h, "sam")
    kim = await h.adviser("kim", available=False, socket=False)
    assert (await kim.post("/console/api/accounts/sam", {"disabled": True}))[0] == 200
    await wait_until(lambda: not sam.sio.connected)
    assert (await sam.get("/console/api/state"))[0] == 401
    assert (await other_tab.get("/console/api/state"))[0] == 401
    assert "sam" not in h.gateway.store.available_advisers()
    again = await signed_in(h, "sam")
    assert again.csrf == ""  # refused like a wrong password
    assert (await kim.post("/console/api/accounts/sam", {"disabled": False}))[0] == 200
    again = await signed_in(h, "sam")
    assert again.csrf and (await again.get("/console/api/state"))[0] == 200
    assert [a for a in actions(h) if a[1] in ("account_disabled", "account_enabled")] == [
        ("kim", "account_enabled"), ("kim", "account_disabled")]  # newest first


async def test_resetting_a_password_ends_the_accounts_sessions_everywhere(h):
    sam = await h.adviser("sam")
    alex = await h.adviser("alex")
    kim = await h.adviser("kim", available=False, socket=False)
    assert (await kim.post("/console/api/accounts/sam/password", {"password": "short"}))[0] == 400
    assert (await sam.get("/console/api/state"))[0] == 200  # a refused reset changes nothing
    status, body = await kim.post("/console/api/accounts/sam/password", {"password": NEW_PASSWORD})
    assert (status, body) == (200, {"ok": True, "signed_out": False})
    await wait_until(lambda: not sam.sio.connected)
    assert (await sam.get("/console/api/state"))[0] == 401
    assert alex.sio.connected and (await alex.get("/console/api/state"))[0] == 200
    assert (await signed_in(h, "sam")).csrf == ""  # the old password no longer works
    assert (await signed_in(h, "sam", NEW_PASSWORD)).csrf
    assert ("kim", "password_reset") in actions(h)
    assert (await kim.post("/console/api/accounts/nobody/password", {"password": NEW_PASSWORD}))[0] == 404


async def test_roles_and_the_last_staff_account(h):
    kim = await h.adviser("kim", available=False, socket=False)
    last = accounts.say("last_staff")
    assert await kim.post("/console/api/accounts/kim", {"disabled": True}) == (409, {"error": last})
    assert await kim.post("/console/api/accounts/kim", {"role": "adviser"}) == (409, {"error": last})
    assert await kim.post("/console/api/accounts/sam", {"role": "boss"}) == (400, {"error": accounts.say("unknown_role")})
    assert (await kim.post("/console/api/accounts/sam", {"role": "duty_lead", "max_chats": 0}))[0] == 400
    assert h.gateway.store.user("sam").role == "adviser"  # checked all before any is saved
    assert (await kim.post("/console/api/accounts/sam", {"disabled": "yes"}))[0] == 400
    assert (await kim.post("/console/api/accounts/nobody", {"role": "staff"}))[0] == 404
    assert (await kim.post("/console/api/accounts/sam", {"role": "staff"}))[0] == 200
    assert (await kim.post("/console/api/accounts/kim", {"disabled": True}))[0] == 200  # sam is staff now
    assert (await kim.get("/console/api/state"))[0] == 401
    assert h.gateway.store.user("kim").role == "staff"


async def test_the_page_escapes_names_and_needs_the_csrf_header(h):
    h.gateway.store.update_user("kim", display_name='<script>alert("x")</script>')
    kim = await h.adviser("kim", available=False, socket=False)
    page = await (await kim.http.get(h.base + "/console/accounts")).text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert 'src="/static/accounts.js"' in page
    status, body = await kim.post("/console/api/accounts", {"username": "jo", "password": NEW_PASSWORD}, csrf="")
    assert status == 403 and h.gateway.store.user("jo") is None
    script = await (await kim.http.get(h.base + "/static/accounts.js")).text()
    assert "innerHTML" not in script


def test_the_command_line_knows_duty_lead_and_the_password_rules(tmp_path, monkeypatch):
    from bot.gateway import users
    from bot.gateway.store import Store

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_DB_URL", url)
    monkeypatch.setenv("ADVISER_PASSWORD", "short")
    with pytest.raises(SystemExit, match="at least 12"):
        users.main(["add", "jo", "--role", "duty_lead"])
    monkeypatch.setenv("ADVISER_PASSWORD", NEW_PASSWORD)
    assert users.main(["add", "jo", "--role", "duty_lead"]) == 0
    account = Store(url).user("jo")
    assert (account.role, account.disabled, account.max_chats, account.capacity) == ("duty_lead", False, 2, 2)


def test_migration_0007_keeps_existing_accounts_and_gives_them_the_defaults(tmp_path):
    import sqlalchemy as sa
    from datetime import datetime, timezone

    from bot.gateway import migrate
    from bot.gateway.store import Store

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (username, display_name, role, password_hash, available, created_at) "
                             "VALUES ('sam', 'Sam', 'adviser', 'x', 0, :now)"), {"now": datetime.now(timezone.utc)})
    engine.dispose()
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    assert migrate.current(store.engine) == "0007"
    sam = store.user("sam")
    assert (sam.disabled, sam.max_chats, sam.chats) == (False, 2, 2)
    with store.engine.begin() as conn:
        from alembic import command
        config = migrate._config(conn)
        command.downgrade(config, "0006")
    assert "disabled" not in {c["name"] for c in sa.inspect(store.engine).get_columns("users")}

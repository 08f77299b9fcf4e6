"""The accounts page (issue 17), staff only: `GET /console/accounts` and its JSON API under
`/console/api/accounts` (list, add, change role / most chats at once / disabled, reset a password);
and `POST /console/api/capacity`, where any adviser chooses how many chats they take at once.

Every change is in the audit log (never a password). Disabling an account or resetting its password
ends every session of it: the store marks them ended, so no copy of the cookie works again, this
gateway's console sockets close now and other gateways' at their next background round (as logout
and `python -m bot.gateway.users remove` do). Passwords are hashed with argon2 in the password worker
threads, never on the event loop. Refusals are sentences from bot/gateway/texts.yml (`accounts:`).
"""
from __future__ import annotations

from typing import Any, Dict

from aiohttp import web
from aiohttp_session import get_session

from bot.gateway import accounts
from bot.gateway.console_views import TEMPLATES, _page
from bot.gateway.security import GATEWAY, csrf_token, hash_password, in_password_worker, json_body, login_required
from bot.gateway.store import User

routes = web.RouteTableDef()


def _refuse(key: str, status: int = 400, **values: Any) -> web.Response:
    return web.json_response({"error": accounts.say(key, **values)}, status=status)


def _account(gateway, user: User) -> Dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "disabled": user.disabled, "max_chats": user.max_chats, "chats": user.capacity,
            "available": user.available, "live": gateway.store.live_count(user.username)}


async def _end_sessions(gateway, username: str) -> None:
    """Every session of the account ends, everywhere (see the module's docstring)."""
    gateway.store.end_sessions_of(username)
    if gateway.store.set_available(username, False):
        gateway.store.audit(username, "unavailable", gateway.clock())
    await gateway.close_ended_consoles()
    await gateway.advisers_changed()


@routes.get("/console/accounts")
@login_required(api=False)
async def accounts_page(request: web.Request) -> web.Response:
    account = request["user"]
    if account.role != "staff":
        return web.Response(text=(TEMPLATES / "accounts_forbidden.html").read_text(encoding="utf-8"),
                            status=403, content_type="text/html", charset="utf-8")
    session = await get_session(request)
    return _page("accounts.html", csrf=csrf_token(session), adviser=account.display_name, role=account.role,
                 min_password=str(accounts.MIN_PASSWORD), max_chats=str(accounts.MAX_CHATS))


@routes.get("/console/api/accounts")
@login_required(role="staff")
async def list_accounts(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    return web.json_response({"accounts": [_account(gateway, user) for user in gateway.store.users()],
                              "roles": list(accounts.ROLES), "max_chats": accounts.MAX_CHATS,
                              "me": request["user"].username})


@routes.post("/console/api/accounts")
@login_required(role="staff")
async def add_account(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    body = await json_body(request)
    username = str(body.get("username") or "").strip().lower()
    problem = accounts.username_problem(username)
    if problem:
        return web.json_response({"error": problem}, status=400)
    display = str(body.get("display_name") or "").strip() or username
    if len(display) > 40:
        return _refuse("bad_name")
    role = body.get("role", "adviser")
    if accounts.role_problem(role):
        return _refuse("unknown_role")
    max_chats = accounts.chats_number(body.get("max_chats", accounts.DEFAULT_CHATS))
    if max_chats is None:
        return _refuse("bad_capacity", min=accounts.MIN_CHATS, max=accounts.MAX_CHATS)
    problem = accounts.password_problem(body.get("password"))
    if problem:
        return web.json_response({"error": problem}, status=400)
    if gateway.store.user(username):
        return _refuse("taken_username", 409, name=username)
    password_hash = await in_password_worker(hash_password, body["password"])
    if not gateway.store.create_user(username, display, role, password_hash, gateway.clock(), max_chats=max_chats):
        return _refuse("taken_username", 409, name=username)  # made a moment ago, on another gateway
    gateway.store.audit(request["user"].username, "account_added", gateway.clock(),
                        detail=f"{username} ({role}, {max_chats} chats)")
    return web.json_response({"account": _account(gateway, gateway.store.user(username))}, status=201)


@routes.post("/console/api/accounts/{name}")
@login_required(role="staff")
async def change_account(request: web.Request) -> web.Response:
    """Any of role, max_chats, disabled (true/false), display_name; checked all before any is saved."""
    gateway = request.app[GATEWAY]
    username = request.match_info["name"]
    body = await json_body(request)
    target = gateway.store.user(username)
    if target is None:
        return _refuse("no_account", 404, name=username)
    changes: Dict[str, Any] = {}
    if "role" in body:
        if accounts.role_problem(body["role"]):
            return _refuse("unknown_role")
        changes["role"] = body["role"]
    if "max_chats" in body:
        max_chats = accounts.chats_number(body["max_chats"])
        if max_chats is None:
            return _refuse("bad_capacity", min=accounts.MIN_CHATS, max=accounts.MAX_CHATS)
        changes["max_chats"] = max_chats
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            return _refuse("bad_disabled")
        changes["disabled"] = body["disabled"]
    if "display_name" in body:
        display = str(body["display_name"] or "").strip()
        if not display or len(display) > 40:
            return _refuse("bad_name")
        changes["display_name"] = display
    staff_after = changes.get("role", target.role) == "staff" and not changes.get("disabled", target.disabled)
    if not staff_after and gateway.store.enabled_staff() == [target.username]:
        return _refuse("last_staff", 409)
    changes = {key: value for key, value in changes.items() if getattr(target, key) != value}
    gateway.store.update_user(username, **changes)
    actor = request["user"].username
    for key, value in changes.items():
        action = {"disabled": "account_disabled" if value else "account_enabled"}.get(key, f"account_{key}")
        gateway.store.audit(actor, action, gateway.clock(), detail=f"{username}: {value}" if key != "disabled"
                            else username)
    if changes.get("disabled"):
        await _end_sessions(gateway, username)
    elif "max_chats" in changes:
        await gateway.advisers_changed()
    return web.json_response({"account": _account(gateway, gateway.store.user(username))})


@routes.post("/console/api/accounts/{name}/password")
@login_required(role="staff")
async def reset_password(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    username = request.match_info["name"]
    body = await json_body(request)
    if gateway.store.user(username) is None:
        return _refuse("no_account", 404, name=username)
    problem = accounts.password_problem(body.get("password"))
    if problem:
        return web.json_response({"error": problem}, status=400)
    gateway.store.set_password_hash(username, await in_password_worker(hash_password, body["password"]))
    gateway.store.audit(request["user"].username, "password_reset", gateway.clock(), detail=username)
    await _end_sessions(gateway, username)
    return web.json_response({"ok": True, "signed_out": username == request["user"].username})


@routes.post("/console/api/capacity")
@login_required()
async def set_capacity(request: web.Request) -> web.Response:
    """The signed-in adviser's number of chats at once, up to the most staff allow them."""
    gateway = request.app[GATEWAY]
    account = request["user"]
    body = await json_body(request)
    chats = accounts.chats_number(body.get("chats"), highest=accounts.MAX_CHATS)
    if chats is None:
        return _refuse("bad_capacity", min=accounts.MIN_CHATS, max=account.max_chats)
    if chats > account.max_chats:
        return _refuse("above_maximum", max=account.max_chats)
    gateway.store.update_user(account.username, chats=chats)
    gateway.store.audit(account.username, "capacity", gateway.clock(), detail=str(chats))
    await gateway.advisers_changed()
    return web.json_response({"chats": chats, "max_chats": account.max_chats})

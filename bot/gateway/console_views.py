"""The adviser console over HTTP: login, logout, the console page, and its JSON API."""
from __future__ import annotations

import html
import math
from pathlib import Path
from string import Template

from aiohttp import web
from aiohttp_session import get_session

from bot.gateway.conversations import Refused
from bot.gateway.texts import load_texts
from bot.gateway.security import (
    GATEWAY,
    check_password_off_loop,
    client_address,
    csrf_ok,
    csrf_token,
    hash_password,
    in_password_worker,
    json_body,
    login_required,
    needs_rehash,
    start_adviser_session,
)

TEMPLATES = Path(__file__).parent / "templates"
routes = web.RouteTableDef()


def _page(name: str, status: int = 200, **values: str) -> web.Response:
    template = Template((TEMPLATES / name).read_text(encoding="utf-8"))
    return web.Response(text=template.safe_substitute({k: html.escape(v) if k != "error" else v
                                                       for k, v in values.items()}),
                        status=status, content_type="text/html", charset="utf-8")


async def _form(request: web.Request):
    """The posted form, or None when it cannot be decoded (bytes that are not UTF-8, a broken multipart)."""
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError, AssertionError):  # aiohttp asserts a multipart part has a name
        return None


def _refused(error: Refused) -> web.Response:
    return web.json_response({"error": str(error)}, status=error.status)


@routes.get("/console/login")
async def login_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    return _page("login.html", csrf=csrf_token(session), error="")


@routes.post("/console/login")
async def login(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    session = await get_session(request)
    form = await _form(request)
    if form is None:
        return _page("login.html", status=400, csrf=csrf_token(session),
                     error='<p class="error" role="alert">The form could not be read. Please try again.</p>')
    username = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))[:1024]
    if not csrf_ok(session, form.get("csrf")):
        return _page("login.html", csrf=csrf_token(session),
                     error='<p class="error" role="alert">This page was out of date. Please try again.</p>')
    # the client address only as its keyed hash: failures are kept in the store without it in the clear
    address = gateway.address_key(client_address(request))
    now = gateway.wall()  # wall-clock seconds: failures are shared by every gateway through the store
    wait = gateway.throttle.blocked_for(username, address, now)
    if wait:
        gateway.audit_from_address(address, username or "?", "login_throttled")
        minutes = max(1, math.ceil(wait / 60))  # 900 s is 15 minutes, not 16
        return _page("login.html", csrf=csrf_token(session),
                     error=f'<p class="error" role="alert">Too many failed attempts. Try again in {minutes} '
                           f'minute{"s" if minutes != 1 else ""}.</p>')
    account = gateway.store.user(username) if username else None
    if account and account.disabled:  # the same answer as a wrong password (after the same work)
        account = None
    # Counted as failed before the check (which waits for a worker thread), so parallel guesses cannot
    # all get in before the first is counted; taken back below if the password is right.
    gateway.throttle.attempt(username, address, now)
    if not await check_password_off_loop(account.password_hash if account else None, password):
        gateway.audit_from_address(address, username or "?", "login_failed")
        return _page("login.html", csrf=csrf_token(session),
                     error='<p class="error" role="alert">The username or password is not right.</p>')
    gateway.throttle.succeeded(username, address, now)
    if needs_rehash(account.password_hash):
        gateway.store.set_password_hash(account.username, await in_password_worker(hash_password, password))
    await start_adviser_session(request, account.username, gateway.wall())
    gateway.store.audit(account.username, "login", gateway.clock())
    raise web.HTTPFound("/console")


@routes.post("/console/logout")
async def logout(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    session = await get_session(request)
    form = await _form(request) or {}
    user = session.get("user")
    if user and csrf_ok(session, form.get("csrf")):
        session_id = str(session.get("sid", ""))
        gateway.store.audit(user, "logout", gateway.clock())
        gateway.store.set_available(user, False)
        gateway.store.end_session(session_id)
        session.invalidate()
        # this gateway's console sockets of the session close now; other gateways' at their next round
        await gateway.close_console_sockets(gateway.store.sockets_of_session(session_id, gateway.owner))
        await gateway.advisers_changed()
    raise web.HTTPFound("/console/login")


@routes.get("/console")
@login_required(api=False)
async def console_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    account = request["user"]
    return _page("console.html", csrf=csrf_token(session), adviser=account.display_name, role=account.role,
                 closing=load_texts().console_closing)


@routes.get("/console/api/state")
@login_required()
async def state(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    account = request["user"]
    service = gateway.conversations
    return web.json_response({
        "adviser": {"username": account.username, "name": account.display_name, "role": account.role},
        "available": account.available,
        "capacity": {"chats": account.capacity, "max_chats": account.max_chats},  # issue 17
        "queue": [service.queue_item(c) for c in gateway.store.waiting()],
        "canned": gateway.canned(account),
    })


@routes.post("/console/api/availability")
@login_required()
async def availability(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    body = await json_body(request)
    available = body.get("available")
    if not isinstance(available, bool):
        return web.json_response({"error": "available must be true or false."}, status=400)
    gateway.store.set_available(request["user"].username, available)
    gateway.store.audit(request["user"].username, "available" if available else "unavailable", gateway.clock())
    await gateway.advisers_changed()
    return web.json_response({"available": available})


@routes.get("/console/api/conversations/{id}")
@login_required()
async def conversation(request: web.Request) -> web.Response:
    """A chat's transcript. Advisers may read chats that are queued or live (to pick one up) and those
    they took part in; staff may review any chat, and each such review is in the audit log."""
    gateway = request.app[GATEWAY]
    account = request["user"]
    conversation_id = request.match_info["id"]
    found = gateway.store.conversation(conversation_id)
    if found is None:
        return _refused(Refused("There is no such conversation.", 404))
    action = "viewed"
    if found.state not in ("queued", "live") and not gateway.store.took_part(conversation_id, account.username):
        if account.role != "staff":
            gateway.store.audit(account.username, "view_refused", gateway.clock(), conversation_id)
            return _refused(Refused("You can only open a chat that is waiting for an adviser, a live chat, or "
                                    "a chat you took part in. Ask a member of staff if you need to see it.", 403))
        action = "viewed_as_staff"
    try:
        transcript = gateway.conversations.transcript(conversation_id)
    except Refused as error:
        return _refused(error)
    gateway.store.audit(account.username, action, gateway.clock(), conversation_id)
    return web.json_response(transcript)


async def _act(request: web.Request, action) -> web.Response:
    try:
        result = await action(request.app[GATEWAY].conversations, request.match_info["id"],
                              request["user"].username)
    except Refused as error:
        return _refused(error)
    return web.json_response(result or {"ok": True})


@routes.post("/console/api/conversations/{id}/takeover")
@login_required()
async def takeover(request: web.Request) -> web.Response:
    return await _act(request, lambda service, cid, user: service.take_over(cid, user))


@routes.post("/console/api/conversations/{id}/messages")
@login_required()
async def adviser_message(request: web.Request) -> web.Response:
    body = await json_body(request)

    async def send(service, cid, user):
        message = await service.adviser_message(cid, user, body.get("text"))
        return {"message": message.public()}

    return await _act(request, send)


@routes.post("/console/api/conversations/{id}/resume")
@login_required()
async def resume(request: web.Request) -> web.Response:
    return await _act(request, lambda service, cid, user: service.hand_back(cid, user))


@routes.post("/console/api/conversations/{id}/end")
@login_required()
async def end(request: web.Request) -> web.Response:
    body = await json_body(request)
    return await _act(request, lambda service, cid, user: service.hand_back(cid, user, body.get("text") or ""))


def _canned_fields(body) -> tuple:
    title = str(body.get("title") or "").strip()[:80]
    text = str(body.get("text") or "").strip()[:4000]
    if not title or not text:
        raise Refused("A canned response needs a title and a text.")
    return title, text


async def _save_canned(request: web.Request, canned_id) -> web.Response:
    gateway = request.app[GATEWAY]
    try:
        title, text = _canned_fields(await json_body(request))
    except Refused as error:
        return _refused(error)
    saved = gateway.store.save_canned(canned_id, title, text, request["user"].username, gateway.clock())
    if not saved:
        return web.json_response({"error": "There is no such canned response."}, status=404)
    gateway.store.audit(request["user"].username, "canned_saved", gateway.clock(), detail=title)
    return web.json_response({"id": saved, "title": title, "text": text})


@routes.post("/console/api/canned")
@login_required(role="staff")
async def add_canned(request: web.Request) -> web.Response:
    return await _save_canned(request, None)


@routes.put("/console/api/canned/{canned_id:\\d+}")
@login_required(role="staff")
async def edit_canned(request: web.Request) -> web.Response:
    return await _save_canned(request, int(request.match_info["canned_id"]))


@routes.delete("/console/api/canned/{canned_id:\\d+}")
@login_required(role="staff")
async def delete_canned(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    if not gateway.store.delete_canned(int(request.match_info["canned_id"])):
        return web.json_response({"error": "There is no such canned response."}, status=404)
    gateway.store.audit(request["user"].username, "canned_deleted", gateway.clock(),
                        detail=request.match_info["canned_id"])
    return web.json_response({"ok": True})

"""Headers on every answer, adviser sessions (encrypted cookies), CSRF tokens, passwords."""
from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Optional

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
# The widget's own files are loaded by other sites' pages: they may be embedded, nothing else may.
EMBEDDABLE = ("/widget.js", "/widget.css", "/vendor/socket.io.min.js")

GATEWAY = web.AppKey("gateway")  # request.app[GATEWAY] is the running Gateway
SESSION_MAX = 12 * 3600  # an adviser logs in again after this long, however active
hasher = PasswordHasher()
DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))  # verify against this when the user is unknown


def hash_password(password: str) -> str:
    return hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older argon2 settings: rehash at the next login."""
    return hasher.check_needs_rehash(password_hash)


def check_password(password_hash: Optional[str], password: str) -> bool:
    """Constant work whether or not the user exists."""
    try:
        return hasher.verify(password_hash or DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# argon2 takes tens of milliseconds of CPU and 64 MiB of memory per hash: it runs in these two worker
# threads, never on the event loop (families' messages keep flowing during a login), and logins beyond
# two at a time wait their turn instead of using more memory.
PASSWORD_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")


async def in_password_worker(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(PASSWORD_WORKERS, function, *args)


async def check_password_off_loop(password_hash: Optional[str], password: str) -> bool:
    return await in_password_worker(check_password, password_hash, password)


def _add_headers(path: str, headers) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if path in EMBEDDABLE:
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        headers.setdefault("X-Frame-Options", "DENY")
    if path.startswith("/console"):
        headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler):
    """A Content-Security-Policy and friends on every page and every error."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _add_headers(request.path, error.headers)
        raise
    if not response.prepared:  # a websocket has already sent its headers
        _add_headers(request.path, response.headers)
    return response


def client_address(request: web.Request) -> str:
    """The family's or adviser's address: behind our own reverse proxy on loopback, the address the
    proxy saw (the last X-Forwarded-For entry, which it sets); otherwise the peer's."""
    remote = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in ("127.0.0.1", "::1"):
        return forwarded.split(",")[-1].strip() or remote
    return remote


def csrf_token(session: Session) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _comparable(value: Any) -> bytes:
    """Bytes for a constant-time comparison (hmac.compare_digest refuses non-ASCII str)."""
    return str(value).encode("utf-8", "surrogatepass")


def csrf_ok(session: Session, presented: Optional[str]) -> bool:
    expected = session.get("csrf")
    return bool(expected and presented and hmac.compare_digest(_comparable(expected), _comparable(presented)))


async def start_adviser_session(request: web.Request, username: str, now: float) -> Session:
    """A brand-new session on login (no fixation): new id, new CSRF token."""
    session = await new_session(request)
    session["user"] = username
    session["since"] = session["seen"] = now
    session["csrf"] = secrets.token_urlsafe(32)
    session["sid"] = secrets.token_urlsafe(24)  # recorded in the store: logout ends it for every copy
    request.app[GATEWAY].store.session_started(session["sid"], username, now)
    return session


async def current_user(request: web.Request, idle_seconds: float, now: Optional[float] = None) -> Optional[str]:
    """The logged-in adviser, or None; a session idle too long or over 12 hours old is ended (in the
    store too, so its console sockets close and no copy of the cookie works again)."""
    session = await get_session(request)
    user = session.get("user")
    if not user:
        return None
    now = time.time() if now is None else now
    store = request.app[GATEWAY].store
    session_id = str(session.get("sid", ""))
    ended = not store.session_open(session_id, user)
    if ended or now - float(session.get("seen", 0)) > idle_seconds or now - float(session.get("since", 0)) > SESSION_MAX:
        if not ended:
            store.end_session(session_id)
        session.invalidate()
        return None
    if now - float(session.get("seen", 0)) > 30:  # refresh the cookie (and the store's record) every 30 s at most
        session["seen"] = now
        store.session_seen(session_id, now)
    return user


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def login_required(role: Optional[str] = None, api: bool = True):
    """Guards a console handler: login, role, and the CSRF header on anything that changes state."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            gateway = request.app[GATEWAY]
            user = await current_user(request, gateway.settings.session_idle_minutes * 60, gateway.wall())
            account = gateway.store.user(user) if user else None
            if account and account.disabled:  # disabled on the accounts page: as good as signed out
                account = None
            if not account:
                if api:
                    return web.json_response({"error": "Please log in again."}, status=401)
                raise web.HTTPFound("/console/login")
            if role and account.role != role:
                return web.json_response({"error": "Only staff can do that."}, status=403)
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                session = await get_session(request)
                if not csrf_ok(session, request.headers.get("X-CSRF-Token")):
                    return web.json_response({"error": "This page is out of date. Please reload it."}, status=403)
            request["user"] = account
            return await handler(request)

        return guarded

    return decorate


async def json_body(request: web.Request, limit: int = 64 * 1024) -> Dict[str, Any]:
    """A JSON object from the request, or a 400 with a plain sentence."""
    if request.content_length and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: arrays or objects nested thousands deep
        raise web.HTTPBadRequest(text='{"error": "The request was not valid JSON."}', content_type="application/json")
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "Expected a JSON object."}', content_type="application/json")
    if _broken_text(body):
        raise web.HTTPBadRequest(text='{"error": "The request contained broken characters."}',
                                 content_type="application/json")
    return body


def _broken_text(value: Any) -> bool:
    """True if any string (or key) holds a lone surrogate (JSON allows "\\ud800"; no database stores it)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False

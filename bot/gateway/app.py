"""The gateway app: `create_app(settings)` wires the store, Rasa, socket.io and the routes together.

Run it with `python -m bot.gateway` (make run starts it beside Rasa and the action server).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import socketio
import sqlalchemy as sa
from aiohttp import web
from aiohttp_session import get_session
from aiohttp_session import setup as setup_sessions
from engineio.async_drivers import aiohttp as engineio_aiohttp
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from actions.content_store import load_content
from bot import settings as settings_mod
from bot.gateway import accounts_views, console_views, report_views, review_views
from bot.gateway.chat_stats import ChatStats
from bot.gateway.conversations import (
    ADVISERS_ROOM,
    CONSOLE_NS,
    FAMILY_NS,
    CLIENT_ID,
    ConversationService,
)
from bot.gateway.limits import AUDIT_ROWS_PER_ADDRESS, LoginThrottle
from bot.gateway.rasa_client import RasaClient
from bot.gateway.realtime import client_manager
from bot.gateway.security import GATEWAY, SESSION_MAX, client_address, security_headers
from bot.gateway.store import Store, User
from bot.gateway.texts import load_texts, page_values, render_html, render_script
from bot.handoff_decision import HandoffKind, decide, queue_closed_text
from bot.service_hours import ServicePolicy, load_policy

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
VENDOR = settings_mod.ROOT / "node_modules" / "socket.io-client" / "dist"
ADVISER_GRACE = timedelta(seconds=90)  # an adviser whose console dropped stays available this long (a reload)
SOCKET_STALE = timedelta(seconds=30)  # a console socket no gateway has vouched for this long is gone
RETENTION_EVERY = timedelta(days=1)  # old transcripts are deleted at most this often
ADDRESS_KEPT = timedelta(days=1)  # a quiet chat (not queued or live) keeps its address key this long
RETENTION_RETRY = timedelta(hours=1)  # after a failed deletion, try again this much later
RETENTION_CHECK_SECONDS = 60
RETENTION_ACTOR = "retention job"


class MalformedPacketsOnOneLine(logging.Filter):
    """python-engineio logs a full traceback at ERROR for every malformed packet a client sends (bad
    UTF-8, a broken packet, JSON nested thousands deep), so one client could flood the log. Those
    become one WARNING line each; other errors keep their traceback."""

    CLIENT_FAULTS = (UnicodeDecodeError, ValueError, RecursionError, IndexError)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.levelno >= logging.ERROR and isinstance(error, self.CLIENT_FAULTS):
            record.msg = f"malformed packet from a client ({record.getMessage()}): {type(error).__name__}"
            record.args = ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


for _name in ("engineio.server", "socketio.server"):
    logging.getLogger(_name).addFilter(MalformedPacketsOnOneLine())


class BoundedWebSocket(engineio_aiohttp.WebSocket):
    """Engine.IO's aiohttp websocket reads frames of any size (max_msg_size=0), and inflates compressed
    ones (permessage-deflate) without a bound, before Engine.IO compares them with max_http_buffer_size.
    This one lets aiohttp refuse a larger frame itself (close code 1009), inflated size included."""

    def __init__(self, handler, server):
        super().__init__(handler, server)
        self.max_bytes = int(server.max_http_buffer_size) + 1  # aiohttp refuses sizes >= its limit

    async def __call__(self, environ):
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(max_msg_size=self.max_bytes)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Gateway:
    """Everything one gateway process holds. Handlers reach it as request.app[GATEWAY]."""

    def __init__(self, settings: settings_mod.Settings, *, rasa_token: str, internal_token: str,
                 policy: ServicePolicy, clock: Callable[[], datetime] = utc_now,
                 monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 background: bool = True):
        self.settings = settings
        self.internal_token = internal_token
        self.policy = policy
        self.clock = clock
        self.monotonic = monotonic
        self.wall = wall
        self.background = background
        self.retrain_cfg = None  # bot.retrain's RetrainConfig, made on first use (review_views.retrain_config)
        self.retention_ran: Optional[datetime] = None  # when the daily retention job last ran (gateway clock)
        # This process's name in the store (delivery leases, console sockets): unique per start, so a
        # restarted gateway never vouches for its predecessor's sockets.
        self.owner = f"{settings.instance}/{secrets.token_hex(4)}"
        self.store = Store(settings.gateway_db_url)
        self.store.seed_canned(clock())
        self.rasa = RasaClient(settings.rasa_url, rasa_token, action_url=settings.action_url)
        self.sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*",
                                        client_manager=client_manager(settings.redis_url),
                                        # SOCKET_BUFFER_BYTES (32 KB): a paste over MAX_MESSAGE_CHARS but under
                                        # this gets the polite "too long" reply; a bigger packet closes that
                                        # socket (the widget reconnects; nothing accepted is lost)
                                        max_http_buffer_size=settings.socket_buffer_bytes, logger=False,
                                        engineio_logger=False)
        self.sio.eio._async = dict(self.sio.eio._async, websocket=BoundedWebSocket)  # this server only
        # Client addresses are kept only as a keyed hash (one key for every gateway: SESSION_SECRET).
        self._address_secret = settings_mod.session_secret(settings).encode()
        self.throttle = LoginThrottle(self.store)
        self._unseen_since: Dict[str, datetime] = {}  # available advisers with no console open, since when
        self.conversations = ConversationService(
            self.store, self.rasa, self.sio, clock, monotonic, owner=self.owner,
            max_chars=settings.max_message_chars, rate=settings.rate_limit,
            can_queue=lambda now, advisers: decide(policy, now, advisers).kind is HandoffKind.QUEUE,
            queue_closed_text=lambda now, why: queue_closed_text(decide(policy, now, 0), load_content()),
            display_name=self.display_name, new_chats=settings.new_chats_per_address,
            queue_places=settings.queue_places_per_address, address_messages=settings.messages_per_address,
            resume_idle=timedelta(minutes=settings.resume_idle_minutes),
            stats=ChatStats(self.store.engine, staffed=lambda now: policy.is_open("webchat", now)))

    def audit_from_address(self, address_key: str, actor: str, action: str) -> None:
        """An audit row caused by someone not signed in (a failed or throttled login): at most
        AUDIT_ROWS_PER_ADDRESS for one client address (its key), shared with the family side's refusals."""
        now = self.clock()
        if self.conversations.audit_cap.allow(address_key, now.timestamp()):
            self.store.audit(actor, action, now)

    def forget_old_limits(self, now: datetime) -> None:
        """Counted events and failed logins past every limit's window, and the address keys of chats
        quiet for a day, are deleted: nothing about a client address is kept longer than a limit needs."""
        wall = self.wall()
        windows = [self.settings.new_chats_per_address[1], self.settings.messages_per_address[1],
                   AUDIT_ROWS_PER_ADDRESS[1]]
        self.store.prune_events(wall - max(windows))
        self.store.prune_failures(wall - self.throttle.longest_window)
        self.store.forget_addresses(now - ADDRESS_KEPT)

    def address_key(self, address: str) -> str:
        """What the store keeps of a client address: a keyed hash, the same on every gateway."""
        return hmac.new(self._address_secret, address.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()[:32]

    @property
    def idle_seconds(self) -> float:
        return self.settings.session_idle_minutes * 60

    async def close_console_sockets(self, sids: List[str]) -> None:
        """Disconnect these console sockets of this gateway (their session has ended)."""
        for sid in sids:
            self.store.socket_closed(sid)
            await self.sio.disconnect(sid, namespace=CONSOLE_NS, ignore_queue=True)

    async def close_ended_consoles(self) -> None:
        """No console socket outlives its session: logout (on any gateway), the idle timeout, the
        12-hour limit or the account's removal closes it within one background round."""
        await self.close_console_sockets(
            self.store.sockets_to_close(self.owner, self.wall(), self.idle_seconds, SESSION_MAX))

    def display_name(self, username: Optional[str]) -> str:
        account = self.store.user(username) if username else None
        return account.display_name if account else (username or "")

    def canned(self, account: User) -> List[Dict[str, Any]]:
        return [dict(item, text=item["text"].replace("{adviser}", account.display_name))
                for item in self.store.canned_responses()]

    def advisers_available(self) -> int:
        """For the handoff decision: available advisers under their capacity (issue 17)."""
        return len(self.store.advisers_with_room())

    async def advisers_changed(self) -> None:
        """An adviser became (un)available: if nobody is left, the families waiting are told."""
        await self.conversations.sweep()
        await self.conversations.queue_changed()

    async def tick(self) -> None:
        """One round of background work (every gateway runs it): vouch for this gateway's console
        sockets, close those whose session has ended, mark advisers whose consoles are gone unavailable, answer messages kept while Rasa
        was down, check the queue."""
        now = self.clock()
        self.store.sockets_seen(self.owner, now)
        self.store.forget_sockets(now - SOCKET_STALE)
        await self.close_ended_consoles()
        self.forget_old_limits(now)
        await self.check_advisers_present(now)
        await self.conversations.retry_pending()
        await self.conversations.sweep()

    async def check_advisers_present(self, now: datetime) -> None:
        """An available adviser with no console open on any gateway for ADVISER_GRACE (a reload is
        shorter) becomes unavailable, and a queue left without advisers is told."""
        changed = False
        for user in self.store.available_advisers():
            if self.store.open_sockets(user, now - SOCKET_STALE):
                self._unseen_since.pop(user, None)
                continue
            since = self._unseen_since.setdefault(user, now)
            if now - since >= ADVISER_GRACE and self.store.set_available(user, False):
                self._unseen_since.pop(user, None)
                self.store.audit(user, "offline", now)
                changed = True
        if changed:
            await self.advisers_changed()

    async def daily_retention(self) -> bool:
        """Delete transcripts older than the retention period (config/retrain.yml `retention.days`) from
        the tracker store and this store, at most once a day (by the gateway's clock), in a worker
        thread. True if it ran now. A failed run is tried again an hour later."""
        now = self.clock()
        if self.retention_ran is not None and now - self.retention_ran < RETENTION_EVERY:
            return False
        from bot.retrain.retention import delete_older_than

        loop = asyncio.get_running_loop()
        try:
            cfg = review_views.retrain_config(self)
            if self.retention_ran is None:  # just started: it may have run shortly before a restart
                self.retention_ran = await loop.run_in_executor(
                    None, review_views.last_retention_run, cfg, RETENTION_ACTOR)
                if self.retention_ran is not None and now - self.retention_ran < RETENTION_EVERY:
                    return False
            self.retention_ran = now
            deleted = await loop.run_in_executor(None, lambda: delete_older_than(cfg, now=now, actor=RETENTION_ACTOR))
        except Exception:
            self.retention_ran = now - RETENTION_EVERY + RETENTION_RETRY
            raise
        await loop.run_in_executor(None, self.store.purge_personal_audit,
                                   now - timedelta(days=cfg.retention_days))
        self.store.audit(RETENTION_ACTOR, "retention_purge", now,
                         detail=", ".join(f"{k}={v}" for k, v in deleted.to_dict().items()))
        return True

    async def run_background(self, app: web.Application):
        tasks = [asyncio.ensure_future(self._loop()), asyncio.ensure_future(self._retention_loop())] \
            if self.background else []
        await self.rasa.start()
        yield
        for task in tasks:
            task.cancel()
        await self.rasa.close()
        self.store.close()

    async def disconnect_everyone(self, app: web.Application) -> None:
        """On shutdown, close every socket so the process stops at once; widgets reconnect by themselves."""
        for namespace in list(self.sio.manager.get_namespaces()):
            for sid, _ in list(self.sio.manager.get_participants(namespace, None)):
                if namespace == CONSOLE_NS:
                    self.store.socket_closed(sid)
                await self.sio.disconnect(sid, namespace=namespace, ignore_queue=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(2)
            try:
                await self.tick()
            except Exception:  # never let one bad round stop the loop
                log.exception("background round failed")

    async def _retention_loop(self) -> None:
        """A timer of its own, so a long deletion never holds up the queue and the retries above."""
        while True:
            try:
                self.store.forget_sessions(started_before=self.wall() - SESSION_MAX)  # expired anyway
                await self.daily_retention()
            except Exception:
                log.exception("the daily retention job failed; it will be tried again in an hour")
            await asyncio.sleep(RETENTION_CHECK_SECONDS)


# -- family sockets (Rasa's socket.io channel protocol) ----------------------------------------
def register_family_events(gateway: Gateway) -> None:
    sio, service = gateway.sio, gateway.conversations

    def on(event: str):
        """A family event handler that survives the store being unreachable (PostgreSQL restarting):
        the socket is closed, so the widget shows "Reconnecting... call 0808 801 0366", keeps the
        message in its outbox and sends it again when it reconnects (every few seconds)."""
        def register(handler):
            async def guarded(sid, *args):
                try:
                    return await handler(sid, *args)
                except sa.exc.DBAPIError as error:
                    log.warning("store unavailable during %s (%s); closing the family socket", event,
                                type(error.orig).__name__ if error.orig else error)
                    await sio.disconnect(sid, namespace=FAMILY_NS, ignore_queue=True)
            sio.on(event, namespace=FAMILY_NS)(guarded)
            return handler
        return register

    async def conversation_of(sid: str) -> Optional[str]:
        session = await sio.get_session(sid, namespace=FAMILY_NS)
        return session.get("conversation_id")

    @sio.on("connect", namespace=FAMILY_NS)
    async def connect(sid, environ, auth=None):
        request = environ.get("aiohttp.request")
        # the address as client_address sees it (behind our proxy on loopback: X-Forwarded-For's last)
        address = client_address(request) if request is not None else "?"
        await sio.save_session(sid, {"address_key": gateway.address_key(address)}, namespace=FAMILY_NS)

    @on("session_request")
    async def session_request(sid, data=None, client_id=None):
        requested = data.get("session_id") if isinstance(data, dict) else None
        session = await sio.get_session(sid, namespace=FAMILY_NS)
        conversation_id = service.open_session(requested, lambda: secrets.token_hex(16), session.get("address_key"))
        if conversation_id is None:  # too many new chats from this address: no session_confirm
            metadata = {"message": {"id": None, "sender": "system", "text": service.texts.too_many_chats,
                                    "urgent": False, "ask_feedback": False}}
            if isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id):
                metadata["rejected_client_id"] = client_id
            await sio.emit("bot_uttered", {"text": service.texts.too_many_chats, "metadata": metadata},
                           to=sid, namespace=FAMILY_NS)
            return
        previous = session.get("conversation_id")
        if previous and previous != conversation_id:
            await sio.leave_room(sid, previous, namespace=FAMILY_NS)
        await sio.save_session(sid, {"conversation_id": conversation_id, "address_key": session.get("address_key")},
                               namespace=FAMILY_NS)
        await sio.enter_room(sid, conversation_id, namespace=FAMILY_NS)
        await sio.emit("session_confirm", conversation_id, to=sid, namespace=FAMILY_NS)
        state = service.family_state(conversation_id)
        if state["state"] != "bot":
            await sio.emit("handoff", state, to=sid, namespace=FAMILY_NS)

    @on("user_uttered")
    async def user_uttered(sid, data=None):
        data = data if isinstance(data, dict) else {}
        conversation_id = await conversation_of(sid)
        if not conversation_id:  # a widget that skipped session_request
            await session_request(sid, {"session_id": data.get("session_id")}, data.get("client_id"))
            conversation_id = await conversation_of(sid)
            if not conversation_id:
                return  # refused (too many new chats from this address), and told so
        await service.family_message(conversation_id, data.get("message"), data.get("client_id"))

    @on("end_chat")
    async def end_chat(sid, data=None):
        """Ours: "End chat and clear" in the widget. The chat ends (its queue place too) and this socket
        has no chat until it asks for a new one; the answer (a socket.io ack) says whether one ended."""
        session = await sio.get_session(sid, namespace=FAMILY_NS)
        conversation_id = session.get("conversation_id")
        if not conversation_id:
            return {"ended": False}
        ended = await service.family_ended(conversation_id)
        await sio.leave_room(sid, conversation_id, namespace=FAMILY_NS)
        await sio.save_session(sid, {"address_key": session.get("address_key")}, namespace=FAMILY_NS)
        return {"ended": ended}

    @on("history_request")
    async def history_request(sid, data=None):
        conversation_id = await conversation_of(sid)
        if conversation_id:
            after = data.get("after_seq") if isinstance(data, dict) else 0
            await sio.emit("history", await service.history(conversation_id, after), to=sid, namespace=FAMILY_NS)

    @on("user_typing")
    async def user_typing(sid, data=None):
        conversation_id = await conversation_of(sid)
        if conversation_id:
            await service.family_typing(conversation_id, isinstance(data, dict) and data.get("typing"))

    @on("feedback")
    async def feedback(sid, data=None):
        conversation_id = await conversation_of(sid)
        if conversation_id and isinstance(data, dict):
            await service.feedback(conversation_id, data.get("message_id"), data.get("helpful"))


# -- adviser sockets -------------------------------------------------------------------------
def register_console_events(gateway: Gateway) -> None:
    from bot.gateway.security import current_user

    sio = gateway.sio

    @sio.on("connect", namespace=CONSOLE_NS)
    async def connect(sid, environ, auth=None):
        request = environ.get("aiohttp.request")
        if request is None:
            return False
        origin = request.headers.get("Origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            return False  # another site's page may not open an adviser socket
        user = await current_user(request, gateway.idle_seconds, gateway.wall())
        if not user or not gateway.store.user(user):
            return False
        session_id = str((await get_session(request)).get("sid", ""))
        await sio.save_session(sid, {"user": user, "session": session_id}, namespace=CONSOLE_NS)
        await sio.enter_room(sid, ADVISERS_ROOM, namespace=CONSOLE_NS)
        gateway.store.socket_opened(sid, user, gateway.owner, gateway.clock(), session_id=session_id)
        return True

    @sio.on("disconnect", namespace=CONSOLE_NS)
    async def disconnect(sid):
        gateway.store.socket_closed(sid)  # the background round marks the adviser away after a grace

    async def still_signed_in(sid: str) -> bool:
        """Every console event first checks the socket's session (ended by logout on any gateway, idle,
        too old, or the account removed): if it is over, the socket is closed and the event ignored."""
        if gateway.store.socket_alive(sid, gateway.wall(), gateway.idle_seconds, SESSION_MAX):
            return True
        await gateway.close_console_sockets([sid])
        return False

    @sio.on("adviser_typing", namespace=CONSOLE_NS)
    async def adviser_typing(sid, data=None):
        if not await still_signed_in(sid):
            return
        session = await sio.get_session(sid, namespace=CONSOLE_NS)
        if isinstance(data, dict) and isinstance(data.get("conversation_id"), str):
            await gateway.conversations.adviser_typing(data["conversation_id"], session.get("user"),
                                                       data.get("typing"))


# -- HTTP ------------------------------------------------------------------------------------
async def family_page(request: web.Request) -> web.Response:
    """templates/index.html with the hours from config/service_hours.yml written in (HTML-escaped)."""
    page = render_html((TEMPLATES / "index.html").read_text(encoding="utf-8"), page_values(load_texts()))
    return web.Response(text=page, content_type="text/html", charset="utf-8")


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or len(name) > 255 or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def widget_file(request: web.Request) -> web.StreamResponse:
    if request.path != "/widget.js":
        return web.FileResponse(STATIC / request.path.lstrip("/"))
    # The widget's words about the advice line come from texts.yml and config/service_hours.yml.
    script = render_script((STATIC / "widget.js").read_text(encoding="utf-8"), page_values(load_texts()))
    return web.Response(text=script, content_type="application/javascript", charset="utf-8")


async def socketio_client(request: web.Request) -> web.StreamResponse:
    path = VENDOR / "socket.io.min.js"
    if not path.is_file():
        raise web.HTTPServiceUnavailable(text="socket.io client missing: run `make setup`")
    return web.FileResponse(path)


@web.middleware
async def engineio_answers(request: web.Request, handler):
    """Engine.IO's handler returns None when a websocket ends abruptly; aiohttp wants a response."""
    response = await handler(request)
    return response if response is not None else web.Response(status=204)


@web.middleware
async def store_unavailable(request: web.Request, handler):
    """While the store is unreachable (a database restart), pages and the console API answer 503
    with a sentence, and the console tries again, instead of a bare 500."""
    try:
        return await handler(request)
    except sa.exc.DBAPIError as error:
        log.warning("store unavailable for %s %s: %s", request.method, request.path, type(error).__name__)
        text = "The service is briefly unavailable. Please try again in a moment."
        if request.path.startswith("/console/api") or "json" in request.headers.get("Accept", ""):
            return web.json_response({"error": text}, status=503, headers={"Retry-After": "5"})
        return web.Response(text=text, status=503, headers={"Retry-After": "5"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def internal_availability(request: web.Request) -> web.Response:
    """For the action server: how many advisers are available right now (needs the internal token)."""
    gateway: Gateway = request.app[GATEWAY]
    presented = request.headers.get("X-Internal-Token", "").encode("utf-8", "surrogateescape")
    if not secrets.compare_digest(presented, gateway.internal_token.encode()):
        return web.json_response({"error": "forbidden"}, status=403)
    return web.json_response({"advisers_available": gateway.advisers_available()})


def create_app(settings: Optional[settings_mod.Settings] = None, **overrides: Any) -> web.Application:
    """The gateway as an aiohttp app. Tests pass a clock, a policy and `background=False`."""
    settings = settings or settings_mod.load()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    overrides.setdefault("rasa_token", settings_mod.rasa_token(settings))
    overrides.setdefault("internal_token", settings_mod.internal_token(settings))
    overrides.setdefault("policy", load_policy())
    gateway = Gateway(settings, **overrides)
    app = web.Application(middlewares=[security_headers], client_max_size=256 * 1024)
    app[GATEWAY] = gateway
    # No max_age: the cookie ends with the browser. The session itself ends after SESSION_IDLE_MINUTES
    # idle and SESSION_MAX (12 h) in any case (security.current_user, checked against the store).
    setup_sessions(app, EncryptedCookieStorage(
        settings_mod.session_secret(settings), cookie_name="adviser_session", httponly=True,
        secure=settings.cookie_secure, samesite="Strict", max_age=None, path="/"))
    app.middlewares.append(store_unavailable)
    app.middlewares.append(engineio_answers)  # innermost: after the session middleware
    gateway.sio.attach(app, socketio_path="socket.io")
    register_family_events(gateway)
    register_console_events(gateway)
    app.router.add_get("/", family_page)
    app.router.add_get("/widget.js", widget_file)
    app.router.add_get("/widget.css", widget_file)
    app.router.add_get("/vendor/socket.io.min.js", socketio_client)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/health", health)
    app.router.add_get("/favicon.ico", lambda request: web.Response(status=204))
    app.router.add_get("/internal/availability", internal_availability)
    app.add_routes(console_views.routes)
    app.add_routes(review_views.routes)
    app.add_routes(report_views.routes)
    app.add_routes(accounts_views.routes)
    app.cleanup_ctx.append(gateway.run_background)
    app.on_shutdown.append(gateway.disconnect_everyone)
    return app

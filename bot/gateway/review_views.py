"""The staff review page (issue 6): review inbox, labelling, retraining, evaluation, promotion and
rollback, which model is live, and deleting a conversation on request. Staff only.

A thin HTTP layer over the retraining library `bot.retrain` (the same code as `python -m bot.retrain`).
The library blocks (files, databases, child processes), so every call runs in a worker thread. The
library writes its own audit log (config/retrain.yml `paths.audit_log`); every action is also in the
gateway's audit table.

Page: `GET /console/review`. JSON API (staff only; POST needs the X-CSRF-Token header; errors are
`{"error": "plain sentence"}` with a 4xx status):

| method and path                                  | body                                                |
|--------------------------------------------------|-----------------------------------------------------|
| GET  /console/api/review/inbox                   |                                                     |
| POST /console/api/review/decisions               | {"id", "intent"}, {"id", "not_useful": true} or     |
|                                                  | {"id", "new_intent"}; optional "note"               |
| POST /console/api/review/train                   |                                                     |
| GET  /console/api/review/status                  |                                                     |
| GET  /console/api/review/report/{name}           |                                                     |
| GET  /console/api/review/files/{name}/{file}.png |                                                     |
| POST /console/api/review/promote                 | {"candidate": the name the page shows}              |
| POST /console/api/review/rollback                |                                                     |
| GET  /console/api/review/live                    |                                                     |
| POST /console/api/review/delete-conversation     | {"conversation_id"}                                 |
| POST /console/api/review/personal-detail         | {"id", "start", "end", "label", "shown"}: words the |
|                                                  | redactor left in (bot/retrain/misses.py)            |

Where the library works: config/retrain.yml of the project folder (this repository, or RETRAIN_PROJECT;
the settings file RETRAIN_CONFIG), with the databases, Rasa server, token and models folder the gateway
itself uses. When the gateway runs with its own VAR_DIR (a private copy, e.g. in tests), the work folder
and audit log that config/retrain.yml puts under var/ move into that VAR_DIR too. Tests may set
`gateway.retrain_cfg` to any RetrainConfig.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from aiohttp import web
from aiohttp_session import get_session

from bot.gateway.console_views import _page
from bot.gateway.security import GATEWAY, csrf_token, json_body, login_required
from bot.retrain.config import ConfigError, RetrainConfig, load_config

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
API = "/console/api/review"

_ITEM_ID = re.compile(r"^[0-9a-f]{8}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")   # a candidate (work folder) name
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.png$")
_CONVERSATION = re.compile(r"^[^\s/\\]{1,128}$")
_RUNNING = ("starting", "running", "evaluating")
IMAGE_TEXT = {
    "confusion": ("Confusion matrix of the candidate on the held-out sets: one row for each true intent, one "
                  "column for each intent the candidate predicted, with the number of held-out messages in "
                  "each cell. The per-intent table gives the same results as numbers."),
    "comparison": ("Bar chart of F1 for each intent, the live model's bar beside the candidate's. The "
                   "per-intent table gives the same numbers."),
}

FORBIDDEN_PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Staff only: adviser console</title>
  <link rel="stylesheet" href="/static/console.css">
</head>
<body class="login-page">
  <main id="main" class="login">
    <h1>Staff only</h1>
    <p class="login-intro">Only staff can review messages and retrain the assistant. If you need to do this,
      ask a member of staff.</p>
    <p><a href="/console">Back to the adviser console</a></p>
  </main>
</body>
</html>
"""


# -- where the library works -----------------------------------------------------------------
def build_config(settings, rasa_token: Optional[str], env=os.environ) -> RetrainConfig:
    """The retraining settings for this gateway: config/retrain.yml of the project folder, with the
    gateway's own databases, Rasa server, token and models folder (see the module docstring)."""
    project, settings_file = env.get("RETRAIN_PROJECT"), env.get("RETRAIN_CONFIG")
    cfg = load_config(Path(settings_file) if settings_file else None, Path(project) if project else None)
    default_var, var_dir = (cfg.root / "var").resolve(), Path(settings.var_dir).resolve()

    def in_var_dir(path: Path) -> Path:
        if var_dir == default_var:
            return path
        try:
            return var_dir / Path(path).resolve().relative_to(default_var)
        except ValueError:  # set elsewhere on purpose in config/retrain.yml: kept
            return path

    models = Path(settings.model_dir)
    return cfg.with_changes(
        tracker_db=str(settings.tracker_db), gateway_db_url=settings.gateway_db_url, rasa_url=settings.rasa_url,
        rasa_token=rasa_token or cfg.rasa_token, models_dir=models if models.is_absolute() else cfg.root / models,
        work_dir=in_var_dir(cfg.work_dir), audit_log=in_var_dir(cfg.audit_log))


def retrain_config(gateway) -> RetrainConfig:
    """The gateway's RetrainConfig, made once (raises ConfigError if config/retrain.yml is wrong)."""
    if gateway.retrain_cfg is None:
        gateway.retrain_cfg = build_config(gateway.settings, gateway.rasa.token)
    return gateway.retrain_cfg


def last_retention_run(cfg: RetrainConfig, actor: str) -> Optional[datetime]:
    """When `actor` last deleted old transcripts, from the retraining audit log (None: never)."""
    from bot.retrain.audit import AuditLog

    last = None
    for entry in AuditLog(cfg.audit_log).entries():
        if entry.get("action") == "purge" and entry.get("actor") == actor:
            last = entry.get("at")
    if not last:
        return None
    moment = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- helpers ---------------------------------------------------------------------------------
class Problem(Exception):
    """An answer to give instead of a result: a plain sentence and an HTTP status."""

    def __init__(self, message: str, status: int = 400, **extra: Any):
        super().__init__(message)
        self.status, self.extra = status, extra


def sentence(text: Any) -> str:
    """The library's messages ("no message with id ...") as a sentence for the page."""
    text = str(text).strip() or "That did not work."
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def _error(message: str, status: int = 400, **extra: Any) -> web.Response:
    return web.json_response(dict({"error": message}, **extra), status=status)


async def blocking(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking library call in a worker thread."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args, **kwargs))


def staff_api(handler):
    """Staff only (login_required), the configuration ready, library errors as plain sentences."""

    @login_required(role="staff")
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        from bot.retrain.privacy import RedactionUnavailable

        gateway = request.app[GATEWAY]
        try:
            cfg = retrain_config(gateway)
        except ConfigError as error:
            return _error(f"The retraining settings are not right: {error}. Ask a developer to fix "
                          "config/retrain.yml.", 503)
        try:
            return await handler(request, gateway, cfg, request["user"].username)
        except Problem as problem:
            return _error(str(problem), problem.status, **problem.extra)
        except RedactionUnavailable as error:
            return _error(sentence(error), 503)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("review page: %s %s failed", request.method, request.path)
            return _error("Something went wrong on the server, so that was not done. The details are in the "
                          "gateway's log.", 500)

    return guarded


def _audit(gateway, user: str, action: str, detail: str = "", conversation_id: Optional[str] = None) -> None:
    gateway.store.audit(user, action, gateway.clock(), conversation_id, detail=detail[:500])


def _server(cfg: RetrainConfig):
    from bot.retrain.config import rasa_token
    from bot.retrain.model_server import ModelFleet

    return ModelFleet(cfg.all_rasa_servers, rasa_token(cfg))


def _short(text: str, limit: int = 64) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- the page --------------------------------------------------------------------------------
@routes.get("/console/review")
@login_required(api=False)
async def review_page(request: web.Request) -> web.Response:
    account = request["user"]
    if account.role != "staff":
        return web.Response(text=FORBIDDEN_PAGE, status=403, content_type="text/html", charset="utf-8")
    session = await get_session(request)
    return _page("review.html", csrf=csrf_token(session), adviser=account.display_name, role=account.role)


# -- 1. the inbox ----------------------------------------------------------------------------
def _load_inbox(cfg: RetrainConfig, now: datetime) -> Dict[str, Any]:
    from bot.retrain import inbox, labels

    items = [item.to_dict() for item in inbox.load_inbox(cfg, now)]
    intents = [name for name in labels.domain_intents(cfg.domain) if name != inbox.FALLBACK_INTENT]
    return {"items": items, "intents": intents, "days": cfg.inbox.days,
            "low_confidence": cfg.inbox.low_confidence}


@routes.get(API + "/inbox")
@staff_api
async def inbox_list(request, gateway, cfg, user) -> web.Response:
    answer = await blocking(_load_inbox, cfg, gateway.clock())
    _audit(gateway, user, "review_inbox_viewed", f"{len(answer['items'])} items")
    return web.json_response(answer)


def _text_field(body: Dict[str, Any], key: str, limit: int = 64) -> Optional[str]:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Problem(f"{key.replace('_', ' ').capitalize()} must be a short piece of text.")
    return value.strip() or None


@routes.post(API + "/decisions")
@staff_api
async def decision(request, gateway, cfg, user) -> web.Response:
    from bot.retrain.audit import AuditError
    from bot.retrain.labels import LabelRefused, decide

    body = await json_body(request)
    item_id = body.get("id")
    if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
        raise Problem("Which message? The request did not say.")
    intent, new_intent = _text_field(body, "intent"), _text_field(body, "new_intent")
    note = _text_field(body, "note", 500)
    not_useful = body.get("not_useful") is True
    if sum([bool(intent), not_useful, bool(new_intent)]) != 1:
        raise Problem("Choose one thing to do with the message: an intent, not useful, or a new intent name.")
    try:
        done = await blocking(decide, cfg, item_id, user, gateway.clock(), intent=intent, not_useful=not_useful,
                              new_intent=new_intent, note=note)
    except (LabelRefused, AuditError) as refused:
        _audit(gateway, user, "review_label_refused", f"{item_id}: {_short(refused, 400)}")
        raise Problem(sentence(refused), 409)
    action = done["action"]
    if action == "label":
        message = f"Added to {done['intent']} ({done['file']}, line {done['line']})."
        detail = f"{item_id} -> {done['intent']} ({done['file']}:{done['line']})"
    elif action == "not_useful":
        message, detail = "Marked not useful: it will not be shown again.", item_id
    else:
        message = f"Suggested a new intent, {done['intent']}, for the developers."
        detail = f"{item_id} -> new intent {done['intent']}"
    _audit(gateway, user, f"review_{action}", detail)
    return web.json_response({"ok": True, "id": item_id, "result": done, "message": message})


# -- 2. retraining ---------------------------------------------------------------------------
def _status(cfg: RetrainConfig) -> Dict[str, Any]:
    from bot.retrain.training import read_status

    status = dict(read_status(cfg))
    status["running"] = status.get("state") in _RUNNING
    status.pop("candidate_path", None)  # the page names candidates; it never needs server paths
    status.pop("report", None)
    status["has_report"] = bool(status.get("candidate")) and _report_path(cfg, status["candidate"]).exists()
    return status


def _report_path(cfg: RetrainConfig, name: str) -> Path:
    return cfg.work_dir / name.replace(".tar.gz", "") / "report.json"


@routes.post(API + "/train")
@staff_api
async def train(request, gateway, cfg, user) -> web.Response:
    from bot.retrain.training import TrainingBusy, start_training

    try:
        job = await blocking(start_training, cfg, user, clock=gateway.clock, server=_server(cfg))
    except TrainingBusy as busy:
        raise Problem(sentence(busy), 409)
    _audit(gateway, user, "review_train", job.name)
    return web.json_response(await blocking(_status, cfg), status=202)


@routes.get(API + "/status")
@staff_api
async def status(request, gateway, cfg, user) -> web.Response:
    return web.json_response(await blocking(_status, cfg))


# -- 3. evaluation and promotion -------------------------------------------------------------
def _candidate_name(name: str) -> str:
    name = name[:-len(".tar.gz")] if name.endswith(".tar.gz") else name
    if not _NAME.match(name) or ".." in name:
        raise Problem("There is no such candidate.", 404)
    return name


def _verdict(cfg: RetrainConfig, report: Dict[str, Any], name: str) -> Dict[str, Any]:
    """May this candidate be put live now? The same checks `promote` makes, against the model live now."""
    from bot.retrain import deploy

    candidate = cfg.candidates_dir / f"{name}.tar.gz"
    if (cfg.models_dir / candidate.name).exists():
        return {"ok": False, "already_live": True,
                "reasons": [f"it has already been put live once ({cfg.models_dir.name}/{candidate.name}); "
                            "retrain to make a new candidate"]}
    reasons = deploy.check_candidate(cfg, candidate, report, deploy.current_live(cfg, _server(cfg)))
    return {"ok": not reasons, "already_live": False, "reasons": reasons}


def _report(cfg: RetrainConfig, name: str) -> Optional[Dict[str, Any]]:
    from bot.retrain.evaluation import read_report

    report = read_report(cfg, name)
    if report is None:
        return None
    images = []
    for key, text in IMAGE_TEXT.items():
        if (cfg.work_dir / name / f"{key}.png").is_file():
            images.append({"name": key, "url": f"{API}/files/{name}/{key}.png", "alt": text})
    live_intents = report["live"].get("per_intent") or {}
    candidate_intents = report["candidate"].get("per_intent") or {}
    per_intent = {intent: {"live": live_intents.get(intent), "candidate": candidate_intents.get(intent)}
                  for intent in sorted(set(live_intents) | set(candidate_intents))}
    decision = report.get("gate") or {}
    held_out = [{"name": s.get("name"), "file": Path(str(s.get("file") or "")).name, "messages": s.get("messages")}
                for s in report.get("held_out") or []]
    return {
        "candidate": name,
        "evaluated_at": report.get("evaluated_at"),
        "messages": report.get("messages"),
        "test_set": ", ".join(s["file"] for s in held_out) or Path(str(report.get("test_set") or "")).name,
        "held_out": held_out,
        "live": {"model": Path(str(report["live"].get("model") or "")).name,
                 "accuracy": report["live"].get("accuracy"), "macro_f1": report["live"].get("macro_f1")},
        "candidate_scores": {"model": Path(str(report["candidate"].get("model") or "")).name,
                             "accuracy": report["candidate"].get("accuracy"),
                             "macro_f1": report["candidate"].get("macro_f1")},
        "per_intent": per_intent,
        "rules": {"confidence": cfg.promotion.confidence, "resamples": cfg.promotion.resamples,
                  "seed": cfg.promotion.seed},
        "evaluation_verdict": report.get("promotion"),
        # the promotion gate's evidence (bot/retrain/gate.py): what the page shows before the verdict
        "decision": {"verdict": decision.get("verdict"), "overall": decision.get("overall"),
                     "sets": decision.get("sets") or [], "intents": decision.get("intents") or [],
                     "crisis": decision.get("crisis"), "labels": decision.get("labels"),
                     "changed": decision.get("changed") or []} if decision else None,
        "verdict": _verdict(cfg, report, name),
        "images": images,
    }


@routes.get(API + "/report/{name}")
@staff_api
async def report(request, gateway, cfg, user) -> web.Response:
    name = _candidate_name(request.match_info["name"])
    answer = await blocking(_report, cfg, name)
    if answer is None:
        raise Problem(f"{name} has not been evaluated yet.", 404)
    return web.json_response(answer)


@routes.get(API + "/files/{name}/{file}")
@staff_api
async def report_file(request, gateway, cfg, user) -> web.StreamResponse:
    """A chart of an evaluation: only PNG files inside the work folder, never anything else."""
    name, file = request.match_info["name"], request.match_info["file"]
    if not _NAME.match(name) or ".." in name or not _FILE.match(file):
        raise Problem("There is no such file.", 404)
    root = cfg.work_dir.resolve()
    path = (root / name / file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Problem("There is no such file.", 404)
    return web.FileResponse(path, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


def _promote(cfg: RetrainConfig, wanted: Optional[str], user: str, now: datetime) -> Dict[str, Any]:
    from bot.retrain import deploy
    from bot.retrain.training import read_status

    state = read_status(cfg)
    if state.get("state") in _RUNNING:
        raise Problem("A training is still running: wait until it has been evaluated.", 409)
    if not state.get("candidate_path") or not state.get("candidate"):
        raise Problem("There is no trained candidate to put live. Retrain first.", 409)
    if wanted and _candidate_name(wanted) != state["candidate"]:
        raise Problem(f"The newest candidate is now {state['candidate']}, not {wanted}. Reload the page to see "
                      "its evaluation.", 409)
    try:
        live = deploy.promote(cfg, Path(state["candidate_path"]), user, now, server=_server(cfg))
    except deploy.PromotionRefused as refused:
        raise Problem(sentence("Not put live, because " + "; ".join(refused.reasons)), 409,
                      reasons=refused.reasons)
    return _live(cfg, live)


@routes.post(API + "/promote")
@staff_api
async def promote(request, gateway, cfg, user) -> web.Response:
    body = await json_body(request)
    wanted = body.get("candidate")
    if wanted is not None and not isinstance(wanted, str):
        raise Problem("Candidate must be a name.")
    try:
        answer = await blocking(_promote, cfg, wanted, user, gateway.clock())
    except Problem as problem:
        _audit(gateway, user, "review_promote_refused", _short(problem, 400))
        raise
    _audit(gateway, user, "review_promote", answer["live"] or "")
    return web.json_response(dict(answer, message=f"{answer['live']} is live now."))


def _rollback(cfg: RetrainConfig, user: str, now: datetime) -> Dict[str, Any]:
    from bot.retrain import deploy

    try:
        return _live(cfg, deploy.rollback(cfg, user, now, server=_server(cfg)))
    except deploy.PromotionRefused as refused:
        raise Problem(sentence("Not rolled back, because " + "; ".join(refused.reasons)), 409,
                      reasons=refused.reasons)


@routes.post(API + "/rollback")
@staff_api
async def rollback(request, gateway, cfg, user) -> web.Response:
    try:
        answer = await blocking(_rollback, cfg, user, gateway.clock())
    except Problem as problem:
        _audit(gateway, user, "review_rollback_refused", _short(problem, 400))
        raise
    _audit(gateway, user, "review_rollback", answer["live"] or "")
    return web.json_response(dict(answer, message=f"Rolled back: {answer['live']} is live again."))


# -- 4. which model is live ------------------------------------------------------------------
def _live(cfg: RetrainConfig, state: Optional[Dict[str, Any]] = None, serving: bool = False) -> Dict[str, Any]:
    from bot.retrain import deploy
    from bot.retrain.model_server import ModelServerError

    state = deploy.read_live(cfg) if state is None else state
    live = state.get("live") or deploy.live_model(cfg)
    previous = state.get("previous")
    answer = {"live": Path(live).name if live else None, "previous": Path(previous).name if previous else None,
              "can_roll_back": bool(previous) and Path(previous).exists(),
              "changed_at": state.get("changed_at"), "by": state.get("by"), "action": state.get("action")}
    if serving:
        try:
            answer["serving"] = Path(str(_server(cfg).status().get("model_file") or "")).name or None
        except ModelServerError:
            answer["serving"] = None
    return answer


@routes.get(API + "/live")
@staff_api
async def live(request, gateway, cfg, user) -> web.Response:
    return web.json_response(await blocking(_live, cfg, None, True))


# -- 5. deleting a conversation on request ---------------------------------------------------
@routes.post(API + "/delete-conversation")
@staff_api
async def delete_conversation(request, gateway, cfg, user) -> web.Response:
    from bot.retrain.retention import delete_conversation as delete

    body = await json_body(request)
    conversation_id = body.get("conversation_id")
    conversation_id = conversation_id.strip() if isinstance(conversation_id, str) else ""
    if not _CONVERSATION.match(conversation_id):
        raise Problem("Give the conversation's id: up to 128 characters, without spaces.")
    open_chat = gateway.store.conversation(conversation_id)
    if open_chat is not None and open_chat.state in ("queued", "live"):
        raise Problem("This conversation is still open in the adviser console (waiting or live). End it first, "
                      "then delete it.", 409)
    deleted = (await blocking(delete, cfg, conversation_id, now=gateway.clock(), actor=user)).to_dict()
    _audit(gateway, user, "review_delete_conversation",
           ", ".join(f"{k}={v}" for k, v in deleted.items()), conversation_id)
    found = any(deleted.values())
    message = (f"Deleted conversation {conversation_id}: {deleted['tracker_events']} assistant events and "
               f"{deleted['gateway_messages']} chat messages." if found else
               f"Nothing was kept about a conversation called {conversation_id}, so nothing was deleted. "
               "Check the id.")
    return web.json_response({"conversation_id": conversation_id, "deleted": deleted, "found": found,
                              "message": message})


# -- 6. a personal detail the redactor left in ------------------------------------------------
@routes.post(API + "/personal-detail")
@staff_api
async def personal_detail(request, gateway, cfg, user) -> web.Response:
    """Staff mark words of an item's text (code point offsets start, end) as a personal detail of kind
    `label`; `shown` is the text the page showed there (the page is out of date if it differs). The stored
    messages are re-redacted at once; the audit entries keep the label, offsets, length and shape, never
    the words (bot/retrain/misses.py)."""
    from bot.retrain.misses import LABELS, ItemGone, MarkRefused, TextChanged, report_miss

    body = await json_body(request)
    item_id, label, shown = body.get("id"), body.get("label"), body.get("shown")
    start, end = body.get("start"), body.get("end")
    if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
        raise Problem("Which message? The request did not say.")
    if not isinstance(label, str) or label not in LABELS:
        raise Problem(f"Say what kind of personal detail it is: one of {', '.join(LABELS)}.")
    if shown is not None and (not isinstance(shown, str) or len(shown) > 2000):
        raise Problem("The marked words must be a piece of text.")
    try:
        done = await blocking(report_miss, cfg, item_id, start, end, label, user, gateway.clock(), shown=shown)
    except MarkRefused as refused:  # its messages never quote the message
        status = 404 if isinstance(refused, ItemGone) else 409 if isinstance(refused, TextChanged) else 400
        _audit(gateway, user, "review_redaction_miss_refused", f"{item_id}: {_short(refused, 400)}")
        raise Problem(sentence(refused), status)
    marked = done.marked
    places = ", ".join(f"{count} {what}" for count, what in (
        (done.tracker_messages, "assistant transcript messages"), (done.gateway_messages, "chat messages"),
        (done.training_examples, "training examples")) if count)
    _audit(gateway, user, "review_redaction_miss",
           f"{item_id} -> {done.new_item_id}: {marked.label} as {marked.placeholder} at {marked.start}-{marked.end} "
           f"({marked.length} characters, {marked.words} words, shape {marked.shape}); re-redacted "
           f"{places or 'nothing else'}")
    message = (f"Replaced with {marked.placeholder} in the stored messages ({places or 'none found'}) and "
               "recorded for the developers.")
    return web.json_response({"ok": True, "id": item_id, "new_id": done.new_item_id, "text": marked.text,
                              "placeholder": marked.placeholder, "result": done.to_dict(), "message": message})

"""The staff review page and its JSON API (bot/gateway/review_views.py) over real HTTP on loopback: the
gateway of tests/gateway_harness.py, the retraining library pointed at a copy of the project in tmp_path
(never the real data/nlu), a tracker store written by Rasa's own SQLTrackerStore, a stand-in for the
Rasa server's model API, and the daily retention job driven by the injected clock."""
from __future__ import annotations

import asyncio
import json
import os
import re
import struct
import sys
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.gateway import review_views
from bot.retrain import evaluation, stores, training
from bot.retrain.audit import AuditLog
from tests.gateway_harness import Harness, wait_until
from tests.test_retrain_helpers import (ROOT, copy_project, damaged, live_inputs, make_config, user, with_answer,
                                       write_tracker)

NAMED = "my name is Sarah and my nan has the kids what now"
REDACTED = "my name is [NAME] and my nan has the kids what now"
LIVE_NAME = "20261101-000000-live.tar.gz"
CANDIDATE = "candidate-20261203-120000"
GET_ROUTES = ["/console/api/review/inbox", "/console/api/review/status", f"/console/api/review/report/{CANDIDATE}",
              f"/console/api/review/files/{CANDIDATE}/confusion.png", "/console/api/review/live"]
POST_ROUTES = ["/console/api/review/decisions", "/console/api/review/train", "/console/api/review/promote",
               "/console/api/review/rollback", "/console/api/review/delete-conversation",
               "/console/api/review/personal-detail"]


# -- stand-ins ------------------------------------------------------------------------------------
class FakeModelServer:
    """The Rasa server's model API (GET /status, PUT /model), recording the models it is asked to load."""

    def __init__(self, serving: Optional[str] = None):
        self.serving, self.loaded = serving, []

    def app(self) -> web.Application:
        app = web.Application()

        async def status(request: web.Request) -> web.Response:
            assert request.query.get("token") == "test-token"
            return web.json_response({"model_file": f"models/{self.serving}" if self.serving else None})

        async def load(request: web.Request) -> web.Response:
            body = await request.json()
            self.loaded.append(body["model_file"])
            self.serving = Path(body["model_file"]).name
            return web.Response(status=204)

        app.router.add_get("/status", status)
        app.router.add_put("/model", load)
        return app


def png_bytes() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


LABELLED = "<b>my nan</b> & the kids: what now?"  # a labelled message, markup and all: shown as text


def better_inputs():
    """A candidate that fixes three of the live model's mistakes and learned two labels (one not yet)."""
    import dataclasses

    from bot.retrain import gate

    inputs = live_inputs()
    wild = next(s for s in inputs.sets if s.name == "wild")
    for index in [k for k, (t, a) in enumerate(zip(wild.truth, wild.live)) if t != a][:3]:
        inputs = with_answer(inputs, "wild", index, wild.truth[index])
    return dataclasses.replace(inputs, labelled=(
        gate.Labelled(text=LABELLED, intent="kinship_care_options", live="nlu_fallback",
                      candidate="kinship_care_options", actor="kim", at="2026-12-03T11:00:00Z"),
        gate.Labelled(text="who is above the council", intent="ombudsman", live="nlu_fallback",
                      candidate="complaints_procedure", actor="kim", at="2026-12-03T11:05:00Z")))


def worse_inputs():
    """A damaged candidate: 30% of section_20's held-out messages answered legal_aid."""
    return damaged(live_inputs(), "section_20", "legal_aid", share=0.3)


BETTER, WORSE = "better", "worse"
CANDIDATES = {BETTER: better_inputs, WORSE: worse_inputs}


def write_evaluation(cfg, candidate: Path, live: Path, now: datetime, kind: str = BETTER) -> Dict[str, Any]:
    """What bot.retrain.evaluation.evaluate_candidate writes, on synthetic answers (nothing is parsed)."""
    report = evaluation.write_report(cfg, live, candidate, CANDIDATES[kind](), now=now, pictures=False)
    for picture in ("confusion.png", "comparison.png"):
        (cfg.work_dir / candidate.name.replace(".tar.gz", "") / picture).write_bytes(png_bytes())
    return report


def trained_candidate(cfg, now: datetime, kind: str = BETTER) -> Path:
    """A candidate as a finished training leaves it: the model file, its evaluation, the status file."""
    candidate = cfg.candidates_dir / f"{CANDIDATE}.tar.gz"
    candidate.parent.mkdir(parents=True, exist_ok=True)
    candidate.write_bytes(b"candidate model")
    report = write_evaluation(cfg, candidate, cfg.models_dir / LIVE_NAME, now, kind)
    training.write_status(cfg.status_file, training.TrainingStatus(
        state="done", percent=100.0, candidate=CANDIDATE, candidate_path=str(candidate), actor="kim",
        started=now.isoformat(), finished=now.isoformat(), message="evaluated", log_tail=["trained"],
        report=report["files"]["report"], promotion=report["promotion"]))
    return candidate


FAKE_TRAIN = r"""
import pathlib, sys, time
out, pause = pathlib.Path(sys.argv[1]), float(sys.argv[2])
print("Started validating domain and training data", flush=True)
print("Starting to train component 'DIETClassifier'", flush=True)
for pct in (10, 40, 70, 100):
    print(f"Epochs:  {pct}%|####      | {pct}/100", end="\r", flush=True)
    time.sleep(pause)
print("", flush=True)
print("Finished training component 'DIETClassifier'", flush=True)
out.parent.mkdir(parents=True, exist_ok=True)
out.write_bytes(b"candidate model " + out.name.encode())
print(f"Your Rasa model is trained and saved at '{out}'.", flush=True)
"""


def fake_training(monkeypatch, pause: float = 0.05, kind: str = BETTER) -> None:
    """`rasa train` replaced by a script printing Rasa's progress lines, the evaluation by write_evaluation."""
    def command(cfg, name):
        return [sys.executable, "-c", FAKE_TRAIN, str(cfg.candidates_dir / f"{name}.tar.gz"), str(pause)]

    def evaluate(cfg, candidate, *, now, live=None):
        return write_evaluation(cfg, Path(candidate), Path(live), now, kind)

    monkeypatch.setattr(training, "train_command", command)
    monkeypatch.setattr(evaluation, "evaluate_candidate", evaluate)


# -- setting up -----------------------------------------------------------------------------------
class Review:
    """A harness gateway whose review page works on a project copy in tmp, with a model server stand-in."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.harness = Harness(tmp / "gateway")
        self.models = FakeModelServer(LIVE_NAME)

    async def start(self) -> "Review":
        (self.tmp / "gateway").mkdir(parents=True, exist_ok=True)
        await self.harness.start()
        self.model_server = TestServer(self.models.app(), host="127.0.0.1")
        await self.model_server.start_server()
        project = copy_project(self.tmp / "project")
        self.cfg = make_config(project, gateway_db_url=self.gateway.settings.gateway_db_url,
                               rasa_url=f"http://127.0.0.1:{self.model_server.port}")
        self.gateway.retrain_cfg = self.cfg
        live = self.cfg.models_dir / LIVE_NAME
        live.write_bytes(b"live model")
        os.utime(live, (1_700_000_000, 1_700_000_000))
        return self

    @property
    def gateway(self):
        return self.harness.gateway

    @property
    def base(self) -> str:
        return self.harness.base

    @property
    def clock(self):
        return self.harness.clock

    def ago(self, **delta: float) -> float:
        return (self.clock.now - timedelta(**delta)).timestamp()

    async def conversations(self, conversations) -> None:
        """Family messages in the tracker store, written by Rasa's SQLTrackerStore (in a thread of its own)."""
        await asyncio.to_thread(write_tracker, Path(self.cfg.tracker_db), conversations)

    async def staff(self):
        return await self.harness.adviser("kim", available=False, socket=False)

    async def stop(self) -> None:
        await self.harness.stop()
        await self.model_server.close()


@pytest.fixture
async def review(tmp_path):
    running = await Review(tmp_path).start()
    yield running
    await running.stop()


def low_confidence(text: str, ts: float, intent: str = "kinship_care_options", confidence: float = 0.41):
    return user(text, intent, confidence, ts, ranking=[(intent, confidence), ("kinship_financial_support", 0.3),
                                                        ("special_guardianship", 0.2), ("greet", 0.05)])


async def inbox(client) -> List[Dict[str, Any]]:
    status, body = await client.get("/console/api/review/inbox")
    assert status == 200, body
    return body["items"]


def gateway_audit(review: Review) -> List[str]:
    return [entry["action"] for entry in review.gateway.store.audit_log()]


def real_training_data() -> str:
    return "\n".join(path.read_text() for path in sorted((ROOT / "data" / "nlu").glob("*.yml")))


# -- who may see it -------------------------------------------------------------------------------
async def test_an_adviser_gets_403_on_every_review_route(review):
    sam = await review.harness.adviser("sam", available=False, socket=False)
    page = await sam.http.get(review.base + "/console/review", allow_redirects=False)
    assert page.status == 403
    assert page.content_type == "text/html" and "Staff only" in await page.text()
    for path in GET_ROUTES:
        response = await sam.http.get(review.base + path)
        assert response.status == 403, path
        assert (await response.json())["error"] == "Only staff can do that."
    for path in POST_ROUTES:
        status, body = await sam.post(path, {"id": "abcdef12", "conversation_id": "x"})
        assert status == 403 and body == {"error": "Only staff can do that."}, path
    assert not review.cfg.audit_log.exists()  # nothing was done


async def test_not_logged_in_the_page_redirects_to_login_and_the_api_says_401(review):
    async with aiohttp.ClientSession() as anonymous:
        page = await anonymous.get(review.base + "/console/review", allow_redirects=False)
        assert page.status == 302 and page.headers["Location"] == "/console/login"
        for path in GET_ROUTES:
            assert (await anonymous.get(review.base + path)).status == 401, path
        for path in POST_ROUTES:
            assert (await anonymous.post(review.base + path, json={})).status == 401, path


async def test_staff_get_the_page_with_a_strict_policy_and_no_inline_code(review):
    kim = await review.staff()
    response = await kim.http.get(review.base + "/console/review")
    assert response.status == 200
    html = await response.text()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert f'<meta name="csrf-token" content="{kim.csrf}">' in html and '<meta name="role" content="staff">' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script
    assert "<style" not in html and not re.search(r"\sstyle=", html)  # no inline style
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    for heading in ("Messages to review", "Retrain", "Evaluation", "Which model is live",
                    "Delete a conversation on request"):
        assert heading in html


async def test_the_console_links_to_the_review_page_for_staff_only(review):
    """The link is hidden in the HTML; review.js (loaded by the console) removes it for advisers and shows
    it to staff, as console.js does with the staff-only canned responses editor."""
    kim = await review.staff()
    html = await (await kim.http.get(review.base + "/console")).text()
    assert re.search(r'<nav [^>]*data-staff-only hidden>\s*<ul><li><a href="/console/review"', html)
    assert '<script src="/static/review.js" defer></script>' in html
    script = await (await kim.http.get(review.base + "/static/review.js")).text()
    assert "[data-staff-only]" in script


async def test_every_change_needs_the_csrf_header(review):
    kim = await review.staff()
    await review.conversations([("c1", [low_confidence(NAMED, review.ago(minutes=5))])])
    item = (await inbox(kim))[0]
    bodies = {"/console/api/review/decisions": {"id": item["id"], "not_useful": True},
              "/console/api/review/delete-conversation": {"conversation_id": "c1"}}
    for path in POST_ROUTES:
        for token in ("", "not-the-token"):
            status, body = await kim.post(path, bodies.get(path, {}), csrf=token)
            assert status == 403 and body == {"error": "This page is out of date. Please reload it."}, path
    assert [i["id"] for i in await inbox(kim)] == [item["id"]]  # not decided
    assert stores.read_events(review.cfg.tracker_db)  # not deleted
    assert not review.cfg.status_file.exists()  # no training started


# -- 1. inbox and labelling -----------------------------------------------------------------------
async def test_the_inbox_lists_a_low_confidence_message_redacted(review):
    kim = await review.staff()
    await review.conversations([("c1", [
        low_confidence(NAMED, review.ago(minutes=30)),
        user("what is a special guardianship order", "special_guardianship", 0.97, review.ago(minutes=29)),
    ])])
    status, body = await kim.get("/console/api/review/inbox")
    assert status == 200
    assert [item["text"] for item in body["items"]] == [REDACTED]  # the confident one is not there
    item = body["items"][0]
    assert "Sarah" not in json.dumps(body)
    assert item["reasons"] == ["low_confidence"] and item["reason_text"] == ["the model was unsure"]
    assert [s["intent"] for s in item["suggestions"]] == ["kinship_care_options", "kinship_financial_support",
                                                          "special_guardianship"]
    assert "greet" in body["intents"] and "nlu_fallback" not in body["intents"]
    assert body["days"] == 30
    assert "review_inbox_viewed" in gateway_audit(review)


async def test_labelling_writes_to_the_project_copy_and_the_item_disappears(review):
    kim = await review.staff()
    await review.conversations([("c1", [low_confidence(NAMED, review.ago(minutes=30))])])
    item = (await inbox(kim))[0]
    status, body = await kim.post("/console/api/review/decisions", {"id": item["id"], "intent": "kinship_care_options"})
    assert status == 200, body
    assert body["result"]["action"] == "label" and body["result"]["file"] == "data/nlu/kinship.yml"
    assert body["message"].startswith("Added to kinship_care_options (data/nlu/kinship.yml, line ")
    copy = (review.cfg.nlu_dir / "kinship.yml").read_text()
    assert f"    - {REDACTED}\n" in copy and "Sarah" not in copy
    assert review.cfg.nlu_dir != ROOT / "data" / "nlu"
    assert REDACTED not in real_training_data()  # the real training data is never touched
    assert await inbox(kim) == []
    entries = list(AuditLog(review.cfg.audit_log).entries())
    assert [(e["action"], e["actor"]) for e in entries] == [("label", "kim")]
    assert "review_label" in gateway_audit(review)


async def test_not_useful_and_a_new_intent_suggestion_are_recorded(review):
    kim = await review.staff()
    uniform = "can my nan get help with school uniform"
    await review.conversations([("c1", [low_confidence("asdfgh qwerty", review.ago(minutes=30)),
                                        low_confidence(uniform, review.ago(minutes=20))])])
    items = {i["text"]: i for i in await inbox(kim)}
    status, body = await kim.post("/console/api/review/decisions",
                                  {"id": items["asdfgh qwerty"]["id"], "not_useful": True})
    assert status == 200 and body["result"] == {"action": "not_useful"}
    status, body = await kim.post("/console/api/review/decisions",
                                  {"id": items[uniform]["id"],
                                   "new_intent": "school_uniform_grants"})
    assert status == 200 and body["result"] == {"action": "new_intent", "intent": "school_uniform_grants"}
    assert await inbox(kim) == []
    assert [e["action"] for e in AuditLog(review.cfg.audit_log).entries()] == ["not_useful", "new_intent"]
    assert {"review_not_useful", "review_new_intent"} <= set(gateway_audit(review))


async def test_a_refused_label_says_why_and_changes_nothing(review):
    kim = await review.staff()
    await review.conversations([("c1", [low_confidence(NAMED, review.ago(minutes=30))])])
    item = (await inbox(kim))[0]
    before = {p.name: p.read_text() for p in review.cfg.nlu_dir.glob("*.yml")}
    status, body = await kim.post("/console/api/review/decisions", {"id": item["id"], "intent": "kinship_cares"})
    assert status == 409
    assert body["error"].startswith("'kinship_cares' is not an intent in domain.yml. Did you mean")
    status, body = await kim.post("/console/api/review/decisions", {"id": item["id"], "new_intent": "greet"})
    assert status == 409 and body["error"] == "'greet' already exists: label the message with it instead."
    status, body = await kim.post("/console/api/review/decisions", {"id": "0000beef", "intent": "greet"})
    assert status == 409 and body["error"].startswith("No message with id 0000beef in the review inbox")
    for bad in ({"id": item["id"]}, {"id": item["id"], "intent": "greet", "not_useful": True},
                {"id": "../etc", "intent": "greet"}, {"id": item["id"], "intent": ["greet"]}):
        status, body = await kim.post("/console/api/review/decisions", bad)
        assert status == 400 and body["error"], bad
    assert {p.name: p.read_text() for p in review.cfg.nlu_dir.glob("*.yml")} == before
    assert [i["id"] for i in await inbox(kim)] == [item["id"]]
    assert "review_label_refused" in gateway_audit(review)


# -- 2. and 3. training, evaluation, promotion ----------------------------------------------------
async def test_a_training_already_running_is_refused(review):
    kim = await review.staff()
    review.cfg.work_dir.mkdir(parents=True, exist_ok=True)
    (review.cfg.work_dir / "training.lock").write_text(str(os.getpid()))  # a live process holds it
    status, body = await kim.post("/console/api/review/train")
    assert status == 409 and body["error"].startswith("A training is already running")


async def test_retrain_reports_progress_until_the_candidate_is_evaluated(review, monkeypatch):
    fake_training(monkeypatch)
    kim = await review.staff()
    status, body = await kim.post("/console/api/review/train")
    assert status == 202, body
    assert body["running"] and body["candidate"].startswith("candidate-") and "candidate_path" not in body
    seen = []
    for _ in range(300):
        status, body = await kim.get("/console/api/review/status")
        seen.append((body["state"], body["percent"]))
        if not body["running"]:
            break
        await asyncio.sleep(0.05)
    assert body["state"] == "done", body
    assert body["percent"] == 100 and body["has_report"] and body["promotion"]["ok"] is True
    assert any(line.startswith("Starting to train component") for line in body["log_tail"])
    assert any(state in ("starting", "running", "evaluating") for state, _ in seen)
    status, report = await kim.get(f"/console/api/review/report/{body['candidate']}")
    assert status == 200 and report["verdict"] == {"ok": True, "already_live": False, "reasons": []}
    assert "review_train" in gateway_audit(review)
    assert [e["action"] for e in AuditLog(review.cfg.audit_log).entries()] == ["train"]


async def test_the_report_puts_live_and_rolls_back(review):
    kim = await review.staff()
    trained_candidate(review.cfg, review.clock.now)
    written = evaluation.read_report(review.cfg, CANDIDATE)
    status, body = await kim.get("/console/api/review/status")
    assert body["state"] == "done" and body["candidate"] == CANDIDATE and body["has_report"]
    status, report = await kim.get(f"/console/api/review/report/{CANDIDATE}")
    assert status == 200
    assert report["verdict"] == {"ok": True, "already_live": False, "reasons": []}
    assert report["live"]["model"] == LIVE_NAME
    assert report["candidate_scores"]["macro_f1"] == written["candidate"]["macro_f1"] > written["live"]["macro_f1"]
    assert report["per_intent"]["section_20"] == {"live": written["live"]["per_intent"]["section_20"],
                                                  "candidate": written["candidate"]["per_intent"]["section_20"]}
    # the gate's evidence, the labels check and what changed, before the verdict
    decision = report["decision"]
    assert decision["verdict"].startswith("Allowed: no worse. Macro-F1 on all 1,107 held-out messages")
    assert report["messages"] == 1107 and [s["name"] for s in report["held_out"]] == ["dev", "blind", "wild"]
    assert [s["name"] for s in decision["sets"]] == ["dev", "blind", "wild"] and decision["overall"]["better_share"] > 0.5
    assert decision["labels"]["text"] == (
        "1 of the 2 messages you labelled are now understood; this one still is not: \u201cwho is above the "
        "council\u201d (labelled ombudsman, the candidate says complaints_procedure).")
    assert [(c["set"], c["change"]) for c in decision["changed"]] == [("wild", "better")] * 3 + [
        ("labelled", "better"), ("labelled", "still wrong")]
    assert decision["changed"][3]["text"] == LABELLED  # as labelled; the page sets it as text, never as HTML
    assert decision["crisis"]["candidate_caught"] == decision["crisis"]["live_caught"]
    assert report["rules"] == {"confidence": 0.95, "resamples": 2000, "seed": 0}
    assert [(i["name"], i["url"]) for i in report["images"]] == [
        ("confusion", f"/console/api/review/files/{CANDIDATE}/confusion.png"),
        ("comparison", f"/console/api/review/files/{CANDIDATE}/comparison.png")]
    assert all(image["alt"] for image in report["images"])
    picture = await kim.http.get(review.base + report["images"][0]["url"])
    assert picture.status == 200 and picture.content_type == "image/png" and await picture.read() == png_bytes()

    status, body = await kim.post("/console/api/review/promote", {"candidate": CANDIDATE})
    assert status == 200, body
    assert body["live"] == f"{CANDIDATE}.tar.gz" and body["previous"] == LIVE_NAME and body["can_roll_back"]
    assert review.models.loaded == [str((review.cfg.models_dir / f"{CANDIDATE}.tar.gz").resolve())]
    status, live = await kim.get("/console/api/review/live")
    assert live["live"] == f"{CANDIDATE}.tar.gz" and live["previous"] == LIVE_NAME and live["by"] == "kim"
    assert live["serving"] == f"{CANDIDATE}.tar.gz"
    status, report = await kim.get(f"/console/api/review/report/{CANDIDATE}")
    assert report["verdict"]["ok"] is False and report["verdict"]["already_live"] is True

    status, body = await kim.post("/console/api/review/rollback")
    assert status == 200 and body["live"] == LIVE_NAME and body["previous"] == f"{CANDIDATE}.tar.gz"
    assert review.models.loaded[-1] == str((review.cfg.models_dir / LIVE_NAME).resolve())
    assert [e["action"] for e in AuditLog(review.cfg.audit_log).entries()] == ["promote", "rollback"]
    assert {"review_promote", "review_rollback"} <= set(gateway_audit(review))


async def test_a_worse_candidate_cannot_be_put_live_and_the_page_gets_the_reasons(review):
    kim = await review.staff()
    trained_candidate(review.cfg, review.clock.now, WORSE)
    status, report = await kim.get(f"/console/api/review/report/{CANDIDATE}")
    reasons = evaluation.read_report(review.cfg, CANDIDATE)["promotion"]["reasons"]
    assert any(r.startswith("section_20 F1 is worse: ") and "90% interval" in r for r in reasons)
    assert report["verdict"] == {"ok": False, "already_live": False, "reasons": reasons}
    assert report["decision"]["verdict"] == "Refused: " + "; ".join(reasons) + "."
    status, body = await kim.post("/console/api/review/promote", {"candidate": CANDIDATE})
    assert status == 409
    assert body == {"error": "Not put live, because " + "; ".join(reasons) + ".", "reasons": reasons}
    assert review.models.loaded == [] and not (review.cfg.models_dir / f"{CANDIDATE}.tar.gz").exists()
    status, body = await kim.post("/console/api/review/promote", {"candidate": "candidate-20990101-000000"})
    assert status == 409 and "Reload the page" in body["error"]
    status, body = await kim.post("/console/api/review/rollback")
    assert status == 409 and body["error"].startswith("Not rolled back, because there is no previous model")
    assert "review_promote_refused" in gateway_audit(review)


async def test_unknown_reports_are_404(review):
    kim = await review.staff()
    for name in ("candidate-20990101-000000", ".hidden", "%2E%2E", "..%2F..%2Fconfig"):
        response = await kim.http.get(URL(review.base + "/console/api/review/report/" + name, encoded=True))
        assert response.status == 404, name
    status, body = await kim.get("/console/api/review/report/candidate-20990101-000000")
    assert body == {"error": "candidate-20990101-000000 has not been evaluated yet."}


async def test_the_file_route_serves_only_charts_inside_the_work_folder(review, tmp_path):
    kim = await review.staff()
    trained_candidate(review.cfg, review.clock.now)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the page")
    (review.cfg.work_dir / CANDIDATE / "escape.png").symlink_to(secret)
    (review.cfg.work_dir / CANDIDATE / "notes.txt").write_text("not a chart")
    ok = await kim.http.get(review.base + f"/console/api/review/files/{CANDIDATE}/comparison.png")
    assert ok.status == 200 and ok.content_type == "image/png"
    for path in (f"{CANDIDATE}/escape.png",                       # a link out of the work folder
                 f"{CANDIDATE}/notes.txt", f"{CANDIDATE}/report.json",  # not a chart
                 f"{CANDIDATE}/..%2F..%2F..%2Fsecret.png", "..%2F..%2F..%2Fsecret.png/x.png",
                 f"%2E%2E/{CANDIDATE}/confusion.png", f"..%2F{CANDIDATE}/confusion.png",
                 f"{CANDIDATE}/%2E%2E%2Fsecret.png", f"{CANDIDATE}/.confusion.png",
                 f"{CANDIDATE}/%2Fetc%2Fpasswd.png", "%2Fetc/passwd.png"):
        response = await kim.http.get(URL(review.base + "/console/api/review/files/" + path, encoded=True))
        body = await response.read()
        assert response.status in (400, 404), path
        assert b"not for the page" not in body and b"root:" not in body, path


# -- 4. which model is live -----------------------------------------------------------------------
async def test_the_live_model_is_the_newest_in_models_before_any_promotion(review):
    kim = await review.staff()
    status, live = await kim.get("/console/api/review/live")
    assert status == 200
    assert live == {"live": LIVE_NAME, "previous": None, "can_roll_back": False, "changed_at": None, "by": None,
                    "action": None, "serving": LIVE_NAME}


# -- 5. deleting a conversation on request --------------------------------------------------------
async def test_a_conversation_is_deleted_on_request_everywhere(review):
    kim = await review.staff()
    await review.conversations([("c-delete", [low_confidence(NAMED, review.ago(minutes=30))]),
                                ("c-keep", [low_confidence("my nan has the kids now", review.ago(minutes=20))])])
    review.gateway.store.ensure_conversation("c-delete", review.clock.now)
    review.gateway.store.add_message("c-delete", "family", NAMED, review.clock.now)
    status, body = await kim.post("/console/api/review/delete-conversation", {"conversation_id": "c-delete"})
    assert status == 200, body
    assert body["found"] and body["deleted"]["tracker_events"] >= 1 and body["deleted"]["gateway_messages"] == 1
    assert {e.sender_id for e in stores.read_events(review.cfg.tracker_db)} == {"c-keep"}
    assert review.gateway.store.conversation("c-delete") is None
    entry = list(AuditLog(review.cfg.audit_log).entries())[-1]
    assert entry["action"] == "delete_conversation" and entry["actor"] == "kim"
    assert entry["conversation_id"] == "c-delete"
    assert review.gateway.store.audit_log()[0]["action"] == "review_delete_conversation"

    status, body = await kim.post("/console/api/review/delete-conversation", {"conversation_id": "c-delete"})
    assert status == 200 and body["found"] is False and "nothing was deleted" in body["message"]
    for bad in ("", "   ", "has space", "x" * 129, None, 42):
        status, body = await kim.post("/console/api/review/delete-conversation", {"conversation_id": bad})
        assert status == 400 and body["error"], bad


async def test_a_chat_still_open_in_the_console_is_not_deleted(review):
    kim = await review.staff()
    family = await review.harness.family()
    await review.harness.adviser("sam")  # someone is available, so the family can queue
    await family.say("I want to speak to an adviser")
    await wait_until(lambda: family.of("handoff"))
    assert review.gateway.store.conversation(family.session_id).state == "queued"
    status, body = await kim.post("/console/api/review/delete-conversation", {"conversation_id": family.session_id})
    assert status == 409 and "still open" in body["error"]
    assert review.gateway.store.conversation(family.session_id) is not None


# -- the daily retention job ----------------------------------------------------------------------
async def test_the_retention_job_runs_once_a_day_by_the_injected_clock(review):
    await review.conversations([("old", [low_confidence("an old question", review.ago(days=100))]),
                                ("new", [low_confidence("a new question", review.ago(days=2))])])
    gateway = review.gateway
    assert await gateway.daily_retention() is True
    assert {e.sender_id for e in stores.read_events(review.cfg.tracker_db)} == {"new"}
    review.clock.advance(23 * 3600)
    assert await gateway.daily_retention() is False
    review.clock.advance(3600 - 1)
    assert await gateway.daily_retention() is False
    review.clock.advance(1)  # 24 hours after the first run
    assert await gateway.daily_retention() is True
    assert await gateway.daily_retention() is False
    purges = [e for e in AuditLog(review.cfg.audit_log).entries() if e["action"] == "purge"]
    assert [(e["actor"], e["after"]) for e in purges] == [("retention job", {"older_than_days": 90})] * 2
    assert [e["deleted"]["tracker_events"] for e in purges] == [1, 0]
    assert gateway_audit(review).count("retention_purge") == 2

    # a restart within the day does not run it again: the audit log says when it last ran
    gateway.retention_ran = None
    review.clock.advance(12 * 3600)
    assert await gateway.daily_retention() is False
    review.clock.advance(12 * 3600)
    assert await gateway.daily_retention() is True


async def test_a_failed_retention_run_is_tried_again_an_hour_later(review, monkeypatch):
    from bot.retrain import retention

    calls = []

    def broken(cfg, *, now, actor):
        calls.append(now)
        raise OSError("disk full")

    monkeypatch.setattr(retention, "delete_older_than", broken)
    with pytest.raises(OSError):
        await review.gateway.daily_retention()
    review.clock.advance(59 * 60)
    assert await review.gateway.daily_retention() is False
    review.clock.advance(60)
    with pytest.raises(OSError):
        await review.gateway.daily_retention()
    assert len(calls) == 2


def test_the_gateway_config_uses_its_own_stores_and_var_folder(tmp_path):
    from bot import settings as settings_mod

    settings = settings_mod.load({"VAR_DIR": str(tmp_path / "var"), "RASA_PORT": "5999"})
    cfg = review_views.build_config(settings, "a-token", env={})
    assert cfg.tracker_db == str(tmp_path / "var" / "tracker.db")
    assert cfg.gateway_db_url == f"sqlite:///{tmp_path / 'var' / 'gateway.db'}"
    assert cfg.rasa_url == "http://127.0.0.1:5999" and cfg.rasa_token == "a-token"
    assert cfg.work_dir == (tmp_path / "var" / "retrain").resolve()
    assert cfg.audit_log == (tmp_path / "var" / "retrain" / "audit.jsonl").resolve()
    assert cfg.nlu_dir == ROOT / "data" / "nlu"
    project = copy_project(tmp_path / "project")
    moved = review_views.build_config(settings, "a-token", env={"RETRAIN_PROJECT": str(project)})
    assert moved.nlu_dir == project.resolve() / "data" / "nlu"
    default = review_views.build_config(settings_mod.load({}), None, env={})
    assert default.work_dir == ROOT / "var" / "retrain"  # the CLI's place when VAR_DIR is the usual one

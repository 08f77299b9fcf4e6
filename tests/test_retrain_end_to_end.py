"""The whole retraining workflow against a real Rasa server, on a copy of the project trained with the
tiny pipeline (tests/data/tiny_config.yml):

a family message the model misunderstands -> the review inbox (from the real tracker store) -> a label
-> `rasa train` of a candidate -> evaluation on the held-out sets, the crisis set and the label ->
promotion through PUT /model ->
/model/parse now gives the labelled intent, and the conversation is still there -> rollback.
"""
import json
import subprocess
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot import run_local
from bot.retrain import deploy, inbox, labels, privacy, stores, training
from bot.retrain.audit import AuditLog
from bot.retrain.config import PromotionRules
from bot.retrain.model_server import ModelServer
from scripts.eval_nlu import RASA, load_test_set
from tests.test_retrain_helpers import ROOT, copy_project, make_config, redaction  # noqa: F401 (fixture)

TOKEN = "retrain-end-to-end"
MESSAGE = "omnbudsmn escalashun timescale pls"  # made-up spellings: no word of it is in the training data
SENDER = "family-e2e"


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def user_texts(url, sender):
    with urllib.request.urlopen(f"{url}/conversations/{sender}/tracker?token={TOKEN}", timeout=30) as response:
        return [e.get("text") for e in json.loads(response.read())["events"] if e["event"] == "user"]


@pytest.mark.integration
def test_review_label_retrain_evaluate_promote_and_roll_back_with_a_real_rasa_server(tmp_path, redaction):  # noqa: F811
    assert privacy.redact(MESSAGE) == MESSAGE  # nothing personal in it, so the label is the message itself
    project = copy_project(tmp_path / "project", ROOT / "tests" / "data" / "tiny_config.yml")
    port = run_local.free_port()
    url = f"http://127.0.0.1:{port}"
    # The tiny model is noisy from one training to the next, so the statistical rules are opened up here
    # (refuse only if the candidate is worse in every resample). The crisis rule cannot be opened: the tiny
    # model is not the safety net (its recall on tests/crisis_wild.tsv moves by a few messages with one
    # label), so its crisis set here is some of its own emergency_risk training examples and ordinary
    # messages, which both tiny models answer right. Every rule is tested on its own in
    # tests/test_retrain_gate.py.
    crisis_set = project / "tests" / "crisis_tiny.tsv"
    crisis_set.write_text("label\tcategory\ttext\tsource_url\n" + "".join(f"{label}\ttest\t{text}\t-\n" for label, text in [
        ("crisis", "hes hitting her now"), ("crisis", "help hes hurting the baby right now"),
        ("crisis", "taken all my tablets"), ("not_crisis", "thank you"), ("not_crisis", "hello")]))
    cfg = make_config(project, rasa_url=url, rasa_token=TOKEN, promotion=PromotionRules(confidence=1.0),
                      crisis_set=crisis_set)
    (project / "endpoints.yml").write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {cfg.tracker_db}\n")
    env = training.child_env()

    # the live model, trained with the tiny pipeline
    subprocess.run(["nice", "-n", "10", RASA, "train", "--out", "models", "--fixed-model-name", "live", "--quiet"],
                   cwd=project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = project / "models" / "live.tar.gz"

    with open(tmp_path / "rasa.log", "w") as log:
        rasa = subprocess.Popen(
            ["nice", "-n", "10", RASA, "run", "--enable-api", "--auth-token", TOKEN, "--interface", "127.0.0.1",
             "--port", str(port), "--model", str(live), "--endpoints", "endpoints.yml"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    procs = {"rasa server": rasa}
    try:
        assert run_local.wait_for(f"{url}/", 240, procs), (tmp_path / "rasa.log").read_text()[-3000:]
        server = ModelServer(url, TOKEN)
        misunderstood = server.parse(MESSAGE)["intent"]
        assert misunderstood["name"] != "ombudsman" and misunderstood["confidence"] < cfg.inbox.low_confidence

        # a family sends it through the REST channel; Rasa records it in the SQL tracker store
        post(f"{url}/webhooks/rest/webhook", {"sender": SENDER, "message": MESSAGE})
        events = stores.read_events(cfg.tracker_db, types=("user",))
        assert [e.data["text"] for e in events] == [MESSAGE]
        now = datetime.fromtimestamp(events[-1].timestamp + 60, timezone.utc)  # a clock from the data

        # it is in the review inbox, with the model's suggestions
        items = inbox.load_inbox(cfg, now)
        item = next(i for i in items if i.text == MESSAGE)
        assert set(item.reasons) & {"fallback", "low_confidence"} and item.conversation_ids == [SENDER]
        assert len(item.suggestions) == 3

        # staff label it
        added = labels.label_item(cfg, item, "ombudsman", "kim", now)
        assert added.file.name == "complaints.yml" and MESSAGE in added.file.read_text()
        assert inbox.find_item(inbox.load_inbox(cfg, now), item.id) is None  # not shown again

        # retrain (full rasa train into models/candidates) and evaluate against the live model
        percents = []
        status = training.train_candidate(cfg, "kim", clock=lambda: now, server=server,
                                          on_progress=lambda s: percents.append(s.percent))
        assert status.state == "done", status.message + "\n" + "\n".join(status.log_tail)
        assert percents == sorted(percents) and percents[-1] == 100.0 and len(set(percents)) > 3
        candidate = Path(status.candidate_path)
        report = json.loads(Path(status.report).read_text())
        assert report["promotion"]["ok"], report["promotion"]["reasons"]
        assert report["messages"] == sum(len(load_test_set(path)) for _, path in cfg.held_out_sets) == 1107
        assert [s["name"] for s in report["held_out"]] == ["dev", "blind", "wild"]
        crisis = report["gate"]["crisis"]
        assert crisis["checked"] and crisis["candidate_caught"] >= crisis["live_caught"] > 0
        # the label is the check: the candidate now gives the labelled message its label
        assert report["gate"]["labels"]["text"] == "The message you labelled is now understood."
        assert {"set": "labelled", "text": MESSAGE, "after": "ombudsman", "now_right": True}.items() <= next(
            c for c in report["gate"]["changed"] if c["set"] == "labelled").items()
        assert report["live"]["model"] == str(live.resolve())  # evaluated against what the server serves
        assert set(report["live"]["per_intent"]) == set(report["candidate"]["per_intent"])
        assert {"precision", "recall", "f1", "support"} <= set(report["candidate"]["per_intent"]["ombudsman"])
        for picture in ("confusion", "comparison"):
            assert Path(report["files"][picture]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # promote: PUT /model on the running server; the conversation carries on
        state = deploy.promote(cfg, candidate, "kim", now, server=server)
        assert server.status()["model_file"] == candidate.name
        assert server.parse(MESSAGE)["intent"]["name"] == "ombudsman"
        post(f"{url}/webhooks/rest/webhook", {"sender": SENDER, "message": "thanks"})
        assert user_texts(url, SENDER) == [MESSAGE, "thanks"]  # nothing dropped by the swap
        assert state["previous"] == str(live.resolve())

        # roll back to the model that was live
        back = deploy.rollback(cfg, "kim", now, server=server)
        assert back["live"] == str(live.resolve()) and server.status()["model_file"] == live.name
        assert server.parse(MESSAGE)["intent"]["name"] == misunderstood["name"]
        assert [e["action"] for e in AuditLog(cfg.audit_log).entries()] == ["label", "train", "promote", "rollback"]
    finally:
        run_local.stop_all(procs)

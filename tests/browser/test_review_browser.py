"""The staff review page in headless Chromium: a gateway from tests/gateway_harness.py whose retraining
library works on a copy of the project in tmp_path (labels never reach the real data/nlu), a tracker store
written by Rasa, and, instead of `rasa train`, a script printing Rasa's progress lines (no real training).
Keyboard only where it matters, axe-core on the page, and no Content-Security-Policy complaints."""

from __future__ import annotations

import asyncio
import re
from typing import Any, List

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.gateway_harness import PASSWORD
from bot.retrain import evaluation, gate, privacy
from bot.retrain.config import PromotionRules
from tests.test_review_views import (CANDIDATE, LABELLED, LIVE_NAME, NAMED, REDACTED, WORSE, Review, better_inputs,
                                     fake_training, low_confidence, real_training_data, trained_candidate)

from .conftest import axe_violations, format_violations

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")
async def review(tmp_path):
    # bot.redact loads its language model on first use, which can take longer than an expect() waits on a
    # busy machine: load it here, so the page's first inbox answers in the time a person would wait
    await asyncio.to_thread(privacy.redact, "warm up")
    running = await Review(tmp_path).start()
    yield running
    await running.stop()


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(base + "/console/login")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login").click()
    await page.wait_for_url(re.compile(r"/console$"))


async def open_review_page(page: Page, review: Review) -> None:
    await sign_in(page, review.base, "kim")
    link = page.get_by_test_id("review-link")
    await expect(link).to_be_visible()
    await link.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/review$"))
    await expect(page.get_by_test_id("train-status")).not_to_have_text("")


async def assert_accessible(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], format_violations(violations)


def page_errors(console_errors: List[str]) -> List[str]:
    """Script errors and Content-Security-Policy complaints (Chromium also logs each 4xx answer the page
    got, such as a refused label: those are expected)."""
    return [text for text in console_errors if not text.startswith("Failed to load resource")]


EVIDENCE_THEN_VERDICT = ["labels-check", "eval-changed", "eval-evidence", "eval-crisis", "eval-intents", "verdict"]


async def press(page: Page, locator: Any) -> None:
    await locator.focus()
    await page.keyboard.press("Enter")


async def test_staff_label_messages_with_the_keyboard_and_see_refusals(
        page: Page, review: Review, console_errors: List[str]):
    await review.conversations([("c1", [low_confidence(NAMED, review.ago(minutes=30)),
                                        low_confidence("asdfgh qwerty", review.ago(minutes=20))])])
    await open_review_page(page, review)
    items = page.get_by_test_id("inbox-item")
    await expect(items).to_have_count(2)
    named = items.filter(has_text=REDACTED)
    await expect(named.get_by_test_id("item-text")).to_have_text(REDACTED)
    assert "Sarah" not in await page.content()
    await expect(page.get_by_test_id("inbox-count")).to_have_text("(2 messages)")
    await expect(named.get_by_test_id("item-reasons")).to_contain_text("the model was unsure")
    await expect(named.get_by_test_id("suggestion")).to_have_count(3)
    await assert_accessible(page)

    # label it: choose the intent and press Save label, keyboard only
    select = named.get_by_label("Intent", exact=True)
    await select.focus()
    await select.select_option("kinship_care_options")
    await press(page, named.get_by_role("button", name="Save label"))
    await expect(items).to_have_count(1)
    await expect(page.get_by_test_id("inbox-status")).to_contain_text(
        "Saved. Added to kinship_care_options (data/nlu/kinship.yml, line ")
    await expect(page.get_by_test_id("inbox-count")).to_have_text("(1 message)")
    left = items.first
    await expect(left.locator(".item-heading")).to_be_focused()  # focus moved to the next message
    assert f"    - {REDACTED}\n" in (review.cfg.nlu_dir / "kinship.yml").read_text()
    assert REDACTED not in real_training_data()

    # a refused decision: the reason is shown (and announced), the message stays
    await left.get_by_label("New intent name").fill("greet")
    await press(page, left.get_by_role("button", name="Suggest new intent"))
    error = page.get_by_test_id("inbox-error")
    await expect(error).to_have_text("Not saved: 'greet' already exists: label the message with it instead.")
    await expect(error).to_have_attribute("aria-live", "assertive")
    await expect(left.get_by_test_id("item-error")).to_contain_text("already exists")
    await expect(items).to_have_count(1)

    # not useful: the last one goes, and the inbox says it is empty
    await press(page, left.get_by_role("button", name="Not useful"))
    await expect(items).to_have_count(0)
    await expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    await expect(page.locator("#inbox-heading")).to_be_focused()
    await assert_accessible(page)
    assert page_errors(console_errors) == []


async def test_retrain_shows_progress_then_the_evaluation_and_puts_live_and_rolls_back(
        page: Page, review: Review, console_errors: List[str], monkeypatch):
    fake_training(monkeypatch, pause=0.3)
    await open_review_page(page, review)
    await expect(page.get_by_test_id("eval-empty")).to_be_visible()
    await expect(page.get_by_test_id("model-live")).to_have_text(LIVE_NAME)
    await expect(page.get_by_test_id("promote")).to_be_disabled()
    await expect(page.get_by_test_id("rollback")).to_be_disabled()

    await press(page, page.get_by_role("button", name="Retrain now"))
    progress = page.get_by_role("progressbar", name="Training progress")
    await expect(page.get_by_test_id("train")).to_be_disabled()
    await expect(progress).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    status = page.get_by_test_id("train-status")
    await expect(status).to_contain_text("Finished", timeout=30_000)
    await expect(status).to_have_attribute("aria-live", "polite")
    await expect(page.get_by_test_id("train-log")).to_contain_text("Starting to train component 'DIETClassifier'")

    # the evaluation: scores, changes in words, the verdict, the charts with alt text
    await expect(page.get_by_test_id("eval-intro")).to_contain_text("against the live model " + LIVE_NAME)
    inputs = better_inputs()
    truth = [t for held in inputs.sets for t in held.truth]
    live_scores = evaluation.metrics(truth, [a for held in inputs.sets for a in held.live])
    cand_scores = evaluation.metrics(truth, [a for held in inputs.sets for a in held.candidate])
    decision = gate.decide(inputs, PromotionRules())
    await expect(page.get_by_test_id("live-macro-f1")).to_have_text(f"{live_scores['macro_f1']:.3f}")
    await expect(page.get_by_test_id("candidate-macro-f1")).to_have_text(f"{cand_scores['macro_f1']:.3f}")
    improved = next(row for row in decision.intents if row["difference"] > 0.0005)
    row = page.locator(f'[data-testid=eval-intents] tr[data-intent="{improved["intent"]}"]')
    await expect(row).to_contain_text(f"▲ better by {improved['difference']:.3f}")
    await expect(row).to_contain_text("90% interval")
    # before the verdict: the labels check, what changed (as text, markup and all), how sure we are
    await expect(page.get_by_test_id("labels-check")).to_have_text(decision.labels["text"])
    changed = page.get_by_test_id("eval-changed")
    await expect(changed.locator("tbody tr")).to_have_count(len(decision.changed))
    await expect(changed.locator("q", has_text=LABELLED)).to_have_count(1)
    await expect(changed.locator("b")).to_have_count(0)  # the labelled message's <b> is text, not markup
    await expect(page.get_by_test_id("eval-evidence").locator("tbody tr")).to_have_count(4)
    crisis = decision.crisis
    await expect(page.get_by_test_id("eval-crisis")).to_contain_text(
        f"the candidate catches {crisis['candidate_caught']} of {crisis['crisis_messages']} crisis messages, "
        f"the live model {crisis['live_caught']}")
    await expect(page.get_by_test_id("verdict-ok")).to_contain_text("Can be put live.")
    await expect(page.get_by_test_id("gate-verdict")).to_have_text(decision.verdict)
    # the evidence comes before the verdict, in reading order
    shown = await page.evaluate("""ids => ids.map(id => document.querySelector(`[data-testid=${id}]`))
        .map(node => [...document.querySelectorAll('[data-testid]')].indexOf(node))""", EVIDENCE_THEN_VERDICT)
    assert -1 not in shown and shown == sorted(shown), dict(zip(EVIDENCE_THEN_VERDICT, shown))
    for chart in ("chart-confusion", "chart-comparison"):
        image = page.get_by_test_id(chart)
        await expect(image).to_have_attribute("alt", re.compile(r"\w+"))
        await image.scroll_into_view_if_needed()  # the charts load lazily, below the evidence tables
        await image.evaluate("img => img.decode()")  # rejects if the picture cannot be shown
        assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await assert_accessible(page)

    promote = page.get_by_test_id("promote")
    await expect(promote).to_be_enabled()
    await press(page, promote)
    await expect(page.get_by_test_id("deploy-status")).to_contain_text("is live now")
    await expect(page.get_by_test_id("model-live")).to_have_text(re.compile(r"^candidate-\d{8}-\d{6}\.tar\.gz$"))
    await expect(page.get_by_test_id("model-previous")).to_have_text(LIVE_NAME)
    await expect(promote).to_be_disabled()  # it is live already
    assert len(review.models.loaded) == 1

    # roll back, with a confirmation step; Cancel first, then Yes
    rollback = page.get_by_test_id("rollback")
    await expect(rollback).to_be_enabled()
    await press(page, rollback)
    confirm = page.get_by_test_id("rollback-confirm")
    await expect(confirm).to_be_visible()
    await expect(confirm).to_contain_text(f"Put the previous model, {LIVE_NAME}, back live")
    await press(page, page.get_by_test_id("rollback-no"))
    await expect(confirm).to_be_hidden()
    await expect(rollback).to_be_focused()
    assert len(review.models.loaded) == 1
    await page.keyboard.press("Enter")
    await press(page, page.get_by_role("button", name="Yes, roll back"))
    await expect(page.get_by_test_id("deploy-status")).to_contain_text(f"Rolled back: {LIVE_NAME} is live again.")
    await expect(page.get_by_test_id("model-live")).to_have_text(LIVE_NAME)
    assert review.models.loaded[-1].endswith(LIVE_NAME)
    assert page_errors(console_errors) == []


async def test_a_worse_candidate_shows_the_reasons_and_cannot_be_put_live(
        page: Page, review: Review, console_errors: List[str]):
    trained_candidate(review.cfg, review.clock.now, WORSE)
    await open_review_page(page, review)
    await expect(page.get_by_test_id("verdict-refused")).to_contain_text("Cannot be put live")
    await expect(page.get_by_test_id("verdict-reasons")).to_contain_text("section_20 F1 is worse: ")
    row = page.locator('[data-testid=eval-intents] tr[data-intent="section_20"]')
    await expect(row).to_contain_text("▼ worse by")
    await expect(row).to_contain_text("(worse with 95% confidence)")
    await expect(page.get_by_test_id("eval-changed").locator('tr[data-change="worse"]')).to_have_count(15)
    await expect(page.get_by_test_id("promote")).to_be_disabled()
    await expect(page.get_by_test_id("eval-intro")).to_contain_text(CANDIDATE)
    await assert_accessible(page)
    assert page_errors(console_errors) == []


async def test_a_conversation_is_deleted_after_confirming(page: Page, review: Review, console_errors: List[str]):
    await review.conversations([("c-delete", [low_confidence(NAMED, review.ago(minutes=30))])])
    await open_review_page(page, review)
    await expect(page.get_by_test_id("inbox-item")).to_have_count(1)
    await press(page, page.get_by_role("button", name="Delete this conversation"))
    await expect(page.get_by_test_id("delete-error")).to_have_text("Type the conversation id first.")
    await expect(page.get_by_label("Conversation id")).to_be_focused()
    await page.keyboard.type("c-delete")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("delete-confirm")).to_contain_text(
        "Delete everything kept about conversation c-delete? This cannot be undone.")
    await press(page, page.get_by_role("button", name="Yes, delete it"))
    await expect(page.get_by_test_id("delete-status")).to_contain_text("Deleted conversation c-delete")
    await expect(page.get_by_test_id("inbox-empty")).to_be_visible()  # its message left the inbox too
    await expect(page.get_by_label("Conversation id")).to_have_value("")
    assert page_errors(console_errors) == []


async def test_advisers_see_no_link_and_get_a_plain_403_page(page: Page, review: Review):
    await sign_in(page, review.base, "sam")
    await expect(page.get_by_test_id("adviser-name")).to_have_text("Sam")
    await expect(page.get_by_test_id("review-link")).to_have_count(0)
    response = await page.goto(review.base + "/console/review")
    assert response.status == 403
    await expect(page.get_by_role("heading", name="Staff only")).to_be_visible()
    await assert_accessible(page)


async def test_a_personal_detail_left_in_is_marked_with_the_keyboard_and_replaced_at_once(
        page: Page, review: Review, console_errors: List[str]):
    from bot.retrain import stores
    from tests.test_review_redaction_miss import MESSAGE

    await review.conversations([("c1", [low_confidence(MESSAGE, review.ago(minutes=30))])])
    await open_review_page(page, review)
    item = page.get_by_test_id("inbox-item")
    await expect(item.get_by_test_id("item-text")).to_have_text(MESSAGE)
    toggle = item.get_by_role("button", name="Personal detail left in")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await press(page, toggle)
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    words = item.get_by_test_id("detail-word")
    await expect(words.first).to_be_focused()
    await assert_accessible(page)

    # nothing ticked: told so, nothing sent
    await press(page, item.get_by_role("button", name="Replace with a placeholder"))
    await expect(item.get_by_test_id("detail-error")).to_have_text("Tick the personal words first.")

    # tick "kev" and "zorblatt" with Space, say it is a name, replace it
    for word in ("kev", "zorblatt"):
        box = item.get_by_label(word, exact=True)
        await box.focus()
        await page.keyboard.press("Space")
        await expect(box).to_be_checked()
    label = item.get_by_label("What is it?")
    await label.focus()
    await label.select_option("name")
    await press(page, item.get_by_role("button", name="Replace with a placeholder"))
    # the server reads and redacts the inbox twice (to find the item, then to show it again): allow for a busy machine
    await expect(page.get_by_test_id("inbox-status")).to_contain_text("Replaced with [NAME] in the stored messages",
                                                                      timeout=30_000)
    fixed = page.get_by_test_id("inbox-item")
    await expect(fixed.get_by_test_id("item-text")).to_have_text("our social worker [NAME] wont call back")
    await expect(fixed.locator(".item-heading")).to_be_focused()
    assert "zorblatt" not in await page.content()
    assert all("zorblatt" not in (e.data.get("text") or "") for e in stores.read_events(review.cfg.tracker_db))
    await assert_accessible(page)
    assert page_errors(console_errors) == []

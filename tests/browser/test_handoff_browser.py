"""Asking for a person, in the browser, against the real product: out of hours (`closed_stack`,
webchat closed by a staff closure) and in hours (`stack`, webchat staffed all day), where an
adviser in the console (/console, another browser) takes the chat over and hands it back."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.async_api import expect

from bot.gateway.store import Store

from .conftest import axe_violations, format_violations
from .helpers import (
    adviser_login,
    ask,
    session_id,
    set_available,
    start_chat,
    wait_for_answer,
)

pytestmark = pytest.mark.browser

NEXT_OPEN = re.compile(
    r"Webchat with an adviser is next open on (Monday|Thursday) (\d{1,2}) "
    r"(January|February|March|April|May|June|July|August|September|October|November|December), 1pm"
)
ADVICE_LINE = "0808 801 0366"


def next_open_date(weekday: str, day: str, month: str) -> date:
    """The date a "next open on Thursday 10 December" sentence means: the first one from today."""
    today = date.today()
    for year in (today.year, today.year + 1):
        candidate = datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
        if candidate >= today:
            assert candidate.strftime("%A") == weekday, f"{weekday} {day} {month} is not a {weekday}"
            return candidate
    raise AssertionError(f"no date for {weekday} {day} {month}")


async def assert_told_when_webchat_opens(page, stack, watch) -> None:
    # ask() has waited for the whole answer: it is all on the page.
    said = await page.locator(".msg-bot .msg-text").all_inner_texts()
    told = [text for text in said if NEXT_OPEN.search(text)]
    assert len(told) == 1, f"the bot did not say when webchat next opens; it said: {said}"
    text = told[0]
    assert ADVICE_LINE in text
    weekday, day, month = NEXT_OPEN.search(text).groups()
    # tests.stack.closed_this_week: closed from yesterday to a week from today, then Monday and
    # Thursday afternoons (bank holidays count, so it can be a later Monday or Thursday).
    assert next_open_date(weekday, day, month) > date.today() + timedelta(days=7)

    # Not queued: no "queue" status on the page, no handoff event, and the gateway agrees.
    await expect(page.get_by_test_id("handoff-status")).not_to_contain_text("queue")
    assert [h for h in watch.of("handoff") if h.get("state") == "queued"] == []
    store = Store(stack.cfg.gateway_db_url)
    try:
        assert store.conversation(await session_id(page)).state == "bot"
    finally:
        store.close()


async def test_out_of_hours_family_is_told_when_webchat_next_opens(page, new_page, closed_stack):
    # An adviser marked available does not open a closed webchat.
    adviser = await new_page()
    await adviser_login(adviser, closed_stack.gateway_url, "alex")
    await set_available(adviser, closed_stack.gateway_url, True)
    try:
        watch = await start_chat(page, closed_stack.gateway_url)
        await ask(page, watch, "can I talk to a real person please")
        await assert_told_when_webchat_opens(page, closed_stack, watch)
    finally:
        await set_available(adviser, closed_stack.gateway_url, False)


async def test_can_i_talk_to_a_real_person_is_a_request_for_an_adviser(page, closed_stack):
    watch = await start_chat(page, closed_stack.gateway_url)
    await ask(page, watch, "could I talk to a real human")  # a request, not "are you a real person?"
    await assert_told_when_webchat_opens(page, closed_stack, watch)


async def test_in_hours_adviser_takes_over_and_hands_back(page, new_page, stack, console_errors):
    family = page
    adviser = await new_page()
    base = stack.gateway_url

    # The adviser signs in and becomes available.
    await adviser.goto(base + "/console/login")
    violations = await axe_violations(adviser)
    assert violations == [], "login page:\n" + format_violations(violations)
    console = await adviser_login(adviser, base, "sam")
    await expect(adviser.get_by_test_id("adviser-name")).to_have_text("Sam")
    await set_available(adviser, base, True)
    try:
        # The family asks the bot a question, then for a person.
        watch = await start_chat(family, base)
        await ask(family, watch, "what is section 20?")
        await ask(family, watch, "can I talk to a real person please")
        status = family.get_by_test_id("handoff-status")
        await expect(status).to_contain_text("queue")
        conversation = await session_id(family)

        # The chat is in the adviser's queue; the adviser opens it and reads the bot transcript.
        item = adviser.get_by_test_id(f"queue-item-{conversation}")
        await expect(item).to_be_visible()
        await expect(item).to_contain_text("Chat")
        await expect(item).to_contain_text(re.compile("section 20", re.IGNORECASE))
        await adviser.get_by_test_id(f"open-{conversation}").click()
        pane = adviser.get_by_test_id(f"pane-{conversation}")
        transcript = pane.get_by_test_id("transcript")
        await expect(transcript.locator(".msg-family").first).to_contain_text("what is section 20?")
        await expect(transcript.locator(".msg-bot").first).to_contain_text("Section 20")
        await expect(pane.get_by_test_id("pane-state")).to_have_text("Waiting for an adviser")

        # Takeover: the family is told who they are talking to.
        await pane.get_by_test_id("takeover").click()
        await expect(status).to_have_text("You're talking to Sam, an adviser.")
        await expect(family.locator(".msg-system", has_text="You're now talking to Sam")).to_have_count(1)
        await expect(pane.get_by_test_id("pane-state")).to_contain_text("you are chatting")
        await expect(item).to_contain_text("Sam (you)")

        # Adviser to family.
        hello = "Hello, I'm Sam from the advice team. How can I help?"
        await pane.get_by_test_id("adviser-input").fill(hello)
        await pane.get_by_test_id("adviser-send").click()
        await expect(family.locator(".msg-adviser")).to_have_count(1)
        await expect(family.locator(".msg-adviser")).to_contain_text(hello)
        await expect(family.locator(".msg-adviser .msg-sender")).to_have_text("Adviser Sam")
        await expect(pane.get_by_test_id("adviser-input")).to_have_value("")

        # Family to adviser: the adviser sees them typing, then the message.
        reply = "thanks, the social worker wants me to sign a form"
        field = family.get_by_test_id("chat-input")
        await field.press_sequentially(reply)
        await expect(pane.get_by_test_id("family-typing")).to_be_visible()
        await field.press("Enter")
        await expect(transcript.locator(".msg-family", has_text=reply)).to_have_count(1)
        await expect(pane.get_by_test_id("family-typing")).to_be_hidden()
        # The bot stays quiet while the adviser has the chat.
        bot_replies = await family.locator(".msg-bot").count()

        violations = await axe_violations(adviser)
        assert violations == [], "console with a live chat:\n" + format_violations(violations)

        # Hand back to the bot: the family's next question gets a bot answer again.
        await pane.get_by_test_id("resume").click()
        await expect(status).to_contain_text("automated assistant again")
        await expect(pane.get_by_test_id("pane-state")).to_have_text("With the bot")
        assert await family.locator(".msg-bot").count() == bot_replies
        finished = watch.answers_finished()
        await field.fill("what is legal aid?")
        await field.press("Enter")
        await wait_for_answer(family, watch, finished)
        await expect(family.locator(".msg-bot").nth(bot_replies)).to_contain_text(
            re.compile("legal aid", re.IGNORECASE)
        )
        assert not [e for e in console_errors if e.startswith("pageerror")]
        assert console.of("message", "/console"), "the console got no live messages"
    finally:
        await set_available(adviser, base, False)

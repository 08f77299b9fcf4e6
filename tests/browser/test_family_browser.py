"""The family page (/, bot/gateway/static/widget.js) in headless Chromium against the real product:
gateway, Rasa with the trained model and the action server (the session `stack`, webchat open)."""

from __future__ import annotations

import asyncio
import re
from typing import List

import pytest
from playwright.async_api import expect

from bot.gateway.store import Store

from .conftest import axe_violations, format_violations
from .helpers import (
    ANSWER_TIMEOUT_MS,
    FAMILY_STORAGE_PREFIX,
    ask,
    family_storage,
    message_ids,
    open_family_page,
    session_id,
    start_chat,
    wait_for_answer,
)

pytestmark = pytest.mark.browser

EXIT_URL = "https://www.bbc.co.uk/weather"  # widget.js DEFAULT_EXIT_URL
WEATHER_PAGE = '<!doctype html><html lang="en"><head><title>Weather</title></head><body><h1>Weather</h1></body></html>'


def page_errors(console_errors: List[str]) -> List[str]:
    """Uncaught script errors (console noise such as a missing favicon is not one)."""
    return [error for error in console_errors if error.startswith("pageerror")]


async def no_horizontal_scroll(page, width: int) -> None:
    scroll_width = await page.evaluate("() => document.scrollingElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways at {width}px: scrollWidth {scroll_width}"
    # Nor does anything inside the widget (the transcript scrolls by itself, vertically only).
    sideways = await page.evaluate(
        """() => Array.from(document.querySelectorAll('#acw-root, #acw-root *'))
            .filter(node => node.offsetParent !== null && node.scrollWidth > node.clientWidth + 1
                    && ['auto', 'scroll'].includes(getComputedStyle(node).overflowX))
            .map(node => node.className || node.tagName)"""
    )
    assert sideways == [], f"parts of the widget scroll sideways at {width}px: {sideways}"


async def test_family_asks_a_question_on_a_320px_phone(page, stack, console_errors):
    await page.set_viewport_size({"width": 320, "height": 640})
    watch = await open_family_page(page, stack.gateway_url)

    # The privacy notice comes first; nothing can be typed until the family starts the chat.
    notice = page.get_by_role("region", name="Before you start")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("This chat is confidential")
    await expect(notice).to_contain_text("If a child is in danger now, call 999")
    await expect(page.get_by_test_id("chat-input")).to_be_disabled()
    await no_horizontal_scroll(page, 320)
    violations = await axe_violations(page)
    assert violations == [], "notice state:\n" + format_violations(violations)

    await page.get_by_test_id("start-chat").click()
    await expect(notice).to_be_hidden()
    field = page.get_by_test_id("chat-input")
    await expect(field).to_be_focused()
    await field.fill("what is a special guardianship order?")
    finished = watch.answers_finished()
    await field.press("Enter")

    await expect(page.locator(".msg-family")).to_have_count(1)
    await expect(page.locator(".msg-family .msg-text")).to_have_text("what is a special guardianship order?")
    await expect(page.locator(".msg-bot").first).to_contain_text(
        re.compile("special guardian", re.IGNORECASE), timeout=ANSWER_TIMEOUT_MS
    )
    await wait_for_answer(page, watch, finished)
    await expect(page.locator(".msg-family .msg-status")).to_have_text("Sent")
    await expect(page.get_by_test_id("typing")).to_have_text("")

    await no_horizontal_scroll(page, 320)
    violations = await axe_violations(page)
    assert violations == [], "chat state:\n" + format_violations(violations)
    assert page_errors(console_errors) == []


async def test_keyboard_only_family(page, stack):
    watch = await open_family_page(page, stack.gateway_url)

    # Quick exit is the first thing a keyboard reaches.
    await page.keyboard.press("Tab")
    await expect(page.get_by_test_id("quick-exit")).to_be_focused()

    start = page.get_by_test_id("start-chat")
    for _ in range(30):
        if await start.evaluate("node => node === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(start).to_be_focused()
    await page.keyboard.press("Space")

    field = page.get_by_test_id("chat-input")
    await expect(field).to_be_focused()
    finished = watch.answers_finished()
    await page.keyboard.type("what is section 20?")
    await page.keyboard.press("Enter")
    await wait_for_answer(page, watch, finished)
    await expect(page.locator(".msg-family .msg-text")).to_have_text(["what is section 20?"])
    await expect(field).to_have_value("")
    bot_messages = await page.locator(".msg-bot").count()
    assert bot_messages >= 1

    # Back from the message box (Shift+Tab) to the suggested reply "Tell me more".
    more = page.locator(".msg-bot .acw-reply", has_text="Tell me more").first
    await expect(more).to_be_enabled()
    await expect(field).to_be_focused()
    for _ in range(30):
        if await more.evaluate("node => node === document.activeElement"):
            break
        await page.keyboard.press("Shift+Tab")
    await expect(more).to_be_focused()
    finished = watch.answers_finished()
    await page.keyboard.press("Enter")

    await expect(page.locator(".msg-family .msg-text")).to_have_text(["what is section 20?", "Tell me more"])
    await wait_for_answer(page, watch, finished)
    assert await page.locator(".msg-bot").count() > bot_messages
    await expect(more).to_be_disabled()
    await expect(field).to_be_focused()  # the widget keeps keyboard users in the chat
    assert watch.of("user_echo")[-1]["message"]["text"] == "Tell me more"


async def test_html_in_a_message_is_shown_as_text(page, stack, console_errors):
    attack = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    watch = await start_chat(page, stack.gateway_url)
    await ask(page, watch, attack)

    family = page.locator(".msg-family .msg-text")
    await expect(family).to_have_text([attack])
    transcript = page.get_by_test_id("transcript")
    assert await transcript.locator("img, b").count() == 0
    assert await page.evaluate("() => typeof window.__pwned") == "undefined"

    # The same message drawn again from the gateway's history after a reload is still only text.
    await page.reload()
    await expect(family).to_have_text([attack])
    assert await transcript.locator("img, b").count() == 0
    assert await page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page_errors(console_errors) == []


async def test_crisis_message_gets_999_in_the_first_reply(page, stack):
    watch = await start_chat(page, stack.gateway_url)
    await ask(page, watch, "my boyfriend is hurting my little girl right now")

    first = page.locator(".msg-bot").first
    await expect(first).to_contain_text("999")
    await expect(first.locator('a[href="tel:999"]')).to_have_text("999")
    first_uttered = watch.of("bot_uttered")[0]
    assert "999" in first_uttered["text"]


async def test_reload_resumes_the_chat_without_duplicates(page, stack):
    watch = await start_chat(page, stack.gateway_url)
    await ask(page, watch, "what is a special guardianship order?")
    before = await message_ids(page)
    assert len(before) >= 2 and all(before), before
    first_session = await session_id(page)

    watch.events.clear()
    await page.reload()
    # No notice again: the chat resumes, and the gateway's history fills the transcript.
    await expect(page.get_by_test_id("chat-input")).to_be_enabled()
    await watch.wait_for(lambda: watch.of("history"), what="history")
    await expect(page.locator("[data-testid=transcript] .msg")).to_have_count(len(before))
    assert await message_ids(page) == before
    assert await session_id(page) == first_session
    assert watch.of("session_confirm") == [first_session]

    await ask(page, watch, "what is legal aid?")
    after = await message_ids(page)
    assert after[: len(before)] == before
    assert len(after) > len(before) + 1
    assert len(set(after)) == len(after), f"a message is shown twice: {after}"
    assert all(after), after
    await expect(page.locator(".msg-family .msg-text")).to_have_text(
        ["what is a special guardianship order?", "what is legal aid?"]
    )
    answer = page.locator(f'.msg-bot[data-message-id="{after[len(before) + 1]}"]')
    await expect(answer).to_contain_text(re.compile("legal aid", re.IGNORECASE))


@pytest.mark.parametrize("how", ["button", "escape twice"])
async def test_quick_exit_leaves_no_trace(page, stack, how):
    async def weather(route):
        await route.fulfill(status=200, content_type="text/html", body=WEATHER_PAGE)

    await page.route(EXIT_URL, weather)  # page routes come before the context's loopback guard
    watch = await start_chat(page, stack.gateway_url)
    await ask(page, watch, "what is section 20?")
    await page.evaluate(
        """() => {
            localStorage.setItem('advice_chat_left_by_an_older_version', '1');
            localStorage.setItem('host_page_setting', 'keep');
            sessionStorage.setItem('host_page_setting', 'keep');
        }"""
    )
    stored = await family_storage(page)
    assert "advice_chat_session" in stored["session"] and "advice_chat_accepted" in stored["session"]
    history_length = await page.evaluate("() => history.length")

    if how == "button":
        await page.get_by_test_id("quick-exit").click()
    else:
        await page.get_by_test_id("chat-input").focus()
        await page.keyboard.press("Escape")
        await page.keyboard.press("Escape")

    await page.wait_for_url(EXIT_URL)
    await expect(page.get_by_role("heading", name="Weather")).to_be_visible()
    # location.replace: the chat's history entry was replaced, not added to.
    assert await page.evaluate("() => history.length") == history_length

    await page.go_back()
    assert not page.url.startswith(stack.gateway_url), f"Back returned to the chat: {page.url}"
    assert await page.get_by_test_id("transcript").count() == 0

    # Back on the gateway's origin in the same tab (a page without the widget): nothing of the chat.
    await page.goto(stack.gateway_url + "/health")
    stored = await family_storage(page)
    leftovers = [key for area in stored.values() for key in area if key.startswith(FAMILY_STORAGE_PREFIX)]
    assert leftovers == []
    assert stored["session"].get("host_page_setting") == "keep"
    assert stored["local"].get("host_page_setting") == "keep"


async def test_was_this_helpful_is_recorded(page, stack):
    watch = await start_chat(page, stack.gateway_url)
    await ask(page, watch, "what is a special guardianship order?")

    yes = page.get_by_test_id("feedback-yes").first
    await expect(yes).to_be_visible()
    answer = page.locator(".msg-bot", has=page.get_by_test_id("feedback-yes")).first
    message_id = await answer.get_attribute("data-message-id")
    assert message_id
    await yes.click()
    await expect(yes).to_have_attribute("aria-pressed", "true")
    await expect(answer).to_contain_text("Thanks for telling us.")

    conversation = await session_id(page)
    store = Store(stack.cfg.gateway_db_url)
    try:
        recorded = {}
        for _ in range(200):
            recorded = store.feedback_for(conversation)
            if recorded:
                break
            await asyncio.sleep(0.05)
        assert recorded == {message_id: True}
    finally:
        store.close()

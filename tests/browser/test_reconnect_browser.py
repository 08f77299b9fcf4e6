"""The real widget on the scaled shape (tests/conftest.py `prod_shape`, through nginx) while every
gateway is away: the family sees a plain message with the advice line number, can keep typing, and
when a gateway is back the widget reconnects by itself and the message typed meanwhile is answered once."""
from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser.helpers import ANSWER_TIMEOUT_MS, ask, start_chat

pytestmark = [pytest.mark.browser, pytest.mark.prod]


async def test_while_the_gateways_are_away_the_widget_shows_the_advice_line_and_then_reconnects(page, prod_shape):
    watch = await start_chat(page, prod_shape.public_url)
    await ask(page, watch, "what is a special guardianship order?")

    await asyncio.to_thread(prod_shape.kill, "gateway1")
    await asyncio.to_thread(prod_shape.kill, "gateway2")
    banner = page.locator(".acw-connection-lost")
    await expect(banner).to_be_visible(timeout=20_000)
    await expect(banner).to_contain_text("0808 801 0366")

    field = page.get_by_test_id("chat-input")
    await field.fill("what does section 20 mean?")
    await field.press("Enter")  # kept in the widget's outbox while nobody is there

    await asyncio.to_thread(prod_shape.start, "gateway1")
    await asyncio.to_thread(prod_shape.start, "gateway2")
    await expect(banner).to_be_hidden(timeout=30_000)
    transcript = page.get_by_test_id("transcript")
    await expect(transcript.locator(".msg-family").filter(has_text="what does section 20 mean?")).to_have_count(
        1, timeout=ANSWER_TIMEOUT_MS)
    await expect(transcript.locator(".msg-bot").filter(has_text="without a court order")).to_have_count(
        1, timeout=ANSWER_TIMEOUT_MS)

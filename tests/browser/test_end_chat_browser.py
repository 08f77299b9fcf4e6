""""End chat and clear" in real Chromium (security review, issue 16): beside Quick exit, two presses (the
first only arms it) end the chat on the gateway, give up its queue place, tell the adviser, and leave
nothing of the chat in the page or the browser's storage; the next chat is a new one. The gateway is
tests/gateway_harness.py (scripted Rasa, loopback)."""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.gateway_harness import Harness, wait_until

from .helpers import family_storage, session_id, start_chat

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")
async def gw(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


async def test_end_chat_and_clear_ends_the_queue_place_and_leaves_nothing(page, gw):
    sam = await gw.adviser("sam")
    await start_chat(page, gw.base)
    first = await session_id(page)
    field = page.get_by_test_id("chat-input")
    await field.fill("adviser please, my private situation")
    await field.press("Enter")
    await wait_until(lambda: [c.id for c in gw.gateway.store.waiting()] == [first], timeout=10)

    end = page.get_by_test_id("end-chat")
    await expect(end).to_have_text("End chat and clear")
    await end.click()  # the first press only arms it
    await expect(end).to_have_text("Press again to end and clear")
    assert [c.id for c in gw.gateway.store.waiting()] == [first]
    await end.click()

    await expect(page.get_by_test_id("start-chat")).to_be_visible(timeout=10_000)  # a fresh widget
    await expect(page.get_by_text("my private situation")).to_have_count(0)
    storage = await family_storage(page)
    assert not any(k.startswith("advice_chat_") for area in storage.values() for k in area), storage
    assert gw.gateway.store.waiting() == []
    assert gw.gateway.store.conversation(first).closed
    await wait_until(lambda: any(m.get("conversation_id") == first and "ended the chat" in m["message"]["text"]
                                 for m in sam.of("message")), timeout=10)

    await page.get_by_test_id("start-chat").click()  # the next chat is a new one
    await expect(page.get_by_test_id("chat-input")).to_be_enabled()
    second = await page.wait_for_function("() => sessionStorage.getItem('advice_chat_session')")
    assert await second.json_value() != first


async def test_the_armed_button_disarms_itself(page, gw):
    await start_chat(page, gw.base)
    end = page.get_by_test_id("end-chat")
    await end.click()
    await expect(end).to_have_text("Press again to end and clear")
    await expect(end).to_have_text("End chat and clear", timeout=10_000)  # after a few seconds
    assert await session_id(page)

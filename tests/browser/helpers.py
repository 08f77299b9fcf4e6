"""Helpers shared by the browser tests that drive the real product (tests.stack): the family page
(bot/gateway/static/widget.js) and the adviser console.

`SocketWatch` reads the socket.io frames a page receives over its websocket, so a test can wait
for a precise signal (the gateway's `bot_typing: false`, sent after the last answer to a message)
instead of sleeping."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Callable, Dict, List, Tuple

from playwright.async_api import Page, expect

from tests.stack import PASSWORD

ANSWER_TIMEOUT_MS = 60_000  # the first question after Rasa starts can be slow on a busy machine
FAMILY_STORAGE_PREFIX = "advice_chat_"


class SocketWatch:
    """socket.io events received by a page over websockets: [(namespace, event, data)]."""

    def __init__(self, page: Page):
        self.events: List[Tuple[str, str, Any]] = []
        page.on("websocket", self._attach)

    def _attach(self, websocket: Any) -> None:
        websocket.on("framereceived", self._frame)

    def _frame(self, payload: Any) -> None:
        if not isinstance(payload, str) or not payload.startswith("42"):
            return  # Engine.IO pings, binary frames, connects
        body = payload[2:]
        namespace = "/"
        if body.startswith("/"):
            namespace, _, body = body.partition(",")
        try:
            decoded = json.loads(body)
        except ValueError:
            return
        if isinstance(decoded, list) and decoded and isinstance(decoded[0], str):
            self.events.append((namespace, decoded[0], decoded[1] if len(decoded) > 1 else None))

    def of(self, event: str, namespace: str = "/") -> List[Any]:
        return [data for ns, name, data in self.events if ns == namespace and name == event]

    def answers_finished(self) -> int:
        """How many times the gateway said the bot had finished answering (bot_typing false)."""
        return sum(1 for data in self.of("bot_typing") if isinstance(data, dict) and not data.get("typing"))

    async def wait_for(self, condition: Callable[[], bool], timeout: float = ANSWER_TIMEOUT_MS / 1000,
                       what: str = "socket event") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; received: {self.events[-10:]}")
            await asyncio.sleep(0.02)


async def open_family_page(page: Page, base_url: str) -> SocketWatch:
    """Open the family page and wait until the widget has drawn the privacy notice."""
    watch = SocketWatch(page)
    await page.goto(base_url + "/")
    await expect(page.get_by_test_id("start-chat")).to_be_visible()
    return watch


async def start_chat(page: Page, base_url: str) -> SocketWatch:
    """Open the family page, accept the notice and wait for the gateway to confirm a session."""
    watch = await open_family_page(page, base_url)
    await page.get_by_test_id("start-chat").click()
    await expect(page.get_by_test_id("chat-input")).to_be_enabled()
    await watch.wait_for(lambda: watch.of("session_confirm"), what="session_confirm")
    return watch


async def ask(page: Page, watch: SocketWatch, text: str) -> None:
    """Type a message, press Enter, and wait until the bot has answered it completely: the gateway's
    bot_typing false has arrived and every bot message it sent is on the page."""
    finished = watch.answers_finished()
    field = page.get_by_test_id("chat-input")
    await field.fill(text)
    await field.press("Enter")
    await wait_for_answer(page, watch, finished)


async def wait_for_answer(page: Page, watch: SocketWatch, finished_before: int) -> None:
    await watch.wait_for(lambda: watch.answers_finished() > finished_before, what="the bot's answer")
    await expect_all_bot_messages_shown(page, watch)


async def expect_all_bot_messages_shown(page: Page, watch: SocketWatch) -> None:
    """Every stored bot_uttered the page received (id'd messages) is on the page exactly once."""
    ids = {(data.get("metadata") or {}).get("message", {}).get("id")
           for data in watch.of("bot_uttered") if isinstance(data, dict)}
    ids.discard(None)
    for message_id in ids:
        await expect(page.locator(f'.msg[data-message-id="{message_id}"]')).to_have_count(1)


async def message_ids(page: Page) -> List[str]:
    return await page.eval_on_selector_all(
        "[data-testid=transcript] .msg", "nodes => nodes.map(n => n.getAttribute('data-message-id'))"
    )


async def family_storage(page: Page) -> Dict[str, Dict[str, str]]:
    """The page origin's sessionStorage and localStorage, as {"session": {...}, "local": {...}}."""
    return await page.evaluate(
        """() => {
            const dump = area => Object.fromEntries(
                Array.from({length: area.length}, (_, i) => area.key(i)).map(k => [k, area.getItem(k)]));
            return {session: dump(sessionStorage), local: dump(localStorage)};
        }"""
    )


async def session_id(page: Page) -> str:
    value = await page.evaluate("() => sessionStorage.getItem('advice_chat_session')")
    assert value, "the widget kept no session id"
    return value


# -- the adviser console -----------------------------------------------------------------------

async def adviser_login(page: Page, base_url: str, username: str) -> SocketWatch:
    """Sign in through the login form and wait for the console's live updates to be on."""
    watch = SocketWatch(page)
    await page.goto(base_url + "/console/login")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("login").click()
    await page.wait_for_url(re.compile(r"/console$"))
    await expect(page.get_by_test_id("connection")).to_have_text(re.compile("Live updates on"))
    return watch


async def console_state(page: Page, base_url: str) -> Dict[str, Any]:
    """GET /console/api/state with the page's own cookies."""
    response = await page.request.get(base_url + "/console/api/state")
    assert response.ok, await response.text()
    return await response.json()


async def set_available(page: Page, base_url: str, available: bool) -> None:
    """Tick or untick the console's availability box and wait until the gateway has it."""
    box = page.get_by_test_id("availability")
    await expect(box).to_be_enabled()
    # the console reads the saved availability when it loads: wait for it before clicking
    saved = (await console_state(page, base_url))["available"]
    await expect(box).to_be_checked(checked=saved)
    if saved != available:
        await box.set_checked(available)
    deadline = asyncio.get_running_loop().time() + 10
    while (await console_state(page, base_url))["available"] is not available:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the gateway did not record available={available}")
        await asyncio.sleep(0.05)
    await expect(box).to_be_checked(checked=available)


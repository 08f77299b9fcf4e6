"""The published rasa-webchat widget (node_modules/rasa-webchat, 1.0.1, socket.io-client 3), unchanged,
on a test page of another site (its own loopback port), talking to our gateway as if it were Rasa's
socket.io channel: other Rasa widgets work with the gateway as they are."""

from __future__ import annotations

import json
import re
import socket
from types import SimpleNamespace
from typing import AsyncIterator, List

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import expect

from bot.gateway.store import Store

from .conftest import NODE_MODULES

pytestmark = pytest.mark.browser

RASA_WEBCHAT_JS = NODE_MODULES / "rasa-webchat" / "lib" / "index.js"

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Another site with rasa-webchat</title></head>
<body>
  <h1>Another site</h1>
  <div id="webchat"></div>
  <script>window.__socketEvents = [];</script>
  <script src="/rasa-webchat.js"></script>
  <script>
    const record = name => data => window.__socketEvents.push([name, data]);
    WebChat.default({
      selector: "#webchat",
      socketUrl: __GATEWAY__,
      socketPath: "/socket.io/",
      embedded: true,
      initPayload: "/greet",
      title: "Ask us",
      params: {storage: "session"},
      customMessageDelay: () => 0,
      // (not session_confirm: rasa-webchat's own handler for it would be replaced)
      onSocketEvent: {bot_uttered: record("bot_uttered")},
    }, null);
  </script>
</body>
</html>
"""


@pytest_asyncio.fixture(loop_scope="session")
async def other_site(stack) -> AsyncIterator[SimpleNamespace]:
    """A page embedding rasa-webchat, served from a free loopback port that is not the gateway's."""
    if not RASA_WEBCHAT_JS.is_file():
        pytest.fail(f"{RASA_WEBCHAT_JS} is missing (npm ci)")
    body = PAGE.replace("__GATEWAY__", json.dumps(stack.gateway_url))

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    async def script(request: web.Request) -> web.FileResponse:
        return web.FileResponse(RASA_WEBCHAT_JS, headers={"Content-Type": "application/javascript"})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/rasa-webchat.js", script)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield SimpleNamespace(base_url="http://127.0.0.1:%d" % sock.getsockname()[1])
    finally:
        await runner.cleanup()


async def test_rasa_webchat_holds_a_conversation_with_the_gateway(page, other_site, stack, console_errors: List[str]):
    assert not other_site.base_url.startswith(stack.gateway_url)
    await page.goto(other_site.base_url + "/")

    # The widget shows itself once connected (hideWhenNotConnected), and its init payload is answered.
    widget = page.locator(".rw-conversation-container")
    await expect(widget).to_be_visible(timeout=30_000)
    responses = page.locator(".rw-response")
    await expect(responses.first).to_contain_text("Hello", timeout=60_000)

    box = page.locator("textarea.rw-new-message")
    await box.fill("what is a special guardianship order?")
    await box.press("Enter")
    await expect(page.locator(".rw-client")).to_have_text(["what is a special guardianship order?"])
    await expect(responses.filter(has_text=re.compile("special guardian", re.IGNORECASE)).first).to_be_visible(
        timeout=60_000
    )

    # Its quick replies (our buttons, sent as Rasa's quick_replies) work too.
    more = page.locator(".rw-reply", has_text="Tell me more")
    await expect(more).to_have_count(1)
    shown = await responses.count()
    await more.click()
    await expect(page.locator(".rw-client")).to_have_text(["what is a special guardianship order?", "Tell me more"])
    await expect(responses.nth(shown)).to_be_visible(timeout=60_000)

    # What the widget received is Rasa's own shape: {text} or {text, quick_replies}, plus metadata.
    events = await page.evaluate("() => window.__socketEvents")
    uttered = [data for name, data in events if name == "bot_uttered"]
    assert uttered
    for data in uttered:
        keys = set(data) - {"metadata"}
        assert keys in ({"text"}, {"text", "quick_replies"}), data
        for reply in data.get("quick_replies", []):
            assert reply["content_type"] == "text" and reply["title"] and reply["payload"]

    # The gateway kept the conversation under the session id the widget was given (and stored).
    conversation = await page.evaluate("() => JSON.parse(sessionStorage.getItem('chat_session')).session_id")
    assert isinstance(conversation, str) and len(conversation) >= 22
    store = Store(stack.cfg.gateway_db_url)
    try:
        family = [m.text for m in store.messages_after(conversation) if m.sender == "family"]
    finally:
        store.close()
    assert "what is a special guardianship order?" in family and "Tell me more" in family
    assert not [error for error in console_errors if error.startswith("pageerror")], console_errors

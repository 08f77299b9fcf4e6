"""Hostile text in real Chromium: script tags, <img onerror>, javascript: links, right-to-left overrides,
zero-width characters and very long words, sent as family messages (typed into the widget), echoed back
as bot replies by the scripted Rasa of tests/gateway_harness.py ("You said: ..."), and sent as adviser
messages and canned responses from the console. Nothing may run or be created from them: no injected
element, no window.__pwned, no dialog, no Content-Security-Policy report; the text is shown literally;
the family's 320 px layout does not scroll sideways and the console's message lists stay usable."""

from __future__ import annotations

import asyncio
import re
from typing import Any, List

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests import hostile_inputs as hi
from tests.gateway_harness import Harness

from .helpers import adviser_login, set_available, start_chat

pytestmark = pytest.mark.browser

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    '"><svg onload=window.__pwned=1>',
    '<a href="javascript:window.__pwned=1">click me</a>',
    "javascript:window.__pwned=1",
    "https://example.org/\"><img src=x onerror=window.__pwned=1>",
    "\u202eevil right-to-left override",
    "zero\u200bwidth\u200djoin\ufeffed",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "W" * 1200,  # one very long word
]
ADVISER_HOSTILE = HOSTILE[:6] + ["X" * 900]
CANNED = [("<b>bold</b> title", '<img src=x onerror="window.__pwned=1"> canned text'),
          ("\u202eRTL title", "javascript:window.__pwned=1 and " + "Y" * 600)]

INJECTED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of Array.from(el.attributes)) {
      if (attr.name.startsWith('on')) bad.push(el.tagName + '[' + attr.name + ']');
      if ((attr.name === 'href' || attr.name === 'src') && /^\\s*javascript:/i.test(attr.value)) bad.push(el.tagName + '[' + attr.name + ']');
    }
  }
  for (const el of document.querySelectorAll('img[src="x"], svg, iframe, b, script:not([src])')) bad.push(el.tagName);
  return {bad: bad, pwned: typeof window.__pwned};
}"""


@pytest_asyncio.fixture(loop_scope="session")
async def gw(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


def watch_dialogs(page: Page, dialogs: List[str]) -> None:
    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        asyncio.ensure_future(dialog.dismiss())

    page.on("dialog", on_dialog)


async def visible_text(locator: Any) -> str:
    """The text a reader sees (without the screen-reader-only "(opens in a new tab)" of links)."""
    return await locator.evaluate(
        "el => { const c = el.cloneNode(true); c.querySelectorAll('.acw-visually-hidden').forEach(n => n.remove());"
        " return c.textContent; }")


async def assert_nothing_injected(page: Page, where: str) -> None:
    found = await page.evaluate(INJECTED)
    assert found == {"bad": [], "pwned": "undefined"}, (where, found)


async def assert_no_sideways_scroll(page: Page, where: str) -> None:
    overflow = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert overflow[0] <= overflow[1], (where, overflow)




async def test_hostile_text_is_shown_literally_and_never_runs(new_page, gw, console_errors):
    dialogs: List[str] = []
    staff = await gw.adviser("kim", available=False, socket=False)
    for title, text in CANNED:
        status, _ = await staff.post("/console/api/canned", {"title": title, "text": text})
        assert status == 200

    console = await new_page()
    watch_dialogs(console, dialogs)
    await adviser_login(console, gw.base, "sam")
    await set_available(console, gw.base, True)

    family = await new_page(viewport={"width": 320, "height": 640})
    watch_dialogs(family, dialogs)
    watch = await start_chat(family, gw.base)
    transcript = family.get_by_test_id("transcript")
    field = family.get_by_test_id("chat-input")

    # 1. the family types them; the scripted Rasa echoes them back as bot replies
    for text in HOSTILE:
        gw.clock.advance(3)  # below the rate limit
        finished = watch.answers_finished()
        await field.fill(text)
        await field.press("Enter")
        await watch.wait_for(lambda: watch.answers_finished() > finished, timeout=15, what="the echo")
        clean = hi.expected_clean(text)
        assert await visible_text(transcript.locator(".msg-bot .msg-text").last) == "You said: " + clean
        # the family's own bubble keeps what they typed (invisible characters included: see the report)
        assert hi.expected_clean(await visible_text(transcript.locator(".msg-family .msg-text").last)) == clean
    assert gw.rasa.received == [hi.expected_clean(t) for t in HOSTILE]
    links = await transcript.locator("a").evaluate_all("nodes => nodes.map(n => n.getAttribute('href'))")
    assert links and all(link == "https://example.org/" for link in links), links  # the quote ends the link
    family_texts = [await visible_text(node) for node in await transcript.locator(".msg-family .msg-text").all()]
    for text in HOSTILE[:6]:
        assert any(text in shown for shown in family_texts), text  # shown literally, as typed
    bot_texts = await transcript.locator(".msg-bot .msg-text").all_text_contents()
    assert "You said: \u202e" not in "".join(bot_texts) and "\u200b" not in "".join(bot_texts)
    await assert_nothing_injected(family, "family page, after family messages and bot replies")
    await assert_no_sideways_scroll(family, "family page at 320 px")

    # 2. the family asks for a person; the adviser reads the transcript in the console
    gw.clock.advance(3)
    await field.fill("I need an adviser please")
    await field.press("Enter")
    await expect(family.get_by_test_id("handoff-status")).to_contain_text("queue")
    conversation = await family.evaluate("() => sessionStorage.getItem('advice_chat_session')")
    await console.get_by_test_id(f"open-{conversation}").click()
    pane = console.get_by_test_id(f"pane-{conversation}")
    pane_transcript = pane.get_by_test_id("transcript")
    for text in HOSTILE[:6]:
        times = sum(text in other for other in HOSTILE)  # some contain others
        await expect(pane_transcript.locator(".msg-family", has_text=text)).to_have_count(times)
        echoed = sum(("You said: " + text) in ("You said: " + other) for other in HOSTILE)
        await expect(pane_transcript.locator(".msg-bot", has_text="You said: " + text)).to_have_count(echoed)
    await assert_nothing_injected(console, "console, transcript of hostile messages")

    # 3. the adviser takes over and sends hostile messages and the hostile canned responses
    await pane.get_by_test_id("takeover").click()
    await expect(family.get_by_test_id("handoff-status")).to_contain_text("Sam")
    adviser_input = pane.get_by_test_id("adviser-input")
    for text in ADVISER_HOSTILE:
        await adviser_input.fill(text)
        await pane.get_by_test_id("adviser-send").click()
        await expect(adviser_input).to_have_value("")
    for title, text in CANNED:
        await pane.get_by_test_id("canned-select").select_option(label=title)
        await pane.get_by_test_id("canned-insert").click()
        await expect(adviser_input).to_have_value(re.compile(re.escape(text[:20])))
        await pane.get_by_test_id("adviser-send").click()
        await expect(adviser_input).to_have_value("")
    adviser_messages = family.locator(".msg-adviser .msg-text")
    await expect(adviser_messages).to_have_count(len(ADVISER_HOSTILE) + len(CANNED))
    shown = await adviser_messages.all_text_contents()
    for text in ADVISER_HOSTILE[:5]:
        assert text in shown, text
    assert [s for s in shown if s.startswith("<img src=x")] and any("javascript:window" in s for s in shown)
    await expect(pane_transcript.locator(".msg-adviser")).to_have_count(len(ADVISER_HOSTILE) + len(CANNED))

    for page, where in ((family, "family page"), (console, "console")):
        await assert_nothing_injected(page, where + " at the end")
        assert await page.evaluate("() => typeof window.__pwned") == "undefined"
    await assert_no_sideways_scroll(family, "family page at 320 px, at the end")
    await expect(transcript).to_be_visible()
    await expect(pane_transcript).to_be_visible()
    box = await family.get_by_test_id("chat-input").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320  # the input is still on screen
    for bubble in await transcript.locator(".msg").all():
        bubble_box = await bubble.bounding_box()
        assert bubble_box is None or bubble_box["x"] + bubble_box["width"] <= 320 + 0.5
    pane_width = await pane_transcript.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert pane_width[0] <= pane_width[1], pane_width  # long words wrap in the console too
    assert dialogs == []
    assert not [e for e in console_errors if "Content Security Policy" in e or e.startswith("pageerror")], \
        console_errors

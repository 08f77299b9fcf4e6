"""Smoke test of the browser-test infrastructure itself: a tiny aiohttp server on a free
loopback port, a page in headless Chromium, a click, and axe-core on the result.
Needs no Rasa, no model and no gateway."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import AsyncIterator, List

import pytest
import pytest_asyncio
from aiohttp import web

from .conftest import axe_violations, format_violations

pytestmark = pytest.mark.browser

GOOD_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Browser smoke test</title>
  <style>
    body { font-family: sans-serif; color: #1a1a1a; background: #ffffff; margin: 2rem; }
    button { font-size: 1rem; padding: 0.5rem 1rem; color: #ffffff; background: #1d4f91;
             border: 0; border-radius: 4px; }
  </style>
</head>
<body>
  <main>
    <h1>Smoke test</h1>
    <p id="status" role="status">Not clicked yet.</p>
    <button type="button" id="go">Say hello</button>
  </main>
  <script>
    document.getElementById('go').addEventListener('click', async () => {
      const response = await fetch('/api/hello');
      const data = await response.json();
      document.getElementById('status').textContent = data.text;
    });
  </script>
</body>
</html>
"""

# Deliberately inaccessible: an unnamed button (critical) and an image without alt (critical),
# low contrast text (serious), no lang and no title (serious). Proves axe really runs.
BAD_PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"></head>
<body>
  <button type="button"></button>
  <img src="/pixel.svg">
  <p style="color:#bbbbbb;background:#ffffff">faint text</p>
</body>
</html>
"""

PIXEL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'


def _hello(hits: List[str]):
    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"text": "Hello from the server."})

    return handler


def _static(body: str, content_type: str):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type=content_type)

    return handler


@pytest_asyncio.fixture(loop_scope="session")
async def server() -> AsyncIterator[SimpleNamespace]:
    """The test pages on a free loopback port: .base_url, and .hits (paths of API calls)."""
    hits: List[str] = []
    app = web.Application()
    app.router.add_get("/", _static(GOOD_PAGE, "text/html"))
    app.router.add_get("/bad", _static(BAD_PAGE, "text/html"))
    app.router.add_get("/pixel.svg", _static(PIXEL_SVG, "image/svg+xml"))
    app.router.add_get("/api/hello", _hello(hits))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield SimpleNamespace(base_url="http://127.0.0.1:%d" % sock.getsockname()[1], hits=hits)
    finally:
        await runner.cleanup()


async def test_click_updates_page_and_page_is_accessible(
    page, server, console_errors: List[str], offsite_requests: List[str]
):
    from playwright.async_api import expect

    await page.goto(server.base_url + "/")
    status = page.get_by_role("status")
    await expect(status).to_have_text("Not clicked yet.")

    await page.get_by_role("button", name="Say hello").click()

    await expect(status).to_have_text("Hello from the server.")
    assert server.hits == ["/api/hello"]

    violations = await axe_violations(page)
    assert violations == [], format_violations(violations)
    assert console_errors == []
    assert offsite_requests == []


async def test_axe_reports_known_violations(page, server):
    await page.goto(server.base_url + "/bad")

    violations = await axe_violations(page)

    ids = {violation["id"] for violation in violations}
    assert {"button-name", "image-alt", "color-contrast", "html-has-lang"} <= ids, format_violations(
        violations
    )
    assert all(v["impact"] in ("serious", "critical") for v in violations)
    # impacts=None returns everything, including the lesser ones.
    everything = await axe_violations(page, impacts=None)
    assert len(everything) >= len(violations)


async def test_requests_off_loopback_are_blocked(page, server, offsite_requests: List[str]):
    await page.goto(server.base_url + "/")
    outcome = await page.evaluate(
        """() => fetch('http://example.invalid/x').then(() => 'fetched', () => 'blocked')"""
    )
    assert outcome == "blocked"
    assert offsite_requests == ["http://example.invalid/x"]

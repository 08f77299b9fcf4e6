"""Browser-test fixtures: Playwright (async API) driving Debian's /usr/bin/chromium.

Never downloads a browser: `scripts/setup_browser.sh` installs Debian's chromium, the npm
packages (axe-core, socket.io-client, rasa-webchat) and the Python playwright package.

Event loops: pytest runs with pytest-asyncio in asyncio_mode=auto. Playwright objects are
bound to the loop they were made in, so the session-scoped `browser` lives in pytest-asyncio's
*session* loop, and every async test under tests/browser is moved onto that loop by
`pytest_collection_modifyitems` below. Async fixtures that browser tests use must say so too:

    @pytest_asyncio.fixture(loop_scope="session")
    async def my_server(): ...

(a plain `async def` fixture would run in a function-scoped loop and hang or fail).

Missing prerequisites (chromium, the playwright package, node_modules/axe-core) fail the tests,
unless ALLOW_SKIP_BROWSER=1 is set, in which case they are skipped with the reason.

Fixtures: `browser` (one Chromium per session), `page` (a guarded page in a fresh context),
`new_page` (a factory for more guarded pages, each in its own context: a second person),
`offsite_requests`, `console_errors`, and `closed_stack` (the product with webchat closed; the
open one is `stack` in tests/conftest.py). `axe_violations(page)` runs axe-core on a page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, List, Optional, Sequence
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS_DIR = Path(__file__).resolve().parent
CHROMIUM_PATH = "/usr/bin/chromium"
NODE_MODULES = REPO_ROOT / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SETUP_HINT = "run scripts/setup_browser.sh (make setup-browser)"


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Run every async test under tests/browser in pytest-asyncio's session loop."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        path = Path(str(getattr(item, "path", "")))
        if BROWSER_TESTS_DIR not in path.parents or not is_async_test(item):
            continue
        marker = item.get_closest_marker("asyncio")
        if marker is not None and (marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")):
            continue  # the test chose its own loop scope
        item.add_marker(session_loop, append=False)


def _missing_prerequisites() -> List[str]:
    missing = []
    if not os.access(CHROMIUM_PATH, os.X_OK):
        missing.append(f"{CHROMIUM_PATH} is missing (Debian package chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright is not installed in this venv")
    if not AXE_JS.is_file():
        missing.append(f"{AXE_JS.relative_to(REPO_ROOT)} is missing (npm ci)")
    return missing


def _skip_or_fail(reasons: Sequence[str]) -> None:
    message = "browser tests cannot run: " + "; ".join(reasons) + f"; {SETUP_HINT}"
    if os.environ.get("ALLOW_SKIP_BROWSER") == "1":
        pytest.skip(message + " (skipped because ALLOW_SKIP_BROWSER=1)")
    pytest.fail(message + " (set ALLOW_SKIP_BROWSER=1 to skip instead)", pytrace=False)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the whole session (a `playwright.async_api.Browser`)."""
    missing = _missing_prerequisites()
    if missing:
        _skip_or_fail(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=30_000,
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def offsite_requests() -> List[str]:
    """URLs the page tried to fetch from anywhere but loopback (they are aborted)."""
    return []


@pytest.fixture
def console_errors() -> List[str]:
    """console.error messages and uncaught page errors seen during the test."""
    return []


async def _guarded_page(
    browser: Any, offsite_requests: List[str], console_errors: List[str], **context_options: Any
) -> Any:
    """A page in a new browser context whose requests off loopback are aborted and recorded."""
    options = dict(
        viewport={"width": 1280, "height": 800},
        locale="en-GB",
        timezone_id="Europe/London",
        service_workers="block",
    )
    options.update(context_options)
    context = await browser.new_context(**options)
    context.set_default_timeout(10_000)

    async def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname not in LOOPBACK_HOSTS:
            offsite_requests.append(url)
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    await context.route("**/*", guard)
    new_page = await context.new_page()
    new_page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    new_page.on("pageerror", lambda error: console_errors.append(f"pageerror: {error}"))
    return new_page


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Any, offsite_requests: List[str], console_errors: List[str]) -> AsyncIterator[Any]:
    """A page in a fresh browser context (own cookies and storage) for each test.

    Requests to anything but loopback are aborted and recorded in `offsite_requests`, so a
    test page can never reach the network.
    """
    new_page = await _guarded_page(browser, offsite_requests, console_errors)
    try:
        yield new_page
    finally:
        await new_page.context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(
    browser: Any, offsite_requests: List[str], console_errors: List[str]
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """A factory for more pages, each in its own browser context (another person's browser:
    own cookies and storage), guarded like `page`; keyword arguments go to browser.new_context.
    Every context it made is closed after the test."""
    made: List[Any] = []

    async def make(**context_options: Any) -> Any:
        made_page = await _guarded_page(browser, offsite_requests, console_errors, **context_options)
        made.append(made_page)
        return made_page

    try:
        yield make
    finally:
        for made_page in made:
            await made_page.context.close()


# -- the product with webchat closed -------------------------------------------------------------
# `stack` (tests/conftest.py) is the product with webchat staffed all day. Out-of-hours tests use
# `closed_stack`: webchat closed by a staff closure this week, next open on a Monday or Thursday
# at 1pm (tests.stack.closed_this_week). It takes as long to start as `stack`, so when a collected
# test needs it, it is started in a background thread as soon as collection is over, while other
# tests run and `stack` starts.


class _StackInBackground:
    """tests.stack.running_stack in a thread of its own: started now, used by get(), stopped by stop()."""

    def __init__(self, hours: str):
        self._var = Path(tempfile.mkdtemp(prefix="pytest-closed-stack-"))
        self._hours = hours
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._stack: Any = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="closed-stack", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from tests.stack import running_stack

        try:
            with running_stack(self._var, self._hours) as running:
                self._stack = running
                self._ready.set()
                self._stop.wait()
        except BaseException as error:  # reported to the test that needs the stack
            self._error = error
        finally:
            self._ready.set()

    def get(self) -> Any:
        self._ready.wait(timeout=900)
        if self._stack is None:
            raise RuntimeError(f"the closed stack did not start: {self._error}")
        return self._stack

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        if not self._thread.is_alive():
            shutil.rmtree(self._var, ignore_errors=True)


_CLOSED: List[_StackInBackground] = []


def _start_closed_stack() -> _StackInBackground:
    from tests.stack import closed_this_week

    if not _CLOSED:
        _CLOSED.append(_StackInBackground(closed_this_week(date.today())))
    return _CLOSED[0]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the closed stack early if a test that will run needs it (see above)."""
    if session.config.option.collectonly or _missing_prerequisites():
        return
    if any("closed_stack" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_closed_stack()


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _CLOSED:
        _CLOSED.pop().stop()


@pytest.fixture(scope="session")
def closed_stack() -> Iterator[Any]:
    """The whole product (tests.stack.Stack) with webchat closed now by a staff closure."""
    background = _start_closed_stack()  # normally started already, just after collection
    try:
        running = background.get()
    except RuntimeError as error:
        pytest.fail(str(error))
    yield running
    # Start stopping now, so that it stops while fixtures set up before this one are torn down
    # (`stack`, usually); pytest_sessionfinish waits for it.
    background.signal_stop()


async def axe_violations(
    page: Any,
    impacts: Iterable[str] = ("serious", "critical"),
    *,
    context: Any = None,
    options: Any = None,
) -> List[dict]:
    """Run axe-core (node_modules/axe-core/axe.min.js) on the page; return its violations.

    Only violations whose impact is in `impacts` are returned (pass impacts=None for all).
    `context` and `options` go to axe.run as they are (e.g. context="#chat", or
    options={"runOnly": ["wcag2a", "wcag2aa"]}). Each violation is axe's dict: id, impact,
    help, helpUrl, nodes (each with target and failureSummary).
    """
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing; {SETUP_HINT}")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol rather than added as a <script>: a page whose
        # Content-Security-Policy forbids inline scripts (the gateway's pages) can be checked too.
        await page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;void 0")
    violations = await page.evaluate(
        """async ([context, options]) => {
            const opts = Object.assign({resultTypes: ['violations']}, options || {});
            const results = await window.axe.run(context || document, opts);
            return results.violations;
        }""",
        [context, options],
    )
    if impacts is None:
        return violations
    wanted = set(impacts)
    return [violation for violation in violations if violation.get("impact") in wanted]


def format_violations(violations: Sequence[dict]) -> str:
    """A readable summary of axe violations for an assertion message."""
    lines = []
    for violation in violations:
        targets = ", ".join(
            " ".join(map(str, node.get("target", []))) for node in violation.get("nodes", [])[:5]
        )
        lines.append(
            f"[{violation.get('impact')}] {violation.get('id')}: {violation.get('help')} -> {targets}"
        )
    return "\n".join(lines)

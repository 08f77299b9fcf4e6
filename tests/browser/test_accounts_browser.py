"""The staff accounts page (issue 17) in headless Chromium: a gateway from tests/gateway_harness.py (no
model needed). A refusal is shown and loses nothing, an account is added, disabled and re-enabled, the
adviser's "Chats at once" choice in the console is saved; axe-core finds nothing serious or critical."""
from __future__ import annotations

import re
from typing import List

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from bot.gateway import accounts
from tests.gateway_harness import PASSWORD, Harness

from .conftest import axe_violations, format_violations

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")
async def h(tmp_path):
    harness = await Harness(tmp_path).start()
    yield harness
    await harness.stop()


async def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(base + "/console/login")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(password)
    await page.get_by_test_id("login").click()
    await page.wait_for_url(re.compile(r"/console$"))


def page_errors(console_errors: List[str]) -> List[str]:
    return [text for text in console_errors if not text.startswith("Failed to load resource")]


async def test_staff_manage_accounts_on_the_page(page: Page, h: Harness, console_errors: List[str]):
    await sign_in(page, h.base, "kim")
    link = page.get_by_test_id("accounts-link")
    await expect(link).to_be_visible()
    await link.click()
    await page.wait_for_url(re.compile(r"/console/accounts$"))
    rows = page.locator("#accounts-body tr")
    await expect(rows).to_have_count(3)
    assert (v := await axe_violations(page)) == [], format_violations(v)

    await page.fill("#add-username", "jo")
    await page.fill("#add-display", "Jo")
    await page.select_option("#add-role", "duty_lead")
    await page.fill("#add-password", "short")
    await page.get_by_role("button", name="Add account").click()
    await expect(page.locator("#accounts-error")).to_have_text(
        accounts.say("weak_password", min=accounts.MIN_PASSWORD))
    await expect(page.locator("#add-username")).to_have_value("jo")  # nothing typed is lost
    await page.fill("#add-password", "plum orchard lantern river")
    await page.get_by_role("button", name="Add account").click()
    await expect(page.locator("#accounts-status")).to_have_text("Added jo.")
    await expect(rows).to_have_count(4)
    assert h.gateway.store.user("jo").role == "duty_lead"

    jo = page.locator('tr[data-username="jo"]')
    await jo.get_by_role("button", name="Disable").click()
    await expect(page.locator("#accounts-status")).to_have_text("Disabled and signed out jo.")
    assert h.gateway.store.user("jo").disabled
    await page.locator('tr[data-username="jo"]').get_by_role("button", name="Enable").click()
    await expect(page.locator("#accounts-status")).to_have_text("Enabled jo.")
    assert not h.gateway.store.user("jo").disabled

    kim = page.locator('tr[data-username="kim"]')
    await kim.get_by_role("button", name="Disable").click()
    await expect(page.locator("#accounts-error")).to_have_text(accounts.say("last_staff"))
    assert (v := await axe_violations(page)) == [], format_violations(v)
    assert page_errors(console_errors) == []


async def test_an_adviser_chooses_chats_at_once_in_the_console(page: Page, h: Harness, console_errors: List[str]):
    await sign_in(page, h.base, "sam")
    await expect(page.get_by_test_id("accounts-link")).to_be_hidden()
    choice = page.get_by_test_id("capacity")
    await expect(choice).to_be_visible()
    await expect(choice).to_have_value("2")
    await choice.select_option("1")
    await expect(page.locator("#capacity-status")).to_have_text("Saved: 1 at once.")
    assert h.gateway.store.user("sam").capacity == 1
    assert page_errors(console_errors) == []

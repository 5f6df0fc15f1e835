"""The admin pages in headless Chromium against a real tidecast server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tidecast.core.services import Services

from .conftest import PASSWORD, screenshots, sign_in
from support.tools import needs

pytestmark = needs("chromium")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


async def test_an_operator_creates_a_user_who_then_signs_in(
    page: Page, browser: Browser, live: tuple[str, Services], operator: str
) -> None:
    await sign_in(page, operator)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.get_by_role("link", name="Admin").click()
    await expect(page).to_have_url(re.compile(r"/webui/admin/users$"))
    await expect(page.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")

    login = page.get_by_label("Login", exact=True)
    await login.fill("alice")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(login).to_have_attribute("aria-invalid", "true")
    await expect(login).to_have_accessible_description(re.compile("User alice already exists"))

    await login.fill("bob")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Email", exact=True).fill("bob@example.com")
    await page.get_by_label("Type", exact=True).select_option("user")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#created")).to_have_text("Account bob created.")
    await expect(page.get_by_role("link", name="bob", exact=True)).to_be_visible()
    await screenshots(page, "admin-users")

    # The new account signs in from a browser of its own.
    context = await browser.new_context(base_url=live[0])
    try:
        other = await context.new_page()
        other.set_default_timeout(20_000)
        await sign_in(other, "bob")
        await expect(other).to_have_url(re.compile(r"/webui/watch$"))
        await expect(other.get_by_text("Signed in as")).to_contain_text("bob")
        await expect(other.get_by_role("link", name="Admin")).to_have_count(0)
        await other.goto("/webui/admin/users")
        await expect(other.locator("#page-error")).to_have_text("only operators may use this page")
    finally:
        await context.close()


async def test_an_operator_gives_a_plan_and_a_new_password(
    page: Page, live: tuple[str, Services], operator: str
) -> None:
    services = live[1]
    await sign_in(page, operator)
    await page.goto("/webui/admin/plans")
    await page.get_by_label("Name", exact=True).fill("Family")
    await page.get_by_label("Days", exact=True).fill("30")
    await page.get_by_role("button", name="Create plan").click()
    await expect(page.get_by_role("link", name="Family")).to_be_visible()

    alice = await services.accounts.get("alice")
    await page.goto(f"/webui/admin/users/{alice.id}")
    await page.get_by_label("Plan", exact=True).select_option(label="Family (30 days)")
    await page.get_by_role("button", name="Grant plan").click()
    await expect(page.locator("#current-plan")).to_contain_text("Family")
    await screenshots(page, "admin-user")

    password = page.get_by_label("New password")
    await password.fill("short")
    await page.get_by_role("button", name="Set password").click()
    await expect(password).to_have_attribute("aria-invalid", "true")
    await password.fill("a-new-long-password")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.locator("#saved")).to_be_visible()
    await services.accounts.authenticate("alice", "a-new-long-password", address=None)


async def test_an_operator_finds_a_user_and_signs_out_a_device(
    page: Page, live: tuple[str, Services], operator: str
) -> None:
    services = live[1]
    _, device = await services.devices.login(
        "alice", PASSWORD, client_id="tv-1", name="Living room", address=None
    )
    await sign_in(page, operator)
    await page.goto("/webui/admin/users")
    await page.get_by_label("Search").fill("ALI")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"/webui/admin/users\?q=ALI$"))
    await expect(page.get_by_role("link", name=operator)).to_have_count(0)
    await page.get_by_role("link", name="alice", exact=True).click()

    row = page.locator("#devices").get_by_role("row").filter(has_text="Living room")
    await expect(row).to_contain_text("active")
    await screenshots(page, "admin-user-devices")
    await page.get_by_role("button", name="Sign out Living room").click()
    await expect(page).to_have_url(re.compile(r"/webui/admin/users/\d+#devices$"))
    await expect(row).to_contain_text("signed out")
    assert not (await services.devices.get(device.id)).active


async def test_servers_show_nodes_and_a_join_command(
    page: Page, live: tuple[str, Services], operator: str
) -> None:
    services = live[1]
    token = await services.servers.create_join_token()
    await services.servers.register(token, base_url="https://node1.example", name="node1")
    await sign_in(page, operator)
    await page.goto("/webui/admin/servers")
    row = page.get_by_role("row").filter(has_text="node1")
    await expect(row).to_contain_text("unavailable")
    await expect(row).to_contain_text("never")
    await page.get_by_role("button", name="Create a join token").click()
    command = page.locator("#join-command")
    await expect(command).to_have_text(
        re.compile(rf"^tidecast node join {re.escape(live[0])} --token join_\S+ --url ")
    )
    await screenshots(page, "admin-servers")

    await page.get_by_role("button", name="Remove node node1").click()
    await expect(page).to_have_url(re.compile(r"/webui/admin/servers$"))
    await expect(page.get_by_role("row").filter(has_text="node1")).to_have_count(0)


async def test_access_switches_and_the_audit_log(
    page: Page, live: tuple[str, Services], operator: str
) -> None:
    services = live[1]
    await sign_in(page, operator)
    await page.get_by_role("link", name="Admin").click()
    await page.get_by_role("link", name="Access").click()
    await expect(page.locator("#connected-as")).to_have_text("this host (loopback)")
    await expect(page.locator("#remote-state")).to_have_text("off")
    await page.get_by_role("button", name="Turn remote access on").click()
    await expect(page.locator("#remote-state")).to_have_text("on")
    assert services.switches.allow_remote
    await screenshots(page, "admin-access")

    await page.get_by_role("link", name="Audit log").click()
    first = page.get_by_role("row").nth(1)
    await expect(first).to_contain_text("access.update")
    await expect(first).to_contain_text(operator)
    await screenshots(page, "admin-audit")

    await page.get_by_label("Action").fill("user.create")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"action=user\.create"))
    await expect(page.get_by_text("No entries of")).to_be_visible()

    await page.get_by_label("Action").fill("")
    await page.get_by_label("User", exact=True).fill(operator)
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(rf"actor={operator}"))
    await expect(page.get_by_role("row")).to_have_count(2)  # the header and one entry
    await page.get_by_label("User", exact=True).fill("nobody")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("No entries by nobody.")).to_be_visible()

"""The web UI in a real browser: tidecast under uvicorn, a loopback swarm, headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's async API in the
test's own event loop, where the tidecast server runs too. Screenshots go to
``test-artifacts/screenshots/`` at the repository root.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tidecast.app import create_app
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

from support.origin import serving_in_loop
from support.swarm import Tracker
from support.webui import PASSWORD

OPERATOR = "olga"
"""The operator account the ``operator`` fixture creates (its password: PASSWORD)."""

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
async def live(
    make_settings: Callable[..., Settings], tracker: Tracker
) -> AsyncIterator[tuple[str, Services]]:
    """tidecast under uvicorn in this event loop, with an account ``alice``."""
    settings = make_settings(extra_trackers=(tracker.url,), readahead_bytes=512 * 1024)
    services = build_services(settings)
    await services.start()
    await services.accounts.create("alice", PASSWORD, nickname="Alice", trusted=True)
    try:
        async with serving_in_loop(create_app(settings, services)) as base:
            yield base, services
    finally:
        await services.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium,
            args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, live: tuple[str, Services]) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live[0], viewport=DESKTOP)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield page
    await context.close()


async def screenshots(page: Page, name: str) -> None:
    """Write the page at phone and desktop widths, then restore the desktop width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)


async def sign_in(page: Page, login: str = "alice", password: str = PASSWORD) -> None:
    await page.goto("/webui/login")
    await page.get_by_label("Login or email").fill(login)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


@pytest.fixture
async def operator(live: tuple[str, Services]) -> str:
    """An operator account on the live server; its login."""
    await live[1].accounts.create(OPERATOR, PASSWORD, nickname="Olga", role="admin", trusted=True)
    return OPERATOR


@pytest.fixture
def fake_mpv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``mpv`` first on PATH that writes its arguments to the returned file (a real
    player would open a window on the test machine)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "played.txt"
    script = folder / "mpv"
    script.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return record

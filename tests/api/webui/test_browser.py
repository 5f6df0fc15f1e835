"""The web UI in headless Chromium against a real tidecast server and a loopback swarm."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tidecast.engine.torrent_reader import read_transport_file

from .conftest import screenshots, sign_in
from support.media import make_video
from support.swarm import Seeder, Tracker, magnet
from support.tools import needs
from support.torrents import make_torrent

pytestmark = needs("chromium")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


async def test_sign_in_with_errors_next_to_the_field_and_sign_out(page: Page) -> None:
    await page.goto("/webui/watch")
    await expect(page).to_have_url(re.compile(r"/webui/login"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await screenshots(page, "login")

    await sign_in(page, password="not-the-password")
    password = page.get_by_label("Password")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#password-error")).to_have_text("Wrong login or password.")
    await expect(password).to_have_accessible_description("Wrong login or password.")
    await expect(page.get_by_label("Login or email")).to_have_value("alice")
    await screenshots(page, "login-error")

    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await expect(page.get_by_text("Signed in as")).to_contain_text("Alice")
    await screenshots(page, "watch-empty")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/webui/login$"))
    await page.goto("/webui/watch")
    await expect(page).to_have_url(re.compile(r"/webui/login"))


async def test_the_keyboard_reaches_sign_in(page: Page) -> None:
    await page.goto("/webui/login")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.get_by_label("Login or email").focus()
    await page.keyboard.type("alice")
    await page.keyboard.press("Tab")
    await page.keyboard.type("a-long-password")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))


async def test_a_post_without_the_csrf_token_is_refused(page: Page) -> None:
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    reply = await page.request.post(
        "/webui/watch", form={"content": "0a4848271c91ce2d8965ce416267c25047dc8141"}
    )
    assert reply.status == 403
    assert "the form expired" in await reply.text()
    reply = await page.request.post("/webui/logout", form={})
    assert reply.status == 403
    await page.goto("/webui/watch")
    await expect(page.get_by_text("Signed in as")).to_be_visible()


async def test_a_magnet_plays_in_the_page_and_seeks(
    page: Page, tmp_path: Path, tracker: Tracker, seeder: Seeder
) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    video = make_video(folder / "clip.mp4", seconds=30, bframes=0)
    torrent, root = make_torrent(
        tmp_path / "seed", {"clip.mp4": video.read_bytes()}, trackers=[tracker.url]
    )
    seeder.seed(torrent, root.parent)
    infohash = read_transport_file(torrent).infohash

    await sign_in(page)
    await page.get_by_label("Play").fill(magnet(infohash))
    await page.get_by_role("button", name="Play", exact=True).click()
    await expect(page.get_by_role("heading", name="Now playing")).to_be_visible()

    player = page.locator("video")
    await page.wait_for_function(
        "() => document.querySelector('video').currentTime > 1", timeout=30_000
    )
    assert not await player.evaluate("v => v.paused")
    await expect(page.locator("#stat-status")).to_have_text("Playing")
    # Peers come and go (a finished download leaves a seeder's swarm); the figures show.
    await expect(page.locator("#stat-peers")).to_have_text(re.compile(r"^\d+$"))
    await expect(page.locator("#stat-down")).to_have_text(re.compile(r"^\d+ KB/s$"))
    await expect(page.locator("#stat-progress-text")).to_have_text(re.compile(r"^\d+%$"))
    url = await page.get_by_label("Playback URL for VLC, Kodi or mpv").input_value()
    assert url.startswith("http://127.0.0.1:")
    assert f"/ace/r/{infohash}/" in url
    await screenshots(page, "watch-playing")

    await player.evaluate("v => { v.currentTime = 20; }")
    await page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return !v.seeking && v.currentTime > 20.5; }",
        timeout=30_000,
    )
    position = await player.evaluate("v => v.currentTime")
    assert 20.5 < position < 29

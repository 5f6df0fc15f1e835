"""The web UI in headless Chromium against a real tidecast server and a loopback swarm."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tidecast.api.webui import watch
from tidecast.core.playback import UNKNOWN_SESSION
from tidecast.engine.torrent_reader import read_transport_file
from tidecast.settings import Settings

from .conftest import screenshots, sign_in
from support.hls_origin import FileOrigin, file_origin, make_rendition
from support.media import make_video
from support.postgres import running_in_ci
from support.swarm import Seeder, Tracker, magnet, seeding
from support.tools import needs
from support.torrents import make_torrent

pytestmark = needs("chromium")

# Chromium has native HLS; a browser without it (Firefox) is what this makes of the page.
WITHOUT_NATIVE_HLS = """
const canPlayType = HTMLMediaElement.prototype.canPlayType;
HTMLMediaElement.prototype.canPlayType = function (type) {
  return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
};
"""

# hls.js comes from scripts/build-webui (npm). Without it the test is skipped, except in CI,
# where scripts/test builds it: there a missing file fails the test.
needs_hls_js = pytest.mark.skipif(
    not watch.HLS_JS.is_file() and not running_in_ci(),
    reason="hls.js is not built: run scripts/build-webui",
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


@pytest.fixture
def make_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """The suite's settings, with mpv as this host's player (``fake_mpv`` stands in)."""

    def build(**overrides: object) -> Settings:
        return make_settings(**{"players": ("mpv",), **overrides})

    return build


@pytest.fixture(scope="module")
def hls_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileOrigin]:
    """A web server with an 8-second HLS rendition at ``master.m3u8``."""
    with file_origin(make_rendition(tmp_path_factory.mktemp("hls"), seconds=8).root) as origin:
        yield origin


async def play(page: Page, content: str) -> None:
    await page.get_by_label("Play").fill(content)
    await page.get_by_role("button", name="Play", exact=True).click()
    await expect(page.get_by_role("heading", name="Now playing")).to_be_visible()


async def plays_past(page: Page, seconds: float, timeout: float = 30_000) -> None:
    await page.wait_for_function(
        "s => { const v = document.querySelector('video');"
        " return !v.seeking && !v.paused && v.currentTime > s; }",
        arg=seconds,
        timeout=timeout,
    )


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


@needs_hls_js
async def test_hls_plays_through_hls_js_where_the_browser_has_no_native_hls(
    page: Page, hls_origin: FileOrigin, fake_mpv: Path
) -> None:
    assert watch.HLS_JS.is_file(), "hls.js is not built: run scripts/build-webui"
    await page.add_init_script(WITHOUT_NATIVE_HLS)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    workers: list[str] = []
    page.on("worker", lambda worker: workers.append(worker.url))

    await sign_in(page)
    await play(page, hls_origin.url("master.m3u8"))
    await plays_past(page, 2)
    player = page.locator("video")
    # Media Source Extensions fed by hls.js, whose transmuxer runs in its own worker file.
    assert await player.evaluate("v => v.src.startsWith('blob:')")
    assert await page.evaluate("() => typeof window.Hls === 'function'")
    assert any(url.endswith("/webui/static/vendor/hls.worker.js") for url in workers), workers
    url = await page.get_by_label("Playback URL for VLC, Kodi or mpv").input_value()
    assert re.search(r"/ace/m/[0-9a-f]{40}/[0-9a-f]{32}\.m3u8$", url), url
    await expect(page.locator("#hls-unsupported")).to_be_hidden()
    assert not refused, refused
    await screenshots(page, "watch-hls")

    # This browser is on the host: it may open the stream in the host's player.
    await page.get_by_role("button", name="Open in mpv").click()
    await expect(page.locator("#player-opened")).to_have_text("Opened in mpv on this computer.")
    for _ in range(100):
        if fake_mpv.exists() and fake_mpv.read_text().strip():
            break
        await asyncio.sleep(0.05)
    # The player is given a loopback URL of this very server, which answers it.
    opened = fake_mpv.read_text().strip()
    assert opened == re.sub(r"^http://[^/]+", page.url.split("/webui")[0], url)
    playlist = await page.request.get(opened)
    assert (await playlist.text()).startswith("#EXTM3U")


async def test_hls_without_hls_js_says_to_open_it_in_a_player(
    page: Page, hls_origin: FileOrigin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "HLS_JS", tmp_path / "not-built.js")
    await page.add_init_script(WITHOUT_NATIVE_HLS)
    await sign_in(page)
    await play(page, hls_origin.url("master.m3u8"))
    await expect(page.locator("#hls-unsupported")).to_have_text(
        "This browser cannot play this HLS stream in the page:"
        " open the playback URL below in a player."
    )
    assert await page.evaluate("() => typeof window.Hls") == "undefined"
    await screenshots(page, "watch-hls-unsupported")


async def test_native_hls_plays_without_loading_hls_js(page: Page, hls_origin: FileOrigin) -> None:
    await sign_in(page)
    await play(page, hls_origin.url("master.m3u8"))
    await plays_past(page, 2)
    assert await page.evaluate("() => typeof window.Hls") == "undefined"
    await expect(page.locator("#hls-unsupported")).to_be_hidden()


async def test_seek_against_a_capped_seeder_then_stop(
    page: Page, tmp_path: Path, tracker: Tracker
) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    video = make_video(folder / "clip.mp4", seconds=60, bframes=0, video_bitrate=300_000)
    size = video.stat().st_size
    torrent, root = make_torrent(
        tmp_path / "seed", {"clip.mp4": video.read_bytes()}, trackers=[tracker.url]
    )
    infohash = read_transport_file(torrent).infohash
    # A minute for the whole file, as long as the clip plays: a download in file order has
    # three quarters of it to fetch before 45 s can play. The seeder's bytes measure how
    # long it took, so a slow machine only narrows the margin, never the meaning.
    with seeding(torrent, root.parent, upload_limit=size // 60) as seeder:
        await sign_in(page)
        await play(page, magnet(infohash))
        await plays_past(page, 1, timeout=40_000)
        assert seeder.uploaded() < size * 0.5
        player = page.locator("video")
        await player.evaluate("v => { v.currentTime = 45; }")
        await plays_past(page, 45.5, timeout=40_000)
        assert seeder.uploaded() < size * 0.75, "the seek point came only in file order"
        position = await player.evaluate("v => v.currentTime")
        assert 45.5 < position < 59

        stat_url = await page.locator(".player").get_attribute("data-stat-url")
        assert stat_url is not None
        await page.get_by_role("button", name="Stop").click()
        await expect(page.locator("#session-ended")).to_contain_text("Playback stopped.")
        await expect(page.get_by_role("heading", name="Now playing")).to_be_hidden()
        ended = await (await page.request.get(stat_url)).json()
        assert ended["error"] == UNKNOWN_SESSION
        await screenshots(page, "watch-stopped")

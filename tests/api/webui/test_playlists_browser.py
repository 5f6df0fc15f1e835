"""The playlist pages in headless Chromium against a real tidecast server: importing an
M3U file and following its progress bar, and the buttons of a row."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tidecast.core.playlists import NewItem
from tidecast.core.services import Services
from tidecast.core.tasks import Progress

from .conftest import screenshots, sign_in
from support.tools import needs

pytestmark = needs("chromium")

CHANNELS = [f"Channel {n}" for n in range(1, 7)]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


@pytest.fixture
def m3u_file(tmp_path: Path) -> Path:
    """An M3U file with several channels in two groups."""
    lines = ["#EXTM3U"]
    for n, title in enumerate(CHANNELS):
        group = "News" if n % 2 else "Sports"
        lines.append(f'#EXTINF:-1 group-title="{group}",{title}')
        lines.append(f"acestream://{_infohash(title)}")
    path = tmp_path / "channels.m3u"
    path.write_text("\n".join(lines) + "\n")
    return path


def _infohash(title: str) -> str:
    return hashlib.sha1(title.encode()).hexdigest()


async def test_import_an_m3u_and_see_the_items(
    page: Page, live: tuple[str, Services], m3u_file: Path
) -> None:
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Playlist").click()
    await expect(page.get_by_text("The playlist is empty.")).to_be_visible()
    await page.get_by_role("link", name="Import M3U").click()
    await screenshots(page, "playlist-import-form")

    await page.get_by_role("button", name="Import", exact=True).click()
    file_input = page.get_by_label("M3U file")
    await expect(file_input).to_have_accessible_description(re.compile("Choose an M3U file."))

    await file_input.set_input_files(m3u_file)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/webui/playlist/task/\d+$"))
    await expect(page.get_by_role("heading", name="Done")).to_be_visible()
    await expect(page.locator("#task-progress")).to_have_js_property("value", 100)
    await expect(page.locator("#task-counts")).to_contain_text("New items6")
    await screenshots(page, "playlist-import")

    await page.get_by_role("link", name="Show the playlist").click()
    for title in CHANNELS:
        await expect(page.get_by_role("cell", name=title, exact=True)).to_be_visible()
    await page.get_by_label("Category").select_option("News")
    await page.get_by_role("button", name="Filter", exact=True).click()
    await expect(page.locator("table.items tbody tr")).to_have_count(3)
    await expect(page.get_by_role("cell", name="Channel 2", exact=True)).to_be_visible()
    await screenshots(page, "playlist")


async def test_the_progress_bar_follows_a_running_task(
    page: Page, live: tuple[str, Services]
) -> None:
    services = live[1]
    halfway, release = asyncio.Event(), asyncio.Event()

    async def work(progress: Progress) -> dict[str, int]:
        progress(40)
        halfway.set()
        await release.wait()
        return {"imported": 2, "duplicates": 0, "problem_count": 0}

    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    task_id = await services.tasks.start("playlist_import", "alice", work)
    await halfway.wait()
    await page.goto(f"/webui/playlist/task/{task_id}")
    bar = page.locator("#task-progress")
    await expect(page.get_by_role("heading", name="Working…")).to_be_visible()
    await expect(bar).to_have_js_property("value", 40)
    await screenshots(page, "playlist-import-running")

    release.set()
    # playlist.js sees the end by polling, then reloads the page to show the result.
    await expect(page.get_by_role("heading", name="Done")).to_be_visible()
    await expect(bar).to_have_js_property("value", 100)
    await expect(page.locator("#task-counts")).to_contain_text("New items2")


async def test_favorite_lock_delete_and_restore_an_item(
    page: Page, live: tuple[str, Services]
) -> None:
    services = live[1]
    for title in ("Channel One", "Channel Two"):
        await services.playlists.add_item(
            "alice", NewItem(title=title, infohash=_infohash(title), category="News")
        )
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/playlist")
    row = page.locator("tr", has_text="Channel One")

    await page.get_by_role("button", name="Favorite Channel One", exact=True).click()
    await expect(page.locator("#page-notice")).to_have_text("Added to your favorites.")
    await expect(row.get_by_text("Favorite", exact=True)).to_be_visible()
    await page.get_by_label("Favorites only").check()
    await page.get_by_role("button", name="Filter", exact=True).click()
    await expect(page.locator("table.items tbody tr")).to_have_count(1)
    await page.get_by_role("link", name="Show everything").first.click()

    await page.get_by_role("button", name="Lock Channel One", exact=True).click()
    await expect(page.locator("#page-notice")).to_contain_text("The item is locked")
    await expect(page.get_by_role("button", name="Unlock Channel One", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Delete Channel One", exact=True)).to_have_count(0)
    await screenshots(page, "playlist-actions")

    await page.get_by_role("button", name="Unlock Channel One", exact=True).click()
    await page.get_by_role("button", name="Delete Channel One", exact=True).click()
    await expect(page.locator("#page-notice")).to_have_text("The item was moved to the trash.")
    await expect(page.get_by_role("cell", name="Channel One", exact=True)).to_have_count(0)

    await page.get_by_role("link", name="Trash").click()
    await expect(page.get_by_role("cell", name="Channel One", exact=True)).to_be_visible()
    await screenshots(page, "playlist-trash")
    await page.get_by_role("button", name="Restore Channel One", exact=True).click()
    await expect(page.locator("#page-notice")).to_have_text("The item was restored.")
    await page.get_by_role("link", name="Items").click()
    await expect(page.get_by_role("cell", name="Channel One", exact=True)).to_be_visible()
    await expect(row.get_by_text("Favorite", exact=True)).to_be_visible()

    await page.get_by_role("link", name="Watch Channel One").click()
    await expect(page).to_have_url(re.compile(r"/webui/watch\?content="))
    await expect(page.get_by_label("Play")).to_have_value(_infohash("Channel One"))


async def test_adding_an_item_shows_errors_next_to_the_field(
    page: Page, live: tuple[str, Services]
) -> None:
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/playlist/add")
    content = page.get_by_label("Content")
    await content.fill("ftp://example.com/nothing")
    await page.get_by_role("button", name="Add to the playlist", exact=True).click()
    await expect(content).to_have_attribute("aria-invalid", "true")
    await expect(content).to_have_accessible_description(re.compile("This is not a magnet"))
    await screenshots(page, "playlist-add-error")

    await content.fill(f"magnet:?xt=urn:btih:{_infohash('x')}&dn=Big+Buck+Bunny")
    await page.get_by_label("Tags").fill("films, hd")
    await page.get_by_role("button", name="Add to the playlist", exact=True).click()
    await expect(page.locator("#page-notice")).to_have_text("The item was added.")
    await expect(page.get_by_role("cell", name="Big Buck Bunny", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="#hd")).to_be_visible()


async def test_editing_an_items_content(page: Page, live: tuple[str, Services]) -> None:
    services = live[1]
    await services.playlists.add_item(
        "alice", NewItem(title="Channel One", infohash=_infohash("Channel One"), tags=["hd"])
    )
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/playlist")
    await page.get_by_role("link", name="Edit Channel One").click()
    content = page.get_by_label("Content")
    await expect(content).to_have_value(_infohash("Channel One"))

    await content.fill("gopher://example.com/nothing")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(content).to_have_attribute("aria-invalid", "true")
    await expect(content).to_have_accessible_description(re.compile("This is not a magnet"))

    url = "https://cdn.example/live/index.m3u8"
    await content.fill(url)
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator("#page-notice")).to_have_text("The item was saved.")
    row = page.locator("tr", has_text="Channel One")
    await expect(row.locator("code.ref")).to_have_attribute("title", url)
    await expect(row.get_by_text("HLS", exact=True)).to_be_visible()
    await expect(row.get_by_role("link", name="#hd")).to_be_visible()

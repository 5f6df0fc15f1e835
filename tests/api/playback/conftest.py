"""A tidecast server in the test's event loop, a loopback swarm, and seeded content."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tidecast.app import create_app
from tidecast.core.services import Services, build_services
from tidecast.engine.torrent_reader import read_transport_file
from tidecast.settings import Settings

from support.origin import serving_in_loop
from support.swarm import Content, Seeder, Tracker
from support.torrents import make_torrent


@pytest.fixture
def seed(tmp_path: Path, tracker: Tracker, seeder: Seeder) -> Callable[..., Content]:
    """Make a torrent of ``files`` (sizes or bytes), seed it, return what it holds."""
    counter = iter(range(1000))

    def make(files: dict[str, bytes | int], *, piece_size: int = 65536) -> Content:
        root_dir = tmp_path / f"seed{next(counter)}"
        torrent, root = make_torrent(root_dir, files, piece_size=piece_size, trackers=[tracker.url])
        seeder.seed(torrent, root.parent)
        return Content(torrent, root, read_transport_file(torrent).infohash)

    return make


@pytest.fixture
def playback_settings(make_settings: Callable[..., Settings], tracker: Tracker) -> Settings:
    return make_settings(extra_trackers=(tracker.url,), readahead_bytes=512 * 1024)


@pytest.fixture
async def live(playback_settings: Settings) -> AsyncIterator[tuple[str, Services]]:
    """tidecast under uvicorn in this event loop (the engine's futures live here)."""
    services = build_services(playback_settings)
    await services.start()
    try:
        async with serving_in_loop(create_app(playback_settings, services)) as base:
            yield base, services
    finally:
        await services.stop()


@pytest.fixture
async def http(live: tuple[str, Services]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live[0], timeout=30) as client:
        yield client


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Playback keeps no state in the database beyond transport files: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"

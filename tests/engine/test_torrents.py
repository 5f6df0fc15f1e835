"""The libtorrent engine against a real loopback swarm: bytes, seeks, magnets, readers."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tidecast.core.errors import ContentUnavailable
from tidecast.engine.torrent_reader import read_transport_file
from tidecast.engine.torrents import TorrentConfig, TorrentEngine, TorrentSource

from support.swarm import Seeder, Tracker, magnet
from support.torrents import make_torrent

SIZE = 5 * 1024 * 1024 + 12345


@pytest.fixture
def content(tmp_path: Path, tracker: Tracker, seeder: Seeder) -> tuple[bytes, Path]:
    """A single-file torrent, seeded by ``seeder``."""
    torrent, root = make_torrent(
        tmp_path / "seed", {"film.mp4": SIZE}, piece_size=65536, trackers=[tracker.url]
    )
    seeder.seed(torrent, root.parent)
    return torrent, root


EngineFactory = Callable[..., TorrentEngine]


@pytest.fixture
async def make_engine(tmp_path: Path) -> AsyncIterator[EngineFactory]:
    """Engines on loopback (no DHT, LSD or UPnP) caching in ``tmp_path``; stopped at the end."""
    engines: list[TorrentEngine] = []

    def make(**overrides: Any) -> TorrentEngine:
        values: dict[str, Any] = {
            "listen_interfaces": "127.0.0.1:0",
            "storage_dir": tmp_path / "cache",
            "dht": False,
            "lsd": False,
            "upnp": False,
        }
        values.update(overrides)
        engines.append(TorrentEngine(TorrentConfig(**values)))
        return engines[-1]

    yield make
    for engine in engines:
        await engine.stop()


@pytest.fixture
def engine(make_engine: EngineFactory, tracker: Tracker) -> TorrentEngine:
    return make_engine(extra_trackers=(tracker.url,), readahead_bytes=256 * 1024)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def read_all(engine: TorrentEngine, source: TorrentSource, start: int, end: int) -> bytes:
    torrent = await engine.acquire(source, metadata_timeout=10)
    try:
        reader = torrent.reader(torrent.info.largest_video() or torrent.info.files[0])
        try:
            return b"".join([chunk async for chunk in reader.stream(start, end)])
        finally:
            reader.close()
    finally:
        await engine.release(torrent)


async def test_streams_the_whole_file_from_the_swarm(
    engine: TorrentEngine, seeder: Seeder, content: tuple[bytes, Path]
) -> None:
    torrent, root = content
    expected = root.read_bytes()
    data = await asyncio.wait_for(read_all(engine, TorrentSource(transport=torrent), 0, SIZE), 30)
    assert hashlib.sha1(data).digest() == hashlib.sha1(expected).digest()


@pytest.mark.parametrize("where", ["start", "middle", "end"])
async def test_ranges_at_the_start_middle_and_end(
    engine: TorrentEngine, seeder: Seeder, content: tuple[bytes, Path], where: str
) -> None:
    torrent, root = content
    expected = root.read_bytes()
    start = {"start": 0, "middle": SIZE // 2 + 777, "end": SIZE - 100_000}[where]
    end = min(SIZE, start + 100_000)
    data = await asyncio.wait_for(
        read_all(engine, TorrentSource(transport=torrent), start, end), 30
    )
    assert data == expected[start:end]


async def test_magnet_fetches_metadata_from_the_swarm(
    engine: TorrentEngine, seeder: Seeder, content: tuple[bytes, Path]
) -> None:
    torrent, root = content
    infohash = read_transport_file(torrent).infohash
    link = magnet(infohash, peer=seeder.address)
    got = await engine.acquire(TorrentSource(magnet=link), metadata_timeout=10)
    try:
        assert got.info.infohash == infohash
        assert [f.path for f in got.info.files] == ["film.mp4"]
        assert got.transport is not None
        assert read_transport_file(got.transport).infohash == infohash
    finally:
        await engine.release(got)
    data = await read_all(engine, TorrentSource(infohash=infohash), SIZE - 10, SIZE)
    assert data == root.read_bytes()[-10:]


async def test_unknown_infohash_times_out_with_a_clear_error(engine: TorrentEngine) -> None:
    with pytest.raises(ContentUnavailable, match="metadata"):
        await engine.acquire(TorrentSource(infohash="ab" * 20), metadata_timeout=0.5)
    assert engine.torrents() == []


async def test_two_readers_share_one_torrent_and_one_leaving_keeps_the_other(
    engine: TorrentEngine, seeder: Seeder, content: tuple[bytes, Path]
) -> None:
    torrent, root = content
    expected = root.read_bytes()
    source = TorrentSource(transport=torrent)
    first = await engine.acquire(source, metadata_timeout=10)
    second = await engine.acquire(source, metadata_timeout=10)
    assert first is second and len(engine.torrents()) == 1
    file = first.info.files[0]
    one, two = first.reader(file), second.reader(file)
    chunks = one.stream(0, SIZE)
    head = await anext(chunks)
    two.close()
    await engine.release(second)
    rest = b"".join([c async for c in chunks])
    one.close()
    assert head + rest == expected
    await engine.release(first)
    assert engine.torrents() == []


async def test_multi_file_torrent_plays_the_chosen_file_then_another(
    tmp_path: Path, tracker: Tracker, seeder: Seeder, make_engine: EngineFactory
) -> None:
    torrent, root = make_torrent(
        tmp_path / "multi",
        {"show/e1.mkv": 600_000, "show/e2.mkv": 900_000, "show/notes.txt": 1000},
        name="show",
        piece_size=16384,
        trackers=[tracker.url],
    )
    seeder.seed(torrent, root.parent)
    engine = make_engine()
    # Only the first episode is wanted at first: when it is complete the torrent has
    # nothing left to download, and the next episode must still start at once.
    by_name = {f.filename: f for f in read_transport_file(torrent).files}
    got = await engine.acquire(
        TorrentSource(transport=torrent),
        metadata_timeout=10,
        file_index=by_name["e1.mkv"].index,
    )
    first, second = by_name["e1.mkv"], by_name["e2.mkv"]
    assert got.info.largest_video() == second
    for file in (first, second):
        reader = got.reader(file)
        data = await asyncio.wait_for(collect(reader.stream(0, file.size)), 10)
        reader.close()
        assert data == (root.parent / file.path).read_bytes()
    await engine.release(got)


async def test_the_cache_evicts_content_nobody_plays_to_stay_under_its_limit(
    tmp_path: Path, tracker: Tracker, seeder: Seeder, make_engine: EngineFactory
) -> None:
    contents = []
    for name in ("a", "b", "c"):
        torrent, root = make_torrent(
            tmp_path / name, {f"{name}.mp4": 3_000_000}, piece_size=65536, trackers=[tracker.url]
        )
        seeder.seed(torrent, root.parent)
        contents.append(torrent)
    limit = 7_000_000
    engine = make_engine(cache_max_bytes=limit)
    infohashes = []
    for torrent in contents:
        infohashes.append(read_transport_file(torrent).infohash)
        await read_all(engine, TorrentSource(transport=torrent), 0, 3_000_000)
        engine.enforce_cache_limit()
        assert engine.cache.usage() <= limit
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    # The least recently watched went first.
    assert kept == sorted(infohashes[1:])
    # Content in use is never evicted, even over the limit.
    playing = await engine.acquire(TorrentSource(transport=contents[0]), metadata_timeout=10)
    reader = playing.reader(playing.info.files[0])
    _ = [c async for c in reader.stream(0, 3_000_000)]
    assert infohashes[0] not in engine.enforce_cache_limit()
    assert (tmp_path / "cache" / infohashes[0]).is_dir()
    assert engine.cache.usage() <= limit
    reader.close()
    await engine.release(playing)


async def test_memory_mode_keeps_data_in_a_private_tmpfs_folder_removed_on_stop(
    content: tuple[bytes, Path], make_engine: EngineFactory
) -> None:
    shm = Path("/dev/shm")
    before = set(shm.glob("tidecast-*"))
    engine = make_engine(storage_dir=shm, memory_only=True)
    torrent, root = content
    data = await read_all(engine, TorrentSource(transport=torrent), 0, 1000)
    assert data == root.read_bytes()[:1000]
    (folder,) = set(shm.glob("tidecast-*")) - before
    assert folder.stat().st_mode & 0o077 == 0
    assert engine.cache.usage() > 0
    await engine.stop()
    assert not folder.exists()

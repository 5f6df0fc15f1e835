"""Tests of ``tidecast.core.content``: transport files, media files, content ids, analysis.

Everything real: torrents made by libtorrent, a SQLite database in ``tmp_path``, and an
HTTP server (Starlette under uvicorn, in a thread) on 127.0.0.1 that counts requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import libtorrent as lt
import pytest

from tidecast.core.content import DIRECT_SNIFF_BYTES, Analysis, ContentService, MediaFile
from tidecast.core.errors import (
    ContentUnavailable,
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
    UnsupportedContent,
)
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage import playlist_repo, transport_repo
from tidecast.storage.database import Database
from tidecast.storage.playlist_repo import ItemRow
from tidecast.storage.transport_repo import TransportRow

from support.origin import Origin
from support.torrents import Version, make_torrent

UNKNOWN_ID = "0a4848271c91ce2d8965ce416267c25047dc8141"

LIVE_MANIFEST = b"""#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:1042
#EXTINF:6.0,
seg1042.ts
#EXTINF:6.0,
seg1043.ts
"""
VOD_MANIFEST = LIVE_MANIFEST.replace(b"1042\n", b"0\n") + b"#EXT-X-ENDLIST\n"
MASTER_MANIFEST = b"""#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=1280x720
variants/vod.m3u8
"""
IPTV_PLAYLIST = b"""#EXTM3U url-tvg="http://127.0.0.1/epg.xml"
#EXTINF:-1 tvg-id="one" tvg-logo="http://127.0.0.1/one.png" group-title="News",One
http://127.0.0.1/one.ts
#EXTINF:-1,Two
acestream://94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209
"""
MP4_BLOB = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


# -- torrents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Torrent:
    data: bytes
    content_id: str
    infohash: str  # v1, or truncated v2 for v2-only
    infohash_v2: str | None


def _torrent(data: bytes) -> Torrent:
    info = lt.load_torrent_buffer(data).ti
    assert info is not None
    hashes = info.info_hashes()
    v1 = hashes.v1.to_bytes().hex() if hashes.has_v1() else None
    v2 = hashes.v2.to_bytes().hex() if hashes.has_v2() else None
    assert v1 or v2
    return Torrent(data, hashlib.sha1(data).hexdigest(), v1 or v2[:40], v2)  # type: ignore[index]


@pytest.fixture(scope="module")
def torrents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Torrent]:
    made: dict[str, Torrent] = {}
    specs: list[tuple[str, dict[str, bytes | int], Version, str | None]] = [
        ("v1", {"movie.mkv": 40_000}, "v1", None),
        ("v2", {"clip.mp4": 30_000}, "v2", None),
        ("hybrid", {"show.webm": 50_000}, "hybrid", None),
        (
            "multi",
            {
                "Season 1/ep1.mkv": 20_000,
                "Season 1/ep2.mkv": 25_000,
                "subs/ep1.srt": b"1\n00:00:01,000 --> 00:00:02,000\nHi\n",
                "readme.txt": b"hello",
            },
            "hybrid",
            "Series",
        ),
    ]
    for key, files, version, name in specs:
        data, _root = make_torrent(tmp_path_factory.mktemp(key), files, version=version, name=name)
        made[key] = _torrent(data)
    return made


@pytest.fixture
def routes(origin: Origin, torrents: dict[str, Torrent]) -> Origin:
    origin.hits.clear()
    origin.routes.clear()
    origin.routes.update(
        {
            "/v1.torrent": (torrents["v1"].data, "application/x-bittorrent"),
            "/v2.torrent": (torrents["v2"].data, "application/x-bittorrent"),
            "/hybrid.torrent": (torrents["hybrid"].data, "application/x-bittorrent"),
            "/multi.torrent": (torrents["multi"].data, "application/x-bittorrent"),
            "/download.php?id=5": (torrents["v1"].data, "application/octet-stream"),
            "/not-a-torrent.torrent": (b"<html>gone</html>", "text/html"),
            "/live.m3u8": (LIVE_MANIFEST, "application/vnd.apple.mpegurl"),
            "/vod.m3u8": (VOD_MANIFEST, "application/vnd.apple.mpegurl"),
            "/master.m3u8": (MASTER_MANIFEST, "application/vnd.apple.mpegurl"),
            "/variants/vod.m3u8": (VOD_MANIFEST, "application/vnd.apple.mpegurl"),
            "/stream": (LIVE_MANIFEST, "text/plain"),
            "/channels.m3u": (IPTV_PLAYLIST, "audio/x-mpegurl"),
            "/playlist": (IPTV_PLAYLIST, "text/plain"),
            "/movie.mp4": (MP4_BLOB, "video/mp4"),
            "/big.mp4": (MP4_BLOB * 20, "video/mp4"),
            "/watch": (MP4_BLOB, "video/mp4"),
            "/blob": (MP4_BLOB, "application/octet-stream"),
            "/page.html": (b"<!doctype html><title>hi</title>", "text/html"),
            "/notes.txt": (b"just some words", "text/plain"),
        }
    )
    return origin


@pytest.fixture
def service(db: Database, fetcher: Fetcher) -> ContentService:
    return ContentService(db, fetcher)


async def stored_rows(db: Database) -> int:
    async with db.read() as conn:
        result = await conn.exec_driver_sql("SELECT count(*) FROM transport_files")
        return int(result.scalar_one())


# -- remember / transport files -----------------------------------------------------------


async def test_content_id_is_sha1_of_the_transport_file(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    for torrent in torrents.values():
        file = await service.remember(torrent.data)
        assert file.content_id == hashlib.sha1(torrent.data).hexdigest() == torrent.content_id
        assert file.infohash == torrent.infohash
        assert file.infohash_v2 == torrent.infohash_v2


async def test_remember_is_idempotent(
    service: ContentService, db: Database, torrents: dict[str, Torrent]
) -> None:
    await service.remember(torrents["v1"].data, source_url="http://127.0.0.1/a.torrent")
    await service.remember(torrents["v1"].data)
    assert await stored_rows(db) == 1
    async with db.read() as conn:
        row = await transport_repo.get(conn, torrents["v1"].content_id)
    assert row is not None
    assert row.data == torrents["v1"].data
    assert row.source_url == "http://127.0.0.1/a.torrent"
    assert row.name == "movie.mkv" and row.total_size == 40_000


async def test_remember_refuses_what_is_not_a_torrent(service: ContentService) -> None:
    with pytest.raises(UnsupportedContent):
        await service.remember(b"d3:foo3:bare")
    with pytest.raises(InvalidInput):
        await service.remember(b"")


async def test_remembered_file_resolves_by_every_id(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    for torrent in torrents.values():
        await service.remember(torrent.data)
    # A fresh service has nothing cached in memory: it reads the database.
    fresh = ContentService(service._db, service._fetcher)
    for torrent in torrents.values():
        by_cid = await fresh.transport_file(content_id=torrent.content_id, caller_is_local=False)
        by_hash = await fresh.transport_file(infohash=torrent.infohash, caller_is_local=False)
        assert by_cid.content_id == by_hash.content_id == torrent.content_id
        upper = await fresh.transport_file(
            content_id=torrent.content_id.upper(), caller_is_local=False
        )
        assert upper.content_id == torrent.content_id
        if torrent.infohash_v2:
            full = await fresh.transport_file(infohash=torrent.infohash_v2, caller_is_local=False)
            truncated = await fresh.transport_file(
                infohash=torrent.infohash_v2[:40], caller_is_local=False
            )
            assert full.content_id == truncated.content_id == torrent.content_id


async def test_resolution_follows_the_seed_order(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    await service.remember(torrents["v1"].data)
    await service.remember(torrents["v2"].data)
    file = await service.transport_file(
        content_id=torrents["v1"].content_id,
        infohash=torrents["v2"].infohash,
        caller_is_local=True,
    )
    assert file.content_id == torrents["v1"].content_id
    # An unknown content id is not rescued by a known infohash: only the first counts.
    with pytest.raises(ContentUnavailable, match="cannot get transport file"):
        await service.transport_file(
            content_id=UNKNOWN_ID, infohash=torrents["v2"].infohash, caller_is_local=True
        )


@pytest.mark.parametrize("field", ["content_id", "infohash"])
async def test_unknown_ids_cannot_get_transport_file(service: ContentService, field: str) -> None:
    with pytest.raises(ContentUnavailable) as caught:
        await service.transport_file(**{field: UNKNOWN_ID}, caller_is_local=True)  # type: ignore[arg-type]
    assert caught.value.message == "cannot get transport file"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_id", "xyz"),
        ("content_id", UNKNOWN_ID + "00"),
        ("infohash", "g" * 40),
        ("infohash", "ab" * 25),
    ],
)
async def test_malformed_ids_are_invalid(service: ContentService, field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.transport_file(**{field: value}, caller_is_local=True)  # type: ignore[arg-type]
    assert caught.value.field == field


async def test_nothing_named_is_a_missing_parameter(service: ContentService) -> None:
    with pytest.raises(MissingParameter):
        await service.transport_file(content_id="", caller_is_local=True)


async def test_transport_file_from_url_is_remembered(
    service: ContentService, routes: Origin, torrents: dict[str, Torrent]
) -> None:
    file = await service.transport_file(url=routes.url("/v2.torrent"), caller_is_local=True)
    assert file.content_id == torrents["v2"].content_id
    assert routes.hits == {"/v2.torrent": 1}
    again = await service.transport_file(infohash=torrents["v2"].infohash, caller_is_local=False)
    assert again.content_id == file.content_id
    assert routes.total_hits() == 1


async def test_url_that_is_not_a_torrent(service: ContentService, routes: Origin) -> None:
    for path in ("/not-a-torrent.torrent", "/movie.mp4"):
        with pytest.raises(ContentUnavailable, match="cannot get transport file"):
            await service.transport_file(url=routes.url(path), caller_is_local=True)
    with pytest.raises(ContentUnavailable):
        await service.transport_file(url=routes.url("/missing.torrent"), caller_is_local=True)


async def test_transport_url_is_size_limited(
    service: ContentService, routes: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tidecast.core.content.MAX_TRANSPORT_FILE_BYTES", 64)
    with pytest.raises(PayloadTooLarge):
        await service.transport_file(url=routes.url("/v1.torrent"), caller_is_local=True)


async def test_transport_file_from_data(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    file = await service.transport_file(data=torrents["hybrid"].data, caller_is_local=False)
    assert file.content_id == torrents["hybrid"].content_id
    assert (
        await service.transport_file(infohash=torrents["hybrid"].infohash, caller_is_local=False)
    ).content_id == file.content_id


# -- non-local callers --------------------------------------------------------------------


async def test_non_local_caller_cannot_make_tidecast_fetch_loopback(
    service: ContentService, routes: Origin
) -> None:
    url = routes.url("/v1.torrent")
    with pytest.raises(FetchRefused):
        await service.transport_file(url=url, caller_is_local=False)
    with pytest.raises(FetchRefused):
        await service.media_files(url=url, caller_is_local=False)
    with pytest.raises(FetchRefused):
        await service.content_id(url=url, caller_is_local=False)
    for query in (url, f"acestream:?url={quote(url, safe='')}", routes.url("/live.m3u8")):
        with pytest.raises(FetchRefused):
            await service.analyze(query, caller_is_local=False)
    assert routes.total_hits() == 0


# -- media files --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["v1", "v2", "hybrid"])
async def test_media_files_by_url_data_infohash_and_content_id(
    service: ContentService, routes: Origin, torrents: dict[str, Torrent], key: str
) -> None:
    torrent = torrents[key]
    by_url = await service.media_files(url=routes.url(f"/{key}.torrent"), caller_is_local=True)
    by_data = await service.media_files(data=torrent.data, caller_is_local=False)
    by_hash = await service.media_files(infohash=torrent.infohash, caller_is_local=False)
    by_cid = await service.media_files(content_id=torrent.content_id, caller_is_local=False)
    assert by_url == by_data == by_hash == by_cid
    assert by_url.infohash == torrent.infohash
    assert by_url.content_id == torrent.content_id
    assert by_url.type == "vod" and by_url.transport_type == "bt"
    assert by_url.transport_file_data is None
    assert len(by_url.files) == 1
    (only,) = by_url.files
    assert only.filename == by_url.name
    assert only.index == 0


async def test_media_files_single_file_details(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    files = await service.media_files(data=torrents["v1"].data, caller_is_local=True)
    assert files.name == "movie.mkv"
    assert files.files == [
        MediaFile(index=0, filename="movie.mkv", size=40_000, mime="video/x-matroska")
    ]
    v2 = await service.media_files(data=torrents["v2"].data, caller_is_local=True)
    assert v2.files == [MediaFile(index=0, filename="clip.mp4", size=30_000, mime="video/mp4")]


async def test_media_files_of_a_multi_file_torrent(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    torrent = torrents["multi"]
    files = await service.media_files(data=torrent.data, caller_is_local=True)
    assert files.name == "Series"
    by_name = {f.filename: f for f in files.files}
    assert set(by_name) == {"Season 1/ep1.mkv", "Season 1/ep2.mkv", "subs/ep1.srt", "readme.txt"}
    assert by_name["Season 1/ep1.mkv"].size == 20_000
    assert by_name["Season 1/ep2.mkv"].mime == "video/x-matroska"
    assert by_name["subs/ep1.srt"].mime == "application/x-subrip"
    assert by_name["readme.txt"] == MediaFile(
        index=by_name["readme.txt"].index, filename="readme.txt", size=5, mime="text/plain"
    )
    # Indexes are libtorrent's own, pad files counted (a hybrid torrent has them).
    info = lt.load_torrent_buffer(torrent.data).ti
    assert info is not None
    layout = info.layout()
    for media in files.files:
        assert layout.file_path(media.index).endswith(media.filename.split("/")[-1])
        assert layout.file_size(media.index) == media.size
    assert [f.index for f in files.files] == sorted(f.index for f in files.files)


async def test_media_files_can_include_the_transport_file(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    await service.remember(torrents["v1"].data)
    files = await service.media_files(
        infohash=torrents["v1"].infohash, caller_is_local=False, include_data=True
    )
    assert files.transport_file_data == torrents["v1"].data


async def test_media_files_by_magnet(service: ContentService, torrents: dict[str, Torrent]) -> None:
    unknown = f"magnet:?xt=urn:btih:{torrents['v1'].infohash}&dn=Movie"
    with pytest.raises(ContentUnavailable, match="cannot get transport file"):
        await service.media_files(magnet=unknown, caller_is_local=True)
    await service.remember(torrents["v1"].data)
    files = await service.media_files(magnet=unknown, caller_is_local=True)
    assert files.content_id == torrents["v1"].content_id
    # A v2 magnet (urn:btmh) finds a remembered v2 torrent.
    await service.remember(torrents["v2"].data)
    v2 = torrents["v2"].infohash_v2
    assert v2 is not None
    btmh = await service.media_files(magnet=f"magnet:?xt=urn:btmh:1220{v2}", caller_is_local=True)
    assert btmh.content_id == torrents["v2"].content_id
    with pytest.raises(InvalidInput):
        await service.media_files(magnet="http://127.0.0.1/x.torrent", caller_is_local=True)


# -- content ids --------------------------------------------------------------------------


async def test_content_id_by_infohash_and_url(
    service: ContentService, routes: Origin, torrents: dict[str, Torrent]
) -> None:
    with pytest.raises(ContentUnavailable):
        await service.content_id(infohash=torrents["hybrid"].infohash, caller_is_local=True)
    cid = await service.content_id(url=routes.url("/hybrid.torrent"), caller_is_local=True)
    assert cid == torrents["hybrid"].content_id
    assert (
        await service.content_id(infohash=torrents["hybrid"].infohash, caller_is_local=False) == cid
    )
    assert (
        await service.content_id(infohash=torrents["hybrid"].infohash_v2, caller_is_local=False)
        == cid
    )
    with pytest.raises(MissingParameter):
        await service.content_id(caller_is_local=True)


def _item(title: str, **values: object) -> ItemRow:
    return ItemRow(
        owner="admin",
        title=title,
        transport_type="bt",
        content_type="transport_file",
        hash=hashlib.md5(title.encode()).hexdigest(),
        hash_v2=hashlib.md5(title.encode() + b"2").hexdigest(),
        created_at=0,
        updated_at=0,
        **values,  # type: ignore[arg-type]
    )


async def test_content_id_of_playlist_items(
    service: ContentService, db: Database, routes: Origin, torrents: dict[str, Torrent]
) -> None:
    await service.remember(torrents["v1"].data)
    async with db.write() as conn:
        with_cid = await playlist_repo.insert(conn, _item("a", content_id=UNKNOWN_ID))
        with_hash = await playlist_repo.insert(conn, _item("b", infohash=torrents["v1"].infohash))
        with_url = await playlist_repo.insert(conn, _item("c", url=routes.url("/v2.torrent")))
        bare = await playlist_repo.insert(conn, _item("d"))
    assert await service.content_id(playlist_item_id=with_cid, caller_is_local=False) == UNKNOWN_ID
    assert (
        await service.content_id(playlist_item_id=with_hash, caller_is_local=False)
        == torrents["v1"].content_id
    )
    assert (
        await service.content_id(playlist_item_id=with_url, caller_is_local=True)
        == torrents["v2"].content_id
    )
    with pytest.raises(ContentUnavailable):
        await service.content_id(playlist_item_id=bare, caller_is_local=True)
    with pytest.raises(NotFound):
        await service.content_id(playlist_item_id=9999, caller_is_local=True)


# -- analyze_content ----------------------------------------------------------------------


def transport(
    torrent: Torrent, title: str, *, item_url: str | None = None, is_live: int = 0
) -> Analysis:
    return Analysis(
        "transport_file", "bt", torrent.content_id, torrent.infohash, item_url, title, is_live, []
    )


async def test_analyze_unknown_ids_still_answer(service: ContentService) -> None:
    unknown_cid = Analysis("transport_file", "bt", UNKNOWN_ID, None, None, None, -1, [])
    for query in (
        f"acestream://{UNKNOWN_ID}",
        f"acestream:?content_id={UNKNOWN_ID}",
        UNKNOWN_ID,
        f"  {UNKNOWN_ID.upper()}  ",
    ):
        assert await service.analyze(query, caller_is_local=False) == unknown_cid
    unknown_hash = Analysis("transport_file", "bt", None, UNKNOWN_ID, None, None, -1, [])
    assert await service.analyze(f"acestream:?infohash={UNKNOWN_ID}", caller_is_local=False) == (
        unknown_hash
    )
    magnet = f"magnet:?xt=urn:btih:{UNKNOWN_ID}&dn=Promo+Channel"
    assert await service.analyze(magnet, caller_is_local=False) == Analysis(
        "transport_file", "bt", None, UNKNOWN_ID, magnet, "Promo Channel", -1, []
    )


async def test_analyze_known_ids(service: ContentService, torrents: dict[str, Torrent]) -> None:
    v1, v2, hybrid = torrents["v1"], torrents["v2"], torrents["hybrid"]
    for torrent in (v1, v2, hybrid):
        await service.remember(torrent.data)
    assert await service.analyze(f"acestream://{v1.content_id}", caller_is_local=False) == (
        transport(v1, "movie.mkv")
    )
    assert await service.analyze(v2.content_id, caller_is_local=False) == transport(v2, "clip.mp4")
    assert await service.analyze(
        f"acestream:?content_id={hybrid.content_id}&index=0", caller_is_local=False
    ) == transport(hybrid, "show.webm")
    assert await service.analyze(
        f"acestream:?infohash={v1.infohash}", caller_is_local=False
    ) == transport(v1, "movie.mkv")
    assert await service.analyze(
        f"acestream:?infohash={hybrid.infohash_v2}", caller_is_local=False
    ) == transport(hybrid, "show.webm")
    magnet = f"magnet:?xt=urn:btih:{v1.infohash}&dn=Other+Name"
    assert await service.analyze(magnet, caller_is_local=False) == transport(
        v1, "movie.mkv", item_url=magnet
    )
    wrapped = f"acestream:?magnet={quote(magnet, safe='')}"
    assert await service.analyze(wrapped, caller_is_local=False) == transport(
        v1, "movie.mkv", item_url=magnet
    )


async def test_analyze_title_overrides(
    service: ContentService, torrents: dict[str, Torrent]
) -> None:
    await service.remember(torrents["v1"].data)
    analysis = await service.analyze(
        torrents["v1"].content_id, caller_is_local=True, title="My Movie"
    )
    assert analysis.title == "My Movie"
    unknown = await service.analyze(UNKNOWN_ID, caller_is_local=True, title="Promo")
    assert unknown.title == "Promo"
    assert (await service.analyze(UNKNOWN_ID, caller_is_local=True, title="")).title is None


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("{base}/v1.torrent", "v1"),
        ("{base}/download.php?id=5", "v1"),
        ("acestream:?url={quoted}/download.php%3Fid%3D5", "v1"),
        ("acestream:?data={quoted}/v2.torrent", "v2"),
        ("{base}/hybrid.torrent", "hybrid"),
    ],
)
async def test_analyze_torrent_urls_remembers_them(
    service: ContentService,
    routes: Origin,
    torrents: dict[str, Torrent],
    query: str,
    key: str,
) -> None:
    text = query.format(base=routes.base, quoted=quote(routes.base, safe=""))
    analysis = await service.analyze(text, caller_is_local=True)
    torrent = torrents[key]
    name = {"v1": "movie.mkv", "v2": "clip.mp4", "hybrid": "show.webm"}[key]
    assert analysis.content_type == "transport_file"
    assert analysis.transport_type == "bt"
    assert (analysis.content_id, analysis.infohash) == (torrent.content_id, torrent.infohash)
    assert analysis.title == name and analysis.is_live == 0 and analysis.categories == []
    assert analysis.item_url is not None and analysis.item_url.startswith(routes.base)
    # Remembered: the id now resolves without a fetch.
    hits = routes.total_hits()
    files = await service.media_files(content_id=torrent.content_id, caller_is_local=False)
    assert files.infohash == torrent.infohash
    assert routes.total_hits() == hits


@pytest.mark.parametrize(
    ("path", "content_type", "transport_type", "is_live"),
    [
        ("/live.m3u8", "hls", "hls", 1),
        ("/vod.m3u8", "hls", "hls", 0),
        ("/master.m3u8", "hls", "hls", 0),  # judged by its first variant
        ("/stream", "hls", "hls", 1),  # sniffed, whatever the content type says
        ("/channels.m3u", "playlist", None, -1),
        ("/playlist", "playlist", None, -1),
        ("/movie.mp4", "direct_content", None, 0),
        ("/big.mp4", "direct_content", None, -1),  # over the sniff limit
        ("/watch", "direct_content", None, 0),  # by content type
        ("/blob", "direct_content", None, 0),  # unknown binary
    ],
)
async def test_analyze_urls(
    service: ContentService,
    routes: Origin,
    path: str,
    content_type: str,
    transport_type: str | None,
    is_live: int,
) -> None:
    url = routes.url(path)
    analysis = await service.analyze(url, caller_is_local=True)
    assert analysis == Analysis(content_type, transport_type, None, None, url, None, is_live, [])


async def test_big_media_is_not_downloaded(service: ContentService, routes: Origin) -> None:
    assert len(routes.routes["/big.mp4"][0]) > DIRECT_SNIFF_BYTES
    await service.analyze(routes.url("/big.mp4"), caller_is_local=True)
    assert routes.hits == {"/big.mp4": 1}


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("ftp://127.0.0.1/x.torrent", UnsupportedContent),
        ("test", UnsupportedContent),
        ("", UnsupportedContent),
        ("acestream://xyz", InvalidInput),
        ("acestream:?infohash=nothex", InvalidInput),
        ("{base}/page.html", UnsupportedContent),
        ("{base}/notes.txt", UnsupportedContent),
        ("{base}/missing", ContentUnavailable),
        ("{base}/not-a-torrent.torrent", ContentUnavailable),
    ],
)
async def test_analyze_errors(
    service: ContentService, routes: Origin, query: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await service.analyze(query.format(base=routes.base), caller_is_local=True)


async def test_unknown_protocol_message(service: ContentService) -> None:
    with pytest.raises(UnsupportedContent) as caught:
        await service.analyze("rtmp://127.0.0.1/live", caller_is_local=True)
    assert caught.value.message == "unknown protocol"


# -- the repository -----------------------------------------------------------------------


async def test_repository_insert_if_absent_and_lookups(
    database_url: str, torrents: dict[str, Torrent]
) -> None:
    # On SQLite and PostgreSQL: insert-if-absent is written per dialect.
    db = Database(database_url)
    await db.migrate()
    try:
        await _check_repository(db, torrents)
    finally:
        await db.dispose()


async def _check_repository(db: Database, torrents: dict[str, Torrent]) -> None:
    hybrid = torrents["hybrid"]
    assert hybrid.infohash_v2 is not None
    row = TransportRow(
        content_id=hybrid.content_id,
        infohash=hybrid.infohash,
        infohash_v2=hybrid.infohash_v2,
        name="show.webm",
        total_size=50_000,
        data=hybrid.data,
        source_url=None,
        created_at=1,
    )
    async with db.write() as conn:
        assert await transport_repo.insert_if_absent(conn, row) is True
        assert await transport_repo.insert_if_absent(conn, row) is False
    async with db.read() as conn:
        assert await transport_repo.get(conn, hybrid.content_id) == row
        assert await transport_repo.get(conn, UNKNOWN_ID) is None
        assert await transport_repo.find_by_infohash(conn, hybrid.infohash) == row
        assert await transport_repo.find_by_infohash(conn, hybrid.infohash_v2) == row
        assert await transport_repo.find_by_infohash(conn, hybrid.infohash_v2[:40]) == row
        assert await transport_repo.find_by_infohash(conn, UNKNOWN_ID) is None


async def test_store_of_remembered_files_is_bounded(
    db: Database, fetcher: Fetcher, tmp_path: Path
) -> None:
    from tidecast.core.playlists import NO_OWNER, NewItem, PlaylistService

    datas = [make_torrent(tmp_path / f"t{n}", {f"f{n}.mkv": 5000 + n})[0] for n in range(6)]
    budget = sum(len(d) for d in datas[:3])  # room for about three files
    service = ContentService(db, fetcher, max_stored_bytes=budget)
    first = await service.remember(datas[0])
    # A playlist item names the first file: it must survive eviction.
    await PlaylistService(db).add_item(NO_OWNER, NewItem(title="kept", content_id=first.content_id))
    for data in datas[1:]:
        await service.remember(data)
    total = await stored_bytes(db)
    assert total <= budget
    fresh = ContentService(db, fetcher)  # no in-memory parse cache
    assert await fresh.known(content_id=first.content_id) is not None
    assert await fresh.known(content_id=hashlib.sha1(datas[-1]).hexdigest()) is not None
    still_known = [d for d in datas if await fresh.known(content_id=hashlib.sha1(d).hexdigest())]
    assert len(still_known) < len(datas)  # older, unreferenced files were evicted


async def stored_bytes(db: Database) -> int:
    from tidecast.storage import transport_repo

    async with db.read() as conn:
        return await transport_repo.total_bytes(conn)

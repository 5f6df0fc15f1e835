"""Relayed playback: direct media URLs and HLS sources, through a real tidecast server.

The upstream is a real web server on loopback over a real HLS rendition made with PyAV;
tidecast runs under uvicorn in the test's event loop, and PyAV plays what it serves.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import av
import httpx
import pytest

from tidecast.core.instance import ALLOW_REMOTE
from tidecast.core.playback import PlaybackSession
from tidecast.core.services import Services
from tidecast.settings import Settings

from support.hls_origin import FileOrigin, Rendition, file_origin, make_rendition

ClientFactory = Callable[[str], httpx.AsyncClient]
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


@pytest.fixture(scope="module")
def rendition(tmp_path_factory: pytest.TempPathFactory) -> Rendition:
    return make_rendition(tmp_path_factory.mktemp("hls"))


@pytest.fixture(scope="module")
def module_origin(rendition: Rendition) -> Iterator[FileOrigin]:
    (rendition.root / "not-hls.m3u8").write_text("<html>an error page</html>\n")
    (rendition.root / "film.bin").write_bytes(bytes(range(256)) * 1200)
    (rendition.root / "long.bin").write_bytes(bytes(32 * 1024 * 1024))
    with file_origin(rendition.root) as origin:
        yield origin


@pytest.fixture
def origin(module_origin: FileOrigin) -> FileOrigin:
    return module_origin.reset()


@pytest.fixture
def playback_settings(make_settings: Callable[..., Settings]) -> Settings:
    """No swarm is needed here; a short fetch timeout keeps the failure tests quick."""
    return make_settings(fetch_timeout=0.5)


def uris(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            found += re.findall(r'(?<=[:,])URI="([^"]*)"', line)
        elif line.strip():
            found.append(line.strip())
    return found


async def start(http: httpx.AsyncClient, path: str, **query: str) -> dict[str, object]:
    response = await http.get(path, params={"format": "json", **query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None, body
    return body["response"]  # type: ignore[no-any-return]


async def get_playlist(http: httpx.AsyncClient, url: str) -> list[str]:
    response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == PLAYLIST_TYPE
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.text.startswith("#EXTM3U")
    return uris(response.text)


# -- HLS ----------------------------------------------------------------------------------


async def test_hls_source_is_relayed_with_every_uri_through_tidecast(
    http: httpx.AsyncClient, origin: FileOrigin, rendition: Rendition
) -> None:
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url("master.m3u8"))
    base = str(http.base_url).rstrip("/")
    playback = str(answer["playback_url"])
    infohash = str(answer["infohash"])
    assert playback.startswith(f"{base}/ace/m/{infohash}/") and playback.endswith(".m3u8")
    key = playback.removesuffix(".m3u8").rsplit("/", 1)[1]
    relayed = f"{base}/ace/h/{infohash}/{key}/"
    variants = await get_playlist(http, playback)
    assert len(variants) == len(rendition.variants)
    for variant, name in zip(variants, rendition.variants, strict=True):
        assert variant.startswith(relayed)
        segments = await get_playlist(http, variant)
        upstream_media = (rendition.root / name / "index.m3u8").read_text()
        assert len(segments) == len(uris(upstream_media)) == 3
        for index, segment in enumerate(segments):
            assert segment.startswith(relayed) and segment.endswith(".ts")
            response = await http.get(segment)
            assert response.status_code == 200
            assert response.content == (rendition.root / name / f"seg{index}.ts").read_bytes()
            assert response.headers["content-type"] == "video/mp2t"
            assert response.headers["access-control-allow-origin"] == "*"
            assert "set-cookie" not in response.headers
    tail = await http.get(segments[0], headers={"Range": "bytes=-188"})
    assert tail.status_code == 206
    assert tail.content == (rendition.root / "high" / "seg0.ts").read_bytes()[-188:]


async def test_pyav_plays_the_relayed_rendition_end_to_end(
    http: httpx.AsyncClient, origin: FileOrigin, rendition: Rendition
) -> None:
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url("master.m3u8"))
    media = await asyncio.to_thread(demux, str(answer["playback_url"]))
    assert media["video"] > 0 and media["audio"] > 0
    assert media["duration"] == pytest.approx(rendition.seconds, abs=0.25)
    assert origin.hits_of("low/seg0.ts") + origin.hits_of("high/seg0.ts") >= 1


def demux(url: str) -> dict[str, float]:
    """Every packet of ``url``, as a player reads it: counts and the time they span."""
    counts = {"video": 0.0, "audio": 0.0}
    first, last = float("inf"), 0.0
    with av.open(url) as container:
        for packet in container.demux():
            if packet.size == 0 or packet.pts is None or packet.time_base is None:
                continue
            counts[packet.stream.type] = counts.get(packet.stream.type, 0) + 1
            start = float(packet.pts * packet.time_base)
            first = min(first, start)
            last = max(last, start + float((packet.duration or 0) * packet.time_base))
    return {**counts, "duration": last - first}


async def test_ace_manifest_given_an_hls_url_relays_it(
    http: httpx.AsyncClient, origin: FileOrigin
) -> None:
    started = await http.get("/ace/manifest.m3u8", params={"url": origin.url("master.m3u8")})
    assert started.status_code == 302
    variants = await get_playlist(http, started.headers["location"])
    segments = await get_playlist(http, variants[1])
    assert (await http.get(segments[2])).content == (origin.root / "high" / "seg2.ts").read_bytes()


async def test_forged_or_modified_tokens_are_refused(
    http: httpx.AsyncClient, origin: FileOrigin
) -> None:
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url("master.m3u8"))
    variant = (await get_playlist(http, str(answer["playback_url"])))[0]
    prefix, token = variant.rsplit("/", 1)
    kind, payload, mac, ext = token.split(".")
    before = dict(origin.hits)
    elsewhere = base64.urlsafe_b64encode(origin.url("film.bin").encode()).decode().rstrip("=")
    for forged in (
        f"{kind}.{payload}.{mac[::-1]}.{ext}",  # another MAC
        f"m.{payload}.{mac}.{ext}",  # a playlist passed off as media
        f"{kind}.{elsewhere}.{mac}.{ext}",  # another URL
        f"{kind}.{payload}!.{mac}.{ext}",
        "garbage",
    ):
        refused = await http.get(f"{prefix}/{forged}")
        assert refused.status_code == 403, forged
        assert refused.text == "invalid relay token\n"
    assert origin.hits == before


async def test_ten_viewers_of_one_segment_cost_one_upstream_fetch(
    http: httpx.AsyncClient, origin: FileOrigin, rendition: Rendition
) -> None:
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url("master.m3u8"))
    variants = await get_playlist(http, str(answer["playback_url"]))
    segment = (await get_playlist(http, variants[0]))[1]
    origin.delays["/low/seg1.ts"] = 0.3
    responses = await asyncio.gather(*(http.get(segment) for _ in range(10)))
    expected = (rendition.root / "low" / "seg1.ts").read_bytes()
    assert all(r.status_code == 200 and r.content == expected for r in responses)
    assert origin.hits_of("low/seg1.ts") == 1


@pytest.mark.parametrize(
    ("path", "delay", "message"),
    [
        ("not-hls.m3u8", 0.0, "failed to get manifest\n"),
        ("missing.m3u8", 0.0, "failed to get manifest: 127.0.0.1 answered HTTP 404\n"),
        ("master.m3u8", 1.0, "failed to get manifest: timed out fetching 127.0.0.1 after 0.5 s\n"),
    ],
)
async def test_an_unreadable_hls_source_is_a_bad_gateway(
    http: httpx.AsyncClient, origin: FileOrigin, path: str, delay: float, message: str
) -> None:
    origin.delays["/" + path] = delay
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url(path))
    response = await http.get(str(answer["playback_url"]))
    assert response.status_code == 502
    assert response.text == message
    assert response.headers["access-control-allow-origin"] == "*"


async def test_a_failing_segment_is_a_bad_gateway(
    http: httpx.AsyncClient, origin: FileOrigin
) -> None:
    answer = await start(http, "/hls/manifest.m3u8", manifest_url=origin.url("low/index.m3u8"))
    segment = (await get_playlist(http, str(answer["playback_url"])))[0]
    origin.statuses["/low/seg0.ts"] = 500
    response = await http.get(segment)
    assert response.status_code == 502
    assert response.text == "127.0.0.1 answered HTTP 500\n"


# -- direct URLs --------------------------------------------------------------------------


async def test_direct_url_relays_ranges_exactly(
    http: httpx.AsyncClient, origin: FileOrigin
) -> None:
    expected = (origin.root / "film.bin").read_bytes()
    size = len(expected)
    answer = await start(http, "/ace/getstream", direct_url=origin.url("film.bin"))
    assert answer["is_direct"] is True
    url = str(answer["playback_url"])
    assert urlsplit(url).path.startswith(f"/ace/r/{answer['infohash']}/")
    whole = await http.get(url)
    assert whole.status_code == 200
    assert whole.content == expected
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in whole.headers
    for start_at, end_at in [(0, 999), (size // 2, size // 2 + 70_000), (size - 5000, size - 1)]:
        part = await http.get(url, headers={"Range": f"bytes={start_at}-{end_at}"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {start_at}-{end_at}/{size}"
        assert part.headers["content-length"] == str(end_at - start_at + 1)
        assert part.content == expected[start_at : end_at + 1]
    beyond = await http.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    head = await http.head(url, headers={"Range": "bytes=10-19"})
    assert head.status_code == 206
    assert head.headers["content-length"] == "10"
    assert head.headers["content-range"] == f"bytes 10-19/{size}"
    assert head.content == b""
    stale = await http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"an-old-etag"'})
    assert stale.status_code == 200 and stale.content == expected


async def test_a_viewer_hanging_up_ends_the_relay(
    http: httpx.AsyncClient, origin: FileOrigin, live: tuple[str, Services]
) -> None:
    answer = await start(http, "/ace/getstream", direct_url=origin.url("long.bin"))
    url = str(answer["playback_url"])
    session = services_session(live[1], url)
    async with http.stream("GET", url) as response:
        assert await anext(response.aiter_bytes())
        assert session.readers == 1
    for _ in range(100):
        if session.readers == 0:
            break
        await asyncio.sleep(0.02)
    assert session.readers == 0


def services_session(services: Services, playback_url: str) -> PlaybackSession:
    infohash, key = urlsplit(playback_url).path.split("/")[-2:]
    return services.playback.session(infohash, key)


async def test_direct_url_upstream_failure_is_a_bad_gateway(
    http: httpx.AsyncClient, origin: FileOrigin
) -> None:
    answer = await start(http, "/ace/getstream", direct_url=origin.url("film.bin"))
    origin.statuses["/film.bin"] = 404
    response = await http.get(str(answer["playback_url"]))
    assert response.status_code == 502
    assert response.text == "127.0.0.1 answered HTTP 404\n"


async def test_direct_url_at_a_private_address_is_refused_to_a_remote_caller(
    client_from: ClientFactory, services: Services, origin: FileOrigin
) -> None:
    await services.switches.set(ALLOW_REMOTE, True)
    remote = client_from("203.0.113.5")
    answer = await start(remote, "/ace/getstream", direct_url=origin.url("film.bin"))
    response = await remote.get(str(answer["playback_url"]))
    assert response.status_code == 403
    assert response.text == "refusing to fetch a private or loopback address\n"
    hls = await start(remote, "/hls/manifest.m3u8", manifest_url=origin.url("master.m3u8"))
    assert (await remote.get(str(hls["playback_url"]))).status_code == 403
    assert origin.hits == {}

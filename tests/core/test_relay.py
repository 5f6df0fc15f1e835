"""The relay without HTTP in front: rewriting, tokens, caches, single flight, locality.

Upstreams are real: a local web server over a real HLS rendition made with PyAV.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from tidecast.core import relay as relay_module
from tidecast.core.errors import AccessDenied, ContentUnavailable, FetchRefused
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.playback import PlaybackSession
from tidecast.core.relay import PLAYLIST_TYPE, Relay, rewrite_playlist
from tidecast.engine.http_fetch import Fetcher

from support.hls_origin import FileOrigin, Rendition, file_origin, make_rendition

PREFIX = "http://tidecast.test/ace/h/ih/key/"
SECRET = InstanceSecret(b"relay-test-secret")


@pytest.fixture(scope="module")
def rendition(tmp_path_factory: pytest.TempPathFactory) -> Rendition:
    return make_rendition(tmp_path_factory.mktemp("hls"))


@pytest.fixture(scope="module")
def hls_origin(rendition: Rendition) -> Iterator[FileOrigin]:
    with file_origin(rendition.root) as origin:
        yield origin


@pytest.fixture
def fresh(hls_origin: FileOrigin) -> FileOrigin:
    return hls_origin.reset()


def session_for(
    url: str, *, key: str = "k" * 32, infohash: str = "a" * 40, started_locally: bool = False
) -> PlaybackSession:
    return PlaybackSession(
        key=key,
        infohash=infohash,
        playback_session_id="b" * 40,
        pid=None,
        kind="hls",
        output="hls",
        audio="copy",
        is_live=1,
        source_url=url,
        caller_is_local=started_locally,
    )


def uris(text: str) -> list[str]:
    """Every URI of a playlist: URI lines and URI attributes, in order."""
    found: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            found += re.findall(r'(?<=[:,])URI="([^"]*)"', line)
        elif line.strip():
            found.append(line.strip())
    return found


def token_of(url: str) -> str:
    assert url.startswith(PREFIX), url
    return url.removeprefix(PREFIX)


# -- rewriting, as a pure function ---------------------------------------------------------

MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-CONTENT-STEERING:SERVER-URI="https://steer.example/s.json"
#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://keys.example/k1"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="main",DEFAULT=YES
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=8000,URI="iframes.m3u8"

#EXT-X-STREAM-INF:BANDWIDTH=150000,AUDIO="aud"
# a comment between the tag and its URI
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=300000,AUDIO="aud"
https://cdn.example/high/index.m3u8?sig=1
"""

MEDIA = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXT-X-KEY:METHOD=AES-128,URI="../keys/k2",IV=0x1
#EXTINF:2.0,
#EXT-X-BYTERANGE:1000@720
seg0.m4s
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key"
#EXT-X-KEY:METHOD=NONE
#EXTINF:2.0,title
/abs/seg1.m4s
#EXT-X-PART:DURATION=0.5,URI="part2.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part3.m4s"
#EXT-X-RENDITION-REPORT:URI="../high/index.m3u8",LAST-MSN=1
#EXTINF:2.0,
data:video/mp2t;base64,AAAA
"""


def tag(kind: str, url: str) -> str:
    return f"<{kind}:{url}>"


def test_rewrite_master_playlist() -> None:
    out = rewrite_playlist(MASTER, "https://origin.example/live/master.m3u8?t=9", tag)
    assert out.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        '#EXT-X-CONTENT-STEERING:SERVER-URI="https://steer.example/s.json"',
        '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="<media:https://keys.example/k1>"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",'
        'URI="<playlist:https://origin.example/live/audio/en.m3u8>"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="main",DEFAULT=YES',
        "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=8000,"
        'URI="<playlist:https://origin.example/live/iframes.m3u8>"',
        "",
        '#EXT-X-STREAM-INF:BANDWIDTH=150000,AUDIO="aud"',
        "# a comment between the tag and its URI",
        "<playlist:https://origin.example/live/low/index.m3u8>",
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,AUDIO="aud"',
        "<playlist:https://cdn.example/high/index.m3u8?sig=1>",
    ]


def test_rewrite_media_playlist() -> None:
    out = rewrite_playlist(MEDIA, "http://o.example/a/b/index.m3u8", tag)
    assert uris(out) == [
        "<media:http://o.example/a/b/init.mp4>",
        "<media:http://o.example/a/keys/k2>",
        "<media:http://o.example/a/b/seg0.m4s>",
        "skd://fairplay-key",
        "<media:http://o.example/abs/seg1.m4s>",
        "<media:http://o.example/a/b/part2.m4s>",
        "<media:http://o.example/a/b/part3.m4s>",
        "<playlist:http://o.example/a/high/index.m3u8>",
        "data:video/mp2t;base64,AAAA",
    ]
    assert "#EXT-X-BYTERANGE:1000@720" in out.splitlines()
    assert 'BYTERANGE="720@0"' in out and "IV=0x1" in out


# -- tokens ----------------------------------------------------------------------------------


async def test_playlist_is_rewritten_to_signed_tokens_that_resolve_to_upstream_bytes(
    fresh: FileOrigin, rendition: Rendition
) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=1024 * 1024)
    session = session_for(fresh.url("master.m3u8"))
    try:
        master = await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
        assert master.content_type == PLAYLIST_TYPE
        variants = uris(master.body.decode())
        assert len(variants) == 2
        for variant, name in zip(variants, rendition.variants, strict=True):
            assert variant.endswith(".m3u8")
            media = await relay.resource(
                session, token_of(variant), prefix=PREFIX, caller_is_local=True
            )
            assert media.content_type == PLAYLIST_TYPE
            segments = uris(media.body.decode())
            assert len(segments) == 3
            for index, segment in enumerate(segments):
                assert segment.endswith(".ts")
                got = await relay.resource(
                    session, token_of(segment), prefix=PREFIX, caller_is_local=True
                )
                assert got.content_type == "video/mp2t"
                assert got.body == (rendition.root / name / f"seg{index}.ts").read_bytes()
    finally:
        await fetcher.aclose()


async def test_tokens_not_signed_here_for_this_content_are_refused(fresh: FileOrigin) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=1024 * 1024)
    other_instance = Relay(fetcher, InstanceSecret(b"another-secret"), cache_bytes=0)
    session = session_for(fresh.url("master.m3u8"))
    try:
        master = await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
        good = token_of(uris(master.body.decode())[0])
        foreign = await other_instance.playlist(session, prefix=PREFIX, caller_is_local=True)
        kind, payload, mac, ext = good.split(".")
        secret_url = relay_module._b64encode(b"http://127.0.0.1:22/etc/passwd")
        forged = [
            token_of(uris(foreign.body.decode())[0]),  # another instance's key
            f"m.{payload}.{mac}.{ext}",  # the kind changed
            f"{kind}.{secret_url}.{mac}.{ext}",  # the URL changed
            f"{kind}.{payload}!.{mac}.{ext}",  # stray characters
            f"{kind}.{payload}.{mac[:-2]}AA.{ext}",  # the MAC changed
            f"{kind}.{payload}",
            "x.y.z",
            "",
        ]
        for token in forged:
            with pytest.raises(AccessDenied, match="invalid relay token"):
                await relay.resource(session, token, prefix=PREFIX, caller_is_local=True)
        # A token is bound to the content: another source's session cannot use it.
        elsewhere = session_for(fresh.url("low/index.m3u8"), infohash="c" * 40)
        with pytest.raises(AccessDenied):
            await relay.resource(elsewhere, good, prefix=PREFIX, caller_is_local=True)
        # The extension is for players only; the token holds without it.
        assert await relay.resource(
            session, f"{kind}.{payload}.{mac}", prefix=PREFIX, caller_is_local=True
        )
    finally:
        await fetcher.aclose()


# -- caching and single flight ----------------------------------------------------------------


async def segment_tokens(relay: Relay, session: PlaybackSession) -> list[str]:
    master = await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
    low = token_of(uris(master.body.decode())[0])
    media = await relay.resource(session, low, prefix=PREFIX, caller_is_local=True)
    return [token_of(u) for u in uris(media.body.decode())]


@pytest.mark.parametrize("cache_bytes", [0, 1024 * 1024])
async def test_concurrent_requests_share_one_upstream_fetch(
    fresh: FileOrigin, rendition: Rendition, cache_bytes: int
) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=cache_bytes)
    session = session_for(fresh.url("master.m3u8"))
    try:
        first = (await segment_tokens(relay, session))[0]
        fresh.delays["/low/seg0.ts"] = 0.3
        answers = await asyncio.gather(
            *(
                relay.resource(session, first, prefix=PREFIX, caller_is_local=True)
                for _ in range(10)
            )
        )
        expected = (rendition.root / "low" / "seg0.ts").read_bytes()
        assert all(answer.body == expected for answer in answers)
        assert fresh.hits_of("low/seg0.ts") == 1
        await relay.resource(session, first, prefix=PREFIX, caller_is_local=True)
        assert fresh.hits_of("low/seg0.ts") == (2 if cache_bytes == 0 else 1)
    finally:
        await fetcher.aclose()


async def test_a_waiter_hanging_up_does_not_cancel_the_shared_fetch(fresh: FileOrigin) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=1024 * 1024)
    session = session_for(fresh.url("master.m3u8"))
    try:
        first = (await segment_tokens(relay, session))[0]
        fresh.delays["/low/seg0.ts"] = 0.3
        leaving = asyncio.create_task(
            relay.resource(session, first, prefix=PREFIX, caller_is_local=True)
        )
        staying = asyncio.create_task(
            relay.resource(session, first, prefix=PREFIX, caller_is_local=True)
        )
        await asyncio.sleep(0.1)
        leaving.cancel()
        assert (await staying).body
        assert leaving.cancelled()
        assert fresh.hits_of("low/seg0.ts") == 1
    finally:
        await fetcher.aclose()


async def test_media_cache_is_least_recently_used_within_its_budget(
    fresh: FileOrigin, rendition: Rendition
) -> None:
    sizes = [(rendition.root / "low" / f"seg{i}.ts").stat().st_size for i in range(3)]
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=sum(sizes) - 1)
    session = session_for(fresh.url("master.m3u8"))

    async def get(index: int) -> None:
        await relay.resource(session, tokens[index], prefix=PREFIX, caller_is_local=True)

    def hits() -> list[int]:
        return [fresh.hits_of(f"low/seg{i}.ts") for i in range(3)]

    try:
        tokens = await segment_tokens(relay, session)
        for index in range(3):
            await get(index)
        assert hits() == [1, 1, 1]  # the third pushed the first out
        await get(1)  # kept, and now the most recently used
        await get(0)  # fetched again; pushes out the third, now the least recently used
        assert hits() == [2, 1, 1]
        await get(1)
        await get(2)
        assert hits() == [2, 1, 2]
    finally:
        await fetcher.aclose()


async def test_playlists_are_fetched_again_once_their_moment_has_passed(
    fresh: FileOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_module, "PLAYLIST_TTL", 0.2)
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=0)
    session = session_for(fresh.url("master.m3u8"))
    try:
        for _ in range(3):
            await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
        assert fresh.hits_of("master.m3u8") == 1
        await asyncio.sleep(0.25)
        await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
        await relay.playlist(session, prefix=PREFIX, caller_is_local=True)
        assert fresh.hits_of("master.m3u8") == 2
    finally:
        await fetcher.aclose()


# -- failures and locality ------------------------------------------------------------------


async def test_manifest_failures_say_failed_to_get_manifest(
    fresh: FileOrigin, rendition: Rendition
) -> None:
    fetcher = Fetcher(timeout=0.3, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=0)
    try:
        not_hls = session_for(fresh.url("low/seg0.ts"))
        with pytest.raises(ContentUnavailable, match=r"^failed to get manifest$"):
            await relay.playlist(not_hls, prefix=PREFIX, caller_is_local=True)
        missing = session_for(fresh.url("nowhere.m3u8"))
        with pytest.raises(
            ContentUnavailable, match=r"^failed to get manifest: 127\.0\.0\.1 answered HTTP 404$"
        ):
            await relay.playlist(missing, prefix=PREFIX, caller_is_local=True)
        fresh.delays["/master.m3u8"] = 0.6
        slow = session_for(fresh.url("master.m3u8"))
        with pytest.raises(ContentUnavailable, match=r"^failed to get manifest: timed out"):
            await relay.playlist(slow, prefix=PREFIX, caller_is_local=True)
    finally:
        await fetcher.aclose()


async def test_a_remote_caller_reaches_no_private_address(fresh: FileOrigin) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024 * 1024)
    relay = Relay(fetcher, SECRET, cache_bytes=0)
    try:
        with pytest.raises(FetchRefused, match="private or loopback"):
            await relay.playlist(
                session_for(fresh.url("master.m3u8")), prefix=PREFIX, caller_is_local=False
            )
        assert fresh.hits == {}
    finally:
        await fetcher.aclose()


def test_private_addresses_only_for_local_viewers_of_sessions_started_locally() -> None:
    relay = Relay(Fetcher(timeout=1, max_bytes=1), SECRET, cache_bytes=0)
    remote_started = session_for("http://x.test/a.m3u8", key="1" * 32)
    assert relay.caller_is_local(remote_started, False) is False
    assert relay.caller_is_local(remote_started, True) is False
    local_started = session_for("http://x.test/a.m3u8", key="2" * 32, started_locally=True)
    assert relay.caller_is_local(local_started, True) is True
    assert relay.caller_is_local(local_started, False) is False


async def test_direct_passes_range_and_only_describing_headers(
    fresh: FileOrigin, rendition: Rendition
) -> None:
    fetcher = Fetcher(timeout=5, max_bytes=1024)
    relay = Relay(fetcher, SECRET, cache_bytes=0)
    session = session_for(fresh.url("high/seg1.ts"))
    expected = (rendition.root / "high" / "seg1.ts").read_bytes()
    try:
        async with relay.direct(
            session, headers={"Range": "bytes=100-199"}, caller_is_local=True
        ) as upstream:
            assert upstream.status == 206
            body = b"".join([chunk async for chunk in upstream.body])
        assert body == expected[100:200]
        assert upstream.headers["content-range"] == f"bytes 100-199/{len(expected)}"
        assert upstream.headers["content-type"] == "video/mp2t"
        assert "set-cookie" not in upstream.headers
        async with relay.direct(
            session, headers={"Range": f"bytes={len(expected)}-"}, caller_is_local=True
        ) as upstream:
            assert upstream.status == 416
    finally:
        await fetcher.aclose()


def test_rendition_is_real(rendition: Rendition) -> None:
    names = [p.relative_to(rendition.root).as_posix() for p in rendition.files()]
    assert "master.m3u8" in names and "low/seg2.ts" in names and "high/index.m3u8" in names

"""Tests of content reference classification (tidecast.core.content_refs)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from tidecast.core.content_refs import ContentRef, classify_url, parse_reference
from tidecast.core.errors import InvalidInput, UnsupportedContent

CID = "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"
CID_UPPER = "94C2FD8FB9BC8F2FC71A2CBE9D4B866F227A0209"
# Big Buck Bunny's well-known v1 infohash, in hex and in the base32 of old magnets.
BTIH = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"
BTIH_B32 = base64.b32encode(bytes.fromhex(BTIH)).decode()
V2 = "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e"
BBB_MAGNET = (
    f"magnet:?xt=urn:btih:{BTIH}&dn=Big+Buck+Bunny"
    "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=wss%3A%2F%2Ftracker.openwebtorrent.com"
)


def test_base32_fixture_is_the_32_character_form() -> None:
    assert len(BTIH_B32) == 32
    assert BTIH_B32 == "3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"acestream://{CID}", ContentRef("content_id", CID), id="acestream-slashes"),
        pytest.param(
            f"  acestream://{CID_UPPER}\r\n", ContentRef("content_id", CID), id="whitespace-upper"
        ),
        pytest.param(f"AceStream://{CID}", ContentRef("content_id", CID), id="scheme-case"),
        pytest.param(f"acestream://{CID}/", ContentRef("content_id", CID), id="trailing-slash"),
        pytest.param(f"acestream:{CID}", ContentRef("content_id", CID), id="no-slashes"),
        pytest.param(
            f"acestream://{CID}?index=2",
            ContentRef("content_id", CID, file_index=2),
            id="id-with-query-index",
        ),
        pytest.param(
            f"acestream://{CID}&index=4",
            ContentRef("content_id", CID, file_index=4),
            id="id-with-ampersand-index",
        ),
        pytest.param(
            f"acestream:?content_id={CID_UPPER}",
            ContentRef("content_id", CID),
            id="query-content-id",
        ),
        pytest.param(
            f"acestream:?content_id={CID}&index=0",
            ContentRef("content_id", CID, file_index=0),
            id="query-content-id-index-0",
        ),
        pytest.param(
            f"acestream://?content_id={CID}&index=7",
            ContentRef("content_id", CID, file_index=7),
            id="slashes-then-query",
        ),
        pytest.param(
            f"acestream:%3Fcontent_id%3D{CID}",
            ContentRef("content_id", CID),
            id="encoded-query",
        ),
        pytest.param(
            f"acestream:%3fcontent_id%3d{CID}%26index%3d3",
            ContentRef("content_id", CID, file_index=3),
            id="encoded-query-lower-escapes-index",
        ),
        pytest.param(
            f"acestream://%3Fcontent_id%3D{CID}",
            ContentRef("content_id", CID),
            id="slashes-encoded-query",
        ),
        pytest.param(
            f"acestream:?content_id={CID}&index=",
            ContentRef("content_id", CID),
            id="blank-index-is-none",
        ),
        pytest.param(
            f"acestream:?infohash={BTIH.upper()}",
            ContentRef("infohash", BTIH, infohash=BTIH),
            id="query-infohash-hex",
        ),
        pytest.param(
            f"acestream:?infohash={BTIH_B32}&index=1",
            ContentRef("infohash", BTIH, infohash=BTIH, file_index=1),
            id="query-infohash-base32",
        ),
        pytest.param(
            f"acestream:?infohash={V2}",
            ContentRef("infohash", V2[:40], infohash=V2[:40], infohash_v2=V2),
            id="query-infohash-v2",
        ),
        pytest.param(
            f"acestream:?magnet={quote(BBB_MAGNET, safe='')}&index=3",
            ContentRef("magnet", BBB_MAGNET, infohash=BTIH, title="Big Buck Bunny", file_index=3),
            id="query-magnet-encoded",
        ),
        pytest.param(
            f"acestream:%3Fmagnet%3D{quote(quote(BBB_MAGNET, safe=''), safe='')}",
            ContentRef("magnet", BBB_MAGNET, infohash=BTIH, title="Big Buck Bunny"),
            id="encoded-query-magnet",
        ),
        pytest.param(
            f"acestream:?magnet=magnet:?xt=urn:btih:{BTIH}&dn=Sintel",
            ContentRef("magnet", f"magnet:?xt=urn:btih:{BTIH}", infohash=BTIH),
            id="query-magnet-unencoded-keeps-xt",
        ),
        pytest.param(
            "acestream:?url=" + quote("http://tracker.example.org/download.php?id=5", safe=""),
            ContentRef("transport_url", "http://tracker.example.org/download.php?id=5"),
            id="query-url-is-transport",
        ),
        pytest.param(
            "acestream:?url=https%3A%2F%2Fcdn.example.org%2Fsport%2Fmatch.acelive&index=1",
            ContentRef(
                "transport_url", "https://cdn.example.org/sport/match.acelive", file_index=1
            ),
            id="query-url-acelive",
        ),
        pytest.param(
            "acestream:?data=http://files.example.net/films/sintel.torrent",
            ContentRef("transport_url", "http://files.example.net/films/sintel.torrent"),
            id="query-data",
        ),
        pytest.param(
            BBB_MAGNET,
            ContentRef("magnet", BBB_MAGNET, infohash=BTIH, title="Big Buck Bunny"),
            id="magnet-hex",
        ),
        pytest.param(
            f"magnet:?xt=urn:btih:{BTIH_B32}&dn=Big%20Buck%20Bunny",
            ContentRef(
                "magnet",
                f"magnet:?xt=urn:btih:{BTIH_B32}&dn=Big%20Buck%20Bunny",
                infohash=BTIH,
                title="Big Buck Bunny",
            ),
            id="magnet-base32",
        ),
        pytest.param(
            f"magnet:?xt=urn:btih:{BTIH_B32.lower()}",
            ContentRef("magnet", f"magnet:?xt=urn:btih:{BTIH_B32.lower()}", infohash=BTIH),
            id="magnet-base32-lower",
        ),
        pytest.param(
            f"magnet:?xt=urn:btmh:1220{V2.upper()}&dn=bittorrent-v2-test",
            ContentRef(
                "magnet",
                f"magnet:?xt=urn:btmh:1220{V2.upper()}&dn=bittorrent-v2-test",
                infohash=V2[:40],
                infohash_v2=V2,
                title="bittorrent-v2-test",
            ),
            id="magnet-v2-only",
        ),
        pytest.param(
            f"magnet:?xt=urn:btih:{BTIH}&xt=urn:btmh:1220{V2}&dn=hybrid",
            ContentRef(
                "magnet",
                f"magnet:?xt=urn:btih:{BTIH}&xt=urn:btmh:1220{V2}&dn=hybrid",
                infohash=BTIH,
                infohash_v2=V2,
                title="hybrid",
            ),
            id="magnet-hybrid",
        ),
        pytest.param(
            f"magnet:?xt=urn:btmh:1220{V2}&xt=urn:btih:{BTIH}",
            ContentRef(
                "magnet",
                f"magnet:?xt=urn:btmh:1220{V2}&xt=urn:btih:{BTIH}",
                infohash=BTIH,
                infohash_v2=V2,
            ),
            id="magnet-hybrid-v2-first",
        ),
        pytest.param(
            f"magnet:?xt.1=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt.2=urn:btih:{BTIH}",
            ContentRef(
                "magnet",
                f"magnet:?xt.1=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt.2=urn:btih:{BTIH}",
                infohash=BTIH,
            ),
            id="magnet-numbered-xt-other-urn",
        ),
        pytest.param(
            f"magnet:?xt=urn:btih:{BTIH}&dn=",
            ContentRef("magnet", f"magnet:?xt=urn:btih:{BTIH}&dn=", infohash=BTIH),
            id="magnet-empty-dn",
        ),
        pytest.param(CID, ContentRef("content_id", CID), id="bare-hex-is-content-id"),
        pytest.param(CID_UPPER, ContentRef("content_id", CID), id="bare-hex-upper"),
        pytest.param(
            BTIH_B32, ContentRef("infohash", BTIH, infohash=BTIH), id="bare-base32-is-infohash"
        ),
        pytest.param(
            f" {BTIH_B32.lower()} ",
            ContentRef("infohash", BTIH, infohash=BTIH),
            id="bare-base32-lower",
        ),
        pytest.param(
            "http://iptv.example.com:8080/live/user/pass/1234.ts",
            ContentRef("direct", "http://iptv.example.com:8080/live/user/pass/1234.ts"),
            id="http-ts",
        ),
        pytest.param(
            "https://cdn.example.com/hls/news/index.m3u8?token=abc",
            ContentRef("hls", "https://cdn.example.com/hls/news/index.m3u8?token=abc"),
            id="https-hls",
        ),
        pytest.param(
            "HTTPS://lists.example.org/iptv/ru.m3u",
            ContentRef("playlist", "HTTPS://lists.example.org/iptv/ru.m3u"),
            id="https-playlist",
        ),
        pytest.param(
            "http://torrents.example.org/files/Sintel.torrent",
            ContentRef("transport_url", "http://torrents.example.org/files/Sintel.torrent"),
            id="http-torrent",
        ),
        pytest.param(
            "http://127.0.0.1:6878/ace/getstream?id=" + CID,
            ContentRef("url", "http://127.0.0.1:6878/ace/getstream?id=" + CID),
            id="http-unknown",
        ),
    ],
)
def test_parse_reference(text: str, expected: ContentRef) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ftp://files.example.org/movie.mkv",
        "file:///home/user/movie.mkv",
        "rtmp://live.example.com/app/stream",
        "udp://@239.0.0.1:1234",
        "not a reference",
        "http:/one-slash.example.org/a.ts",
        CID[:39],
        CID + "0",
        V2,
        "acestream.example.org/" + CID,
        "acestream:?url=ftp%3A%2F%2Ffiles.example.org%2Fa.torrent",
        "acestream:?data=file:///tmp/a.torrent",
    ],
)
def test_unknown_forms_are_unsupported_content(text: str) -> None:
    with pytest.raises(UnsupportedContent) as caught:
        parse_reference(text)
    assert caught.value.message == "unknown protocol"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "acestream://xyz",
            "content_id",
            "malformed content id 'xyz': expected 40 hexadecimal digits",
        ),
        (
            f"acestream://{CID[:39]}",
            "content_id",
            f"malformed content id '{CID[:39]}': expected 40 hexadecimal digits",
        ),
        ("acestream://", "content_id", "acestream reference names no content"),
        ("acestream:", "content_id", "acestream reference names no content"),
        (
            "acestream:?content_id=g" + CID[1:],
            "content_id",
            f"malformed content id 'g{CID[1:]}': expected 40 hexadecimal digits",
        ),
        (
            "acestream:?content_id=" + "a" * 100,
            "content_id",
            f"malformed content id '{'a' * 63}…': expected 40 hexadecimal digits",
        ),
        ("acestream:?content_id=", "content_id", "acestream query has an empty content_id"),
        (
            "acestream:?infohash=1234",
            "infohash",
            "malformed infohash '1234': expected 40 hex or 32 base32 characters",
        ),
        (
            f"acestream:?content_id={CID}&index=two",
            "index",
            "malformed file index 'two': expected a non-negative integer",
        ),
        (
            f"acestream://{CID}?index=-1",
            "index",
            "malformed file index '-1': expected a non-negative integer",
        ),
        (
            "acestream:?magnet=http%3A%2F%2Fexample.org%2Fa.torrent",
            "magnet",
            "acestream magnet parameter is not a magnet URI",
        ),
        (
            "magnet:?dn=nothing+to+fetch",
            "magnet",
            "magnet link has no BitTorrent infohash (xt=urn:btih: or xt=urn:btmh:)",
        ),
        (
            "magnet:",
            "magnet",
            "magnet link has no BitTorrent infohash (xt=urn:btih: or xt=urn:btmh:)",
        ),
        (
            "magnet:?xt=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C",
            "magnet",
            "magnet link has no BitTorrent infohash (xt=urn:btih: or xt=urn:btmh:)",
        ),
        (
            "magnet:?xt=urn:btih:12345",
            "magnet",
            "malformed infohash '12345': expected 40 hex or 32 base32 characters",
        ),
        (
            f"magnet:?xt=urn:btmh:1114{V2}",
            "magnet",
            "magnet urn:btmh must be a SHA-256 multihash (1220 and 64 hex digits)",
        ),
        ("http://", "url", "URL has no host"),
        ("https:///path/only.ts", "url", "URL has no host"),
        ("http://[::1/stream.ts", "url", "malformed URL: Invalid IPv6 URL"),
    ],
)
def test_malformed_known_forms_are_invalid_input(text: str, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_reference(text)
    assert caught.value.field == field
    assert caught.value.message == message


@pytest.mark.parametrize(
    "query",
    [
        "acestream:?foo=bar",
        "acestream:?index=1",
        "acestream://?",
    ],
)
def test_acestream_query_without_content(query: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_reference(query)
    assert caught.value.message == (
        "acestream query names no content: expected content_id, infohash, magnet, url or data"
    )


def test_acestream_query_with_two_contents_is_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_reference(f"acestream:?infohash={BTIH}&content_id={CID}")
    assert (
        caught.value.message == "acestream query names more than one content: content_id, infohash"
    )


def test_errors_are_core_errors_not_value_errors() -> None:
    # Callers map core errors to envelopes; a stray ValueError would become a 500.
    for text in ("http://[bad", "magnet:?xt=urn:btih:zz", "acestream:?index=x"):
        with pytest.raises(InvalidInput):
            parse_reference(text)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://example.org/a.torrent", "transport_url"),
        ("http://example.org/a.TORRENT?x=1", "transport_url"),
        ("http://example.org/live/match.acelive", "transport_url"),
        ("http://example.org/live/match.acestream", "transport_url"),
        ("https://example.org/hls/master.m3u8", "hls"),
        ("https://example.org/hls/master.M3U8?token=a.mp4", "hls"),
        ("http://example.org/lists/all.m3u", "playlist"),
        ("http://example.org/get.php?username=u&password=p&type=m3u_plus", "url"),
        ("http://example.org/v/film.mp4", "direct"),
        ("http://example.org/v/film.mkv", "direct"),
        ("http://example.org:8000/live/u/p/42.ts", "direct"),
        ("http://example.org/v/clip.webm", "direct"),
        ("http://example.org/v/old.avi", "direct"),
        ("http://example.org/v/phone.mov", "direct"),
        ("http://radio.example.org/stream.mp3", "direct"),
        ("http://radio.example.org/stream.aac", "direct"),
        ("http://radio.example.org/album.flac", "direct"),
        ("http://example.org/v/a.m4v", "direct"),
        ("http://example.org/v/a.mpg", "direct"),
        ("http://example.org/v/a.mpeg", "direct"),
        ("http://radio.example.org/a.ogg", "direct"),
        ("http://example.org/v/a.ogv", "direct"),
        ("http://example.org/v/my%20film.mkv", "direct"),
        ("http://example.org/files.torrent/", "url"),
        ("http://example.org/", "url"),
        ("http://example.org", "url"),
        ("http://example.org/stream", "url"),
        ("http://example.org/page.html", "url"),
        ("http://example.org/archive.tar.gz", "url"),
        ("http://[broken/a.mp4", "url"),
    ],
)
def test_classify_url(url: str, kind: str) -> None:
    assert classify_url(url) == kind


def test_content_ref_is_frozen() -> None:
    ref = parse_reference(CID)
    with pytest.raises(AttributeError):
        ref.value = "other"  # type: ignore[misc]

"""Tests of the streaming M3U parser (tidecast.core.m3u)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tidecast.core.content_refs import ContentRef
from tidecast.core.m3u import (
    M3UEntry,
    M3UHeader,
    M3UItem,
    M3UProblem,
    iter_text_lines,
    parse_m3u,
    read_header,
)

CID_1 = "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"
CID_2 = "1b3ad0e7f49a1c3ad8a09c0b5dfc9b1c2bd1e6a4"
CID_3 = "e2f8c1d0a7b6954433221100ffeeddccbbaa9988"
CID_4 = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
BTIH = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"
V2 = "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e"
SINTEL_MAGNET = f"magnet:?xt=urn:btih:{BTIH}&dn=Sintel&tr=udp%3A%2F%2Fexplodie.org%3A6969"

IPTV_PLAYLIST = f"""\ufeff#EXTM3U url-tvg="http://epg.example.tv/epg.xml.gz,http://epg.example.tv/alt.xml" x-tvg-url="http://epg.example.tv/alt.xml,https://iptvx.one/epg/epg.xml.gz" tvg-shift=2 refresh="3600"\r
\r
#EXTINF:-1 tvg-id="perviy.ru" tvg-name="Первый канал" tvg-logo="http://logos.example.tv/1tv.png" group-title="Эфирные" catchup="shift" catchup-days="7",Первый канал HD\r
#EXTVLCOPT:http-user-agent=Mozilla/5.0 (SMART-TV; Linux; Tizen 5.0)\r
http://iptv.example.tv:8080/live/user/pass/101.ts\r
#EXTINF:0 tvg-id='bbc.one.uk' tvg-name='BBC One' group-title='UK, News',BBC One, London\r
#KODIPROP:inputstream.adaptive.manifest_type=hls\r
https://cdn.example.tv/hls/bbcone/index.m3u8?token=a1b2\r
#EXTGRP:Спорт\r
#EXTINF:-1 tvg-id=match.premier tvg-logo=http://logos.example.tv/mp.png catchup=append catchup-days=3 catchup-source="?utc={{utc}}&lutc={{lutc}}" timeshift="2",Матч! Премьер\r
acestream://{CID_1.upper()}\r
#EXTINF:-1 tvg-name="Setanta Sports 1",\r
acestream:?content_id={CID_2}&index=1\r
#EXTINF:-1 group-title="Кино",Sintel (2010)\r
{SINTEL_MAGNET}\r
#EXTINF:5400 tvg-id="" group-title="",Big Buck Bunny\r
http://torrents.example.org/files/big_buck_bunny.torrent\r
#EXTINF:-1,Radio Paradise FLAC\r
http://stream.radioparadise.example/flac\r
acestream:%3Fcontent_id%3D{CID_3}\r
#EXTINF:-1 tvg-id="broken.1",Channel without URL\r
#EXTINF:-1 tvg-id="eurosport1.fr",Eurosport 1\r
acestream://not-an-id\r
#EXTINF:-1 tvg-id="ftp",FTP Channel\r
ftp://files.example.org/stream.ts\r
#EXTINF:-1 tvg-id="no.comma" group-title="Misc" No comma here\r
http://example.tv/live/nocomma.m3u8\r
#EXTINF:-1 tvg-name="Unclosed,Title\r
rtmp://live.example.tv/app/stream\r
#EXTINF:abc,Bad duration\r
acestream://{CID_4}\r
#EXTINF:-1 tvg-id="last",Dangling at EOF\r
"""  # noqa: E501 - real playlists have lines this long


def parsed(text: str) -> list[M3UItem]:
    return list(parse_m3u(text.splitlines(keepends=True)))


def test_real_world_playlist_parses_every_field() -> None:
    items = parsed(IPTV_PLAYLIST)
    assert items == [
        M3UHeader(
            epg_sources=(
                "http://epg.example.tv/epg.xml.gz",
                "http://epg.example.tv/alt.xml",
                "https://iptvx.one/epg/epg.xml.gz",
            ),
            attributes={
                "url-tvg": "http://epg.example.tv/epg.xml.gz,http://epg.example.tv/alt.xml",
                "x-tvg-url": "http://epg.example.tv/alt.xml,https://iptvx.one/epg/epg.xml.gz",
                "tvg-shift": "2",
                "refresh": "3600",
            },
        ),
        M3UEntry(
            line=5,
            title="Первый канал HD",
            ref=ContentRef("direct", "http://iptv.example.tv:8080/live/user/pass/101.ts"),
            duration=-1,
            tvg_id="perviy.ru",
            tvg_name="Первый канал",
            tvg_logo="http://logos.example.tv/1tv.png",
            group="Эфирные",
            attributes={
                "tvg-id": "perviy.ru",
                "tvg-name": "Первый канал",
                "tvg-logo": "http://logos.example.tv/1tv.png",
                "group-title": "Эфирные",
                "catchup": "shift",
                "catchup-days": "7",
            },
        ),
        M3UEntry(
            line=8,
            title="BBC One, London",
            ref=ContentRef("hls", "https://cdn.example.tv/hls/bbcone/index.m3u8?token=a1b2"),
            duration=0,
            tvg_id="bbc.one.uk",
            tvg_name="BBC One",
            tvg_logo="",
            group="UK, News",
            attributes={"tvg-id": "bbc.one.uk", "tvg-name": "BBC One", "group-title": "UK, News"},
        ),
        M3UEntry(
            line=11,
            title="Матч! Премьер",
            ref=ContentRef("content_id", CID_1),
            duration=-1,
            tvg_id="match.premier",
            tvg_name="",
            tvg_logo="http://logos.example.tv/mp.png",
            group="Спорт",
            attributes={
                "tvg-id": "match.premier",
                "tvg-logo": "http://logos.example.tv/mp.png",
                "catchup": "append",
                "catchup-days": "3",
                "catchup-source": "?utc={utc}&lutc={lutc}",
                "timeshift": "2",
            },
        ),
        M3UEntry(
            line=13,
            title="Setanta Sports 1",
            ref=ContentRef("content_id", CID_2, file_index=1),
            duration=-1,
            tvg_id="",
            tvg_name="Setanta Sports 1",
            tvg_logo="",
            group="Спорт",
            attributes={"tvg-name": "Setanta Sports 1"},
        ),
        M3UEntry(
            line=15,
            title="Sintel (2010)",
            ref=ContentRef("magnet", SINTEL_MAGNET, infohash=BTIH, title="Sintel"),
            duration=-1,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Кино",
            attributes={"group-title": "Кино"},
        ),
        M3UEntry(
            line=17,
            title="Big Buck Bunny",
            ref=ContentRef(
                "transport_url", "http://torrents.example.org/files/big_buck_bunny.torrent"
            ),
            duration=5400,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Спорт",
            attributes={"tvg-id": "", "group-title": ""},
        ),
        M3UEntry(
            line=19,
            title="Radio Paradise FLAC",
            ref=ContentRef("direct", "http://stream.radioparadise.example/flac"),
            duration=-1,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Спорт",
            attributes={},
        ),
        M3UEntry(
            line=20,
            title=f"acestream:%3Fcontent_id%3D{CID_3}",
            ref=ContentRef("content_id", CID_3),
            duration=-1,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Спорт",
            attributes={},
        ),
        M3UProblem(
            21,
            "#EXTINF is not followed by a URL",
            '#EXTINF:-1 tvg-id="broken.1",Channel without URL',
        ),
        M3UProblem(
            23,
            "malformed content id 'not-an-id': expected 40 hexadecimal digits",
            "acestream://not-an-id",
        ),
        M3UProblem(25, "unknown protocol", "ftp://files.example.org/stream.ts"),
        M3UProblem(
            26,
            "malformed #EXTINF: no comma before the title",
            '#EXTINF:-1 tvg-id="no.comma" group-title="Misc" No comma here',
        ),
        M3UEntry(
            line=27,
            title="http://example.tv/live/nocomma.m3u8",
            ref=ContentRef("hls", "http://example.tv/live/nocomma.m3u8"),
            duration=-1,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Спорт",
            attributes={},
        ),
        M3UProblem(
            28,
            "malformed #EXTINF: the quote of attribute 'tvg-name' is never closed",
            '#EXTINF:-1 tvg-name="Unclosed,Title',
        ),
        M3UProblem(29, "unknown protocol", "rtmp://live.example.tv/app/stream"),
        M3UProblem(
            30, "malformed #EXTINF: the duration is not a number", "#EXTINF:abc,Bad duration"
        ),
        M3UEntry(
            line=31,
            title=f"acestream://{CID_4}",
            ref=ContentRef("content_id", CID_4),
            duration=-1,
            tvg_id="",
            tvg_name="",
            tvg_logo="",
            group="Спорт",
            attributes={},
        ),
        M3UProblem(
            32, "#EXTINF at end of file has no URL", '#EXTINF:-1 tvg-id="last",Dangling at EOF'
        ),
    ]


def test_lines_without_terminators_give_the_same_result() -> None:
    assert list(parse_m3u(IPTV_PLAYLIST.splitlines())) == parsed(IPTV_PLAYLIST)


def test_playlist_without_extm3u_yields_an_empty_header_first() -> None:
    items = parsed(f"\n\n#EXTINF:-1,First\nacestream://{CID_1}\n")
    assert items == [
        M3UHeader(),
        M3UEntry(4, "First", ContentRef("content_id", CID_1), -1, "", "", "", None, {}),
    ]


def test_bare_url_list_first_line_is_an_entry() -> None:
    items = parsed(f"acestream://{CID_1}\nhttp://cdn.example.tv/a.mp4\n")
    assert items == [
        M3UHeader(),
        M3UEntry(
            1, f"acestream://{CID_1}", ContentRef("content_id", CID_1), -1, "", "", "", None, {}
        ),
        M3UEntry(
            2,
            "http://cdn.example.tv/a.mp4",
            ContentRef("direct", "http://cdn.example.tv/a.mp4"),
            -1,
            "",
            "",
            "",
            None,
            {},
        ),
    ]


def test_empty_input_yields_only_the_header() -> None:
    assert parsed("") == [M3UHeader()]
    assert parsed("\ufeff\r\n\r\n") == [M3UHeader()]
    assert parsed("#EXTM3U\n") == [M3UHeader()]


def test_bare_url_without_extinf_takes_magnet_dn_as_title() -> None:
    encoded = "acestream:?magnet=" + quote(SINTEL_MAGNET, safe="") + "&index=2"
    items = parsed(f"#EXTM3U\n{SINTEL_MAGNET}\n{encoded}\n")
    assert [item.title for item in items if isinstance(item, M3UEntry)] == ["Sintel", "Sintel"]
    last = items[-1]
    assert isinstance(last, M3UEntry)
    assert last.ref == ContentRef(
        "magnet", SINTEL_MAGNET, infohash=BTIH, title="Sintel", file_index=2
    )


def test_every_acestream_form_in_a_playlist() -> None:
    hybrid = f"magnet:?xt=urn:btih:{BTIH}&xt=urn:btmh:1220{V2}&dn=hybrid"
    lines = [
        "#EXTM3U",
        f"acestream://{CID_1}",
        f"acestream:?content_id={CID_1}&index=3",
        f"acestream://?content_id={CID_1}",
        f"acestream:%3Fcontent_id%3D{CID_1}%26index%3D4",
        f"acestream:?infohash={BTIH.upper()}",
        "acestream:?url=http%3A%2F%2Ftracker.example.org%2Fdl.php%3Fid%3D7",
        "acestream:?data=http://tracker.example.org/live.acelive",
        hybrid,
        CID_1.upper(),
    ]
    refs = [item.ref for item in parse_m3u(lines) if isinstance(item, M3UEntry)]
    assert refs == [
        ContentRef("content_id", CID_1),
        ContentRef("content_id", CID_1, file_index=3),
        ContentRef("content_id", CID_1),
        ContentRef("content_id", CID_1, file_index=4),
        ContentRef("infohash", BTIH, infohash=BTIH),
        ContentRef("transport_url", "http://tracker.example.org/dl.php?id=7"),
        ContentRef("transport_url", "http://tracker.example.org/live.acelive"),
        ContentRef("magnet", hybrid, infohash=BTIH, infohash_v2=V2, title="hybrid"),
        ContentRef("content_id", CID_1),
    ]


@pytest.mark.parametrize(
    ("extinf", "duration", "title", "attributes"),
    [
        ("#EXTINF:-1,Simple", -1, "Simple", {}),
        ("#EXTINF:-1 ,Space before comma", -1, "Space before comma", {}),
        ('#EXTINF: -1 tvg-id="a",Leading space', -1, "Leading space", {"tvg-id": "a"}),
        ("#EXTINF:120.5,Fractional", 120, "Fractional", {}),
        ("#EXTINF:,No duration", -1, "No duration", {}),
        ('#EXTINF:tvg-id="x",Attributes first', -1, "Attributes first", {"tvg-id": "x"}),
        ('#extinf:-1 Tvg-Id="x",Lower-case tag', -1, "Lower-case tag", {"Tvg-Id": "x"}),
        ("#EXTINF:-1 group-title=News,Bare value", -1, "Bare value", {"group-title": "News"}),
        (
            "#EXTINF:-1 tvg-name=\"A, B\" tvg-logo='x,y.png',Commas, in, title",
            -1,
            "Commas, in, title",
            {"tvg-name": "A, B", "tvg-logo": "x,y.png"},
        ),
        (
            '#EXTINF:-1 tvg-name="It\'s on",Apostrophe',
            -1,
            "Apostrophe",
            {"tvg-name": "It's on"},
        ),
        ('#EXTINF:-1 junk "quoted, word" x="1",Stray words', -1, "Stray words", {"x": "1"}),
        ('#EXTINF:-1 tvg-id="a" tvg-id="b",Duplicate', -1, "Duplicate", {"tvg-id": "b"}),
        ("#EXTINF:-1 empty=,Empty bare", -1, "Empty bare", {"empty": ""}),
        ("   #EXTINF:-1,   Padded title   ", -1, "Padded title", {}),
    ],
)
def test_extinf_forms(extinf: str, duration: int, title: str, attributes: dict[str, str]) -> None:
    items = parsed(f"#EXTM3U\n{extinf}\nhttp://cdn.example.tv/s.ts\n")
    assert len(items) == 2
    entry = items[1]
    assert isinstance(entry, M3UEntry)
    assert (entry.duration, entry.title, entry.attributes) == (duration, title, attributes)


def test_tvg_fields_are_read_case_insensitively() -> None:
    line = '#EXTINF:-1 TVG-ID="id" Tvg-Name="Name" tvg-LOGO="logo.png" Group-Title="G",T'
    entry = parsed(f"{line}\nhttp://cdn.example.tv/s.ts\n")[1]
    assert isinstance(entry, M3UEntry)
    assert (entry.tvg_id, entry.tvg_name, entry.tvg_logo, entry.group) == (
        "id",
        "Name",
        "logo.png",
        "G",
    )


def test_empty_title_falls_back_to_tvg_name_then_url() -> None:
    text = (
        '#EXTINF:-1 tvg-name="From tvg-name",\nhttp://a.example.tv/1.ts\n'
        "#EXTINF:-1,\nhttp://a.example.tv/2.ts\n"
    )
    titles = [item.title for item in parsed(text) if isinstance(item, M3UEntry)]
    assert titles == ["From tvg-name", "http://a.example.tv/2.ts"]


def test_extgrp_applies_to_following_entries_until_replaced() -> None:
    text = (
        "#EXTM3U\n"
        "#EXTINF:-1,Before any group\nhttp://a.example.tv/0.ts\n"
        "#EXTGRP:News\n"
        "#EXTINF:-1,One\nhttp://a.example.tv/1.ts\n"
        '#EXTINF:-1 group-title="Own",Two\nhttp://a.example.tv/2.ts\n'
        "#EXTINF:-1,Three\n#EXTGRP:Sport\nhttp://a.example.tv/3.ts\n"
        "#EXTINF:-1,Four\nhttp://a.example.tv/4.ts\n"
        "#EXTGRP:\n"
        "#EXTINF:-1,Five\nhttp://a.example.tv/5.ts\n"
    )
    groups = [(item.title, item.group) for item in parsed(text) if isinstance(item, M3UEntry)]
    assert groups == [
        ("Before any group", None),
        ("One", "News"),
        ("Two", "Own"),
        ("Three", "Sport"),
        ("Four", "Sport"),
        ("Five", None),
    ]


def test_malformed_extinf_without_colon_is_reported_and_the_url_kept() -> None:
    items = parsed("#EXTINF -1,No colon\nhttp://a.example.tv/1.ts\n")
    assert items[1] == M3UProblem(
        1, "malformed #EXTINF: no ':' after #EXTINF", "#EXTINF -1,No colon"
    )
    entry = items[2]
    assert isinstance(entry, M3UEntry)
    assert (entry.line, entry.title) == (2, "http://a.example.tv/1.ts")


def test_problem_text_is_cut_to_200_characters() -> None:
    long_line = "gopher://" + "x" * 500
    items = parsed(f"#EXTM3U\n{long_line}\n")
    assert items[1] == M3UProblem(2, "unknown protocol", long_line[:200])


def test_comments_and_repeated_extm3u_are_ignored() -> None:
    text = (
        '#EXTM3U url-tvg="http://epg.example.tv/a.xml"\n'
        "# a plain comment\n"
        "#EXT-X-VERSION:3\n"
        '#EXTM3U url-tvg="http://epg.example.tv/b.xml"\n'
        "#PLAYLIST:My list\n"
        "#EXTINF:-1,Only\n"
        "#EXTVLCOPT:http-referrer=http://example.tv/\n"
        "#KODIPROP:inputstream=inputstream.adaptive\n"
        "http://a.example.tv/1.ts\n"
    )
    items = parsed(text)
    assert items[0] == M3UHeader(
        epg_sources=("http://epg.example.tv/a.xml",),
        attributes={"url-tvg": "http://epg.example.tv/a.xml"},
    )
    assert [type(item) for item in items[1:]] == [M3UEntry]


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("#EXTM3U", M3UHeader()),
        (
            "#EXTM3U x-tvg-url='https://epg.example.tv/a.xml, ,https://epg.example.tv/a.xml'",
            M3UHeader(
                epg_sources=("https://epg.example.tv/a.xml",),
                attributes={
                    "x-tvg-url": "https://epg.example.tv/a.xml, ,https://epg.example.tv/a.xml"
                },
            ),
        ),
        (
            "#EXTM3U tvg-url=http://epg.example.tv/guide.xml catchup=append",
            M3UHeader(
                epg_sources=("http://epg.example.tv/guide.xml",),
                attributes={"tvg-url": "http://epg.example.tv/guide.xml", "catchup": "append"},
            ),
        ),
        (
            '#EXTM3U url-tvg="http://epg.example.tv/unclosed.xml',
            M3UHeader(
                epg_sources=("http://epg.example.tv/unclosed.xml",),
                attributes={"url-tvg": "http://epg.example.tv/unclosed.xml"},
            ),
        ),
        (
            '#extm3u URL-TVG="http://a.example/e.xml" x-tvg-url="http://b.example/e.xml"',
            M3UHeader(
                epg_sources=("http://a.example/e.xml", "http://b.example/e.xml"),
                attributes={
                    "URL-TVG": "http://a.example/e.xml",
                    "x-tvg-url": "http://b.example/e.xml",
                },
            ),
        ),
    ],
)
def test_header_forms(line: str, header: M3UHeader) -> None:
    assert parsed(line + "\n")[0] == header
    assert read_header([line]) == header


def test_read_header_stops_after_the_header_line() -> None:
    lines = iter(["\ufeff\n", '#EXTM3U url-tvg="http://epg.example.tv/e.xml"\n', "#EXTINF:-1,A\n"])
    assert read_header(lines) == M3UHeader(
        epg_sources=("http://epg.example.tv/e.xml",),
        attributes={"url-tvg": "http://epg.example.tv/e.xml"},
    )
    assert list(lines) == ["#EXTINF:-1,A\n"]


def test_read_header_without_extm3u_reads_one_line() -> None:
    lines = iter(["", f"acestream://{CID_1}", "never read"])
    assert read_header(lines) == M3UHeader()
    assert list(lines) == ["never read"]


class _CountingLines:
    """An iterator of generated playlist lines that records how many were pulled."""

    def __init__(self, entries: int) -> None:
        self.pulled = 0
        self._lines = self._generate(entries)

    @staticmethod
    def _generate(entries: int) -> Iterator[str]:
        yield '#EXTM3U url-tvg="http://epg.example.tv/epg.xml.gz"\n'
        for number in range(entries):
            if number % 1000 == 0:
                yield f"#EXTGRP:Group {number // 1000}\n"
            yield (
                f'#EXTINF:-1 tvg-id="ch{number}.tv" tvg-logo="http://logos.example.tv/{number}.png"'
                f' catchup="default" catchup-days="5",Channel {number}, HD\n'
            )
            yield f"acestream://{number:040x}\n"

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.pulled += 1
        return line


def test_hundred_thousand_entries_are_parsed_lazily() -> None:
    total = 100_000
    source = _CountingLines(total)
    items = parse_m3u(source)

    header = next(items)
    assert header == M3UHeader(
        epg_sources=("http://epg.example.tv/epg.xml.gz",),
        attributes={"url-tvg": "http://epg.example.tv/epg.xml.gz"},
    )
    assert source.pulled == 1

    count = 0
    for item in items:
        assert isinstance(item, M3UEntry)
        # The parser may only have read up to this entry's URL line: it holds nothing more.
        assert source.pulled == item.line
        if count == 0:
            assert source.pulled == 4
        count += 1
        if count in (1, 54_321, total):
            number = count - 1
            assert item.title == f"Channel {number}, HD"
            assert item.ref == ContentRef("content_id", f"{number:040x}")
            assert item.tvg_id == f"ch{number}.tv"
            assert item.group == f"Group {number // 1000}"
            assert item.attributes["catchup-days"] == "5"
    assert count == total
    assert source.pulled == 1 + 2 * total + total // 1000


class _ReadCountingBytes(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.readlines_called = 0

    def readline(self, size: int | None = -1, /) -> bytes:
        self.readlines_called += 1
        return super().readline(size)


def test_iter_text_lines_decodes_line_by_line() -> None:
    data = (
        b"\xef\xbb\xbf#EXTM3U\r\n"
        b"#EXTINF:-1,\xd0\x9f\xd0\xb5\xd1\x80\xd0\xb2\xd1\x8b\xd0\xb9\r\n"
        b"#EXTINF:-1,Broken \xff\xfe bytes\n"
        b"\n"
        b"http://a.example.tv/last.ts"
    )
    binary = _ReadCountingBytes(data)
    lines = iter_text_lines(binary)
    assert next(lines) == "#EXTM3U"
    assert binary.readlines_called == 1
    assert list(lines) == [
        "#EXTINF:-1,Первый",
        "#EXTINF:-1,Broken \ufffd\ufffd bytes",
        "",
        "http://a.example.tv/last.ts",
    ]
    assert not binary.closed


def test_iter_text_lines_cuts_over_long_lines() -> None:
    data = b"#EXTM3U\n" + b"a" * 25 + b"\nshort\n" + b"b" * 30
    assert list(iter_text_lines(io.BytesIO(data), max_line_bytes=10)) == [
        "#EXTM3U",
        "a" * 10,
        "short",
        "b" * 10,
    ]


def test_iter_text_lines_feeds_parse_m3u() -> None:
    binary = io.BytesIO(IPTV_PLAYLIST.encode("utf-8"))
    assert list(parse_m3u(iter_text_lines(binary))) == parsed(IPTV_PLAYLIST)

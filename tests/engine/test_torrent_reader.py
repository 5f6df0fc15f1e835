"""Tests of ``tidecast.engine.torrent_reader`` against real torrents made by libtorrent.

Info-hashes are checked against hashes computed here from the raw bytes of the ``info``
dictionary, found by a small bencode walker, so the check does not trust libtorrent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, cast

import libtorrent as lt
import pytest

from tidecast.core.errors import InvalidInput, PayloadTooLarge, UnsupportedContent
from tidecast.engine.torrent_reader import (
    MAX_TRANSPORT_FILE_BYTES,
    TorrentFile,
    TransportFile,
    guess_mime,
    looks_like_torrent,
    read_transport_file,
)

from support.torrents import Version, make_torrent


def _skip_value(data: bytes, pos: int) -> int:
    """Return the offset just past the bencoded value that starts at ``pos``."""
    head = data[pos : pos + 1]
    if head == b"i":
        return data.index(b"e", pos) + 1
    if head in (b"l", b"d"):
        pos += 1
        while data[pos : pos + 1] != b"e":
            pos = _skip_value(data, pos)
        return pos + 1
    colon = data.index(b":", pos)
    return colon + 1 + int(data[pos:colon])


def raw_info(data: bytes) -> bytes:
    """The exact bytes of the top-level ``info`` value of a bencoded torrent."""
    assert data[:1] == b"d"
    pos = 1
    while data[pos : pos + 1] != b"e":
        key_end = _skip_value(data, pos)
        key = data[data.index(b":", pos) + 1 : key_end]
        value_end = _skip_value(data, key_end)
        if key == b"info":
            return data[key_end:value_end]
        pos = value_end
    raise AssertionError("no info key")


def torrent_info(data: bytes) -> lt.torrent_info:
    info = lt.load_torrent_buffer(data).ti
    assert info is not None
    return info


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MULTI_FILES: dict[str, bytes | int] = {
    "movie.mkv": 40_000,
    "extras/subs/movie.en.srt": 1_000,
    "extras/deep/er/trailer.mp4": 30_000,
    "readme.txt": b"hello\n",
}


def test_v1_single_file(tmp_path: Path) -> None:
    data, content = make_torrent(
        tmp_path,
        {"film.mkv": 50_000},
        trackers=["http://tracker.example/announce", "udp://tracker2.example:6969"],
        comment="a comment",
    )
    transport = read_transport_file(data)

    assert content == tmp_path / "film.mkv"
    assert transport.version == "v1"
    assert transport.infohash == sha1_hex(raw_info(data))
    assert transport.infohash_v2 is None
    assert transport.content_id == sha1_hex(data)
    assert transport.name == "film.mkv"
    assert transport.files == (
        TorrentFile(
            index=0, path="film.mkv", filename="film.mkv", size=50_000, mime="video/x-matroska"
        ),
    )
    assert transport.total_size == 50_000
    assert transport.piece_length == 16384
    assert transport.trackers == ("http://tracker.example/announce", "udp://tracker2.example:6969")
    assert transport.comment == "a comment"
    assert transport.largest_video() == transport.files[0]


def test_v1_multi_file_with_nested_directories(tmp_path: Path) -> None:
    data, content = make_torrent(tmp_path, MULTI_FILES, name="Show")
    transport = read_transport_file(data)

    assert content == tmp_path / "Show"
    assert (content / "extras/deep/er/trailer.mp4").stat().st_size == 30_000
    assert transport.version == "v1"
    assert transport.infohash == sha1_hex(raw_info(data))
    assert transport.name == "Show"
    by_path = {f.path: f for f in transport.files}
    assert set(by_path) == {f"Show/{key}" for key in MULTI_FILES}
    trailer = by_path["Show/extras/deep/er/trailer.mp4"]
    assert (trailer.filename, trailer.size, trailer.mime) == ("trailer.mp4", 30_000, "video/mp4")
    assert by_path["Show/extras/subs/movie.en.srt"].mime == "application/x-subrip"
    assert by_path["Show/readme.txt"].mime == "text/plain"
    # v1_only torrents carry no pad files, so indexes are dense.
    assert [f.index for f in transport.files] == list(range(len(MULTI_FILES)))
    assert transport.total_size == 40_000 + 1_000 + 30_000 + 6
    assert transport.trackers == ()
    assert transport.comment == ""


def test_v2_only_uses_truncated_v2_hash(tmp_path: Path) -> None:
    data, _ = make_torrent(tmp_path, MULTI_FILES, version="v2")
    transport = read_transport_file(data)

    info = raw_info(data)
    assert transport.version == "v2"
    assert transport.infohash_v2 == sha256_hex(info)
    assert transport.infohash == sha256_hex(info)[:40]
    assert transport.infohash != sha1_hex(info)
    assert transport.content_id == sha1_hex(data)


def test_hybrid_has_both_hashes_and_prefers_v1(tmp_path: Path) -> None:
    data, _ = make_torrent(tmp_path, MULTI_FILES, version="hybrid")
    transport = read_transport_file(data)

    info = raw_info(data)
    assert transport.version == "hybrid"
    assert transport.infohash == sha1_hex(info)
    assert transport.infohash_v2 == sha256_hex(info)
    # libtorrent's own "best" hash of a hybrid is the truncated v2 one; ours is v1.
    assert torrent_info(data).info_hashes().get_best().to_bytes().hex() == sha256_hex(info)[:40]


@pytest.mark.parametrize("version", ["v2", "hybrid"])
def test_pad_files_are_left_out_but_indexes_are_libtorrents(
    tmp_path: Path, version: Version
) -> None:
    data, _ = make_torrent(tmp_path, MULTI_FILES, version=version)
    transport = read_transport_file(data)

    layout = torrent_info(data).layout()
    pads = [i for i in range(layout.num_files()) if layout.file_flags(i) & layout.flag_pad_file]
    assert pads, "libtorrent should align v2 files with pad files"
    assert len(transport.files) == len(MULTI_FILES)
    assert all(".pad" not in f.path for f in transport.files)
    for f in transport.files:
        assert layout.file_path(f.index) == f.path
        assert layout.file_size(f.index) == f.size
    assert transport.total_size == sum(f.size for f in transport.files)
    assert transport.total_size < layout.total_size()


def test_bep47_pad_file_in_a_handmade_v1_torrent() -> None:
    info: dict[bytes, Any] = {
        b"name": b"pack",
        b"piece length": 16384,
        b"pieces": b"\x01" * 20 + b"\x02" * 20,
        b"files": [
            {b"length": 100, b"path": [b"a.mkv"]},
            {b"length": 16284, b"path": [b".pad", b"16284"], b"attr": b"p"},
            {b"length": 50, b"path": [b"b.avi"]},
        ],
    }
    torrent: dict[bytes, Any] = {b"info": info}
    data = lt.bencode(torrent)
    transport = read_transport_file(data)

    assert [(f.index, f.path, f.mime) for f in transport.files] == [
        (0, "pack/a.mkv", "video/x-matroska"),
        (2, "pack/b.avi", "video/x-msvideo"),
    ]
    assert transport.total_size == 150
    assert transport.infohash == sha1_hex(raw_info(data))


def test_content_id_is_the_hash_of_the_exact_bytes(tmp_path: Path) -> None:
    data, _ = make_torrent(tmp_path, {"a.mp4": 1000})
    decoded = cast("dict[bytes, Any]", lt.bdecode(data))
    decoded[b"comment"] = b"same info, other bytes"
    other = lt.bencode(decoded)

    first, second = read_transport_file(data), read_transport_file(other)
    assert first.content_id == sha1_hex(data)
    assert second.content_id == sha1_hex(other)
    assert first.content_id != second.content_id
    assert first.infohash == second.infohash


def test_duplicate_trackers_are_listed_once(tmp_path: Path) -> None:
    url = "http://tracker.example/announce"
    data, _ = make_torrent(tmp_path, {"a.mp4": 10}, trackers=[url, "udp://b.example:1", url])
    assert read_transport_file(data).trackers == (url, "udp://b.example:1")


@pytest.mark.parametrize(
    ("filename", "mime"),
    [
        ("x.mkv", "video/x-matroska"),
        ("X.MKV", "video/x-matroska"),
        ("x.ts", "video/mp2t"),
        ("x.m2ts", "video/mp2t"),
        ("x.webm", "video/webm"),
        ("x.flv", "video/x-flv"),
        ("x.m4v", "video/x-m4v"),
        ("x.mp4", "video/mp4"),
        ("x.avi", "video/x-msvideo"),
        ("x.srt", "application/x-subrip"),
        ("x.ass", "text/x-ssa"),
        ("x.mp3", "audio/mpeg"),
        ("x.txt", "text/plain"),
        ("x.jpg", "image/jpeg"),
        ("x.nfo", "application/octet-stream"),
        ("x.tar.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
        ("data:text/html,x.mkv", "video/x-matroska"),
    ],
)
def test_guess_mime(filename: str, mime: str) -> None:
    assert guess_mime(filename) == mime


def _transport(*files: tuple[str, int]) -> TransportFile:
    entries = tuple(
        TorrentFile(index=i, path=f"t/{n}", filename=n, size=s, mime=guess_mime(n))
        for i, (n, s) in enumerate(files)
    )
    return TransportFile(
        content_id="0" * 40,
        infohash="0" * 40,
        infohash_v2=None,
        version="v1",
        name="t",
        files=entries,
        total_size=sum(f.size for f in entries),
        piece_length=16384,
        trackers=(),
        comment="",
    )


def test_largest_video_prefers_video_over_bigger_files() -> None:
    transport = _transport(("disc.iso", 9_000), ("small.mkv", 100), ("big.mp4", 500))
    assert transport.largest_video() == transport.files[2]


def test_largest_video_falls_back_to_the_largest_file() -> None:
    transport = _transport(("a.txt", 10), ("b.bin", 30), ("c.srt", 20))
    assert transport.largest_video() == transport.files[1]


def test_largest_video_ties_go_to_the_lowest_index() -> None:
    transport = _transport(("a.mkv", 10), ("b.mkv", 10))
    assert transport.largest_video() == transport.files[0]


def test_largest_video_of_nothing_is_none() -> None:
    assert _transport().largest_video() is None


def test_largest_video_in_a_real_torrent(tmp_path: Path) -> None:
    data, _ = make_torrent(
        tmp_path, {"sample.mkv": 2_000, "movie.mkv": 60_000, "art.png": 90_000}, version="hybrid"
    )
    chosen = read_transport_file(data).largest_video()
    assert chosen is not None
    assert chosen.filename == "movie.mkv"


def test_empty_input_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_transport_file(b"")
    assert type(caught.value) is InvalidInput


def test_oversized_input_is_refused_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        read_transport_file(b"d4:info" + b"x" * MAX_TRANSPORT_FILE_BYTES)


JUNK = {
    "text": b"hello world",
    "html": b"<!doctype html><html><body>404</body></html>",
    "nul bytes": b"\x00" * 64,
    "integer": b"i42e",
    "list": b"l4:spame",
    "no info": b"d8:announce3:urle",
    "info not a dict": b"d4:infoi1ee",
    "empty info": b"d4:infodee",
    "deep nesting": b"l" * 5000 + b"e" * 5000,
}


@pytest.mark.parametrize("data", JUNK.values(), ids=JUNK.keys())
def test_junk_is_not_a_transport_file(data: bytes) -> None:
    with pytest.raises(UnsupportedContent, match="not a transport file"):
        read_transport_file(data)


def test_truncated_torrent_is_not_a_transport_file(tmp_path: Path) -> None:
    data, _ = make_torrent(tmp_path, MULTI_FILES, version="hybrid")
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 1):
        with pytest.raises(UnsupportedContent, match="not a transport file"):
            read_transport_file(data[:cut])


def test_looks_like_torrent(tmp_path: Path) -> None:
    data, _ = make_torrent(tmp_path, {"a.mp4": 10})
    assert looks_like_torrent(data)
    for junk in (b"", b"d", b"de", b"<html>4:info", b"l4:infoe", b"d8:announce3:urle"):
        assert not looks_like_torrent(junk), junk

"""Reading transport files: BitTorrent v1, v2 and hybrid ``.torrent`` metadata.

``read_transport_file`` turns the bytes of a transport file into a ``TransportFile``: its
identities (content id, info-hashes), its name, trackers, and the playable file list. It
is a pure, synchronous parse with no session and no I/O; the CPU cost grows with the
number of pieces and files, so async callers should run it in a worker thread.

Every libtorrent failure is translated here; callers only ever meet the core errors
``InvalidInput`` (empty input), ``PayloadTooLarge`` (an ``InvalidInput``, over
``MAX_TRANSPORT_FILE_BYTES``) and ``UnsupportedContent`` (anything that is not a
well-formed transport file).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Literal

import libtorrent as lt

from tidecast.core.errors import InvalidInput, PayloadTooLarge, UnsupportedContent

MAX_TRANSPORT_FILE_BYTES = 16 * 1024 * 1024
"""The largest transport file tidecast parses; real ones are a few hundred KiB at most."""

FALLBACK_MIME = "application/octet-stream"

# Media types a streaming engine must classify correctly, whatever the host's
# /etc/mime.types says: Debian maps .ts to Qt Linguist and .ass to AAC audio, and
# Python's own table lacks Matroska, MPEG-TS and most subtitle formats.
_MEDIA_TYPES: dict[str, str] = {
    ".mkv": "video/x-matroska",
    ".mk3d": "video/x-matroska",
    ".ts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".mts": "video/mp2t",
    ".webm": "video/webm",
    ".flv": "video/x-flv",
    ".m4v": "video/x-m4v",
    ".wmv": "video/x-ms-wmv",
    ".ogv": "video/ogg",
    ".3gp": "video/3gpp",
    ".vob": "video/mpeg",
    ".mka": "audio/x-matroska",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".srt": "application/x-subrip",
    ".ass": "text/x-ssa",
    ".ssa": "text/x-ssa",
}

_NOT_A_TRANSPORT_FILE = "not a transport file"


@dataclass(frozen=True, slots=True)
class TorrentFile:
    """One real (non-pad) file of a torrent.

    ``index`` is libtorrent's file index, counting pad files, so it can be passed back to
    libtorrent (file priorities, piece mapping) unchanged; the indexes of a file list may
    therefore have gaps. ``path`` is the file's path relative to the download directory,
    '/'-separated: for a multi-file torrent it starts with the torrent's name, for a
    single-file torrent it is the name.
    """

    index: int
    path: str
    filename: str
    size: int
    mime: str


@dataclass(frozen=True, slots=True)
class TransportFile:
    """What tidecast knows about a transport file once it has been parsed.

    ``content_id`` is the SHA-1 hex of the exact transport-file bytes: tidecast's
    definition of the Ace Stream content id, so re-encoding the same metadata yields a
    different content id but the same info-hashes.

    ``infohash`` is always 40 lowercase hex digits: the v1 info-hash when the torrent has
    one (v1 and hybrid), otherwise the SHA-256 v2 info-hash truncated to 20 bytes, which
    is what v2-only swarms announce to trackers and the DHT. Note that libtorrent's
    ``info_hashes().get_best()`` prefers the truncated v2 hash for hybrids too; we do not,
    because v1 peers and magnet ``btih`` links know a hybrid by its v1 hash.

    ``infohash_v2`` is the full 64-hex SHA-256 info-hash of v2 and hybrid torrents.

    ``files`` lists real files in libtorrent order, pad files left out. ``total_size`` is
    the sum of their sizes (libtorrent's own total counts pad bytes as well).
    """

    content_id: str
    infohash: str
    infohash_v2: str | None
    version: Literal["v1", "v2", "hybrid"]
    name: str
    files: tuple[TorrentFile, ...]
    total_size: int
    piece_length: int
    trackers: tuple[str, ...]
    comment: str

    def largest_video(self) -> TorrentFile | None:
        """The file that plays when no index is given.

        The largest file whose MIME type is ``video/*``; if there is none, the largest
        file; ``None`` only for an empty file list. Ties go to the lowest index.
        """
        videos = [f for f in self.files if f.mime.startswith("video/")]
        candidates = videos or list(self.files)
        if not candidates:
            return None
        # max() keeps the first of equal keys, and files are in index order.
        return max(candidates, key=lambda f: f.size)


def looks_like_torrent(data: bytes) -> bool:
    """Cheaply tell whether ``data`` may be a transport file, before a full parse.

    True when ``data`` opens a bencoded dictionary whose first key is a byte string and
    it contains an ``info`` key. A true answer is no promise: only
    ``read_transport_file`` validates.
    """
    return data[:1] == b"d" and data[1:2].isdigit() and b"4:info" in data


def read_transport_file(data: bytes) -> TransportFile:
    """Parse the bytes of a ``.torrent`` file (BitTorrent v1, v2 or hybrid).

    Raises ``InvalidInput`` for empty input, ``PayloadTooLarge`` when ``data`` is longer
    than ``MAX_TRANSPORT_FILE_BYTES``, and ``UnsupportedContent("not a transport
    file")`` for anything libtorrent refuses: junk, bad bencoding, truncation, a missing
    or malformed ``info`` dictionary. Trailing bytes after the top-level dictionary are
    ignored, as libtorrent ignores them. Never raises a libtorrent exception.
    """
    if not data:
        raise InvalidInput("empty transport file")
    if len(data) > MAX_TRANSPORT_FILE_BYTES:
        raise PayloadTooLarge(
            f"transport file is larger than {MAX_TRANSPORT_FILE_BYTES} bytes",
        )
    try:
        params = lt.load_torrent_buffer(bytes(data))
        return _transport_file(data, params)
    # libtorrent reports every parse failure as RuntimeError ("unexpected end of file in
    # bencoded string", "missing or invalid 'info' section", ...); UnicodeError guards the
    # binding's str conversions, although libtorrent sanitises names we saw so far.
    except (RuntimeError, UnicodeError) as exc:
        raise UnsupportedContent(_NOT_A_TRANSPORT_FILE) from exc


def _transport_file(data: bytes, params: lt.add_torrent_params) -> TransportFile:
    info = params.ti
    if info is None:
        raise UnsupportedContent(_NOT_A_TRANSPORT_FILE)
    hashes = info.info_hashes()
    has_v1, has_v2 = hashes.has_v1(), hashes.has_v2()
    version: Literal["v1", "v2", "hybrid"]
    if has_v1 and has_v2:
        version = "hybrid"
    elif has_v2:
        version = "v2"
    elif has_v1:
        version = "v1"
    else:
        raise UnsupportedContent(_NOT_A_TRANSPORT_FILE)
    # get_best() is the v2 hash truncated to 20 bytes whenever v2 is present.
    infohash = (hashes.v1 if has_v1 else hashes.get_best()).to_bytes().hex()
    files = _files(info.layout())
    return TransportFile(
        content_id=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        infohash=infohash,
        infohash_v2=hashes.v2.to_bytes().hex() if has_v2 else None,
        version=version,
        name=info.name(),
        files=files,
        total_size=sum(f.size for f in files),
        piece_length=info.piece_length(),
        # load_torrent_buffer moves trackers and comment out of torrent_info into the
        # add_torrent_params; torrent_info.trackers() is deprecated in 2.x.
        trackers=tuple(dict.fromkeys(params.trackers)),
        comment=params.comment,
    )


def _files(storage: lt.file_storage) -> tuple[TorrentFile, ...]:
    pad_flag = storage.flag_pad_file
    files: list[TorrentFile] = []
    for index in range(storage.num_files()):
        if storage.file_flags(index) & pad_flag:
            continue
        path = storage.file_path(index)
        if os.sep != "/":
            path = path.replace(os.sep, "/")
        filename = storage.file_name(index)
        files.append(
            TorrentFile(
                index=index,
                path=path,
                filename=filename,
                size=storage.file_size(index),
                mime=guess_mime(filename),
            )
        )
    return tuple(files)


def guess_mime(filename: str) -> str:
    """The MIME type of a file name, by its extension, case-insensitively.

    Tidecast's own media table wins; then Python's built-in table (not the host's
    ``/etc/mime.types``, so the answer is the same on every machine); then
    ``application/octet-stream``.
    """
    suffix = PurePosixPath(filename).suffix.lower()
    if not suffix:
        return FALLBACK_MIME
    if suffix in _MEDIA_TYPES:
        return _MEDIA_TYPES[suffix]
    # Only the suffix is looked up: guess_type parses its argument as a URL, and a
    # torrent may well name a file "data:...".
    guessed, _encoding = _builtin_mime_types().guess_type("file" + suffix, strict=False)
    return guessed or FALLBACK_MIME


@cache
def _builtin_mime_types() -> mimetypes.MimeTypes:
    # A fresh MimeTypes holds only Python's defaults; built on first use, not at import.
    return mimetypes.MimeTypes()

"""Real torrents for tests: write content to disk and create its ``.torrent`` with libtorrent.

``make_torrent`` builds single-file and multi-file torrents of every BitTorrent version,
with content that is deterministic across runs, so a test can seed it from a loopback
swarm or just parse the metadata.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Literal

import libtorrent as lt

Version = Literal["v1", "v2", "hybrid"]

_CREATE_FLAGS: dict[Version, int] = {
    "v1": lt.create_torrent.v1_only,
    "v2": lt.create_torrent.v2_only,
    "hybrid": 0,
}

DEFAULT_MULTI_FILE_NAME = "content"


def pseudo_random_bytes(size: int, seed: str) -> bytes:
    """``size`` bytes that depend only on ``size`` and ``seed``."""
    return random.Random(zlib.crc32(seed.encode())).randbytes(size)


def make_torrent(
    root: Path,
    files: Mapping[str, bytes | int],
    *,
    version: Version = "v1",
    piece_size: int = 16384,
    name: str | None = None,
    trackers: Iterable[str] = (),
    comment: str = "",
) -> tuple[bytes, Path]:
    """Write ``files`` under ``root`` and return ``(bencoded .torrent, content root)``.

    Keys of ``files`` are '/'-separated relative paths; a value is either the file's
    bytes or a size, filled with pseudo-random bytes seeded by the path.

    One file whose key has no '/' makes a single-file torrent: the file is written to
    ``root / (name or key)`` and the torrent is named after it. Anything else makes a
    multi-file torrent named ``name`` (default ``"content"``) with the files written under
    ``root / name``. The returned content root is that file or directory, so a seeder's
    save path is ``content_root.parent`` (that is, ``root``).

    Trackers go one per tier, in order; ``comment`` is set only when not empty.
    """
    if not files:
        raise ValueError("a torrent needs at least one file")
    single = len(files) == 1 and "/" not in next(iter(files))
    if single:
        key = next(iter(files))
        content_root = root / (name or key)
        targets = {content_root: files[key]}
    else:
        content_root = root / (name or DEFAULT_MULTI_FILE_NAME)
        targets = {content_root.joinpath(*PurePosixPath(k).parts): v for k, v in files.items()}

    for path, content in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            content = pseudo_random_bytes(content, path.relative_to(root).as_posix())
        path.write_bytes(content)

    entries = lt.list_files(str(content_root))
    creator = lt.create_torrent(entries, piece_size, _CREATE_FLAGS[version])
    for tier, url in enumerate(trackers):
        creator.add_tracker(url, tier)
    if comment:
        creator.set_comment(comment)
    lt.set_piece_hashes(creator, str(root))
    data = lt.bencode(creator.generate())
    assert isinstance(data, bytes)
    return data, content_root

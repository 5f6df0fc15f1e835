"""The content cache on disk (or tmpfs): one folder per info-hash, bounded in size.

Torrent data lands in ``<root>/<infohash>/``. Usage counts the blocks the files really
occupy (downloads are sparse), and eviction removes whole folders, least recently
watched first, never one that is in use.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


class CacheDir:
    """A folder of per-content folders with a size limit."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def folder(self, infohash: str) -> Path:
        path = self.root / infohash
        path.mkdir(parents=True, exist_ok=True)
        return path

    def touch(self, infohash: str) -> None:
        """Mark ``infohash`` as just watched (its folder's time orders eviction)."""
        path = self.root / infohash
        if path.is_dir():
            now = time.time()
            os.utime(path, (now, now))

    def usage(self) -> int:
        return sum(_folder_bytes(path) for path in self._folders())

    def evict(self, in_use: set[str]) -> list[str]:
        """Remove the least recently watched folders not ``in_use`` until the cache fits.

        Returns the info-hashes removed, oldest first.
        """
        sizes = {path: _folder_bytes(path) for path in self._folders()}
        total = sum(sizes.values())
        removed: list[str] = []
        for path in sorted(sizes, key=_mtime):
            if total <= self.max_bytes:
                break
            if path.name in in_use:
                continue
            shutil.rmtree(path, ignore_errors=True)
            total -= sizes[path]
            removed.append(path.name)
        return removed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _folders(self) -> list[Path]:
        try:
            return [p for p in self.root.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _folder_bytes(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total

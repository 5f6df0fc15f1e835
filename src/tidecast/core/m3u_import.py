"""Importing M3U playlists into the playlist: uploads (``playlist_import``) and refreshes.

An import is one database transaction: all entries land or none do. The file is read
line by line from disk and written in batches, so memory stays flat however long the
playlist is. Broken lines are reported in the task result, never fatal.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tidecast.core.content_refs import ContentRef
from tidecast.core.errors import InvalidInput
from tidecast.core.m3u import M3UEntry, M3UHeader, M3UProblem, parse_m3u
from tidecast.core.playlists import NewItem, check_owner
from tidecast.core.tasks import Progress, TaskService
from tidecast.storage import playlist_repo
from tidecast.storage.database import Connection, Database
from tidecast.storage.playlist_repo import ItemKey, ItemRow

BATCH = 2000
MAX_REPORTED_PROBLEMS = 100
_KNOWN_ATTRIBUTES = {"tvg-id", "tvg-name", "tvg-logo", "group-title"}


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    updated: int = 0
    removed: int = 0
    duplicates: int = 0
    problem_count: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    epg_sources: list[str] = field(default_factory=list)

    def as_result(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "removed": self.removed,
            "duplicates": self.duplicates,
            "problem_count": self.problem_count,
            "problems": self.problems,
            "epg_sources": self.epg_sources,
        }


def entry_to_item(entry: M3UEntry, *, default_category: str | None = None) -> NewItem:
    """The playlist item an M3U entry describes (raises InvalidInput if it has none)."""
    ref: ContentRef = entry.ref
    item = NewItem(
        title=entry.title,
        tvg_id=entry.tvg_id,
        tvg_name=entry.tvg_name,
        tvg_logo=entry.tvg_logo,
        category=entry.group or default_category,
        is_live=1 if entry.duration < 0 else 0,
        file_index=ref.file_index,
        extra={k: v for k, v in entry.attributes.items() if k not in _KNOWN_ATTRIBUTES},
    )
    if ref.kind == "content_id":
        item.content_id = ref.value
    elif ref.kind == "infohash":
        item.infohash = ref.value
    elif ref.kind == "magnet":
        item.url = ref.value
        item.infohash = ref.infohash
    elif ref.kind == "transport_url":
        item.url = ref.value
    elif ref.kind == "hls":
        item.hls_manifest_url = ref.value
    elif ref.kind in ("direct", "url"):
        item.video_url = ref.value
    else:
        raise InvalidInput(f"a nested {ref.kind} is not a playable item")
    return item


def counted_lines(binary: IO[bytes], total: int, progress: Progress | None) -> Iterator[str]:
    """Decode lines one by one, reporting how far through the file we are."""
    consumed = 0
    last = -1
    for raw in binary:
        consumed += len(raw)
        if progress is not None and total:
            percent = consumed * 100 // total
            if percent != last:
                progress(min(percent, 99))
                last = percent
        yield raw.decode("utf-8", errors="replace")


async def write_entries(
    conn: Connection,
    lines: Iterator[str],
    *,
    owner: str,
    external_playlist_id: int | None = None,
    default_category: str | None = None,
) -> ImportSummary:
    """Write a playlist's entries inside the caller's transaction.

    For an external playlist the items it imported before are reconciled by ``hash_v2``:
    kept items are refreshed (their title, logo and category; never what the user set),
    new ones are added and vanished ones removed, unless locked.
    """
    summary = ImportSummary()
    now = int(time.time())
    existing: dict[str, ItemKey] = {}
    if external_playlist_id is not None:
        existing = await playlist_repo.keys_of_external(conn, external_playlist_id)
        seen_hashes: set[str] = set()
    else:
        seen_hashes = await playlist_repo.hashes_v2(conn, owner)
    batch: list[ItemRow] = []
    for event in parse_m3u(lines):
        if isinstance(event, M3UHeader):
            summary.epg_sources = list(event.epg_sources)
            continue
        if isinstance(event, M3UProblem):
            _report(summary, event.line, event.message, event.text)
            continue
        try:
            new = entry_to_item(event, default_category=default_category)
            new.external_playlist_id = external_playlist_id
            row = new.to_row(owner, now)
        except InvalidInput as exc:
            _report(summary, event.line, exc.message, event.title)
            continue
        if row.hash_v2 in seen_hashes:
            summary.duplicates += 1
            continue
        seen_hashes.add(row.hash_v2)
        previous = existing.pop(row.hash_v2, None)
        if previous is not None:
            await playlist_repo.update_values(
                conn,
                [previous.id],
                {
                    "tvg_logo": row.tvg_logo,
                    "tvg_name": row.tvg_name,
                    "tvg_id": row.tvg_id,
                    "category": row.category,
                    "extra": row.extra,
                    "updated_at": now,
                },
            )
            summary.updated += 1
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            await playlist_repo.insert_many(conn, batch)
            summary.imported += len(batch)
            batch.clear()
    await playlist_repo.insert_many(conn, batch)
    summary.imported += len(batch)
    vanished = [key.id for key in existing.values() if not key.locked]
    await playlist_repo.delete_ids(conn, vanished)
    summary.removed = len(vanished)
    return summary


def _report(summary: ImportSummary, line: int, message: str, text: str) -> None:
    summary.problem_count += 1
    if len(summary.problems) < MAX_REPORTED_PROBLEMS:
        summary.problems.append({"line": line, "message": message, "text": text[:200]})


class ImportService:
    def __init__(self, db: Database, tasks: TaskService, spool_dir: Path) -> None:
        self._db = db
        self._tasks = tasks
        self._spool_dir = spool_dir

    def clear_spool(self) -> None:
        """Remove spooled files a previous process left (its imports were interrupted)."""
        if self._spool_dir.is_dir():
            for leftover in self._spool_dir.iterdir():
                if leftover.is_file():
                    leftover.unlink(missing_ok=True)

    async def spool(self, source: IO[bytes], limit: int) -> Path:
        """Copy an upload to a private file the background task owns (the request ends first)."""
        return await asyncio.to_thread(self._spool, source, limit)

    def _spool(self, source: IO[bytes], limit: int) -> Path:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=self._spool_dir, suffix=".m3u", delete=False
        ) as handle:
            path = Path(handle.name)
            try:
                copied = 0
                while chunk := source.read(1024 * 1024):
                    copied += len(chunk)
                    if copied > limit:
                        raise InvalidInput(f"playlist file over {limit} bytes")
                    handle.write(chunk)
            except BaseException:
                handle.close()
                path.unlink(missing_ok=True)
                raise
        return path

    async def start_import(self, owner: str, path: Path) -> int:
        """Start importing a spooled M3U file as a task; the file is removed afterwards."""
        owner = check_owner(owner)

        async def work(progress: Progress) -> dict[str, Any]:
            try:
                return (await self.import_file(owner, path, progress)).as_result()
            finally:
                path.unlink(missing_ok=True)

        return await self._tasks.start("playlist_import", owner, work)

    async def import_file(
        self,
        owner: str,
        path: Path,
        progress: Progress | None = None,
        *,
        external_playlist_id: int | None = None,
        default_category: str | None = None,
    ) -> ImportSummary:
        total = path.stat().st_size
        with path.open("rb") as binary:
            async with self._db.write() as conn:
                return await write_entries(
                    conn,
                    counted_lines(binary, total, progress),
                    owner=owner,
                    external_playlist_id=external_playlist_id,
                    default_category=default_category,
                )

"""External playlists: M3U playlists fetched from a URL and kept in sync on a schedule.

Contract (seed 000, ``external_playlist_*``, ``update_all_external_playlists``,
``parse_m3u_playlist``):

- An update fetches the URL (HTTP Basic auth when a login is set) to a file under
  ``DATA_DIR/tmp`` and reconciles the playlist's items by ``hash_v2`` in one transaction
  (:meth:`ImportService.import_file`): new entries are added, kept ones refreshed without
  losing what the user set, vanished ones removed unless locked.
- A failed update records ``last_error`` and changes no item; it is retried after
  ``min(update_interval, FAILURE_RETRY_SECONDS)``.
- ``next_update`` is persisted: ``last_update + update_interval`` after a success, the
  creation time for a new playlist added with ``update_now`` (its first update also starts
  in the background at once), ``created_at + update_interval`` without it. The scheduler
  updates due playlists one at a time; updates of one playlist never overlap.
- Whether an update may reach private or loopback addresses is decided by the caller who
  last added or edited the playlist (``allow_private``), never by who triggers the update.
- The Basic-auth password is stored encrypted with the instance secret, shown in clear
  only to the playlist's owner, and never logged or put in an error message.
- ``get``, ``edit``, ``update`` and ``delete`` take an optional ``owner``: given, another
  owner's playlist is "not found" (and ``get`` lists the owner's only); omitted, every
  playlist is in reach, as for the engine API's single instance owner.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidecast.core.errors import (
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
    TidecastError,
)
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.integers import INT_MAX
from tidecast.core.m3u import iter_text_lines, read_header
from tidecast.core.m3u_import import ImportService, ImportSummary
from tidecast.core.playlists import check_owner
from tidecast.core.tasks import Progress, TaskService
from tidecast.engine.http_fetch import Fetcher, check_url_allowed
from tidecast.settings import SECRET_MASK, Settings, mask_url
from tidecast.storage import external_repo
from tidecast.storage.database import Database
from tidecast.storage.external_repo import ExternalPlaylistRow

log = logging.getLogger(__name__)

PLAYLIST_TYPES = ("content", "broadcast")
FAILURE_RETRY_SECONDS = 600
"""A failed update is retried after this long, or after update_interval if shorter."""
MAX_UPDATE_INTERVAL = INT_MAX
"""Seconds; ``update_interval`` is an ``integer`` column."""
MAX_TEXT_LENGTH = 255
MAX_URL_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class ExternalPlaylist:
    """An external playlist as a viewer sees it (``password`` masked for non-owners)."""

    id: int
    type: str
    category: str
    name: str
    url: str
    login: str
    password: str
    update_interval: int
    updated_at: int
    last_update: int | None
    next_update: int
    last_error: str | None
    item_count: int
    owner: str
    epg_sources: tuple[str, ...] = ()


class ExternalPlaylistService:
    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        imports: ImportService,
        tasks: TaskService,
        secret: InstanceSecret,
        settings: Settings,
    ) -> None:
        self._db = db
        self._fetcher = fetcher
        self._imports = imports
        self._tasks = tasks
        self._secret = secret
        self._settings = settings
        self._tmp_dir = settings.data_dir / "tmp"
        self._locks: dict[int, asyncio.Lock] = {}
        self._scheduler: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def add(
        self,
        owner: str,
        *,
        type: str,
        category: str,
        name: str,
        url: str,
        update_interval: int,
        update_now: bool = True,
        login: str = "",
        password: str = "",
        caller_is_local: bool,
    ) -> int:
        """Create a playlist; with ``update_now`` its first update starts in the background."""
        owner = check_owner(owner)
        if not type:
            raise MissingParameter("type is required", field="type")
        if type not in PLAYLIST_TYPES:
            raise InvalidInput("type must be content or broadcast", field="type")
        category = _text(category, "category")
        name = _text(name, "name")
        interval = self._interval(update_interval)
        login = _optional_text(login, "login")
        url = await _checked_url(url, caller_is_local=caller_is_local)
        now = int(time.time())
        async with self._db.write() as conn:
            playlist_id = await external_repo.insert(
                conn,
                {
                    "owner": owner,
                    "type": type,
                    "category": category,
                    "name": name,
                    "url": url,
                    "login": login,
                    "password_encrypted": self._secret.encrypt(password or ""),
                    "update_interval": interval,
                    "created_at": now,
                    "updated_at": now,
                    "last_update": None,
                    "next_update": now if update_now else now + interval,
                    "last_error": None,
                    "item_count": 0,
                    "epg_sources": [],
                    "allow_private": caller_is_local,
                },
            )
        if update_now:
            self._spawn(self._update_if_due(playlist_id), f"external-playlist-{playlist_id}")
        return playlist_id

    async def edit(
        self,
        playlist_id: int,
        *,
        category: str,
        name: str,
        update_interval: int,
        login: str | None,
        password: str | None,
        caller_is_local: bool,
        owner: str | None = None,
    ) -> None:
        """Change a playlist; ``None`` leaves login or password as they are, "" clears."""
        category = _text(category, "category")
        name = _text(name, "name")
        interval = self._interval(update_interval)
        now = int(time.time())
        values: dict[str, Any] = {
            "category": category,
            "name": name,
            "update_interval": interval,
            "updated_at": now,
            "allow_private": caller_is_local,
        }
        if login is not None:
            values["login"] = _optional_text(login, "login")
        if password is not None:
            values["password_encrypted"] = self._secret.encrypt(password)
        async with self._db.write() as conn:
            row = _owned(await external_repo.get(conn, playlist_id), playlist_id, owner)
            if row.last_update is not None:
                values["next_update"] = row.last_update + interval
            else:
                values["next_update"] = min(row.next_update, row.created_at + interval)
            await external_repo.update_values(conn, playlist_id, values)

    async def get(
        self, playlist_id: int | None, *, viewer: str, owner: str | None = None
    ) -> list[ExternalPlaylist]:
        """One playlist (NotFound if unknown) or all of them, as ``viewer`` may see them."""
        async with self._db.read() as conn:
            if playlist_id is None:
                owned_by = check_owner(owner) if owner is not None else None
                rows = await external_repo.list_all(conn, owned_by)
            else:
                rows = [_owned(await external_repo.get(conn, playlist_id), playlist_id, owner)]
        viewer = check_owner(viewer)
        return [self._view(row, viewer) for row in rows]

    async def delete(self, playlist_id: int, *, owner: str | None = None) -> None:
        """Delete a playlist and every item it imported (waits for a running update)."""
        async with self._lock(playlist_id):
            async with self._db.write() as conn:
                _owned(await external_repo.get(conn, playlist_id), playlist_id, owner)
                deleted = await external_repo.delete_with_items(conn, playlist_id)
            if not deleted:
                raise _not_found(playlist_id)
        self._locks.pop(playlist_id, None)

    async def update(self, playlist_id: int, *, owner: str | None = None) -> ImportSummary:
        """Fetch and reconcile now; a failure is recorded in ``last_error`` and raised."""
        async with self._lock(playlist_id):
            async with self._db.read() as conn:
                row = _owned(await external_repo.get(conn, playlist_id), playlist_id, owner)
            return await self._update_locked(row)

    async def update_all(self, owner: str) -> int:
        """Start a task updating every playlist in turn; its result lists each outcome."""
        owner = check_owner(owner)

        async def work(progress: Progress) -> dict[str, Any]:
            async with self._db.read() as conn:
                rows = await external_repo.list_all(conn)
            outcomes: list[dict[str, Any]] = []
            for index, row in enumerate(rows):
                outcome: dict[str, Any] = {"id": row.id, "name": row.name}
                try:
                    summary = await self.update(row.id)
                except NotFound:
                    continue  # deleted while the task ran
                except TidecastError as exc:
                    outcome.update(ok=False, error=exc.message)
                except Exception:
                    log.exception("updating external playlist %d failed", row.id)
                    outcome.update(ok=False, error="internal error")
                else:
                    outcome.update(
                        ok=True,
                        error=None,
                        imported=summary.imported,
                        updated=summary.updated,
                        removed=summary.removed,
                        duplicates=summary.duplicates,
                        problem_count=summary.problem_count,
                    )
                outcomes.append(outcome)
                progress((index + 1) * 100 // len(rows))
            failed = sum(1 for outcome in outcomes if not outcome["ok"])
            return {
                "playlists": outcomes,
                "updated": len(outcomes) - failed,
                "failed": failed,
            }

        return await self._tasks.start("external_playlist_update_all", owner, work)

    async def epg_sources(self, url: str, *, caller_is_local: bool) -> list[str]:
        """The XMLTV guide URLs named in the header of the playlist at ``url``."""
        if not url or not url.strip():
            raise MissingParameter("url is required", field="url")
        path = self._tmp_dir / f"header-{secrets.token_hex(8)}.m3u"
        try:
            await asyncio.to_thread(self._tmp_dir.mkdir, parents=True, exist_ok=True)
            await self._fetcher.fetch_to_file(
                url.strip(),
                path,
                caller_is_local=caller_is_local,
                max_bytes=self._settings.fetch_max_bytes,
            )
            return await asyncio.to_thread(_header_epg_sources, path)
        finally:
            # Synchronous: this also runs on cancellation, where an await could be cut short.
            path.unlink(missing_ok=True)

    async def start(self) -> None:
        """Start the scheduler (idempotent)."""
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = asyncio.create_task(
                self._schedule(), name="external-playlist-scheduler"
            )

    async def stop(self) -> None:
        """Cancel the scheduler and any update it or ``add`` started, and wait for them."""
        running = [*self._background]
        if self._scheduler is not None:
            running.append(self._scheduler)
            self._scheduler = None
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _schedule(self) -> None:
        while True:
            try:
                async with self._db.read() as conn:
                    due = await external_repo.due_ids(conn, int(time.time()))
                for playlist_id in due:
                    await self._update_if_due(playlist_id)
            except Exception:
                # The scheduler must outlive any failure; the next tick tries again.
                log.exception("external playlist scheduler tick failed")
            await asyncio.sleep(self._settings.scheduler_tick_seconds)

    async def _update_if_due(self, playlist_id: int) -> None:
        """Update unless deleted or already updated meanwhile; failures are logged only."""
        try:
            async with self._lock(playlist_id):
                async with self._db.read() as conn:
                    row = await external_repo.get(conn, playlist_id)
                if row is None or row.next_update > int(time.time()):
                    return
                await self._update_locked(row)
        except TidecastError:
            pass  # recorded in last_error and logged by _update_locked
        except Exception:
            log.exception("updating external playlist %d failed", playlist_id)

    async def _update_locked(self, row: ExternalPlaylistRow) -> ImportSummary:
        path = self._tmp_dir / f"external-{row.id}-{secrets.token_hex(8)}.m3u"
        try:
            auth = (row.login, self._secret.decrypt(row.password_encrypted)) if row.login else None
            await asyncio.to_thread(self._tmp_dir.mkdir, parents=True, exist_ok=True)
            await self._fetcher.fetch_to_file(
                row.url,
                path,
                caller_is_local=row.allow_private,
                max_bytes=self._settings.fetch_max_bytes,
                auth=auth,
            )
            summary = await self._imports.import_file(
                row.owner, path, external_playlist_id=row.id, default_category=row.category
            )
        except Exception as exc:
            message = exc.message if isinstance(exc, TidecastError) else "internal error"
            if isinstance(exc, TidecastError):
                log.warning("external playlist %d: update failed: %s", row.id, message)
            await self._record_failure(row.id, message)
            raise
        finally:
            # Synchronous: this also runs on cancellation, where an await could be cut short.
            path.unlink(missing_ok=True)
        now = int(time.time())
        async with self._db.write() as conn:
            count = await external_repo.count_items(conn, row.id)
            current = await external_repo.get(conn, row.id)
            interval = current.update_interval if current is not None else row.update_interval
            await external_repo.update_values(
                conn,
                row.id,
                {
                    "last_update": now,
                    "next_update": now + interval,
                    "last_error": None,
                    "item_count": count,
                    "epg_sources": list(summary.epg_sources),
                },
            )
        log.info(
            "external playlist %d updated: %d new, %d refreshed, %d removed",
            row.id,
            summary.imported,
            summary.updated,
            summary.removed,
        )
        return summary

    async def _record_failure(self, playlist_id: int, message: str) -> None:
        try:
            async with self._db.write() as conn:
                current = await external_repo.get(conn, playlist_id)
                if current is None:
                    return
                retry = min(current.update_interval, FAILURE_RETRY_SECONDS)
                await external_repo.update_values(
                    conn,
                    playlist_id,
                    {"last_error": message, "next_update": int(time.time()) + retry},
                )
        except Exception:
            # The update's own error matters more to the caller than this one.
            log.exception("cannot record the failed update of external playlist %d", playlist_id)

    def _view(self, row: ExternalPlaylistRow, viewer: str) -> ExternalPlaylist:
        if viewer == row.owner:
            url = row.url
            try:
                password = self._secret.decrypt(row.password_encrypted)
            except TidecastError:
                log.warning("external playlist %d: password cannot be decrypted", row.id)
                password = ""
        else:
            url = _masked_url(row.url)
            password = SECRET_MASK if row.password_encrypted else ""
        return ExternalPlaylist(
            id=row.id,
            type=row.type,
            category=row.category,
            name=row.name,
            url=url,
            login=row.login,
            password=password,
            update_interval=row.update_interval,
            updated_at=row.updated_at,
            last_update=row.last_update,
            next_update=row.next_update,
            last_error=row.last_error,
            item_count=row.item_count,
            owner=row.owner,
            epg_sources=tuple(row.epg_sources),
        )

    def _interval(self, value: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput("update_interval must be an integer", field="update_interval")
        minimum = self._settings.min_update_interval
        if value < minimum:
            raise InvalidInput(
                f"update_interval must be at least {minimum} seconds", field="update_interval"
            )
        if value > MAX_UPDATE_INTERVAL:
            raise InvalidInput(
                f"update_interval must be at most {MAX_UPDATE_INTERVAL} seconds",
                field="update_interval",
            )
        return value

    def _lock(self, playlist_id: int) -> asyncio.Lock:
        return self._locks.setdefault(playlist_id, asyncio.Lock())

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _text(value: str, field: str) -> str:
    if value is None or not value.strip():
        raise MissingParameter(f"{field} is required", field=field)
    return _optional_text(value, field)


def _optional_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{field} is longer than {MAX_TEXT_LENGTH} characters", field=field)
    return value


async def _checked_url(url: str, *, caller_is_local: bool) -> str:
    if url is None or not url.strip():
        raise MissingParameter("url is required", field="url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url is longer than {MAX_URL_LENGTH} characters", field="url")
    try:
        await check_url_allowed(url, caller_is_local=caller_is_local)
    except FetchRefused as exc:
        raise FetchRefused(exc.message, field="url") from None
    return url


def _masked_url(url: str) -> str:
    try:
        return mask_url(url)
    except ValueError:
        return ""  # cannot tell where a password would be, so show nothing


def _header_epg_sources(path: Path) -> list[str]:
    with path.open("rb") as binary:
        return list(read_header(iter_text_lines(binary)).epg_sources)


def _owned(
    row: ExternalPlaylistRow | None, playlist_id: int, owner: str | None
) -> ExternalPlaylistRow:
    """``row`` if it exists and, when ``owner`` is given, is that owner's."""
    if row is None or (owner is not None and row.owner != check_owner(owner)):
        raise _not_found(playlist_id)
    return row


def _not_found(playlist_id: int) -> NotFound:
    return NotFound(f"external playlist {playlist_id} not found")

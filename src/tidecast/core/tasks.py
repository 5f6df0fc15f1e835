"""Background tasks (imports, playlist updates) with a pollable state.

A task's row is written when it starts and when it ends; progress while it runs is kept
in memory, because a long import holds the database's write transaction and progress
must stay readable meanwhile. A task still running when the process stopped is marked
failed ("interrupted") on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tidecast.core.errors import NotFound, TidecastError
from tidecast.storage import tasks_repo
from tidecast.storage.database import Database

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Reports a task's progress in percent (0-100); raises TaskCancelled once cancelled."""

STOP_GRACE_SECONDS = 10.0


class TaskCancelled(TidecastError):
    """Raised inside a task's work at its next progress report after ``cancel``.

    Cancelling cooperatively lets the work leave its transaction the ordinary way (rolled
    back) instead of being interrupted in the middle of a database call.
    """

    default_message = "cancelled"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    id: int
    kind: str
    owner: str
    state: str  # running | done | failed
    progress: int
    result: Any
    error: str | None
    created_at: int
    updated_at: int


class TaskService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._running: dict[int, asyncio.Task[None]] = {}
        self._progress: dict[int, int] = {}
        self._cancelled: set[int] = set()

    async def mark_interrupted(self) -> None:
        async with self._db.write() as conn:
            count = await tasks_repo.fail_running(
                conn, "interrupted by a restart", int(time.time())
            )
        if count:
            log.warning("%d background task(s) were interrupted by the last stop", count)

    async def start(self, kind: str, owner: str, work: Callable[[Progress], Awaitable[Any]]) -> int:
        """Record a task and run ``work(progress)`` in the background; returns its id."""
        async with self._db.write() as conn:
            task_id = await tasks_repo.insert(conn, kind=kind, owner=owner, now=int(time.time()))
        self._progress[task_id] = 0

        def progress(percent: int) -> None:
            if task_id in self._cancelled:
                raise TaskCancelled()
            self._progress[task_id] = max(0, min(100, percent))

        self._running[task_id] = asyncio.create_task(self._run(task_id, work, progress))
        return task_id

    async def _run(
        self, task_id: int, work: Callable[[Progress], Awaitable[Any]], progress: Progress
    ) -> None:
        state, result, error = "done", None, None
        try:
            result = await work(progress)
        except asyncio.CancelledError:
            state, error = "failed", "cancelled"
        except TidecastError as exc:
            state, error = "failed", exc.message
        except Exception:
            log.exception("background task %s failed", task_id)
            state, error = "failed", "internal error"
        final = 100 if state == "done" else self._progress.get(task_id, 0)
        try:
            async with self._db.write() as conn:
                await tasks_repo.finish(
                    conn,
                    task_id,
                    state=state,
                    progress=final,
                    result=result,
                    error=error,
                    now=int(time.time()),
                )
        finally:
            self._running.pop(task_id, None)
            self._progress.pop(task_id, None)
            self._cancelled.discard(task_id)

    async def get(self, task_id: int) -> TaskInfo:
        async with self._db.read() as conn:
            row = await tasks_repo.get(conn, task_id)
        if row is None:
            raise NotFound(f"task {task_id} not found")
        progress = self._progress.get(task_id, row.progress)
        return TaskInfo(
            row.id,
            row.kind,
            row.owner,
            row.state,
            progress,
            row.result,
            row.error,
            row.created_at,
            row.updated_at,
        )

    def cancel(self, task_id: int) -> bool:
        """Stop a running task; its work is rolled back and it ends "failed"."""
        if task_id not in self._running:
            return False
        self._cancelled.add(task_id)
        return True

    async def wait(self, task_id: int) -> None:
        """Wait for a task started by this process (tests, CLI)."""
        running = self._running.get(task_id)
        if running is not None:
            await asyncio.shield(running)

    async def stop(self) -> None:
        """Cancel every task: cooperatively first, then, after a grace period, by force."""
        running = list(self._running.values())
        if not running:
            return
        self._cancelled.update(self._running)
        _done, pending = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

"""Background tasks as stored: created, finished or failed, with their result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import tasks


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    kind: str
    owner: str
    state: str
    progress: int
    result: Any
    error: str | None
    created_at: int
    updated_at: int


async def insert(conn: AsyncConnection, *, kind: str, owner: str, now: int) -> int:
    result = await conn.execute(
        tasks.insert().values(
            kind=kind, owner=owner, state="running", progress=0, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def get(conn: AsyncConnection, task_id: int) -> TaskRow | None:
    row = (await conn.execute(select(tasks).where(tasks.c.id == task_id))).first()
    return TaskRow(**row._mapping) if row is not None else None


async def finish(
    conn: AsyncConnection,
    task_id: int,
    *,
    state: str,
    progress: int,
    result: Any,
    error: str | None,
    now: int,
) -> None:
    await conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id)
        .values(state=state, progress=progress, result=result, error=error, updated_at=now)
    )


async def delete_of_owner(conn: AsyncConnection, owner: str) -> int:
    result = await conn.execute(delete(tasks).where(tasks.c.owner == owner))
    return int(result.rowcount or 0)


async def rename_owner(conn: AsyncConnection, old: str, new: str) -> None:
    await conn.execute(update(tasks).where(tasks.c.owner == old).values(owner=new))


async def fail_running(conn: AsyncConnection, message: str, now: int) -> int:
    result = await conn.execute(
        update(tasks)
        .where(tasks.c.state == "running")
        .values(state="failed", error=message, updated_at=now)
    )
    return int(result.rowcount or 0)

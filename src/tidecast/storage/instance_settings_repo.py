"""Runtime settings an API call changes and a restart keeps (e.g. remote access)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import instance_settings


async def load_all(conn: AsyncConnection) -> dict[str, Any]:
    rows = await conn.execute(select(instance_settings.c.key, instance_settings.c.value))
    return {key: value for key, value in rows}


async def store(conn: AsyncConnection, key: str, value: Any, now: int) -> None:
    updated = await conn.execute(
        instance_settings.update()
        .where(instance_settings.c.key == key)
        .values(value=value, updated_at=now)
    )
    if updated.rowcount == 0:
        await conn.execute(instance_settings.insert().values(key=key, value=value, updated_at=now))

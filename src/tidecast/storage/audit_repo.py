"""The audit log as stored: one row per administrative action, newest last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    address: str | None


async def insert(
    conn: AsyncConnection,
    *,
    at: int,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any],
    address: str | None,
) -> int:
    result = await conn.execute(
        audit_log.insert().values(
            at=at, actor=actor, action=action, target=target, detail=detail, address=address
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def page(
    conn: AsyncConnection,
    *,
    offset: int,
    limit: int,
    action: str | None,
    actor: str | None = None,
) -> tuple[list[AuditRow], int]:
    """Entries newest first, of ``action`` and of ``actor`` when given (exact matches), and
    how many match in all."""
    where = []
    if action:
        where.append(audit_log.c.action == action)
    if actor:
        where.append(audit_log.c.actor == actor)
    total = (await conn.execute(select(func.count()).select_from(audit_log).where(*where))).scalar()
    query = (
        select(audit_log).where(*where).order_by(audit_log.c.id.desc()).offset(offset).limit(limit)
    )
    rows = [AuditRow(**row._mapping) for row in await conn.execute(query)]
    return rows, int(total or 0)

"""Plans and grants as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import grants, plans


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: int
    name: str
    color: str
    device_limit: int
    duration_days: int
    server_ids: list[int]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    user_id: int
    plan_id: int
    starts_at: int
    expires_at: int
    created_by: str | None
    created_at: int
    revoked_at: int | None


PLAN_FIELDS = ("name", "color", "device_limit", "duration_days", "server_ids")


def _plan(row: Row[Any]) -> PlanRow:
    m = row._mapping
    return PlanRow(**{name: m[name] for name in PlanRow.__dataclass_fields__})


def _grant(row: Row[Any]) -> GrantRow:
    m = row._mapping
    return GrantRow(**{name: m[name] for name in GrantRow.__dataclass_fields__})


async def all_plans(conn: AsyncConnection) -> list[PlanRow]:
    return [_plan(row) for row in await conn.execute(select(plans).order_by(plans.c.id))]


async def plan_by_id(conn: AsyncConnection, plan_id: int) -> PlanRow | None:
    row = (await conn.execute(select(plans).where(plans.c.id == plan_id))).first()
    return _plan(row) if row is not None else None


async def insert_plan(conn: AsyncConnection, values: dict[str, Any], now: int) -> int:
    result = await conn.execute(plans.insert().values(**values, created_at=now, updated_at=now))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def update_plan(
    conn: AsyncConnection, plan_id: int, values: dict[str, Any], now: int
) -> bool:
    query = plans.update().where(plans.c.id == plan_id).values(**values, updated_at=now)
    return (await conn.execute(query)).rowcount > 0


async def delete_plan(conn: AsyncConnection, plan_id: int) -> bool:
    # Grants go with their plan (ON DELETE CASCADE, spelt out for SQLite connections
    # made without the foreign keys pragma).
    await conn.execute(delete(grants).where(grants.c.plan_id == plan_id))
    return (await conn.execute(delete(plans).where(plans.c.id == plan_id))).rowcount > 0


async def insert_grant(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(grants.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def grant_by_id(conn: AsyncConnection, grant_id: int) -> GrantRow | None:
    row = (await conn.execute(select(grants).where(grants.c.id == grant_id))).first()
    return _grant(row) if row is not None else None


async def revoke_grant(conn: AsyncConnection, grant_id: int, now: int) -> None:
    await conn.execute(grants.update().where(grants.c.id == grant_id).values(revoked_at=now))


async def grants_of(conn: AsyncConnection, user_id: int) -> list[GrantRow]:
    query = select(grants).where(grants.c.user_id == user_id).order_by(grants.c.starts_at)
    return [_grant(row) for row in await conn.execute(query)]

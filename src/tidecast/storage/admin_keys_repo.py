"""Admin API keys as listed to their owner: rows of the credentials table, never the key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import credentials


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    owner: str | None
    label: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


async def active_of(conn: AsyncConnection, kind: str, owner: str) -> list[KeyRow]:
    c = credentials.c
    query = (
        select(c.id, c.owner, c.label, c.created_at, c.last_used_at, c.revoked_at)
        .where(c.kind == kind, c.owner == owner, c.revoked_at.is_(None))
        .order_by(c.id)
    )
    return [KeyRow(**row._mapping) for row in await conn.execute(query)]


async def by_id(conn: AsyncConnection, kind: str, credential_id: int) -> KeyRow | None:
    c = credentials.c
    query = select(c.id, c.owner, c.label, c.created_at, c.last_used_at, c.revoked_at).where(
        c.kind == kind, c.id == credential_id
    )
    row = (await conn.execute(query)).first()
    return KeyRow(**row._mapping) if row is not None else None


async def id_of_hash(conn: AsyncConnection, token_hash: str) -> int | None:
    query = select(credentials.c.id).where(credentials.c.token_hash == token_hash)
    return (await conn.execute(query)).scalar()

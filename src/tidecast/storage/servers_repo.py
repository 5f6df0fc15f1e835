"""Streaming servers as stored: this instance (``is_self``) and the nodes that joined it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import servers


@dataclass(frozen=True, slots=True)
class ServerRow:
    id: int
    name: str
    country: str
    country_code: str
    city: str
    base_url: str
    ping_url: str
    is_self: bool
    enabled: bool
    secret_hash: str | None
    active_connections: int
    load: float
    last_heartbeat_at: int | None
    created_at: int
    updated_at: int


SERVER_FIELDS = ("name", "country", "country_code", "city", "base_url", "ping_url", "enabled")


def _row(row: Row[Any]) -> ServerRow:
    m = row._mapping
    return ServerRow(**{name: m[name] for name in ServerRow.__dataclass_fields__})


async def all_servers(conn: AsyncConnection) -> list[ServerRow]:
    return [_row(row) for row in await conn.execute(select(servers).order_by(servers.c.id))]


async def by_id(conn: AsyncConnection, server_id: int) -> ServerRow | None:
    row = (await conn.execute(select(servers).where(servers.c.id == server_id))).first()
    return _row(row) if row is not None else None


async def self_row(conn: AsyncConnection) -> ServerRow | None:
    query = select(servers).where(servers.c.is_self.is_(True)).order_by(servers.c.id)
    row = (await conn.execute(query)).first()
    return _row(row) if row is not None else None


async def by_secret_hash(conn: AsyncConnection, secret_hash: str) -> ServerRow | None:
    row = (await conn.execute(select(servers).where(servers.c.secret_hash == secret_hash))).first()
    return _row(row) if row is not None else None


async def insert(conn: AsyncConnection, values: dict[str, Any], now: int) -> int:
    result = await conn.execute(
        servers.insert().values(
            active_connections=0, load=0.0, **values, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def update(conn: AsyncConnection, server_id: int, values: dict[str, Any], now: int) -> bool:
    query = servers.update().where(servers.c.id == server_id).values(**values, updated_at=now)
    return (await conn.execute(query)).rowcount > 0


async def record_heartbeat(
    conn: AsyncConnection, server_id: int, *, active_connections: int, load: float, now: int
) -> None:
    await conn.execute(
        servers.update()
        .where(servers.c.id == server_id)
        .values(active_connections=active_connections, load=load, last_heartbeat_at=now)
    )


async def delete_server(conn: AsyncConnection, server_id: int) -> bool:
    return (await conn.execute(delete(servers).where(servers.c.id == server_id))).rowcount > 0

"""Remembered transport files: typed rows in, typed rows out.

A transport file is stored once per content id (the SHA-1 of its bytes), so storing the
same bytes twice is a no-op. Several rows may share an info-hash (the same metadata
encoded twice gives two content ids); lookups by info-hash then answer the oldest row.

Ids are compared as given: callers pass lower-case hex, as the core normalises them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Insert, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import playlist_items, transport_files


@dataclass(frozen=True, slots=True)
class TransportRow:
    """One stored transport file: its identities, a summary, and the exact bytes."""

    content_id: str
    infohash: str
    infohash_v2: str | None
    name: str
    total_size: int
    data: bytes
    source_url: str | None
    created_at: int


def _from_row(row: Row[Any]) -> TransportRow:
    m = row._mapping
    return TransportRow(
        content_id=m["content_id"],
        infohash=m["infohash"],
        infohash_v2=m["infohash_v2"],
        name=m["name"],
        total_size=int(m["total_size"]),
        data=bytes(m["data"]),
        source_url=m["source_url"],
        created_at=int(m["created_at"]),
    )


def _insert_ignoring_duplicates(conn: AsyncConnection) -> Insert:
    # ON CONFLICT DO NOTHING rather than select-then-insert: two PostgreSQL writers
    # remembering the same file at once must not turn into a Conflict.
    if conn.dialect.name == "postgresql":
        return postgresql.insert(transport_files).on_conflict_do_nothing(
            index_elements=["content_id"]
        )
    return sqlite.insert(transport_files).on_conflict_do_nothing(index_elements=["content_id"])


async def insert_if_absent(conn: AsyncConnection, row: TransportRow) -> bool:
    """Store ``row`` unless its content id is already stored; True if it was inserted."""
    result = await conn.execute(_insert_ignoring_duplicates(conn).values(**asdict(row)))
    return bool(result.rowcount)


async def get(conn: AsyncConnection, content_id: str) -> TransportRow | None:
    result = await conn.execute(
        select(transport_files).where(transport_files.c.content_id == content_id)
    )
    row = result.first()
    return _from_row(row) if row is not None else None


def _infohash_condition(infohash: str) -> ColumnElement[bool]:
    c = transport_files.c
    if len(infohash) == 64:
        return c.infohash_v2 == infohash
    # A 40-digit id is a v1 hash, or a v2 hash truncated to 20 bytes. The ``infohash``
    # column already holds the truncated form for v2-only files; for hybrids (whose
    # ``infohash`` is the v1 hash) the v2 column is matched by prefix. The range works
    # as a prefix match on an index: every lower-case hex continuation sorts below "g".
    return or_(
        c.infohash == infohash,
        (c.infohash_v2 >= infohash) & (c.infohash_v2 < infohash + "g"),
    )


async def find_by_infohash(conn: AsyncConnection, infohash: str) -> TransportRow | None:
    """The oldest stored file with this v1 (40 hex), v2 (64 hex) or truncated v2 hash."""
    result = await conn.execute(
        select(transport_files)
        .where(_infohash_condition(infohash))
        .order_by(transport_files.c.created_at, transport_files.c.content_id)
        .limit(1)
    )
    row = result.first()
    return _from_row(row) if row is not None else None


async def total_bytes(conn: AsyncConnection) -> int:
    query = select(func.coalesce(func.sum(func.length(transport_files.c.data)), 0))
    return int((await conn.execute(query)).scalar_one())


async def evict_unreferenced(conn: AsyncConnection, over_bytes: int, keep: str) -> int:
    """Delete the oldest transport files no playlist item names (never ``keep``), until
    ``over_bytes`` are freed; returns how many were deleted."""
    t, items = transport_files.c, playlist_items.c
    referenced = select(items.content_id).where(items.content_id.is_not(None))
    candidates = await conn.execute(
        select(t.content_id, func.length(t.data))
        .where(t.content_id.not_in(referenced), t.content_id != keep)
        .order_by(t.created_at, t.content_id)
    )
    doomed: list[str] = []
    freed = 0
    for content_id, size in candidates:
        if freed >= over_bytes:
            break
        doomed.append(content_id)
        freed += int(size)
    if doomed:
        await conn.execute(delete(transport_files).where(t.content_id.in_(doomed)))
    return len(doomed)

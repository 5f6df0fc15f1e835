"""External playlists as stored: where to fetch them, when, and how the last update went."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import external_playlists, playlist_favorites, playlist_items


@dataclass(frozen=True, slots=True)
class ExternalPlaylistRow:
    """One row; ``password_encrypted`` is the instance secret's token, "" when none."""

    id: int
    owner: str
    type: str
    category: str
    name: str
    url: str
    login: str
    password_encrypted: str
    update_interval: int
    created_at: int
    updated_at: int
    last_update: int | None
    next_update: int
    last_error: str | None
    item_count: int
    epg_sources: list[str]
    allow_private: bool


_COLUMNS = [f.name for f in fields(ExternalPlaylistRow)]


def _from_row(row: Row[Any]) -> ExternalPlaylistRow:
    m = row._mapping
    values = {name: m[name] for name in _COLUMNS}
    values["epg_sources"] = list(values["epg_sources"] or [])
    values["allow_private"] = bool(values["allow_private"])
    return ExternalPlaylistRow(**values)


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(external_playlists.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def get(conn: AsyncConnection, playlist_id: int) -> ExternalPlaylistRow | None:
    query = select(external_playlists).where(external_playlists.c.id == playlist_id)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def list_all(conn: AsyncConnection, owner: str | None = None) -> list[ExternalPlaylistRow]:
    """Every playlist, or the owner's only, oldest first."""
    query = select(external_playlists).order_by(external_playlists.c.id)
    if owner is not None:
        query = query.where(external_playlists.c.owner == owner)
    return [_from_row(row) for row in await conn.execute(query)]


async def due_ids(conn: AsyncConnection, now: int) -> list[int]:
    """Ids of playlists whose ``next_update`` has come, the most overdue first."""
    c = external_playlists.c
    query = select(c.id).where(c.next_update <= now).order_by(c.next_update, c.id)
    return [int(value) for (value,) in await conn.execute(query)]


async def update_values(conn: AsyncConnection, playlist_id: int, values: dict[str, Any]) -> bool:
    """Change one row; False if it no longer exists."""
    result = await conn.execute(
        update(external_playlists).where(external_playlists.c.id == playlist_id).values(**values)
    )
    return bool(result.rowcount)


async def delete_with_items(conn: AsyncConnection, playlist_id: int) -> bool:
    """Delete a playlist and every item it imported, locked or trashed ones included.

    The items are deleted explicitly rather than left to the foreign key's cascade, so
    the outcome does not depend on the database enforcing foreign keys.
    """
    await conn.execute(
        delete(playlist_items).where(playlist_items.c.external_playlist_id == playlist_id)
    )
    result = await conn.execute(
        delete(external_playlists).where(external_playlists.c.id == playlist_id)
    )
    return bool(result.rowcount)


async def delete_of_owner(conn: AsyncConnection, owner: str) -> int:
    """Delete ``owner``'s playlists with every item they imported (and the favorite marks
    on those items); how many playlists went."""
    c = external_playlists.c
    owned = select(c.id).where(c.owner == owner).scalar_subquery()
    items = select(playlist_items.c.id).where(playlist_items.c.external_playlist_id.in_(owned))
    await conn.execute(
        delete(playlist_favorites).where(playlist_favorites.c.item_id.in_(items.scalar_subquery()))
    )
    await conn.execute(
        delete(playlist_items).where(playlist_items.c.external_playlist_id.in_(owned))
    )
    result = await conn.execute(delete(external_playlists).where(c.owner == owner))
    return int(result.rowcount or 0)


async def rename_owner(conn: AsyncConnection, old: str, new: str) -> None:
    await conn.execute(
        update(external_playlists).where(external_playlists.c.owner == old).values(owner=new)
    )


async def count_items(conn: AsyncConnection, playlist_id: int) -> int:
    """Items the playlist has in the playlist (not in the trash)."""
    c = playlist_items.c
    query = (
        select(func.count())
        .select_from(playlist_items)
        .where(c.external_playlist_id == playlist_id, c.is_deleted.is_(False))
    )
    return int((await conn.execute(query)).scalar_one())

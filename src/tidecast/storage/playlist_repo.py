"""Playlist items in the database: typed rows in, typed rows out.

``tags`` is a JSON list of strings (``json`` on PostgreSQL, text on SQLite). It is read
element by element with each dialect's JSON table function (:func:`_tag_values`), so a
tag filter matches whole tags only and the distinct tags are computed in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, or_, select, true, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import TableValuedAlias

from tidecast.storage.tables import playlist_favorites, playlist_items


@dataclass(slots=True)
class ItemRow:
    """One playlist item as stored."""

    owner: str
    title: str
    transport_type: str
    content_type: str
    hash: str
    hash_v2: str
    created_at: int
    updated_at: int
    is_live: int = -1
    display_title: str | None = None
    description: str = ""
    content_id: str | None = None
    infohash: str | None = None
    url: str | None = None
    hls_manifest_url: str | None = None
    dash_manifest_url: str | None = None
    video_url: str | None = None
    file_index: int | None = None
    category: str | None = None
    subcategory: str = ""
    tags: list[str] = field(default_factory=list)
    poster: str = ""
    tvg_id: str = ""
    tvg_name: str = ""
    tvg_logo: str = ""
    logo_file: str | None = None
    languages: list[str] | None = None
    countries: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    is_favorite: bool = False
    enabled: bool = True
    locked: bool = False
    is_deleted: bool = False
    auto_search: bool = False
    external_playlist_id: int | None = None
    id: int | None = None

    def values(self) -> dict[str, Any]:
        """Column values for an insert (without the id and the viewer's favorite flag)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_STORED}


_NOT_STORED = {"id", "is_favorite"}
_COLUMNS = [f.name for f in fields(ItemRow) if f.name != "is_favorite"]


def _from_row(row: Row[Any]) -> ItemRow:
    m = row._mapping
    item = ItemRow(**{name: m[name] for name in _COLUMNS})
    item.is_favorite = bool(m.get("is_favorite", False))
    return item


def _favorite_of(viewer: int) -> Any:
    """Whether the viewer (a user id, 0 for the instance) marked the item as a favorite."""
    f = playlist_favorites.c
    return (
        exists().where(f.item_id == playlist_items.c.id, f.user_id == viewer).label("is_favorite")
    )


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """What ``list_items`` returns; ``None`` means "any"."""

    owner: str
    viewer: int = 0
    deleted: bool = False
    category: str | None = None
    tag: str | None = None
    """Only items carrying this tag (the whole tag, case as stored)."""
    search: str | None = None
    favorites_only: bool = False
    external_playlist_id: int | None = None
    offset: int = 0
    limit: int | None = None


def _tag_values(conn: AsyncConnection) -> TableValuedAlias:
    """The tags of the ``playlist_items`` row in scope, one row each (column ``value``)."""
    tags = playlist_items.c.tags
    if conn.dialect.name == "postgresql":
        return func.json_array_elements_text(tags).table_valued("value")
    return func.json_each(tags).table_valued("value")


def _filtered(conn: AsyncConnection, query: Select[Any], flt: ItemFilter) -> Select[Any]:
    c = playlist_items.c
    query = query.where(c.owner == flt.owner, c.is_deleted == flt.deleted)
    if flt.category is not None:
        query = query.where(c.category == flt.category)
    if flt.tag is not None:
        tag = _tag_values(conn)
        query = query.where(exists(select(tag.c.value).where(tag.c.value == flt.tag)))
    if flt.favorites_only:
        f = playlist_favorites.c
        query = query.where(exists().where(f.item_id == c.id, f.user_id == flt.viewer))
    if flt.external_playlist_id is not None:
        query = query.where(c.external_playlist_id == flt.external_playlist_id)
    if flt.search:
        pattern = f"%{flt.search.lower()}%"
        query = query.where(
            or_(
                func.lower(c.title).like(pattern),
                func.lower(func.coalesce(c.display_title, "")).like(pattern),
                func.lower(c.tvg_name).like(pattern),
            )
        )
    return query


async def insert(conn: AsyncConnection, item: ItemRow) -> int:
    result = await conn.execute(playlist_items.insert().values(**item.values()))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def insert_many(conn: AsyncConnection, items: Sequence[ItemRow]) -> None:
    if items:
        await conn.execute(playlist_items.insert(), [item.values() for item in items])


async def get(conn: AsyncConnection, item_id: int, *, for_update: bool = False) -> ItemRow | None:
    """One item; ``for_update`` locks its row until the transaction ends (PostgreSQL)."""
    query = select(playlist_items).where(playlist_items.c.id == item_id)
    result = await conn.execute(query.with_for_update() if for_update else query)
    row = result.first()
    return _from_row(row) if row is not None else None


async def get_many(
    conn: AsyncConnection, item_ids: Iterable[int], *, for_update: bool = False
) -> list[ItemRow]:
    ids = list(item_ids)
    if not ids:
        return []
    query = select(playlist_items).where(playlist_items.c.id.in_(ids))
    result = await conn.execute(query.with_for_update() if for_update else query)
    return [_from_row(row) for row in result]


async def set_favorite(
    conn: AsyncConnection, item_ids: Sequence[int], viewer: int, value: bool, now: int
) -> None:
    f = playlist_favorites.c
    await conn.execute(
        delete(playlist_favorites).where(f.user_id == viewer, f.item_id.in_(list(item_ids)))
    )
    if value:
        await conn.execute(
            playlist_favorites.insert(),
            [{"item_id": i, "user_id": viewer, "created_at": now} for i in item_ids],
        )


async def rename_owner(conn: AsyncConnection, old: str, new: str) -> None:
    await conn.execute(
        update(playlist_items).where(playlist_items.c.owner == old).values(owner=new)
    )


async def delete_of_owner(conn: AsyncConnection, owner: str) -> int:
    """Delete every item of ``owner`` (locked and trashed ones too) and every viewer's
    favorite marks on them; how many items went.

    The favorites are deleted explicitly rather than left to the foreign key's cascade,
    so the outcome does not depend on the database enforcing foreign keys.
    """
    c = playlist_items.c
    owned = select(c.id).where(c.owner == owner).scalar_subquery()
    await conn.execute(delete(playlist_favorites).where(playlist_favorites.c.item_id.in_(owned)))
    result = await conn.execute(delete(playlist_items).where(c.owner == owner))
    return int(result.rowcount or 0)


async def forget_viewer(conn: AsyncConnection, viewer: int) -> None:
    """Drop a deleted user's favorites."""
    await conn.execute(delete(playlist_favorites).where(playlist_favorites.c.user_id == viewer))


async def find_by_hash(conn: AsyncConnection, item_hash: str) -> ItemRow | None:
    result = await conn.execute(
        select(playlist_items).where(playlist_items.c.hash == item_hash).limit(1)
    )
    row = result.first()
    return _from_row(row) if row is not None else None


async def find_by_title(conn: AsyncConnection, title: str) -> ItemRow | None:
    c = playlist_items.c
    result = await conn.execute(
        select(playlist_items)
        .where(or_(func.lower(c.title) == title.lower(), func.lower(c.tvg_name) == title.lower()))
        .order_by(c.id)
        .limit(1)
    )
    row = result.first()
    return _from_row(row) if row is not None else None


async def list_items(conn: AsyncConnection, flt: ItemFilter) -> list[ItemRow]:
    query = _filtered(conn, select(playlist_items, _favorite_of(flt.viewer)), flt).order_by(
        playlist_items.c.id
    )
    if flt.offset:
        query = query.offset(flt.offset)
    if flt.limit is not None:
        query = query.limit(flt.limit)
    return [_from_row(row) for row in await conn.execute(query)]


async def count_items(conn: AsyncConnection, flt: ItemFilter) -> int:
    query = _filtered(conn, select(func.count()).select_from(playlist_items), flt)
    return int((await conn.execute(query)).scalar_one())


async def categories(conn: AsyncConnection, owner: str) -> list[str]:
    """The distinct non-empty categories of the owner's items outside the trash."""
    c = playlist_items.c
    query = (
        select(c.category)
        .distinct()
        .where(c.owner == owner, c.is_deleted.is_(False), c.category.is_not(None))
        .where(c.category != "")
    )
    return [value for (value,) in await conn.execute(query)]


async def tags(conn: AsyncConnection, owner: str) -> list[str]:
    """The distinct non-empty tags of the owner's items outside the trash."""
    c = playlist_items.c
    tag = _tag_values(conn)
    query = (
        select(tag.c.value)
        .distinct()
        .select_from(playlist_items)
        .join(tag, true())
        .where(c.owner == owner, c.is_deleted.is_(False), tag.c.value != "")
    )
    return [value for (value,) in await conn.execute(query)]


async def hashes_v2(conn: AsyncConnection, owner: str) -> set[str]:
    c = playlist_items.c
    result = await conn.execute(select(c.hash_v2).where(c.owner == owner, c.is_deleted.is_(False)))
    return {value for (value,) in result}


async def update_values(
    conn: AsyncConnection, item_ids: Sequence[int], values: dict[str, Any]
) -> None:
    if item_ids:
        await conn.execute(
            update(playlist_items).where(playlist_items.c.id.in_(list(item_ids))).values(**values)
        )


async def delete_ids(conn: AsyncConnection, item_ids: Sequence[int]) -> None:
    if item_ids:
        await conn.execute(delete(playlist_items).where(playlist_items.c.id.in_(list(item_ids))))


async def delete_where(
    conn: AsyncConnection,
    *,
    owner: str | None = None,
    deleted: bool | None = None,
    unlocked_only: bool = False,
    external_playlist_id: int | None = None,
) -> int:
    c = playlist_items.c
    conditions = []
    if owner is not None:
        conditions.append(c.owner == owner)
    if deleted is not None:
        conditions.append(c.is_deleted == deleted)
    if unlocked_only:
        conditions.append(c.locked.is_(False))
    if external_playlist_id is not None:
        conditions.append(c.external_playlist_id == external_playlist_id)
    result = await conn.execute(delete(playlist_items).where(and_(*conditions)))
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class ItemKey:
    """What reconciling a refreshed playlist needs of an item it imported before."""

    id: int
    locked: bool


async def keys_of_external(conn: AsyncConnection, external_playlist_id: int) -> dict[str, ItemKey]:
    """``hash_v2 -> (id, locked)`` of the items an external playlist imported."""
    c = playlist_items.c
    result = await conn.execute(
        select(c.hash_v2, c.id, c.locked).where(c.external_playlist_id == external_playlist_id)
    )
    return {hash_v2: ItemKey(item_id, locked) for hash_v2, item_id, locked in result}

"""The playlist: items per owner, trash, favorites, enabled, locked, auto-search.

Semantics (seed 000, ``playlist_*``):

- Every item belongs to an owner: ``_no_owner_`` (the instance's shared playlist) or an
  account's login. Methods that take ``owner`` act on that owner's items only; an id of
  another owner's item is "not found".
- Deleting moves to the trash (``is_deleted``); restore brings it back; clearing the
  trash and ``playlist_clear`` delete for good.
- A locked item refuses edits and deletion (``ItemLocked``) until it is unlocked; a batch
  that touches a locked item changes nothing. ``playlist_clear`` keeps locked items.
- ``title`` is the source's title; ``playlist_update_item(title=…)`` sets
  ``display_title``, so a refresh of an external playlist never loses a rename.
- ``hash`` identifies the content (transport type and locator); ``hash_v2`` the content
  as titled in this playlist (hash + title + file index). Both are 32-hex MD5 digests.
  Editing the content derives them again as adding does; neither refuses content the
  playlist already has (only an import skips those).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tidecast.core.content_refs import normalize_content_id, normalize_infohash
from tidecast.core.errors import Conflict, InvalidInput, ItemLocked, MissingParameter, NotFound
from tidecast.storage import playlist_repo
from tidecast.storage.database import Connection, Database
from tidecast.storage.playlist_repo import ItemFilter, ItemRow

PlaylistItem = ItemRow
"""A playlist item as the core hands it to the surfaces."""
__all__ = ["ItemFilter", "PlaylistItem"]

NO_OWNER = "_no_owner_"
MAX_TEXT = 10_000
_CONTENT_COLUMNS = (
    *("content_id", "infohash", "url", "hls_manifest_url", "dash_manifest_url", "video_url"),
    *("file_index", "transport_type", "hash", "hash_v2", "is_live", "content_type"),
)
"""What a new content replaces: every locator (unset ones are cleared) and what derives
from them; the liveness too, found by analysing the new content."""


def content_type_of(is_live: int) -> str:
    return "live" if is_live == 1 else "vod"


def item_hashes(
    transport_type: str, locator: str, title: str, file_index: int | None
) -> tuple[str, str]:
    identity = f"{transport_type}:{locator}"
    digest = hashlib.md5(identity.encode(), usedforsecurity=False).hexdigest()
    titled = f"{identity}|{file_index if file_index is not None else ''}|{title}"
    return digest, hashlib.md5(titled.encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class NewItem:
    """What a caller gives to add an item; exactly one locator must be set."""

    title: str = ""
    description: str = ""
    content_id: str | None = None
    infohash: str | None = None
    url: str | None = None
    hls_manifest_url: str | None = None
    dash_manifest_url: str | None = None
    video_url: str | None = None
    file_index: int | None = None
    is_live: int = -1
    category: str | None = None
    subcategory: str = ""
    tags: list[str] = field(default_factory=list)
    poster: str = ""
    auto_search: bool = False
    tvg_id: str = ""
    tvg_name: str = ""
    tvg_logo: str = ""
    logo_file: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    external_playlist_id: int | None = None

    def transport(self) -> tuple[str, str]:
        """``(transport_type, locator)``; raises if no locator is set."""
        if self.content_id:
            return "bt", f"cid:{self.content_id}"
        if self.infohash:
            return "bt", f"ih:{self.infohash}"
        if self.url:
            return "bt", f"url:{self.url}"
        if self.hls_manifest_url:
            return "hls", self.hls_manifest_url
        if self.dash_manifest_url:
            return "dash", self.dash_manifest_url
        if self.video_url:
            return "http", self.video_url
        raise MissingParameter(
            "one of content_id, infohash, file, url, hls_manifest_url, dash_manifest_url "
            "or video_url is required"
        )

    def to_row(self, owner: str, now: int) -> ItemRow:
        if self.content_id:
            self.content_id = normalize_content_id(self.content_id)
        if self.infohash:
            # A v2 info-hash is stored truncated to 40 digits, as libtorrent names swarms.
            self.infohash = normalize_infohash(self.infohash)[:40]
        for name, value in (("title", self.title), ("description", self.description)):
            if len(value) > MAX_TEXT:
                raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters", field=name)
        transport_type, locator = self.transport()
        if not self.title.strip():
            raise MissingParameter("title is required", field="title")
        digest, digest_v2 = item_hashes(transport_type, locator, self.title, self.file_index)
        return ItemRow(
            owner=owner,
            title=self.title.strip(),
            transport_type=transport_type,
            content_type=content_type_of(self.is_live),
            is_live=self.is_live,
            hash=digest,
            hash_v2=digest_v2,
            created_at=now,
            updated_at=now,
            description=self.description,
            content_id=self.content_id,
            infohash=self.infohash,
            url=self.url,
            hls_manifest_url=self.hls_manifest_url,
            dash_manifest_url=self.dash_manifest_url,
            video_url=self.video_url,
            file_index=self.file_index,
            category=self.category or None,
            subcategory=self.subcategory,
            tags=list(self.tags),
            poster=self.poster,
            tvg_id=self.tvg_id,
            tvg_name=self.tvg_name,
            tvg_logo=self.tvg_logo,
            logo_file=self.logo_file,
            extra=dict(self.extra),
            auto_search=self.auto_search,
            external_playlist_id=self.external_playlist_id,
        )


@dataclass(slots=True)
class ItemChanges:
    """What ``playlist_update_item`` may change; ``None`` leaves a field as it is."""

    title: str | None = None
    poster: str | None = None
    auto_search: bool | None = None
    is_favorite: bool | None = None
    tags: list[str] | None = None
    logo_file: str | None = None
    category: str | None = None
    """The new category; an empty string removes it."""
    content: NewItem | None = None
    """The new content: only its locators, ``file_index`` and ``is_live`` count."""


@dataclass(frozen=True, slots=True)
class PlaylistPage:
    total_items: int
    items: list[ItemRow]


@dataclass(frozen=True, slots=True)
class Facets:
    """What an owner's items (the trash left out) are filed under, sorted case-blind."""

    categories: list[str]
    tags: list[str]


def check_owner(owner: str | None) -> str:
    if owner is None or owner == "":
        return NO_OWNER
    if len(owner) > 255 or any(ch.isspace() for ch in owner):
        raise InvalidInput("invalid owner", field="owner")
    return owner


class PlaylistService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_item(self, owner: str, new: NewItem) -> int:
        row = new.to_row(check_owner(owner), int(time.time()))
        async with self._db.write() as conn:
            return await playlist_repo.insert(conn, row)

    async def get_item(self, item_id: int, owner: str | None = None) -> ItemRow:
        async with self._db.read() as conn:
            return await self._owned(conn, item_id, owner)

    async def update_item(self, item_id: int, changes: ItemChanges, *, viewer: int = 0) -> None:
        async with self._db.write() as conn:
            item = await self._owned(conn, item_id, None)
            _refuse_locked([item])
            values: dict[str, object] = {"updated_at": int(time.time())}
            if changes.title is not None:
                if not changes.title.strip():
                    raise InvalidInput("title cannot be empty", field="title")
                values["display_title"] = changes.title.strip()
            if changes.poster is not None:
                values["poster"] = changes.poster
            if changes.auto_search is not None:
                values["auto_search"] = changes.auto_search
            if changes.is_favorite is not None:
                await playlist_repo.set_favorite(
                    conn, [item_id], viewer, changes.is_favorite, int(time.time())
                )
            if changes.tags is not None:
                values["tags"] = changes.tags
            if changes.logo_file is not None:
                values["logo_file"] = changes.logo_file
            if changes.category is not None:
                values["category"] = changes.category.strip() or None
            if changes.content is not None:
                values.update(_content_values(item, changes.content))
            await playlist_repo.update_values(conn, [item_id], values)

    async def delete_items(self, item_ids: Sequence[int], owner: str | None) -> None:
        """Move items to the trash; all or nothing."""
        async with self._db.write() as conn:
            items = await self._owned_many(conn, item_ids, owner)
            _refuse_locked(items)
            await playlist_repo.update_values(
                conn, list(item_ids), {"is_deleted": True, "updated_at": int(time.time())}
            )

    async def restore_item(self, item_id: int, owner: str | None) -> None:
        async with self._db.write() as conn:
            item = await self._owned(conn, item_id, owner)
            if not item.is_deleted:
                raise NotFound(f"item {item_id} is not in the trash")
            await playlist_repo.update_values(
                conn, [item_id], {"is_deleted": False, "updated_at": int(time.time())}
            )

    async def page(self, flt: ItemFilter) -> PlaylistPage:
        async with self._db.read() as conn:
            total = await playlist_repo.count_items(conn, flt)
            items = await playlist_repo.list_items(conn, flt)
        return PlaylistPage(total, items)

    async def facets(self, owner: str) -> Facets:
        """The owner's distinct categories and tags, computed by the database."""
        owner = check_owner(owner)
        async with self._db.read() as conn:
            categories = await playlist_repo.categories(conn, owner)
            tags = await playlist_repo.tags(conn, owner)
        return Facets(sorted(categories, key=str.casefold), sorted(tags, key=str.casefold))

    async def clear_trash(self, owner: str) -> int:
        async with self._db.write() as conn:
            return await playlist_repo.delete_where(conn, owner=check_owner(owner), deleted=True)

    async def clear(self, owner: str) -> int:
        """Delete the owner's items for good, the trash included; locked items stay."""
        async with self._db.write() as conn:
            return await playlist_repo.delete_where(
                conn, owner=check_owner(owner), unlocked_only=True
            )

    async def set_flag(
        self, item_ids: Sequence[int], owner: str | None, flag: str, value: bool
    ) -> None:
        """Set ``enabled``, ``locked`` or ``auto_search``."""
        if flag not in {"enabled", "locked", "auto_search"}:
            raise InvalidInput(f"unknown flag {flag}")
        async with self._db.write() as conn:
            items = await self._owned_many(conn, item_ids, owner)
            if flag in {"enabled", "auto_search"}:
                _refuse_locked(items)
            await playlist_repo.update_values(
                conn, list(item_ids), {flag: value, "updated_at": int(time.time())}
            )

    async def set_favorite(
        self, item_ids: Sequence[int], owner: str | None, viewer: int, value: bool
    ) -> None:
        """Favorites are per viewer: a user id, or 0 for the instance itself."""
        async with self._db.write() as conn:
            await self._owned_many(conn, item_ids, owner)
            await playlist_repo.set_favorite(conn, item_ids, viewer, value, int(time.time()))

    async def record_analysis(
        self, item_id: int, *, is_live: int, content_id: str | None, infohash: str | None
    ) -> None:
        """Store what analysing an item's content found (liveness, ids it lacked)."""
        async with self._db.write() as conn:
            item = await self._owned(conn, item_id, None)
            values: dict[str, object] = {"updated_at": int(time.time())}
            if is_live in (0, 1):
                values["is_live"] = is_live
                values["content_type"] = content_type_of(is_live)
            if content_id and not item.content_id:
                values["content_id"] = content_id
            if infohash and not item.infohash:
                values["infohash"] = infohash
            await playlist_repo.update_values(conn, [item_id], values)

    async def _owned(self, conn: Connection, item_id: int, owner: str | None) -> ItemRow:
        item = await playlist_repo.get(conn, item_id, for_update=True)
        if item is None or (owner is not None and item.owner != check_owner(owner)):
            raise NotFound(f"playlist item {item_id} not found")
        return item

    async def _owned_many(
        self, conn: Connection, item_ids: Sequence[int], owner: str | None
    ) -> list[ItemRow]:
        if not item_ids:
            raise MissingParameter("no item ids given", field="ids")
        items = await playlist_repo.get_many(conn, item_ids, for_update=True)
        found = {item.id for item in items if owner is None or item.owner == check_owner(owner)}
        missing = [i for i in item_ids if i not in found]
        if missing:
            raise NotFound(f"playlist item(s) not found: {', '.join(map(str, missing))}")
        return items


def _content_values(item: ItemRow, content: NewItem) -> dict[str, object]:
    """The columns a content change sets: derived as ``add_item`` derives them, from the
    item's own (source) title; nothing if the item already plays this content."""
    if item.external_playlist_id is not None:
        # Its playlist's next refresh would not find it by hash_v2 and put the old back.
        raise Conflict(
            "an external playlist's item plays what that playlist says: edit the playlist",
            field="content",
        )
    row = replace(content, title=item.title).to_row(item.owner, item.updated_at)
    if row.hash_v2 == item.hash_v2:
        return {}  # the same content: what analysing it found still holds
    return {name: getattr(row, name) for name in _CONTENT_COLUMNS}


def _refuse_locked(items: Sequence[ItemRow]) -> None:
    locked = [item.id for item in items if item.locked]
    if locked:
        raise ItemLocked(
            f"item(s) {', '.join(map(str, locked))} locked: unlock before editing or deleting"
        )

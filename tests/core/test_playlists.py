"""Tests of tidecast.core.playlists on a real database (SQLite, and PostgreSQL when the
suite has it): the tag filter, an owner's categories and tags, and editing an item's
content. The engine API's tests cover the rest through its methods."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tidecast.core.errors import Conflict, ItemLocked, MissingParameter
from tidecast.core.playlists import (
    ItemChanges,
    ItemFilter,
    NewItem,
    PlaylistService,
    item_hashes,
)
from tidecast.storage import external_repo
from tidecast.storage.database import Database

OWNER, OTHER = "alice", "bob"
IH = "0a4848271c91ce2d8965ce416267c25047dc8141"
CID = "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
def playlists(db: Database) -> PlaylistService:
    return PlaylistService(db)


async def add(
    playlists: PlaylistService,
    title: str,
    *,
    owner: str = OWNER,
    category: str | None = None,
    tags: tuple[str, ...] = (),
) -> int:
    infohash = hashlib.sha1(f"{owner}/{title}".encode()).hexdigest()
    new = NewItem(title=title, infohash=infohash, category=category, tags=list(tags))
    return await playlists.add_item(owner, new)


async def titles(playlists: PlaylistService, **filters: Any) -> tuple[int, list[str]]:
    page = await playlists.page(ItemFilter(owner=OWNER, **filters))
    return page.total_items, [item.title for item in page.items]


# --- the tag filter ---------------------------------------------------------------------


async def test_the_tag_filter_matches_whole_tags(playlists: PlaylistService) -> None:
    await add(playlists, "News", category="TV", tags=("hd", "fr"))
    await add(playlists, "Sport", category="Sports", tags=("hd",))
    await add(playlists, "Film", tags=("hdr", "sd hd", "HD"))
    await add(playlists, "Plain")
    trashed = await add(playlists, "Trashed", tags=("hd",))
    await playlists.delete_items([trashed], OWNER)
    await add(playlists, "Theirs", owner=OTHER, tags=("hd",))

    assert await titles(playlists, tag="hd") == (2, ["News", "Sport"])
    assert await titles(playlists, tag="HD") == (1, ["Film"])  # case as stored
    assert await titles(playlists, tag="h") == (0, [])  # no part of a tag
    assert await titles(playlists, tag="sd hd") == (1, ["Film"])
    assert await titles(playlists, tag="hd", category="Sports") == (1, ["Sport"])
    assert await titles(playlists, tag="hd", search="new") == (1, ["News"])
    assert await titles(playlists, tag="hd", limit=1, offset=1) == (2, ["Sport"])
    assert await titles(playlists, tag="hd", deleted=True) == (1, ["Trashed"])


async def test_the_tag_filter_takes_any_character_literally(playlists: PlaylistService) -> None:
    odd = ('say "hi"', "100%", "a_b", "back\\slash", "é", "🎬", "[1]", "x, y")
    for n, tag in enumerate(odd):
        await add(playlists, f"Item {n}", tags=(tag,))
    await add(playlists, "Decoy", tags=("100x", "aXb", "e", 'say \\"hi\\"'))

    for n, tag in enumerate(odd):
        assert await titles(playlists, tag=tag) == (1, [f"Item {n}"]), tag
    assert await titles(playlists, tag="%") == (0, [])
    assert await titles(playlists, tag="") == (0, [])


async def test_the_favorite_filter_and_the_tag_filter_combine(
    playlists: PlaylistService,
) -> None:
    first = await add(playlists, "First", tags=("hd",))
    await add(playlists, "Second", tags=("hd",))
    await playlists.set_favorite([first], OWNER, 7, True)

    page = await playlists.page(ItemFilter(owner=OWNER, viewer=7, tag="hd", favorites_only=True))
    assert [(item.title, item.is_favorite) for item in page.items] == [("First", True)]


# --- categories and tags ----------------------------------------------------------------


async def test_facets_are_the_owners_distinct_categories_and_tags(
    playlists: PlaylistService,
) -> None:
    assert (await playlists.facets(OWNER)).categories == []
    await add(playlists, "A", category="sports", tags=("hd", "fr"))
    await add(playlists, "B", category="News", tags=("fr", "Été", "b"))
    await add(playlists, "C", category="sports")
    await add(playlists, "D", tags=("",))
    await add(playlists, "E", category="")
    trashed = await add(playlists, "Trashed", category="Trash only", tags=("trash-only",))
    await playlists.delete_items([trashed], OWNER)
    await add(playlists, "Theirs", owner=OTHER, category="Theirs", tags=("theirs",))

    facets = await playlists.facets(OWNER)

    assert facets.categories == ["News", "sports"]
    assert facets.tags == ["b", "fr", "hd", "Été"]
    assert (await playlists.facets(OTHER)).tags == ["theirs"]
    assert (await playlists.facets("_no_owner_")).categories == []


async def test_facets_follow_edits(playlists: PlaylistService) -> None:
    item_id = await add(playlists, "A", category="Old", tags=("old",))
    await playlists.update_item(item_id, ItemChanges(category="New", tags=["new", "two"]))

    facets = await playlists.facets(OWNER)

    assert (facets.categories, facets.tags) == (["New"], ["new", "two"])


# --- editing the content ----------------------------------------------------------------


async def test_editing_the_content_derives_it_as_adding_does(playlists: PlaylistService) -> None:
    item_id = await add(playlists, "Old", category="News", tags=("hd",))
    await playlists.update_item(item_id, ItemChanges(title="Renamed"))
    await playlists.record_analysis(item_id, is_live=1, content_id=None, infohash=None)
    before = await playlists.get_item(item_id)

    url = "https://cdn.example/live/index.m3u8"
    await playlists.update_item(item_id, ItemChanges(content=NewItem(hls_manifest_url=url)))

    after = await playlists.get_item(item_id)
    fresh = await playlists.get_item(
        await playlists.add_item(OWNER, NewItem(title="Old", hls_manifest_url=url))
    )
    assert (after.transport_type, after.hls_manifest_url) == ("hls", url)
    assert (after.hash, after.hash_v2) == (fresh.hash, fresh.hash_v2)
    assert (after.hash, after.hash_v2) == item_hashes("hls", url, "Old", None)
    assert (after.infohash, after.content_id, after.url) == (None, None, None)
    assert (after.is_live, after.content_type) == (-1, "vod")  # to be found again
    assert (after.title, after.display_title) == ("Old", "Renamed")
    assert (after.category, after.tags, after.created_at) == ("News", ["hd"], before.created_at)


async def test_a_content_edit_normalises_ids_and_keeps_the_file_index(
    playlists: PlaylistService,
) -> None:
    item_id = await add(playlists, "Item")

    content = NewItem(content_id=CID.upper(), file_index=3)
    await playlists.update_item(item_id, ItemChanges(content=content))

    after = await playlists.get_item(item_id)
    assert (after.transport_type, after.content_id, after.file_index) == ("bt", CID, 3)
    assert after.hash_v2 == item_hashes("bt", f"cid:{CID}", "Item", 3)[1]
    assert content.content_id == CID.upper()  # the caller's value is left alone


async def test_the_same_content_again_changes_nothing(playlists: PlaylistService) -> None:
    item_id = await playlists.add_item(OWNER, NewItem(title="Item", infohash=IH))
    await playlists.record_analysis(item_id, is_live=1, content_id=CID, infohash=None)

    await playlists.update_item(item_id, ItemChanges(content=NewItem(infohash=IH.upper())))

    after = await playlists.get_item(item_id)
    assert (after.infohash, after.content_id, after.is_live) == (IH, CID, 1)


async def test_content_another_item_has_is_accepted_as_adding_accepts_it(
    playlists: PlaylistService,
) -> None:
    await playlists.add_item(OWNER, NewItem(title="Item", infohash=IH))
    other = await playlists.add_item(OWNER, NewItem(title="Item", content_id=CID))

    await playlists.update_item(other, ItemChanges(content=NewItem(infohash=IH)))

    page = await playlists.page(ItemFilter(owner=OWNER))
    assert {item.hash_v2 for item in page.items} == {item_hashes("bt", f"ih:{IH}", "Item", None)[1]}


async def test_a_content_edit_is_refused_without_a_locator_locked_or_external(
    playlists: PlaylistService, db: Database
) -> None:
    item_id = await add(playlists, "Item")
    before = await playlists.get_item(item_id)
    with pytest.raises(MissingParameter):
        await playlists.update_item(item_id, ItemChanges(title="New", content=NewItem()))

    await playlists.set_flag([item_id], OWNER, "locked", True)
    with pytest.raises(ItemLocked):
        await playlists.update_item(item_id, ItemChanges(content=NewItem(content_id=CID)))

    async with db.write() as conn:
        playlist_id = await external_repo.insert(conn, _external_row())
    imported = await playlists.add_item(
        OWNER, NewItem(title="Imported", infohash=IH, external_playlist_id=playlist_id)
    )
    with pytest.raises(Conflict) as refused:
        await playlists.update_item(imported, ItemChanges(content=NewItem(content_id=CID)))
    assert refused.value.field == "content"

    after = await playlists.get_item(item_id)
    assert (after.display_title, after.infohash, after.content_id, after.hash_v2) == (
        None,
        before.infohash,
        None,
        before.hash_v2,
    )
    assert (await playlists.get_item(imported)).infohash == IH


def _external_row() -> dict[str, object]:
    return {
        "owner": OWNER,
        "type": "content",
        "category": "tv",
        "name": "List",
        "url": "http://127.0.0.1:9/list.m3u",
        "login": "",
        "password_encrypted": "",
        "update_interval": 3600,
        "created_at": 0,
        "updated_at": 0,
        "last_update": None,
        "next_update": 3600,
        "last_error": None,
        "item_count": 0,
        "epg_sources": [],
        "allow_private": True,
    }

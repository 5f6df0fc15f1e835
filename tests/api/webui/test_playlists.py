"""The playlist pages over the in-process app: lists and filters, forms and their errors,
the row buttons, the trash, imports and their task, external playlists, and that an
account reaches only its own playlist."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image

from tidecast.core.playlists import ItemFilter, NewItem, PlaylistItem
from tidecast.core.services import Services
from tidecast.core.users import User

from support.webui import PASSWORD, csrf_of, sign_in

IH = "0a4848271c91ce2d8965ce416267c25047dc8141"
NO_FILE = {"logo": ("", b"", "application/octet-stream")}
"""What a browser sends for a file input left empty (it makes the form multipart)."""


async def signed_in(client: httpx.AsyncClient, login: str) -> str:
    """Sign ``login`` in on ``client``; returns the session's CSRF token."""
    assert (await sign_in(client, login)).status_code == 303
    return csrf_of((await client.get("/webui/playlist")).text)


@pytest.fixture
async def alice(services: Services) -> User:
    return await services.accounts.create("alice", PASSWORD, trusted=True)


@pytest.fixture
async def token(client: httpx.AsyncClient, alice: User) -> str:
    return await signed_in(client, "alice")


async def add(
    services: Services, owner: str, title: str, *, category: str | None = None, tags: Any = ()
) -> int:
    """An item with its own infohash, added by the core as any surface would."""
    infohash = hashlib.sha1(title.encode()).hexdigest()
    new = NewItem(title=title, infohash=infohash, category=category, tags=list(tags))
    return await services.playlists.add_item(owner, new)


async def item(services: Services, item_id: int, owner: str = "alice") -> PlaylistItem:
    return await services.playlists.get_item(item_id, owner)


async def titles(services: Services, owner: str = "alice", *, deleted: bool = False) -> list[str]:
    page = await services.playlists.page(ItemFilter(owner=owner, deleted=deleted))
    return [i.display_title or i.title for i in page.items]


def rows(html: str) -> list[str]:
    """The titles of the list's rows, in order."""
    return re.findall(r'<div class="named">(?:<img[^>]*>)?<span>([^<]*)</span>', html)


async def act(
    client: httpx.AsyncClient, token: str, item_id: int, action: str, value: str = "1"
) -> httpx.Response:
    return await client.post(
        f"/webui/playlist/item/{item_id}/{action}",
        data={"csrf_token": token, "value": value, "back": "/webui/playlist?q=a"},
    )


async def test_signed_out_browsers_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    reply = await client.get("/webui/playlist/trash")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/login?next=%2Fwebui%2Fplaylist%2Ftrash"


async def test_the_list_searches_filters_and_pages(
    client: httpx.AsyncClient, services: Services, token: str, alice: User
) -> None:
    assert alice.id is not None
    await add(services, "alice", "News One", category="News", tags=["hd", "fr"])
    await add(services, "alice", "Sport Two", category="Sports", tags=["hd"])
    films = await add(services, "alice", "Film Three", category="Movies")
    await services.playlists.set_favorite([films], "alice", alice.id, True)

    everything = await client.get("/webui/playlist")
    assert everything.status_code == 200
    assert rows(everything.text) == ["News One", "Sport Two", "Film Three"]
    assert "<option>Movies</option>" in everything.text  # the category filter's choices
    assert "<option>fr</option>" in everything.text  # the tag filter's choices

    search = await client.get("/webui/playlist", params={"q": "two"})
    assert rows(search.text) == ["Sport Two"]
    category = await client.get("/webui/playlist", params={"category": "News"})
    assert rows(category.text) == ["News One"]
    assert "<option selected>News</option>" in category.text
    tag = await client.get("/webui/playlist", params={"tag": "hd", "q": "o"})
    assert rows(tag.text) == ["News One", "Sport Two"]
    favorites = await client.get("/webui/playlist", params={"favorites": "1"})
    assert rows(favorites.text) == ["Film Three"]
    nothing = await client.get("/webui/playlist", params={"q": "zzz"})
    assert rows(nothing.text) == []
    assert "No item matches these filters" in nothing.text

    for n in range(50):
        await add(services, "alice", f"Filler {n:02}")
    first = await client.get("/webui/playlist")
    assert len(rows(first.text)) == 50
    assert "Page 1 of 2" in first.text
    second = await client.get("/webui/playlist", params={"page": "2"})
    assert rows(second.text) == ["Filler 47", "Filler 48", "Filler 49"]
    assert 'href="/webui/playlist" rel="prev"' in second.text


async def test_a_watch_link_names_the_items_content(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    await services.playlists.add_item("alice", NewItem(title="Channel", infohash=IH))
    page = await client.get("/webui/playlist")
    assert f'href="/webui/watch?content={IH}"' in page.text


async def test_adding_with_bad_values_shows_errors_next_to_fields_and_adds_nothing(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    bad = {"csrf_token": token, "content": "ftp://example.com/x", "title": "", "tags": "x" * 65}
    reply = await client.post("/webui/playlist/add", data=bad, files=NO_FILE)
    assert reply.status_code == 400
    assert 'id="content-error">This is not a magnet' in reply.text
    assert 'aria-describedby="content-hint content-error"' in reply.text
    assert 'id="tags-error">A tag may have at most 64 characters.' in reply.text
    assert 'value="ftp://example.com/x"' in reply.text  # what was typed is kept
    assert 'id="title-error"' not in reply.text  # asked for once the content is good
    playlist = {"csrf_token": token, "content": "http://example.com/list.m3u", "title": "L"}
    reply = await client.post("/webui/playlist/add", data=playlist, files=NO_FILE)
    assert reply.status_code == 400
    assert 'id="content-error">This is a playlist' in reply.text
    untitled = {"csrf_token": token, "content": IH}
    reply = await client.post("/webui/playlist/add", data=untitled, files=NO_FILE)
    assert reply.status_code == 400
    assert 'id="title-error">Give the item a title.' in reply.text
    not_an_image = {"logo": ("logo.png", b"not an image", "image/png")}
    named = {"csrf_token": token, "content": IH, "title": "T"}
    reply = await client.post("/webui/playlist/add", data=named, files=not_an_image)
    assert reply.status_code == 400
    assert 'id="logo-error">' in reply.text
    assert await titles(services) == []


async def test_adding_an_item(client: httpx.AsyncClient, services: Services, token: str) -> None:
    form = {
        "csrf_token": token,
        "content": f"magnet:?xt=urn:btih:{IH}&dn=Big+Buck+Bunny",
        "category": " Films ",
        "tags": "hd, cartoon, hd,",
    }
    reply = await client.post("/webui/playlist/add", data=form, files=NO_FILE)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/playlist?notice=added"
    [added] = (await services.playlists.page(ItemFilter(owner="alice"))).items
    assert added.title == "Big Buck Bunny"  # the magnet's name when no title is given
    assert added.infohash == IH
    assert added.url is not None and added.url.startswith("magnet:")
    assert added.category == "Films"
    assert added.tags == ["hd", "cartoon"]
    page = await client.get(reply.headers["location"])
    assert 'id="page-notice">The item was added.' in page.text


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


async def test_an_items_icon_is_uploaded_and_shown(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    form = {"csrf_token": token, "content": IH, "title": "With icon"}
    logo = {"logo": ("logo.png", png(), "image/png")}
    assert (await client.post("/webui/playlist/add", data=form, files=logo)).status_code == 303
    [added] = (await services.playlists.page(ItemFilter(owner="alice"))).items
    assert added.logo_file
    page = await client.get("/webui/playlist")
    assert f'src="/webui/playlist/item/{added.id}/icon"' in page.text
    icon = await client.get(f"/webui/playlist/item/{added.id}/icon")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert icon.content == png()


async def test_editing_an_item(client: httpx.AsyncClient, services: Services, token: str) -> None:
    item_id = await add(services, "alice", "Old", category="News", tags=["a"])
    form = await client.get(f"/webui/playlist/item/{item_id}/edit")
    assert form.status_code == 200
    assert 'value="Old"' in form.text
    same_title = {"csrf_token": token, "title": "Old", "category": "Sports", "tags": "a"}
    reply = await client.post(
        f"/webui/playlist/item/{item_id}/edit", data=same_title, files=NO_FILE
    )
    assert reply.status_code == 303
    stored = await item(services, item_id)
    assert stored.category == "Sports"
    assert stored.display_title is None  # an unchanged title is not made a rename

    empty = {"csrf_token": token, "title": " ", "category": "X", "tags": ""}
    reply = await client.post(f"/webui/playlist/item/{item_id}/edit", data=empty, files=NO_FILE)
    assert reply.status_code == 400
    assert 'id="title-error">Give the item a title.' in reply.text
    assert (await item(services, item_id)).category == "Sports"

    renamed = {"csrf_token": token, "title": "New", "category": "", "tags": "b, c"}
    reply = await client.post(f"/webui/playlist/item/{item_id}/edit", data=renamed, files=NO_FILE)
    assert reply.status_code == 303
    stored = await item(services, item_id)
    assert (stored.display_title, stored.title, stored.category, stored.tags) == (
        "New",
        "Old",
        None,
        ["b", "c"],
    )


async def test_editing_an_items_content(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    item_id = await add(services, "alice", "Channel", category="News", tags=["hd"])
    form = await client.get(f"/webui/playlist/item/{item_id}/edit")
    assert f'value="{hashlib.sha1(b"Channel").hexdigest()}"' in form.text  # the content box
    fields = {"csrf_token": token, "title": "Channel", "category": "News", "tags": "hd"}

    bad = {**fields, "content": "ftp://example.com/x"}
    reply = await client.post(f"/webui/playlist/item/{item_id}/edit", data=bad, files=NO_FILE)
    assert reply.status_code == 400
    assert 'id="content-error">This is not a magnet' in reply.text
    assert 'value="ftp://example.com/x"' in reply.text  # kept as typed
    assert (await item(services, item_id)).infohash == hashlib.sha1(b"Channel").hexdigest()

    url = "https://cdn.example/live/index.m3u8"
    reply = await client.post(
        f"/webui/playlist/item/{item_id}/edit", data={**fields, "content": url}, files=NO_FILE
    )
    assert reply.status_code == 303
    stored = await item(services, item_id)
    assert (stored.transport_type, stored.hls_manifest_url, stored.infohash) == ("hls", url, None)
    assert (stored.title, stored.display_title, stored.category, stored.tags) == (
        "Channel",
        None,
        "News",
        ["hd"],
    )
    listed = await client.get("/webui/playlist")
    assert f"/webui/watch?content={quote(url, safe='')}" in listed.text

    # An external playlist's item shows what it plays, without a box to change it.
    external = await services.external.add(
        "alice",
        type="broadcast",
        category="TV",
        name="List",
        url="http://127.0.0.1:9/list.m3u",
        update_interval=3600,
        update_now=False,
        caller_is_local=True,
    )
    imported = await services.playlists.add_item(
        "alice", NewItem(title="Imported", infohash=IH, external_playlist_id=external)
    )
    form = await client.get(f"/webui/playlist/item/{imported}/edit")
    assert 'id="content"' not in form.text
    assert "comes from an external playlist" in form.text
    renamed = {**fields, "title": "Renamed"}
    reply = await client.post(f"/webui/playlist/item/{imported}/edit", data=renamed, files=NO_FILE)
    assert reply.status_code == 303
    assert (await item(services, imported)).display_title == "Renamed"
    forced = {**fields, "content": url}
    reply = await client.post(f"/webui/playlist/item/{imported}/edit", data=forced, files=NO_FILE)
    assert reply.status_code == 409
    assert "an external playlist&#39;s item plays what that playlist says" in reply.text
    assert (await item(services, imported)).infohash == IH


async def test_favorite_lock_and_enable(
    client: httpx.AsyncClient, services: Services, token: str, alice: User
) -> None:
    item_id = await add(services, "alice", "Channel")
    reply = await act(client, token, item_id, "favorite")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/playlist?q=a&notice=favorite"
    assert alice.id is not None
    flt = ItemFilter(owner="alice", viewer=alice.id, favorites_only=True)
    assert [i.id for i in (await services.playlists.page(flt)).items] == [item_id]
    assert ">Unfavorite<" in (await client.get("/webui/playlist")).text

    assert (await act(client, token, item_id, "enable", "0")).status_code == 303
    assert not (await item(services, item_id)).enabled

    assert (await act(client, token, item_id, "lock")).status_code == 303
    assert (await item(services, item_id)).locked
    page = await client.get("/webui/playlist")
    assert ">Unlock<" in page.text
    assert f"/webui/playlist/item/{item_id}/delete" not in page.text
    refused = await act(client, token, item_id, "delete")
    assert refused.status_code == 409
    assert 'id="page-error">' in refused.text and "locked" in refused.text
    assert not (await item(services, item_id)).is_deleted
    edit = {"csrf_token": token, "title": "Renamed", "category": "", "tags": ""}
    refused = await client.post(f"/webui/playlist/item/{item_id}/edit", data=edit, files=NO_FILE)
    assert refused.status_code == 409
    assert (await item(services, item_id)).display_title is None

    assert (await act(client, token, item_id, "lock", "0")).status_code == 303
    assert not (await item(services, item_id)).locked
    assert (await act(client, token, item_id, "favorite", "2")).status_code == 400


async def test_delete_to_the_trash_restore_and_empty_it(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    kept = await add(services, "alice", "Kept")
    gone = await add(services, "alice", "Gone")
    assert (await act(client, token, kept, "delete")).status_code == 303
    assert (await act(client, token, gone, "delete")).status_code == 303
    assert rows((await client.get("/webui/playlist")).text) == []
    trash = await client.get("/webui/playlist/trash")
    assert rows(trash.text) == ["Kept", "Gone"]

    back = {"csrf_token": token, "value": "1", "back": "/webui/playlist/trash"}
    reply = await client.post(f"/webui/playlist/item/{kept}/restore", data=back)
    assert reply.headers["location"] == "/webui/playlist/trash?notice=restored"
    assert rows((await client.get("/webui/playlist")).text) == ["Kept"]
    again = await client.post(f"/webui/playlist/item/{kept}/restore", data=back)
    assert again.status_code == 404  # not in the trash any more: the trash page says so
    assert 'id="page-error">' in again.text

    reply = await client.post("/webui/playlist/trash/empty", data={"csrf_token": token})
    assert reply.headers["location"] == "/webui/playlist/trash?notice=emptied"
    assert await titles(services, deleted=True) == []
    assert await titles(services) == ["Kept"]


async def test_an_action_never_returns_to_another_site(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    item_id = await add(services, "alice", "Channel")
    for back in ("https://evil.example/webui/playlist", "//evil.example/x", "/webui/watch"):
        data = {"csrf_token": token, "value": "1", "back": back}
        reply = await client.post(f"/webui/playlist/item/{item_id}/lock", data=data)
        assert reply.headers["location"] == "/webui/playlist?notice=locked"


async def test_posts_without_the_csrf_token_change_nothing(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    item_id = await add(services, "alice", "Channel")
    bad = "0" * 64
    for path in (f"item/{item_id}/delete", f"item/{item_id}/lock", "trash/empty", "external"):
        for data in ({}, {"csrf_token": bad}):
            reply = await client.post(f"/webui/playlist/{path}", data={"value": "1", **data})
            assert reply.status_code == 403, path
            assert "the form expired" in reply.text
    for path in ("add", "import", f"item/{item_id}/edit"):
        files = {"file": ("a.m3u", b"#EXTM3U\n", "audio/x-mpegurl")}
        form = {"csrf_token": bad, "content": IH, "title": "T", "category": "", "tags": ""}
        reply = await client.post(f"/webui/playlist/{path}", data=form, files=files)
        assert reply.status_code == 403, path
    stored = await item(services, item_id)
    assert (stored.is_deleted, stored.locked, stored.display_title) == (False, False, None)
    assert await titles(services) == ["Channel"]


async def test_another_accounts_playlist_is_out_of_reach(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    await services.accounts.create("bob", PASSWORD, trusted=True)
    theirs = await add(services, "bob", "Bob's channel")
    shared = await add(services, "_no_owner_", "Instance channel")
    await add(services, "alice", "Mine")
    assert rows((await client.get("/webui/playlist")).text) == ["Mine"]
    for other in (theirs, shared):
        assert (await client.get(f"/webui/playlist/item/{other}/edit")).status_code == 404
        assert (await client.get(f"/webui/playlist/item/{other}/icon")).status_code == 404
        for action in ("favorite", "lock", "enable", "delete", "restore"):
            assert (await act(client, token, other, action)).status_code == 404, action
        edit = {"csrf_token": token, "title": "Hacked", "category": "", "tags": ""}
        reply = await client.post(f"/webui/playlist/item/{other}/edit", data=edit, files=NO_FILE)
        assert reply.status_code == 404
    stored = await item(services, theirs, "bob")
    assert (stored.is_deleted, stored.locked, stored.enabled, stored.display_title) == (
        False,
        False,
        True,
        None,
    )
    # Bob's task and external playlist are not Alice's either.
    task_id = await services.imports.start_import("bob", await _spooled(services, b"#EXTM3U\n"))
    await services.tasks.wait(task_id)
    assert (await client.get(f"/webui/playlist/task/{task_id}")).status_code == 404
    assert (await client.get(f"/webui/playlist/task/{task_id}/status")).status_code == 404
    external = await services.external.add(
        "bob",
        type="broadcast",
        category="TV",
        name="Bob's list",
        url="http://127.0.0.1:9/list.m3u",
        update_interval=3600,
        update_now=False,
        caller_is_local=True,
    )
    assert "Bob&#39;s list" not in (await client.get("/webui/playlist/external")).text
    for verb in ("update", "remove"):
        reply = await client.post(
            f"/webui/playlist/external/{external}/{verb}", data={"csrf_token": token}
        )
        assert reply.status_code == 404
    assert len(await services.external.get(external, viewer="bob")) == 1


async def _spooled(services: Services, data: bytes) -> Path:
    return await services.imports.spool(io.BytesIO(data), 1024 * 1024)


M3U = b"""#EXTM3U
#EXTINF:-1 group-title="News" tvg-name="One",Channel One
acestream://0a4848271c91ce2d8965ce416267c25047dc8141
#EXTINF:-1 group-title="News",Channel Two
magnet:?xt=urn:btih:1b4848271c91ce2d8965ce416267c25047dc8141&dn=Two
#EXTINF:0,Film Three
http://example.com/film.mp4
#EXTINF:-1,Broken
ftp://example.com/nope
"""


async def test_an_import_runs_as_a_task_whose_progress_is_polled(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    empty = await client.post(
        "/webui/playlist/import",
        data={"csrf_token": token},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 400
    assert 'id="file-error">Choose an M3U file.' in empty.text

    files = {"file": ("channels.m3u", M3U, "audio/x-mpegurl")}
    reply = await client.post("/webui/playlist/import", data={"csrf_token": token}, files=files)
    assert reply.status_code == 303
    location = reply.headers["location"]
    found = re.fullmatch(r"/webui/playlist/task/(\d+)", location)
    assert found is not None
    task_id = int(found.group(1))
    await services.tasks.wait(task_id)

    status = await client.get(f"{location}/status")
    assert status.status_code == 200
    assert status.headers["cache-control"] == "no-store"
    assert status.json() == {"id": task_id, "state": "done", "progress": 100, "error": None}
    page = await client.get(location)
    assert '<progress id="task-progress" max="100" value="100"' in page.text
    assert "<dt>New items</dt><dd>3</dd>" in page.text
    assert "Line 9:" in page.text  # the unusable line is reported
    assert "playlist.js" not in page.text  # nothing left to follow
    assert rows((await client.get("/webui/playlist")).text) == [
        "Channel One",
        "Channel Two",
        "Film Three",
    ]


async def test_a_running_task_page_follows_itself(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    release = asyncio.Event()

    async def held(progress: object) -> None:
        await release.wait()

    task_id = await services.tasks.start("playlist_import", "alice", held)
    try:
        page = await client.get(f"/webui/playlist/task/{task_id}")
        assert '<script src="/webui/static/playlist.js" defer></script>' in page.text
        assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.text
        assert f'data-status-url="/webui/playlist/task/{task_id}/status"' in page.text
        status = (await client.get(f"/webui/playlist/task/{task_id}/status")).json()
        assert (status["state"], status["progress"]) == ("running", 0)
    finally:
        release.set()
        await services.tasks.wait(task_id)
    assert (await client.get("/webui/static/playlist.js")).status_code == 200


async def test_external_playlists_are_added_listed_updated_and_removed(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    form = {
        "csrf_token": token,
        "name": "My list",
        "url": "ftp://example.com/list.m3u",
        "category": "TV",
        "type": "broadcast",
        "interval": "0",
    }
    reply = await client.post("/webui/playlist/external", data=form)
    assert reply.status_code == 400
    assert 'id="url-error">The URL must start with http:// or https://.' in reply.text
    assert 'id="interval-error">Enter a whole number of minutes from 1' in reply.text
    assert await services.external.get(None, viewer="alice") == []

    # A closed loopback port: the update is attempted and its failure shown.
    form.update(url="http://127.0.0.1:9/list.m3u", interval="90")
    reply = await client.post("/webui/playlist/external", data=form)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/playlist/external?notice=external-added"
    [added] = await services.external.get(None, viewer="alice")
    assert (added.owner, added.update_interval) == ("alice", 5400)
    page = await client.get("/webui/playlist/external")
    assert "My list" in page.text
    assert "every 90 min" in page.text
    assert "Next update" in page.text

    reply = await client.post(
        f"/webui/playlist/external/{added.id}/update", data={"csrf_token": token}
    )
    assert reply.status_code == 303
    task_id = int(reply.headers["location"].rsplit("/", 1)[1])
    await services.tasks.wait(task_id)
    status = (await client.get(f"/webui/playlist/task/{task_id}/status")).json()
    assert status["state"] == "failed"
    assert status["error"]
    page = await client.get("/webui/playlist/external")
    assert 'class="external-error">Failed:' in page.text

    reply = await client.post(
        f"/webui/playlist/external/{added.id}/remove", data={"csrf_token": token}
    )
    assert reply.headers["location"] == "/webui/playlist/external?notice=external-removed"
    assert await services.external.get(None, viewer="alice") == []


async def test_page_numbers_that_are_no_numbers_show_the_first_page(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    item_id = await add(services, "alice", "Channel")
    for page in ("²", "9" * 5000, "0", "-1", "x"):
        reply = await client.get("/webui/playlist", params={"page": page})
        assert reply.status_code == 200
        assert rows(reply.text) == ["Channel"]
    await services.playlists.set_flag([item_id], "alice", "locked", True)
    for page in ("²", "9" * 5000):
        # A refused button renders the page it came from: that page's number is read too.
        data = {"csrf_token": token, "value": "1", "back": f"/webui/playlist?page={page}"}
        reply = await client.post(f"/webui/playlist/item/{item_id}/delete", data=data)
        assert reply.status_code == 409
        assert 'id="page-error">' in reply.text and rows(reply.text) == ["Channel"]
    assert not (await item(services, item_id)).is_deleted
    # A filter holding a NUL is no page to return to: the action returns to the list.
    data = {"csrf_token": token, "value": "0", "back": "/webui/playlist?q=%00"}
    reply = await client.post(f"/webui/playlist/item/{item_id}/lock", data=data)
    assert reply.headers["location"] == "/webui/playlist?notice=unlocked"


async def test_an_external_playlists_interval_must_be_a_number_of_minutes(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    form = {
        "csrf_token": token,
        "name": "My list",
        "url": "http://127.0.0.1:9/list.m3u",
        "category": "TV",
        "type": "broadcast",
    }
    for interval in ("²", "9" * 5000, "1.5", "-60", ""):
        reply = await client.post("/webui/playlist/external", data={**form, "interval": interval})
        assert reply.status_code == 400
        assert 'id="interval-error">Enter a whole number of minutes from 1' in reply.text
    assert await services.external.get(None, viewer="alice") == []

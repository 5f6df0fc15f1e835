"""Playlist methods of the engine API, as the seed documents them."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import Any

import httpx

from tidecast.core.services import Services

IH = "0a4848271c91ce2d8965ce416267c25047dc8141"
IH2 = "1b5959382d02df3e9a76df527378d36158ed9252"


class Engine:
    """A tiny client of /server/api with the token and api_version=3."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def call(self, method: str, **params: Any) -> Any:
        query = {"method": method, "token": self.token, "api_version": 3, **params}
        response = await self.client.get("/server/api", params=query)
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        body = await self.call(method, **params)
        assert body.get("error") is None, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> str:
        body = await self.call(method, **params)
        assert body["result"] is None, body
        return str(body["error"]["message"])


def engine(client: httpx.AsyncClient, token: str) -> Engine:
    return Engine(client, token)


async def test_add_and_get_item_with_documented_fields(
    client: httpx.AsyncClient, token: str
) -> None:
    e = engine(client, token)
    item_id = await e.ok(
        "playlist_add_item",
        infohash=IH,
        title="Test Channel",
        is_live=1,
        tags=json.dumps(["entertaining"]),
        category="tv",
    )
    assert isinstance(item_id, int)
    result = await e.ok("playlist_get")
    assert result["total_items"] == 1
    item = result["playlist"][0]
    assert item["id"] == item_id
    assert item["title"] == "Test Channel"
    assert item["display_title"] is None
    assert item["infohash"] == IH
    assert item["content_id"] is None
    assert item["transport_type"] == "bt"
    assert item["content_type"] == "live"
    assert item["is_live"] == 1
    assert item["tags"] == ["entertaining"]
    assert item["category"] == "tv"
    assert item["external_playlist_id"] == -1
    for flag, value in [
        ("is_favorite", False),
        ("enabled", True),
        ("locked", False),
        ("is_deleted", False),
        ("auto_search", False),
    ]:
        assert item[flag] is value
    assert re.fullmatch(r"[0-9a-f]{32}", item["hash"])
    assert re.fullmatch(r"[0-9a-f]{32}", item["hash_v2"])
    assert isinstance(item["created_at"], int) and item["created_at"] == item["updated_at"]
    assert item["icons"] == []
    assert item["playback_url"] == f"http://127.0.0.1:6878/ace/getstream?infohash={IH}"


async def test_add_item_validation(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    assert "required" in await e.error("playlist_add_item", title="no locator")
    assert "title" in await e.error("playlist_add_item", infohash=IH)
    assert "JSON" in await e.error("playlist_add_item", infohash=IH, title="t", tags="news")
    assert "is_live" in await e.error("playlist_add_item", infohash=IH, title="t", is_live=7)
    assert (await e.ok("playlist_get"))["total_items"] == 0


async def test_update_item_sets_display_title(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    item_id = await e.ok("playlist_add_item", infohash=IH, title="Test Channel")
    assert (
        await e.ok(
            "playlist_update_item",
            id=item_id,
            title="Test Channel 2",
            tags=json.dumps(["news"]),
            is_favorite=1,
        )
        is True
    )
    item = (await e.ok("playlist_get"))["playlist"][0]
    assert item["title"] == "Test Channel"
    assert item["display_title"] == "Test Channel 2"
    assert item["tags"] == ["news"]
    assert item["is_favorite"] is True
    assert "not found" in await e.error("playlist_update_item", id=9999, title="x")


async def test_delete_moves_to_trash_and_restore(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    first = await e.ok("playlist_add_item", infohash=IH, title="One")
    second = await e.ok("playlist_add_item", infohash=IH2, title="Two")
    assert await e.ok("playlist_delete_item", id=first) == "ok"
    assert [i["id"] for i in (await e.ok("playlist_get"))["playlist"]] == [second]
    trash = (await e.ok("playlist_trash_get", owner="_no_owner_"))["data"]
    assert [(i["id"], i["is_deleted"]) for i in trash] == [(first, True)]
    assert await e.ok("playlist_restore_item", id=first, owner="_no_owner_") == "ok"
    assert (await e.ok("playlist_get"))["total_items"] == 2
    assert "not in the trash" in await e.error("playlist_restore_item", id=first)
    assert await e.ok("playlist_delete_items", ids=f"{first},{second}", owner="_no_owner_") == "ok"
    assert (await e.ok("playlist_get"))["total_items"] == 0
    assert await e.ok("playlist_trash_clear", owner="_no_owner_") == "ok"
    assert (await e.ok("playlist_trash_get"))["data"] == []


async def test_locked_item_refuses_edits_and_deletion(
    client: httpx.AsyncClient, token: str
) -> None:
    e = engine(client, token)
    locked = await e.ok("playlist_add_item", infohash=IH, title="Locked")
    free = await e.ok("playlist_add_item", infohash=IH2, title="Free")
    assert await e.ok("playlist_item_set_locked", id=locked, value=1) is True
    assert "locked" in await e.error("playlist_update_item", id=locked, title="x")
    assert "locked" in await e.error("playlist_delete_item", id=locked)
    assert "locked" in await e.error("playlist_item_set_enabled", id=locked, value=0)
    # A batch that touches a locked item changes nothing.
    assert "locked" in await e.error("playlist_delete_items", ids=f"{free},{locked}")
    assert (await e.ok("playlist_get"))["total_items"] == 2
    # Favorites stay personal, even on a locked item.
    assert await e.ok("playlist_item_set_favorite", id=locked, value=1) is True
    assert await e.ok("playlist_clear") == "ok"
    remaining = (await e.ok("playlist_get"))["playlist"]
    assert [(i["id"], i["title"], i["locked"]) for i in remaining] == [(locked, "Locked", True)]
    assert await e.ok("playlist_item_set_locked", id=locked, value=0) is True
    assert await e.ok("playlist_update_item", id=locked, title="Edited") is True


async def test_flags(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    a = await e.ok("playlist_add_item", infohash=IH, title="A")
    b = await e.ok("playlist_add_item", infohash=IH2, title="B")
    assert await e.ok("playlist_item_set_favorite", id=a, value="true") is True
    assert await e.ok("playlist_items_set_enabled", ids=f"{a},{b}", value=0) is True
    assert await e.ok("playlist_item_set_auto_search", id=b, value=1, owner="_no_owner_") == "ok"
    items = {i["id"]: i for i in (await e.ok("playlist_get"))["playlist"]}
    assert items[a]["is_favorite"] is True and items[b]["is_favorite"] is False
    assert items[a]["enabled"] is False and items[b]["enabled"] is False
    assert items[b]["auto_search"] is True
    assert "owner" in await e.error("playlist_item_set_auto_search", id=b, value=1)
    assert "boolean" in await e.error("playlist_item_set_favorite", id=a, value="perhaps")
    assert "not found" in await e.error("playlist_item_set_favorite", id=4242, value=1)
    favorites = await e.ok("playlist_get", favorites=1)
    assert [i["id"] for i in favorites["playlist"]] == [a]


async def test_owners_are_separate(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    mine = await e.ok("playlist_add_item", infohash=IH, title="Alice's", owner="alice")
    await e.ok("playlist_add_item", infohash=IH2, title="Shared")
    assert [i["title"] for i in (await e.ok("playlist_get", owner="alice"))["playlist"]] == [
        "Alice's"
    ]
    assert [i["title"] for i in (await e.ok("playlist_get"))["playlist"]] == ["Shared"]
    assert "not found" in await e.error("playlist_restore_item", id=mine, owner="bob")
    assert "not found" in await e.error("playlist_delete_items", ids=str(mine), owner="bob")
    await e.ok("playlist_clear", owner="alice")
    assert (await e.ok("playlist_get"))["total_items"] == 1


PLAYLIST = """#EXTM3U url-tvg="http://epg.example/guide.xml.gz"
#EXTINF:-1 tvg-id="one.tv" tvg-logo="http://logo.example/one.png" group-title="News",One TV
acestream://{ih1}
#EXTINF:-1 group-title="Sport",Two HD
acestream:?infohash={ih2}
#EXTINF:0,Movie
magnet:?xt=urn:btih:{ih2}&dn=Movie
#EXTINF:-1,Live HLS
http://cdn.example/live/index.m3u8
#EXTINF:-1,Broken
ftp://nope.example/x
"""


async def _wait_task(e: Engine, task_id: int) -> dict[str, Any]:
    for _ in range(200):
        task: dict[str, Any] = await e.ok("get_task", task_id=task_id)
        if task["state"] != "running":
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")


async def test_import_export_round_trip(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    text = PLAYLIST.format(ih1="a" * 40, ih2=IH2)
    response = await client.post(
        "/server/api",
        params={"method": "playlist_import", "token": token, "api_version": 3},
        files={"file": ("list.m3u", io.BytesIO(text.encode()), "audio/x-mpegurl")},
    )
    task_id = response.json()["result"]["task_id"]
    assert isinstance(task_id, int)
    task = await _wait_task(e, task_id)
    assert task["state"] == "done", task
    assert task["progress"] == 100
    result = task["result"]
    assert result["imported"] == 4
    assert result["problem_count"] == 1
    assert result["problems"][0]["line"] == 11
    assert result["epg_sources"] == ["http://epg.example/guide.xml.gz"]
    items = {i["title"]: i for i in (await e.ok("playlist_get"))["playlist"]}
    assert items["One TV"]["content_id"] == "a" * 40
    assert items["One TV"]["category"] == "News"
    assert items["One TV"]["tvg_logo"] == "http://logo.example/one.png"
    assert items["Two HD"]["infohash"] == IH2
    assert items["Movie"]["url"].startswith("magnet:?") and items["Movie"]["is_live"] == 0
    assert items["Live HLS"]["transport_type"] == "hls"
    # Importing the same file again adds nothing.
    again = await client.post(
        "/server/api",
        params={"method": "playlist_import", "token": token},
        files={"file": ("list.m3u", io.BytesIO(text.encode()), "audio/x-mpegurl")},
    )
    second = await _wait_task(e, again.json()["result"]["task_id"])
    assert second["result"]["duplicates"] == 4
    exported = await client.get("/server/api", params={"method": "playlist_export", "token": token})
    assert exported.headers["content-type"].startswith("audio/x-mpegurl")
    lines = exported.text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert any(line.endswith(",One TV") and 'group-title="News"' in line for line in lines)
    assert f"http://127.0.0.1:6878/ace/getstream?content_id={'a' * 40}" in lines


async def test_import_requires_a_file(client: httpx.AsyncClient, token: str) -> None:
    body = (
        await client.post("/server/api", params={"method": "playlist_import", "token": token})
    ).json()
    assert "file" in body["error"]


async def test_get_task_unknown(client: httpx.AsyncClient, token: str) -> None:
    assert "not found" in await engine(client, token).error("get_task", task_id=999)


async def test_services_see_what_the_api_wrote(
    client: httpx.AsyncClient, token: str, services: Services
) -> None:
    from tidecast.storage.playlist_repo import ItemFilter

    await engine(client, token).ok("playlist_add_item", infohash=IH, title="Kept")
    page = await services.playlists.page(ItemFilter(owner="_no_owner_"))
    assert [i.title for i in page.items] == ["Kept"]


async def test_export_cannot_be_injected(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    item_id = await e.ok("playlist_add_item", infohash=IH, title="Safe")
    await e.ok("playlist_update_item", id=item_id, title="Evil\r\nhttp://evil.example/x.ts")
    exported = await client.get("/server/api", params={"method": "playlist_export", "token": token})
    lines = exported.text.splitlines()
    assert len(lines) == 3
    assert not any(line.startswith("http://evil") for line in lines)


async def test_playlist_get_filters_and_pages(client: httpx.AsyncClient, token: str) -> None:
    e = engine(client, token)
    for n, category in enumerate(["news", "sport", "news", "news"]):
        await e.ok(
            "playlist_add_item",
            title=f"Channel {n}",
            category=category,
            infohash=f"{n:040x}",
        )
    news = await e.ok("playlist_get", category="news")
    assert news["total_items"] == 3
    assert [i["title"] for i in news["playlist"]] == ["Channel 0", "Channel 2", "Channel 3"]
    page = await e.ok("playlist_get", category="news", offset=1, limit=1)
    assert page["total_items"] == 3
    assert [i["title"] for i in page["playlist"]] == ["Channel 2"]
    found = await e.ok("playlist_get", search="NEL 1")
    assert [i["title"] for i in found["playlist"]] == ["Channel 1"]
    assert "negative" in await e.error("playlist_get", offset=-1)

"""Content and external-playlist methods of the engine API, against a real local origin."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tidecast.core.services import Services

from support.origin import Origin, running_origin
from support.torrents import make_torrent

ClientFactory = Callable[[str], httpx.AsyncClient]
IH = "0a4848271c91ce2d8965ce416267c25047dc8141"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin() as state:
        yield state


@pytest.fixture(scope="module")
def torrent(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    data, _root = make_torrent(
        tmp_path_factory.mktemp("t"),
        {"Show/ep1.mkv": 40_000, "Show/ep2.mkv": 90_000, "Show/notes.txt": b"hello"},
        version="hybrid",
        name="Show",
    )
    return data


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> Any:
    response = await client.get("/server/api", params={"method": method, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_analyze_magnet_and_errors(client: httpx.AsyncClient) -> None:
    body = await call(
        client,
        "analyze_content",
        api_version=3,
        query=f"acestream:?magnet=magnet%3A%3Fxt%3Durn%3Abtih%3A{IH}%26dn%3DPromo",
    )
    result = body["result"]
    assert result["infohash"] == IH
    assert result["transport_type"] == "bt"
    assert result["content_type"] == "transport_file"
    assert result["title"] == "Promo"
    assert set(result) == {
        "content_type",
        "transport_type",
        "content_id",
        "infohash",
        "item_url",
        "title",
        "is_live",
        "categories",
    }
    bad = await call(client, "analyze_content", api_version=3, query="test")
    assert bad == {"result": None, "error": {"message": "unknown protocol", "code": 0}}
    multi = await call(
        client,
        "analyze_content_multi",
        api_version=3,
        query=[f"acestream:?infohash={IH}", "test"],
    )
    assert multi["result"][0]["result"]["infohash"] == IH
    assert multi["result"][1] == {"error": {"message": "unknown protocol", "code": 0}}


async def test_media_files_every_way(
    client: httpx.AsyncClient, origin: Origin, torrent: bytes
) -> None:
    origin.routes["/show.torrent"] = (torrent, "application/x-bittorrent")
    content_id = hashlib.sha1(torrent).hexdigest()
    by_url = (
        await call(client, "get_media_files", api_version=3, url=origin.url("/show.torrent"))
    )["result"]
    assert by_url["name"] == "Show"
    assert by_url["transport_type"] == "bt" and by_url["type"] == "vod"
    files = {f["filename"]: f for f in by_url["files"]}
    assert files["Show/ep2.mkv"]["size"] == 90_000
    assert files["Show/ep2.mkv"]["mime"] == "video/x-matroska"
    assert files["Show/notes.txt"]["mime"] == "text/plain"
    infohash = by_url["infohash"]
    # Remembered: resolves later by infohash and by content id.
    by_ih = (await call(client, "get_media_files", api_version=3, infohash=infohash))["result"]
    assert by_ih["files"] == by_url["files"]
    by_cid = await call(client, "get_media_files", api_version=3, content_id=content_id)
    assert by_cid["result"]["infohash"] == infohash
    legacy = (await call(client, "get_media_files", infohash=infohash))["result"]
    assert legacy == {str(f["index"]): f["filename"] for f in by_url["files"]}
    posted = await client.post(
        "/server/api",
        params={"method": "get_media_files", "api_version": 3},
        json={"transport_file_data": base64.b64encode(torrent).decode()},
    )
    assert posted.json()["result"]["name"] == "Show"
    cid = await call(client, "get_content_id", api_version=3, infohash=infohash)
    assert cid == {"result": {"content_id": content_id}, "error": None}
    unknown = await call(client, "get_media_files", api_version=3, infohash="f" * 40)
    assert unknown["error"] == {"message": "cannot get transport file", "code": 0}


async def test_remote_caller_cannot_reach_private_addresses(
    client_from: ClientFactory, services: Services, origin: Origin, torrent: bytes
) -> None:
    lan = next(
        (
            str(n.network_address + 1)
            for n in services.switches.networks()
            if n.version == 4 and n.num_addresses > 2
        ),
        None,
    )
    if lan is None:
        pytest.skip("no non-loopback interface")
    origin.routes["/remote.torrent"] = (torrent, "application/x-bittorrent")
    before = origin.total_hits()
    body = await call(client_from(lan), "get_media_files", url=origin.url("/remote.torrent"))
    assert body["result"] is None
    assert "private or loopback" in body["error"]
    assert origin.total_hits() == before


async def test_add_item_from_upload_with_logo(
    client: httpx.AsyncClient, token: str, torrent: bytes
) -> None:
    image = png()
    response = await client.post(
        "/server/api",
        params={"method": "playlist_add_item", "token": token, "api_version": 3},
        files={
            "file": ("show.torrent", torrent, "application/x-bittorrent"),
            "logo_file": ("logo.png", image, "image/png"),
        },
    )
    item_id = response.json()["result"]
    item = (await call(client, "playlist_get", token=token))["result"]["playlist"][0]
    assert item["id"] == item_id
    assert item["title"] == "Show"
    assert item["content_id"] == hashlib.sha1(torrent).hexdigest()
    assert item["icons"][0]["url"].endswith(f"method=get_channel_icon&id={item_id}")
    icon = await client.get("/server/api", params={"method": "get_channel_icon", "id": item_id})
    assert icon.headers["content-type"] == "image/png"
    assert icon.content == image
    not_image = await client.post(
        "/server/api",
        params={"method": "playlist_update_item", "token": token, "id": item_id},
        files={"logo_file": ("x.png", b"<svg onload=alert(1)>", "image/png")},
    )
    assert not_image.json()["result"] is None


async def test_channel_icon_fetched_once(
    client: httpx.AsyncClient, token: str, origin: Origin
) -> None:
    path = f"/one-{uuid.uuid4().hex}.png"  # the origin outlives one database's run
    origin.routes[path] = (png(), "image/png")
    item_id = (await call(client, "playlist_add_item", token=token, infohash=IH, title="One"))[
        "result"
    ]
    await call(client, "playlist_update_item", token=token, id=item_id, poster=origin.url(path))
    for _ in range(3):
        icon = await client.get("/server/api", params={"method": "get_channel_icon", "id": item_id})
        assert icon.status_code == 200 and icon.content == origin.routes[path][0]
    assert origin.hits[path] == 1
    missing = await call(client, "get_channel_icon", id=99999)
    assert missing["error"] == "unknown playlist item"


async def test_parse_m3u_playlist(client: httpx.AsyncClient, origin: Origin) -> None:
    origin.routes["/epg.m3u"] = (
        b'#EXTM3U url-tvg="http://epg.example/a.xml.gz,http://epg.example/b.xml" '
        b'x-tvg-url="http://epg.example/c.xml"\n#EXTINF:-1,One\nhttp://x.example/1.ts\n',
        "audio/x-mpegurl",
    )
    body = await call(client, "parse_m3u_playlist", api_version=3, url=origin.url("/epg.m3u"))
    assert body["result"] == {
        "epg_sources": [
            "http://epg.example/a.xml.gz",
            "http://epg.example/b.xml",
            "http://epg.example/c.xml",
        ]
    }


async def _wait(predicate: Callable[[], Any], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_external_playlist_lifecycle(
    client: httpx.AsyncClient, token: str, origin: Origin
) -> None:
    origin.routes["/ext.m3u"] = (
        b'#EXTM3U\n#EXTINF:-1 group-title="News",Ext One\nacestream://'
        + b"1" * 40
        + b"\n#EXTINF:-1,Ext Two\nacestream://"
        + b"2" * 40
        + b"\n",
        "audio/x-mpegurl",
    )
    added = await call(
        client,
        "external_playlist_add",
        token=token,
        type="content",
        category="tv",
        name="Ext",
        url=origin.url("/ext.m3u"),
        update_interval=86400,
        login="viewer",
        password="s3cret-pass",
    )
    playlist_id = added["result"]
    assert isinstance(playlist_id, int)

    async def imported() -> bool:
        got = await call(client, "external_playlist_get", token=token, id=playlist_id)
        return bool(got["result"]["playlist"][0]["last_update"])

    await _wait(imported)
    info = (await call(client, "external_playlist_get", token=token))["result"]["playlist"][0]
    assert info["name"] == "Ext" and info["type"] == "content" and info["category"] == "tv"
    assert info["login"] == "viewer" and info["password"] == "s3cret-pass"  # the owner sees it
    assert info["next_update"] == info["last_update"] + 86400
    items = (await call(client, "playlist_get", token=token))["result"]["playlist"]
    assert sorted(i["title"] for i in items) == ["Ext One", "Ext Two"]
    assert {i["external_playlist_id"] for i in items} == {playlist_id}
    origin.routes["/ext.m3u"] = (
        b"#EXTM3U\n#EXTINF:-1,Ext One\nacestream://" + b"1" * 40 + b"\n",
        "audio/x-mpegurl",
    )
    assert (await call(client, "external_playlist_update", token=token, id=playlist_id))[
        "result"
    ] == "ok"
    items = (await call(client, "playlist_get", token=token))["result"]["playlist"]
    assert [i["title"] for i in items] == ["Ext One"]
    edited = await call(
        client,
        "external_playlist_edit",
        token=token,
        id=playlist_id,
        category="films",
        name="Renamed",
        update_interval=3600,
    )
    assert edited["result"] == "ok"
    task = await call(client, "update_all_external_playlists", token=token)
    assert isinstance(task["result"]["task_id"], int)
    bad = await call(
        client,
        "external_playlist_add",
        token=token,
        type="radio",
        category="c",
        name="n",
        url=origin.url("/ext.m3u"),
        update_interval=86400,
    )
    assert bad["result"] is None and "type" in bad["error"]
    assert (await call(client, "external_playlist_delete", token=token, id=playlist_id))[
        "result"
    ] == "ok"
    assert (await call(client, "playlist_get", token=token))["result"]["total_items"] == 0
    gone = await call(client, "external_playlist_get", token=token, id=playlist_id)
    assert "not found" in gone["error"]


async def test_analyze_deferred_items_records_liveness(
    client: httpx.AsyncClient, token: str, origin: Origin
) -> None:
    origin.routes["/vod.m3u8"] = (
        b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
        b"#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n",
        "application/vnd.apple.mpegurl",
    )
    item_id = (
        await call(
            client,
            "playlist_add_item",
            token=token,
            title="Film",
            hls_manifest_url=origin.url("/vod.m3u8"),
            is_live=1,
        )
    )["result"]
    body = await call(
        client,
        "analyze_deferred_playlist_items",
        api_version=3,
        token=token,
        playlist_item_id=[item_id, 424242],
    )
    assert body["error"] is None, body
    first, second = body["result"]["items"]
    assert first["id"] == item_id and first["result"]["content_type"] == "hls"
    assert first["result"]["is_live"] == 0
    assert second["id"] == 424242 and "not found" in second["error"]["message"]
    item = (await call(client, "playlist_get", token=token))["result"]["playlist"][0]
    assert item["is_live"] == 0 and item["content_type"] == "vod"

"""Tests of ``tidecast.core.icons``: upload validation, and remote logos cached on disk.

Remote logos come from a real HTTP server (Starlette under uvicorn, in a thread) on
127.0.0.1 that counts the requests it serves.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from tidecast.core.errors import (
    ContentUnavailable,
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
)
from tidecast.core.icons import IconService
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage import playlist_repo
from tidecast.storage.database import Database
from tidecast.storage.playlist_repo import ItemRow

from support.origin import Origin

MAX_BYTES = 64 * 1024


def image_bytes(fmt: str, size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG", color="blue")
GIF = image_bytes("GIF", color="green")
WEBP = image_bytes("WEBP", color="yellow")
ICO = image_bytes("ICO", (16, 16))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect/></svg>'


# -- a loopback HTTP server ---------------------------------------------------------------


@pytest.fixture
def routes(origin: Origin) -> Origin:
    origin.hits.clear()
    origin.routes.clear()
    origin.routes.update(
        {
            "/logo.png": (PNG, "image/png"),
            "/poster.jpg": (JPEG, "image/jpeg"),
            "/fake.png": (b"this is not a PNG at all", "image/png"),
            "/huge.png": (PNG + b"\x00" * MAX_BYTES, "image/png"),
        }
    )
    return origin


@pytest.fixture
def icons_dir(tmp_path: Path) -> Path:
    return tmp_path / "icons"


@pytest.fixture
def icons(db: Database, fetcher: Fetcher, icons_dir: Path) -> IconService:
    return IconService(db, fetcher, icons_dir, MAX_BYTES)


async def add_item(db: Database, title: str, **values: object) -> int:
    item = ItemRow(
        owner="admin",
        title=title,
        transport_type="bt",
        content_type="transport_file",
        hash=hashlib.md5(title.encode()).hexdigest(),
        hash_v2=hashlib.md5(title.encode() + b"2").hexdigest(),
        created_at=0,
        updated_at=0,
        **values,  # type: ignore[arg-type]
    )
    async with db.write() as conn:
        return await playlist_repo.insert(conn, item)


# -- uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "extension"),
    [(PNG, "png"), (JPEG, "jpg"), (GIF, "gif"), (WEBP, "webp"), (ICO, "ico")],
)
async def test_upload_is_stored_byte_for_byte(
    icons: IconService, icons_dir: Path, data: bytes, extension: str
) -> None:
    key = await icons.store_upload(data)
    assert key == f"{hashlib.sha256(data).hexdigest()}.{extension}"
    assert (icons_dir / key).read_bytes() == data
    assert icons.path_of(key) == icons_dir / key
    assert await icons.store_upload(data) == key
    assert [p.name for p in icons_dir.iterdir()] == [key]


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        b"just text",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,  # a PNG signature and nothing valid after it
        PNG[: len(PNG) // 2],  # truncated
        image_bytes("BMP"),  # an image, but not a format icons come in
    ],
    ids=["svg", "text", "png-signature-only", "truncated-png", "bmp"],
)
async def test_upload_refuses_what_is_not_an_accepted_image(
    icons: IconService, icons_dir: Path, data: bytes
) -> None:
    with pytest.raises(InvalidInput):
        await icons.store_upload(data)
    assert not icons_dir.exists() or not any(icons_dir.iterdir())


async def test_upload_size_limits(
    icons: IconService, db: Database, fetcher: Fetcher, icons_dir: Path
) -> None:
    with pytest.raises(InvalidInput):
        await icons.store_upload(b"")
    big = image_bytes("PNG", (256, 256))
    small_limit = IconService(db, fetcher, icons_dir, len(big) - 1)
    with pytest.raises(PayloadTooLarge):
        await small_limit.store_upload(big)


async def test_upload_refuses_huge_dimensions(icons: IconService) -> None:
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < MAX_BYTES
    with pytest.raises(InvalidInput, match="pixels"):
        await icons.store_upload(buffer.getvalue())


@pytest.mark.parametrize(
    "key",
    [
        "../secret.png",
        "a" * 64 + ".svg",
        "A" * 64 + ".png",
        "a" * 63 + ".png",
        "a" * 64 + ".png/..",
        "cache/" + "a" * 64 + ".png",
        "",
    ],
)
def test_path_of_refuses_foreign_keys(icons: IconService, key: str) -> None:
    with pytest.raises(InvalidInput):
        icons.path_of(key)


# -- icons of items -----------------------------------------------------------------------


async def test_uploaded_logo_wins(icons: IconService, db: Database, routes: Origin) -> None:
    key = await icons.store_upload(GIF)
    item = await add_item(db, "One", logo_file=key, tvg_logo=routes.url("/logo.png"))
    assert await icons.icon(item_id=item, caller_is_local=False) == (GIF, "image/gif")
    assert routes.hits == {}


async def test_missing_upload_falls_back_to_the_logo_url(
    icons: IconService, db: Database, routes: Origin
) -> None:
    item = await add_item(db, "One", logo_file="b" * 64 + ".png", tvg_logo=routes.url("/logo.png"))
    assert await icons.icon(item_id=item, caller_is_local=True) == (PNG, "image/png")


async def test_remote_logo_is_fetched_once_and_cached_on_disk(
    icons: IconService, db: Database, fetcher: Fetcher, icons_dir: Path, routes: Origin
) -> None:
    url = routes.url("/logo.png")
    item = await add_item(db, "One", tvg_logo=url, poster=routes.url("/poster.jpg"))
    assert await icons.icon(item_id=item, caller_is_local=True) == (PNG, "image/png")
    assert await icons.icon(item_id=item, caller_is_local=True) == (PNG, "image/png")
    assert routes.hits == {"/logo.png": 1}
    cached = icons_dir / "cache" / f"{hashlib.sha256(url.encode()).hexdigest()}.png"
    assert cached.read_bytes() == PNG
    # The cache outlives the service: a restarted instance does not fetch again.
    restarted = IconService(db, fetcher, icons_dir, MAX_BYTES)
    assert await restarted.icon(item_id=item, caller_is_local=False) == (PNG, "image/png")
    assert routes.hits == {"/logo.png": 1}


async def test_concurrent_askers_share_one_fetch(
    icons: IconService, db: Database, routes: Origin
) -> None:
    import asyncio

    item = await add_item(db, "One", tvg_logo=routes.url("/logo.png"))
    results = await asyncio.gather(
        *(icons.icon(item_id=item, caller_is_local=True) for _ in range(5))
    )
    assert all(result == (PNG, "image/png") for result in results)
    assert routes.hits == {"/logo.png": 1}


async def test_stale_cache_is_refreshed_and_kept_when_upstream_fails(
    db: Database, fetcher: Fetcher, icons_dir: Path, routes: Origin
) -> None:
    icons = IconService(db, fetcher, icons_dir, MAX_BYTES, cache_seconds=60)
    url = routes.url("/logo.png")
    item = await add_item(db, "One", tvg_logo=url)
    await icons.icon(item_id=item, caller_is_local=True)
    cached = icons_dir / "cache" / f"{hashlib.sha256(url.encode()).hexdigest()}.png"
    old = time.time() - 120
    os.utime(cached, (old, old))
    routes.routes["/logo.png"] = (JPEG, "image/jpeg")
    assert await icons.icon(item_id=item, caller_is_local=True) == (JPEG, "image/jpeg")
    assert not cached.exists()  # one copy per URL, in its new format
    assert routes.hits == {"/logo.png": 2}
    jpeg = cached.with_suffix(".jpg")
    os.utime(jpeg, (old, old))
    del routes.routes["/logo.png"]
    assert await icons.icon(item_id=item, caller_is_local=True) == (JPEG, "image/jpeg")
    assert routes.hits == {"/logo.png": 3}


async def test_poster_when_there_is_no_logo(
    icons: IconService, db: Database, routes: Origin
) -> None:
    item = await add_item(db, "One", poster=routes.url("/poster.jpg"))
    assert await icons.icon(item_id=item, caller_is_local=True) == (JPEG, "image/jpeg")


async def test_poster_when_the_logo_fails(icons: IconService, db: Database, routes: Origin) -> None:
    item = await add_item(
        db, "One", tvg_logo=routes.url("/gone.png"), poster=routes.url("/poster.jpg")
    )
    assert await icons.icon(item_id=item, caller_is_local=True) == (JPEG, "image/jpeg")


@pytest.mark.parametrize("path", ["/fake.png", "/gone.png", "/huge.png"])
async def test_unusable_remote_logo_is_unavailable(
    icons: IconService, db: Database, icons_dir: Path, routes: Origin, path: str
) -> None:
    item = await add_item(db, "One", tvg_logo=routes.url(path))
    with pytest.raises(ContentUnavailable):
        await icons.icon(item_id=item, caller_is_local=True)
    assert not (icons_dir / "cache").exists() or not any((icons_dir / "cache").iterdir())


async def test_non_local_caller_cannot_make_tidecast_fetch_loopback(
    icons: IconService, db: Database, routes: Origin
) -> None:
    item = await add_item(db, "One", tvg_logo=routes.url("/logo.png"))
    with pytest.raises(FetchRefused):
        await icons.icon(item_id=item, caller_is_local=False)
    assert routes.hits == {}


async def test_inline_data_uri_logo(icons: IconService, db: Database) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    item = await add_item(db, "One", tvg_logo=uri)
    assert await icons.icon(item_id=item, caller_is_local=False) == (PNG, "image/png")
    svg = "data:image/svg+xml;base64," + base64.b64encode(SVG).decode()
    other = await add_item(db, "Two", tvg_logo=svg)
    with pytest.raises(ContentUnavailable):
        await icons.icon(item_id=other, caller_is_local=False)


async def test_item_found_by_hash_and_common_name(
    icons: IconService, db: Database, routes: Origin
) -> None:
    await add_item(db, "One", tvg_name="Channel One HD", tvg_logo=routes.url("/logo.png"))
    item_hash = hashlib.md5(b"One").hexdigest()
    assert await icons.icon(item_hash=item_hash, caller_is_local=True) == (PNG, "image/png")
    assert await icons.icon(common_name="channel one hd", caller_is_local=True) == (
        PNG,
        "image/png",
    )
    assert await icons.icon(common_name="ONE", caller_is_local=True) == (PNG, "image/png")


async def test_not_found(icons: IconService, db: Database) -> None:
    with pytest.raises(NotFound):
        await icons.icon(item_id=12345, caller_is_local=True)
    with pytest.raises(NotFound):
        await icons.icon(item_hash="0" * 32, caller_is_local=True)
    with pytest.raises(NotFound):
        await icons.icon(common_name="nobody", caller_is_local=True)
    bare = await add_item(db, "Bare")
    with pytest.raises(NotFound, match="no icon"):
        await icons.icon(item_id=bare, caller_is_local=True)
    with pytest.raises(MissingParameter):
        await icons.icon(caller_is_local=True)


async def test_logo_cache_stays_within_its_budget(
    db: Database, fetcher: Fetcher, icons_dir: Path, routes: Origin
) -> None:
    budget = len(PNG) * 2 + len(PNG) // 2  # room for two logos
    icons = IconService(db, fetcher, icons_dir, MAX_BYTES, cache_max_bytes=budget)
    for n in range(5):
        routes.routes[f"/logo{n}.png"] = (PNG, "image/png")
        item = await add_item(db, f"Channel {n}", tvg_logo=routes.url(f"/logo{n}.png"))
        assert await icons.icon(item_id=item, caller_is_local=True) == (PNG, "image/png")
    cached = list((icons_dir / "cache").iterdir())
    assert sum(p.stat().st_size for p in cached) <= budget
    assert len(cached) == 2
    newest = hashlib.sha256(routes.url("/logo4.png").encode()).hexdigest()
    assert (icons_dir / "cache" / f"{newest}.png").exists()

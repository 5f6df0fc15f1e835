"""Channel icons: uploaded logos, and remote logos fetched once and kept on disk.

An upload goes to an :class:`ImageStore` in the icons directory; its key is what a
playlist item keeps in ``logo_file``.

A remote logo (an item's ``tvg_logo``, else its ``poster``) is fetched through the
:class:`Fetcher` the first time it is asked for, validated the same way, and cached in
``<directory>/cache`` under the SHA-256 of its URL. A cached logo is served without a
fetch while it is younger than ``cache_seconds``; after that it is fetched again, and the
stale copy is still served if that fetch fails.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
import weakref
from pathlib import Path

from tidecast.core.errors import (
    ContentUnavailable,
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
    TidecastError,
)
from tidecast.core.image_store import (
    MIME_BY_EXTENSION,
    ImageStore,
    image_extension,
    write_atomically,
)
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage import playlist_repo
from tidecast.storage.database import Database
from tidecast.storage.playlist_repo import ItemRow

_ACCEPT = "image/png, image/jpeg, image/gif, image/webp, image/x-icon;q=0.9, image/*;q=0.5"


class IconService:
    """Stores uploaded icons and serves the icon of a playlist item."""

    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        directory: Path,
        max_bytes: int,
        *,
        cache_seconds: float = 7 * 24 * 3600,
        cache_max_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self._db = db
        self._fetcher = fetcher
        self._uploads = ImageStore(directory, max_bytes)
        self._cache_directory = directory / "cache"
        self._max_bytes = max_bytes
        self._cache_seconds = cache_seconds
        self._cache_max_bytes = cache_max_bytes
        # One fetch per URL at a time: concurrent askers wait for the first one's result.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def store_upload(self, data: bytes) -> str:
        """Validate and store an uploaded logo; return its key (see :class:`ImageStore`)."""
        return (await self._uploads.store(data)).key

    def path_of(self, key: str) -> Path:
        """The file of an uploaded logo; InvalidInput unless ``key`` is a name we make."""
        return self._uploads.path_of(key)

    async def icon(
        self,
        *,
        item_id: int | None = None,
        common_name: str | None = None,
        item_hash: str | None = None,
        caller_is_local: bool,
    ) -> tuple[bytes, str]:
        """``(bytes, mime)`` of the icon of the item found by id, else hash, else title.

        The item's uploaded ``logo_file`` wins, then ``tvg_logo``, then ``poster``.
        Raises NotFound when there is no such item or it has no icon,
        ContentUnavailable when no remote logo could be fetched as an image, and
        FetchRefused when a non-local caller's item points at a private address.
        """
        item = await self._find_item(item_id=item_id, common_name=common_name, item_hash=item_hash)
        if item is None:
            raise NotFound("unknown playlist item")
        if item.logo_file:
            uploaded = await self._read_upload(item.logo_file)
            if uploaded is not None:
                return uploaded
        urls = [url.strip() for url in (item.tvg_logo, item.poster) if url and url.strip()]
        if not urls:
            raise NotFound("the item has no icon")
        failure: TidecastError | None = None
        for url in urls:
            try:
                return await self._remote_icon(url, caller_is_local=caller_is_local)
            except (ContentUnavailable, FetchRefused) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def _find_item(
        self, *, item_id: int | None, common_name: str | None, item_hash: str | None
    ) -> ItemRow | None:
        async with self._db.read() as conn:
            if item_id is not None:
                return await playlist_repo.get(conn, item_id)
            if item_hash:
                return await playlist_repo.find_by_hash(conn, item_hash.strip())
            if common_name and common_name.strip():
                return await playlist_repo.find_by_title(conn, common_name.strip())
        raise MissingParameter("one of id, common_name or item_hash is required")

    async def _read_upload(self, key: str) -> tuple[bytes, str] | None:
        try:
            return await self._uploads.read(key)
        except NotFound:
            return None

    async def _remote_icon(self, url: str, *, caller_is_local: bool) -> tuple[bytes, str]:
        if url[:5].lower() == "data:":
            data = _data_uri_bytes(url)
            return data, MIME_BY_EXTENSION[await self._validated_extension(data)]
        key = hashlib.sha256(url.encode()).hexdigest()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = await asyncio.to_thread(self._cached, key)
            if cached is not None and cached[2]:
                return cached[0], cached[1]
            try:
                return await self._fetch_and_cache(url, key, caller_is_local=caller_is_local)
            except ContentUnavailable:
                if cached is None:
                    raise
                return cached[0], cached[1]

    async def _fetch_and_cache(
        self, url: str, key: str, *, caller_is_local: bool
    ) -> tuple[bytes, str]:
        try:
            result = await self._fetcher.fetch(
                url, caller_is_local=caller_is_local, max_bytes=self._max_bytes, accept=_ACCEPT
            )
        except PayloadTooLarge as exc:
            raise ContentUnavailable(f"the icon is larger than {self._max_bytes} bytes") from exc
        extension = await self._validated_extension(result.body)
        path = self._cache_directory / f"{key}.{extension}"
        await asyncio.to_thread(self._replace_cached, key, path, result.body)
        return result.body, MIME_BY_EXTENSION[extension]

    async def _validated_extension(self, data: bytes) -> str:
        if not data or len(data) > self._max_bytes:
            raise ContentUnavailable("the icon is empty or too large")
        try:
            return await asyncio.to_thread(image_extension, data)
        except InvalidInput as exc:
            raise ContentUnavailable(f"the icon is not usable: {exc.message}") from exc

    def _cached(self, key: str) -> tuple[bytes, str, bool] | None:
        """``(bytes, mime, fresh)`` of the cached copy of a URL, if there is one."""
        for extension, mime in MIME_BY_EXTENSION.items():
            path = self._cache_directory / f"{key}.{extension}"
            try:
                data = path.read_bytes()
                age = time.time() - path.stat().st_mtime
            except FileNotFoundError:
                continue
            return data, mime, age < self._cache_seconds
        return None

    def _replace_cached(self, key: str, path: Path, data: bytes) -> None:
        # The logo may have changed format upstream; only one copy per URL is kept.
        for extension in MIME_BY_EXTENSION:
            other = self._cache_directory / f"{key}.{extension}"
            if other != path:
                other.unlink(missing_ok=True)
        write_atomically(path, data)
        self._evict(keep=path)

    def _evict(self, keep: Path) -> None:
        """Drop the least recently fetched logos until the cache fits its byte budget."""
        entries = []
        for entry in self._cache_directory.iterdir():
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            entries.append((stat.st_mtime, stat.st_size, entry))
        total = sum(size for _mtime, size, _entry in entries)
        for _mtime, size, entry in sorted(entries):
            if total <= self._cache_max_bytes:
                break
            if entry != keep:
                entry.unlink(missing_ok=True)
                total -= size


def _data_uri_bytes(uri: str) -> bytes:
    # IPTV playlists inline small logos as data:image/png;base64,....
    header, comma, payload = uri.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise ContentUnavailable("the icon is an unsupported data URI")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ContentUnavailable("the icon is a malformed data URI") from exc

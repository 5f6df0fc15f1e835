"""Channel icons: uploaded logos, and remote logos fetched once and kept on disk.

An upload is stored byte for byte (never re-encoded) as ``<sha256>.<ext>`` in the icons
directory once Pillow has decoded it as PNG, JPEG, GIF, WebP or ICO; the name is the key a
playlist item keeps in ``logo_file``. SVG is refused: it is a document that can carry
scripts, not an image.

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
import io
import os
import re
import tempfile
import time
import weakref
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from tidecast.core.errors import (
    ContentUnavailable,
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
    TidecastError,
)
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage import playlist_repo
from tidecast.storage.database import Database
from tidecast.storage.playlist_repo import ItemRow

MAX_ICON_PIXELS = 4096 * 4096
"""Larger images are refused before decoding: no logo needs more, a bomb would."""

_FORMATS: dict[str, tuple[str, str]] = {
    # Pillow format name -> (file extension, MIME type)
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "MPO": ("jpg", "image/jpeg"),  # what Pillow calls a JPEG with camera extras
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
    "ICO": ("ico", "image/x-icon"),
}
# Pillow's openers to try; JPEG's also opens MPO files.
_OPENERS = ("PNG", "JPEG", "GIF", "WEBP", "ICO")
_MIME_BY_EXTENSION = {ext: mime for ext, mime in _FORMATS.values()}
_KEY = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|gif|webp|ico)")
_ACCEPT = "image/png, image/jpeg, image/gif, image/webp, image/x-icon;q=0.9, image/*;q=0.5"


def image_extension(data: bytes) -> str:
    """The extension of the image in ``data``; InvalidInput unless it fully decodes as one
    of the accepted formats within ``MAX_ICON_PIXELS``. CPU-bound: run it in a thread."""
    try:
        with Image.open(io.BytesIO(data), formats=_OPENERS) as image:
            fmt = image.format
            if image.width * image.height > MAX_ICON_PIXELS:
                raise InvalidInput(
                    f"image is {image.width}x{image.height} pixels, more than an icon needs"
                )
            # load() decodes the pixels, so a truncated or corrupt file is caught here.
            image.load()
    except UnidentifiedImageError:
        raise InvalidInput("not an image: expected PNG, JPEG, GIF, WebP or ICO") from None
    except TidecastError:
        raise
    # Pillow reports corrupt files with assorted exception classes.
    except Exception as exc:
        raise InvalidInput("the image is corrupt or truncated") from exc
    if fmt not in _FORMATS:
        raise InvalidInput("not an image: expected PNG, JPEG, GIF, WebP or ICO")
    return _FORMATS[fmt][0]


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
        self._directory = directory
        self._cache_directory = directory / "cache"
        self._max_bytes = max_bytes
        self._cache_seconds = cache_seconds
        self._cache_max_bytes = cache_max_bytes
        # One fetch per URL at a time: concurrent askers wait for the first one's result.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def store_upload(self, data: bytes) -> str:
        """Validate and store ``data``; return its key (``<sha256>.<ext>``).

        Raises InvalidInput for anything but a decodable PNG, JPEG, GIF, WebP or ICO,
        PayloadTooLarge over ``max_bytes``. Storing the same bytes twice is harmless.
        """
        data = bytes(data)
        if not data:
            raise InvalidInput("empty image")
        if len(data) > self._max_bytes:
            raise PayloadTooLarge(f"image is larger than {self._max_bytes} bytes")
        extension = await asyncio.to_thread(image_extension, data)
        key = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        path = self._directory / key
        if not await asyncio.to_thread(path.exists):
            await asyncio.to_thread(_write_atomically, path, data)
        return key

    def path_of(self, key: str) -> Path:
        """The file of an uploaded icon; InvalidInput unless ``key`` is a name we make."""
        if not _KEY.fullmatch(key):
            raise InvalidInput("not an icon key", field="logo_file")
        return self._directory / key

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
            path = self.path_of(key)
        except InvalidInput:
            return None
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        return data, _MIME_BY_EXTENSION[key.rsplit(".", 1)[1]]

    async def _remote_icon(self, url: str, *, caller_is_local: bool) -> tuple[bytes, str]:
        if url[:5].lower() == "data:":
            data = _data_uri_bytes(url)
            return data, _mime_of(await self._validated_extension(data))
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
        return result.body, _mime_of(extension)

    async def _validated_extension(self, data: bytes) -> str:
        if not data or len(data) > self._max_bytes:
            raise ContentUnavailable("the icon is empty or too large")
        try:
            return await asyncio.to_thread(image_extension, data)
        except InvalidInput as exc:
            raise ContentUnavailable(f"the icon is not usable: {exc.message}") from exc

    def _cached(self, key: str) -> tuple[bytes, str, bool] | None:
        """``(bytes, mime, fresh)`` of the cached copy of a URL, if there is one."""
        for extension, mime in _MIME_BY_EXTENSION.items():
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
        for extension in _MIME_BY_EXTENSION:
            other = self._cache_directory / f"{key}.{extension}"
            if other != path:
                other.unlink(missing_ok=True)
        _write_atomically(path, data)
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


def _mime_of(extension: str) -> str:
    return _MIME_BY_EXTENSION[extension]


def _data_uri_bytes(uri: str) -> bytes:
    # IPTV playlists inline small logos as data:image/png;base64,....
    header, comma, payload = uri.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise ContentUnavailable("the icon is an unsupported data URI")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ContentUnavailable("the icon is a malformed data URI") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise

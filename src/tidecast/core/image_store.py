"""Uploaded images, validated with Pillow and kept by content as ``<sha256>.<ext>``.

An image is stored byte for byte (never re-encoded) once Pillow has fully decoded it as
PNG, JPEG, GIF, WebP or ICO within :data:`MAX_IMAGE_PIXELS`. SVG is refused: it is a
document that can carry scripts, not an image. Only names of the stored form are ever
read back, so a key from a client can never address a file outside the store's folder.
Channel logos and avatars are two such stores.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from tidecast.core.errors import InvalidInput, NotFound, PayloadTooLarge, TidecastError

MAX_IMAGE_PIXELS = 4096 * 4096
"""Larger images are refused before decoding: no logo or avatar needs more, a bomb would."""

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
MIME_BY_EXTENSION = {ext: mime for ext, mime in _FORMATS.values()}
_KEY = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|gif|webp|ico)")


def image_extension(data: bytes) -> str:
    """The extension of the image in ``data``; InvalidInput unless it fully decodes as one
    of the accepted formats within ``MAX_IMAGE_PIXELS``. CPU-bound: run it in a thread."""
    try:
        with Image.open(io.BytesIO(data), formats=_OPENERS) as image:
            fmt = image.format
            if image.width * image.height > MAX_IMAGE_PIXELS:
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


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def is_key(key: object) -> bool:
    """Whether ``key`` has the form of a stored image's name."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class StoredImage:
    key: str
    mime: str
    size: int


class ImageStore:
    """One folder of uploaded images."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._directory = directory
        self._max_bytes = max_bytes

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def store(self, data: bytes) -> StoredImage:
        """Validate and keep ``data``; the same bytes twice give the same key.

        InvalidInput unless it decodes as an accepted image, PayloadTooLarge over the limit.
        """
        data = bytes(data)
        if not data:
            raise InvalidInput("empty file", field="file")
        if len(data) > self._max_bytes:
            raise PayloadTooLarge(f"image is larger than {self._max_bytes} bytes", field="file")
        extension = await asyncio.to_thread(image_extension, data)
        key = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        path = self._directory / key
        if not await asyncio.to_thread(path.exists):
            await asyncio.to_thread(write_atomically, path, data)
        return StoredImage(key, MIME_BY_EXTENSION[extension], len(data))

    def path_of(self, key: str) -> Path:
        """The file of a stored image; InvalidInput unless ``key`` is a name we make."""
        if not is_key(key):
            raise InvalidInput("not a stored image's key", field="file")
        return self._directory / key

    async def has(self, key: object) -> bool:
        return is_key(key) and await asyncio.to_thread(self.path_of(str(key)).is_file)

    async def read(self, key: str) -> tuple[bytes, str]:
        """``(bytes, mime)`` of a stored image; NotFound for anything else."""
        if not is_key(key):
            raise NotFound("no such image")
        try:
            data = await asyncio.to_thread(self.path_of(key).read_bytes)
        except FileNotFoundError:
            raise NotFound("no such image") from None
        return data, MIME_BY_EXTENSION[key.rsplit(".", 1)[1]]

"""Avatars: uploaded images kept as ``<sha256>.<ext>`` in DATA_DIR/avatars, served read-only.

An upload is stored byte for byte once Pillow has decoded it as PNG, JPEG, GIF, WebP or
ICO (the checks of :func:`tidecast.core.icons.image_extension`); its name is the key an
account keeps in ``avatar_file``. Only names of that form are ever read back, so a key
from a client can never address a file outside the avatars directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tidecast.core.errors import InvalidInput, NotFound, PayloadTooLarge
from tidecast.core.icons import image_extension

MIME_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "ico": "image/x-icon",
}
_KEY = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|gif|webp|ico)")


@dataclass(frozen=True, slots=True)
class StoredAvatar:
    key: str
    mime: str
    size: int


class AvatarStore:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._directory = directory
        self._max_bytes = max_bytes

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def store(self, data: bytes) -> StoredAvatar:
        """Validate and keep ``data``; the same bytes twice give the same key.

        InvalidInput unless it decodes as an accepted image, PayloadTooLarge over the limit.
        """
        if not data:
            raise InvalidInput("empty file", field="file")
        if len(data) > self._max_bytes:
            raise PayloadTooLarge(f"avatar is larger than {self._max_bytes} bytes", field="file")
        extension = await asyncio.to_thread(image_extension, data)
        key = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        path = self._directory / key
        if not await asyncio.to_thread(path.exists):
            await asyncio.to_thread(_write_atomically, path, data)
        return StoredAvatar(key, MIME_TYPES[extension], len(data))

    async def existing_key(self, key: object) -> str:
        """``key`` if it names a stored avatar; InvalidInput(field=avatar) otherwise."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidInput("avatar is not an uploaded file", field="avatar")
        if not await asyncio.to_thread((self._directory / key).is_file):
            raise InvalidInput("avatar is not an uploaded file", field="avatar")
        return key

    async def read(self, key: str) -> tuple[bytes, str]:
        """``(bytes, mime)`` of a stored avatar; NotFound for anything else."""
        if not _KEY.fullmatch(key):
            raise NotFound("no such avatar")
        try:
            data = await asyncio.to_thread((self._directory / key).read_bytes)
        except FileNotFoundError:
            raise NotFound("no such avatar") from None
        return data, MIME_TYPES[key.rsplit(".", 1)[1]]


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

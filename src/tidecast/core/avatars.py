"""Avatars: uploaded images in DATA_DIR/avatars; an account keeps the key in ``avatar_file``."""

from __future__ import annotations

from tidecast.core.errors import InvalidInput
from tidecast.core.image_store import ImageStore


class AvatarStore(ImageStore):
    async def existing_key(self, key: object) -> str:
        """``key`` if it names a stored avatar; InvalidInput(field=avatar) otherwise."""
        if not await self.has(key):
            raise InvalidInput("avatar is not an uploaded file", field="avatar")
        return str(key)

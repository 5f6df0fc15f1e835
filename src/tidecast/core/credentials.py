"""Credentials of the engine API: the instance's access token.

The token ``get_api_access_token`` hands to local callers is stable across restarts (as
the Ace Stream engine's is) without being stored in clear: it is derived from the
instance secret, and the credentials table holds only its SHA-256. Verification compares
hashes in constant time.
"""

from __future__ import annotations

import hmac
import time

from tidecast.core.errors import AuthenticationRequired
from tidecast.core.instance_secret import InstanceSecret, hash_token
from tidecast.storage import credentials_repo
from tidecast.storage.database import Database

ENGINE_API_KIND = "engine_api"


class EngineApiToken:
    """The one engine API token of this instance."""

    def __init__(self, db: Database, secret: InstanceSecret) -> None:
        self._db = db
        self._token = secret.derive("engine-api-token").hex()
        self._hash = hash_token(self._token)
        self._credential_id: int | None = None

    async def ensure_registered(self) -> None:
        """Record the token's hash; revoke a previous one (after a secret change)."""
        now = int(time.time())
        async with self._db.write() as conn:
            for row in await credentials_repo.find_active_of_kind(conn, ENGINE_API_KIND):
                if row.token_hash == self._hash:
                    self._credential_id = row.id
                else:
                    await credentials_repo.revoke(conn, row.id, now)
            if self._credential_id is None:
                self._credential_id = await credentials_repo.insert(
                    conn, kind=ENGINE_API_KIND, token_hash=self._hash, now=now, label="engine API"
                )

    def reveal(self) -> str:
        """The token in clear, for loopback callers of get_api_access_token only."""
        return self._token

    def verify(self, presented: str | None) -> None:
        if not presented:
            raise AuthenticationRequired("missing token")
        if not hmac.compare_digest(hash_token(presented), self._hash):
            raise AuthenticationRequired("invalid token")

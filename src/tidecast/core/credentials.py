"""Credentials: the engine API's access token and the bearer tokens of every surface.

The token ``get_api_access_token`` hands to local callers is stable across restarts (as
the Ace Stream engine's is) without being stored in clear: it is derived from the
instance secret, and the credentials table holds only its SHA-256. Verification compares
hashes in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

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


COMMAND_KIND = "command"
"""Tokens of the user command surface (seed 003), returned by ``login``."""
ENGINE_SESSION_KIND = "engine_session"
"""The account signed in on the engine API (``sign_in``)."""
ONLINE_KIND = "online"
"""Tokens this instance issues to other instances for accounts it is home to."""
WEB_KIND = "web"
"""Sessions of the web UI (``/webui/``), carried in an HttpOnly cookie."""

_CACHE_SECONDS = 5.0
_TOUCH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class TokenInfo:
    credential_id: int
    kind: str
    owner: str
    device: str | None
    expires_at: int | None


class TokenService:
    """Random bearer tokens of every kind, stored as SHA-256 hashes in one table.

    A verified token is remembered for a few seconds, so checking it costs a dictionary
    lookup on most requests; revoking through this service forgets it at once.
    """

    def __init__(self, db: Database, lifetime_seconds: int) -> None:
        self._db = db
        self._lifetime = lifetime_seconds
        self._cache: dict[str, tuple[TokenInfo, float]] = {}
        self._touched: dict[int, float] = {}

    async def issue(
        self,
        kind: str,
        owner: str,
        *,
        device: str | None = None,
        lifetime: int | None = None,
        label: str = "",
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        seconds = self._lifetime if lifetime is None else lifetime
        async with self._db.write() as conn:
            await credentials_repo.insert(
                conn,
                kind=kind,
                token_hash=hash_token(token),
                now=now,
                owner=owner,
                device=device,
                label=label,
                expires_at=now + seconds if seconds > 0 else None,
            )
        return token

    async def verify(self, token: str | None, kinds: set[str]) -> TokenInfo:
        if not token:
            raise AuthenticationRequired("missing token")
        digest = hash_token(token)
        now = time.time()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[1] < _CACHE_SECONDS:
            info = cached[0]
        else:
            async with self._db.read() as conn:
                row = await credentials_repo.find_by_hash(conn, digest)
            if row is None or row.revoked_at is not None or row.owner is None:
                self._cache.pop(digest, None)
                raise AuthenticationRequired("invalid token")
            info = TokenInfo(row.id, row.kind, row.owner, row.device, row.expires_at)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (info, now)
        if info.kind not in kinds or (info.expires_at is not None and info.expires_at < now):
            raise AuthenticationRequired("invalid token")
        if now - self._touched.get(info.credential_id, 0) > _TOUCH_SECONDS:
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[info.credential_id] = now
            async with self._db.write() as conn:
                await credentials_repo.touch(conn, info.credential_id, int(now))
        return info

    async def revoke(self, token: str) -> None:
        digest = hash_token(token)
        self._cache.pop(digest, None)
        async with self._db.write() as conn:
            row = await credentials_repo.find_by_hash(conn, digest)
            if row is not None and row.revoked_at is None:
                await credentials_repo.revoke(conn, row.id, int(time.time()))

    async def revoke_id(self, credential_id: int) -> None:
        """Revoke one credential by its row id (a listed API key), forgotten at once."""
        async with self._db.write() as conn:
            await credentials_repo.revoke(conn, credential_id, int(time.time()))
        self._cache = {
            digest: entry
            for digest, entry in self._cache.items()
            if entry[0].credential_id != credential_id
        }

    async def revoke_owner(self, owner: str, kinds: set[str] | None = None) -> None:
        """Revoke every token of an account (deleted, renamed, password reset)."""
        async with self._db.write() as conn:
            await credentials_repo.revoke_owner(conn, owner, kinds, int(time.time()))
        self._cache = {
            digest: entry for digest, entry in self._cache.items() if entry[0].owner != owner
        }

"""Streaming servers: this instance and the tidecast nodes that joined it.

This instance is always one server (``is_self``), described by the ``server_*`` settings
and counted live: its active connections are its playback sessions. A node joins with a
one-time join token (``create_join_token``, ``tidecast node token``) and reports its
sessions and load in heartbeats; one silent for :data:`MISSED_HEARTBEATS` intervals is
shown unavailable. A node's heartbeat secret is stored as a SHA-256 only.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pycountry

from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    NotFound,
)
from tidecast.core.instance_secret import hash_token
from tidecast.core.integers import INT_MAX
from tidecast.storage import credentials_repo, servers_repo
from tidecast.storage.database import Database
from tidecast.storage.servers_repo import ServerRow

JOIN_KIND = "node_join"
"""One-time tokens with which a node joins this instance."""
JOIN_TOKEN_SECONDS = 3600
MISSED_HEARTBEATS = 3
PING_PATH = "/api/ping"


@dataclass(frozen=True, slots=True)
class Server:
    id: int
    name: str
    country: str
    country_code: str
    city: str
    base_url: str  # "" for this instance without public_url: the caller's own base
    ping_url: str
    is_self: bool
    enabled: bool
    active_connections: int
    load: float
    last_heartbeat_at: int | None
    is_available: bool
    created_at: int
    updated_at: int

    def seen_from(self, base_url: str) -> Server:
        """This server with an empty base URL filled in as the caller addresses us."""
        if self.base_url:
            return self
        base = base_url.rstrip("/")
        return replace(self, base_url=base, ping_url=base + PING_PATH)


@dataclass(frozen=True, slots=True)
class Identity:
    """How this instance describes itself as a server (the ``server_*`` settings)."""

    name: str
    country_code: str
    city: str
    public_url: str


@dataclass(frozen=True, slots=True)
class Registration:
    """What a node gets back for joining: its server id and heartbeat secret."""

    server_id: int
    secret: str


class Servers:
    """The servers table, join tokens for new nodes and the nodes' heartbeats."""

    def __init__(
        self,
        db: Database,
        identity: Identity,
        *,
        heartbeat_seconds: float,
        live_connections: Callable[[], int],
    ) -> None:
        self._db = db
        self._identity = identity
        self._heartbeat_seconds = heartbeat_seconds
        self._live_connections = live_connections
        self._self_id: int | None = None

    @property
    def self_id(self) -> int:
        """This instance's server id (known once :meth:`ensure_self` ran)."""
        if self._self_id is None:
            raise RuntimeError("Servers.ensure_self() has not run")
        return self._self_id

    async def ensure_self(self) -> None:
        """Create or refresh this instance's own row from the settings."""
        values = _describe(
            name=self._identity.name,
            country_code=self._identity.country_code,
            city=self._identity.city,
            base_url=self._identity.public_url,
        )
        now = int(time.time())
        async with self._db.write() as conn:
            row = await servers_repo.self_row(conn)
            if row is None:
                self._self_id = await servers_repo.insert(
                    conn, {**values, "is_self": True, "enabled": True}, now
                )
            else:
                self._self_id = row.id
                await servers_repo.update(conn, row.id, values, now)

    async def list(self, *, base_url: str = "") -> list[Server]:
        """Every server; this instance's empty URLs filled from ``base_url`` when given."""
        async with self._db.read() as conn:
            rows = await servers_repo.all_servers(conn)
        return [self._server(row, base_url) for row in rows]

    async def get(self, server_id: int, *, base_url: str = "") -> Server:
        async with self._db.read() as conn:
            row = await servers_repo.by_id(conn, server_id)
        if row is None:
            raise NotFound("no such server", field="server_id", reason="server_not_found")
        return self._server(row, base_url)

    async def update(self, server_id: int, **changes: object) -> Server:
        """Change name, country_code, country, city, base_url, ping_url or enabled
        (country follows the code and ping_url the base URL unless given too). This
        instance's description comes from its settings, so only ``enabled`` sticks for it
        across restarts."""
        values = _check_changes(changes)
        async with self._db.write() as conn:
            if not await servers_repo.update(conn, server_id, values, int(time.time())):
                raise NotFound("no such server", field="server_id", reason="server_not_found")
        return await self.get(server_id)

    async def delete(self, server_id: int) -> None:
        """Forget a node (its heartbeats are refused from now on); this instance stays."""
        async with self._db.write() as conn:
            row = await servers_repo.by_id(conn, server_id)
            if row is None:
                raise NotFound("no such server", field="server_id", reason="server_not_found")
            if row.is_self:
                raise Conflict("this instance cannot be removed", reason="server_is_self")
            await servers_repo.delete_server(conn, server_id)

    # -- nodes -----------------------------------------------------------------------------

    async def create_join_token(self) -> str:
        """A one-time token, valid for an hour, with which ``tidecast node join`` registers
        a node."""
        token = "join_" + secrets.token_urlsafe(32)
        now = int(time.time())
        async with self._db.write() as conn:
            await credentials_repo.insert(
                conn,
                kind=JOIN_KIND,
                token_hash=hash_token(token),
                now=now,
                owner="control",
                label="node join token",
                expires_at=now + JOIN_TOKEN_SECONDS,
            )
        return token

    async def register(
        self, join_token: str, *, base_url: str, name: str, country_code: str = "", city: str = ""
    ) -> Registration:
        """Add a node for a join token, which is used up; AccessDenied for a bad token."""
        values = _describe(name=name, country_code=country_code, city=city, base_url=base_url)
        if not values["base_url"]:
            raise InvalidInput("a node needs its public base URL", field="base_url")
        secret = "node_" + secrets.token_urlsafe(32)
        now = int(time.time())
        async with self._db.write() as conn:
            found = await credentials_repo.find_by_hash(conn, hash_token(join_token or ""))
            if (
                found is None
                or found.kind != JOIN_KIND
                or found.revoked_at is not None
                or (found.expires_at is not None and found.expires_at < now)
            ):
                raise AccessDenied("invalid or used join token", reason="bad_join_token")
            await credentials_repo.revoke(conn, found.id, now)
            values |= {"is_self": False, "enabled": True, "secret_hash": hash_token(secret)}
            server_id = await servers_repo.insert(conn, values, now)
        return Registration(server_id, secret)

    async def heartbeat(
        self, secret: str | None, *, active_connections: object, load: object
    ) -> Server:
        """Record a node's report; AuthenticationRequired for an unknown secret."""
        if not secret:
            raise AuthenticationRequired("missing token", reason="auth_missing")
        connections = _number(active_connections, "active_connections", integer=True)
        reported_load = _number(load, "load", integer=False)
        now = int(time.time())
        async with self._db.write() as conn:
            row = await servers_repo.by_secret_hash(conn, hash_token(secret))
            if row is None or row.is_self:
                raise AuthenticationRequired("invalid token")
            await servers_repo.record_heartbeat(
                conn,
                row.id,
                active_connections=int(connections),
                load=float(reported_load),
                now=now,
            )
        return await self.get(row.id)

    # -- rendering -----------------------------------------------------------------------

    def _server(self, row: ServerRow, base_url: str) -> Server:
        now = time.time()
        if row.is_self:
            connections, load, available = self._live_connections(), host_load(), row.enabled
        else:
            silent_for = now - row.last_heartbeat_at if row.last_heartbeat_at else None
            fresh = (
                silent_for is not None and silent_for <= MISSED_HEARTBEATS * self._heartbeat_seconds
            )
            connections, load, available = row.active_connections, row.load, row.enabled and fresh
        server = Server(
            id=row.id,
            name=row.name,
            country=row.country,
            country_code=row.country_code,
            city=row.city,
            base_url=row.base_url,
            ping_url=row.ping_url,
            is_self=row.is_self,
            enabled=row.enabled,
            active_connections=connections,
            load=load,
            last_heartbeat_at=row.last_heartbeat_at,
            is_available=available,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        return server.seen_from(base_url) if base_url else server


def host_load() -> float:
    """The one-minute load average per CPU, 0.0 to 1.0 (1.0: every CPU busy)."""
    try:
        average = os.getloadavg()[0]
    except OSError:
        return 0.0
    return round(min(1.0, average / (os.cpu_count() or 1)), 2)


@cache
def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return str(country.name) if country is not None else ""


def _describe(
    *, name: object, country_code: object, city: object, base_url: object
) -> dict[str, Any]:
    values = _check_changes(
        {"name": name, "country_code": country_code, "city": city, "base_url": base_url}
    )
    return values


def _check_changes(changes: dict[str, object]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "enabled":
            if not isinstance(value, bool):
                raise InvalidInput("enabled must be true or false", field=key)
            values[key] = value
        elif key == "name":
            values[key] = _string(value, key, 255) or "tidecast"
        elif key == "city":
            values[key] = _string(value, key, 255)
        elif key == "country_code":
            code = _string(value, key, 2).upper()
            if code and not country_name(code):
                raise InvalidInput("country_code must be an ISO 3166 two-letter code", field=key)
            values |= {key: code, "country": country_name(code)}
        elif key == "base_url":
            base = check_base_url(value)
            values |= {key: base, "ping_url": base + PING_PATH if base else ""}
        elif key not in ("country", "ping_url"):
            raise InvalidInput(f"unknown server field {key!r}", field=key)
    # Given explicitly, these win over what country_code and base_url imply.
    if "country" in changes:
        values["country"] = _string(changes["country"], "country", 255)
    if "ping_url" in changes:
        values["ping_url"] = check_base_url(changes["ping_url"], field="ping_url")
    return values


def check_base_url(value: object, *, field: str = "base_url") -> str:
    """An http(s) URL without query or fragment, trailing slash dropped ("" stays "")."""
    text = _string(value, field, 2000).rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput(f"{field} must be an http(s) URL", field=field)
    return text


def _string(value: object, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise InvalidInput(f"{field} must be a string of at most {limit} characters", field=field)
    return value.strip()


def _number(value: object, field: str, *, integer: bool) -> float:
    wrong = InvalidInput(f"{field} must be a non-negative number", field=field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong
    if (integer and not isinstance(value, int)) or not 0 <= value <= INT_MAX:
        raise wrong
    return float(value)

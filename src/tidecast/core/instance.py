"""Instance-wide state: version, persisted access switches, connectivity probe."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from tidecast import __version__
from tidecast.core.access import IPNetwork, interface_networks
from tidecast.core.errors import InvalidInput
from tidecast.storage import instance_settings_repo
from tidecast.storage.database import Database

# Clients gate features on the engine version they talk to (python-acestream sends `sid`
# below 3.1.29); tidecast answers as a current engine and adds its own version.
ENGINE_VERSION = "3.2.11"
ENGINE_VERSION_CODE = 3021100
PLATFORM = "linux"

ALLOW_REMOTE = "allow_remote_access"
ALLOW_INTRANET = "allow_intranet_access"
_DEFAULTS = {ALLOW_REMOTE: False, ALLOW_INTRANET: True}


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    code: int
    platform: str
    tidecast_version: str


VERSION = VersionInfo(ENGINE_VERSION, ENGINE_VERSION_CODE, PLATFORM, __version__)


class AccessSwitches:
    """The two remote-access switches, kept in memory and persisted on every change."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._values = dict(_DEFAULTS)
        self._networks: tuple[IPNetwork, ...] = ()
        self._networks_read_at = 0.0

    async def load(self) -> None:
        async with self._db.read() as conn:
            stored = await instance_settings_repo.load_all(conn)
        for key in _DEFAULTS:
            if key in stored:
                self._values[key] = bool(stored[key])

    @property
    def allow_remote(self) -> bool:
        return self._values[ALLOW_REMOTE]

    @property
    def allow_intranet(self) -> bool:
        return self._values[ALLOW_INTRANET]

    async def set(self, key: str, value: bool) -> None:
        if key not in _DEFAULTS:
            raise InvalidInput(f"unknown switch {key}")
        async with self._db.write() as conn:
            await instance_settings_repo.store(conn, key, value, int(time.time()))
        self._values[key] = value

    def networks(self) -> tuple[IPNetwork, ...]:
        """The host's interface networks, re-read at most every 30 s (interfaces change)."""
        now = time.monotonic()
        if now - self._networks_read_at > 30 or not self._networks_read_at:
            fresh = interface_networks()
            if fresh != self._networks:
                self._networks = fresh
            self._networks_read_at = now
        return self._networks


class ConnectivityProbe:
    """Answers "is this engine connected?" by a real TCP connect, cached for a while."""

    def __init__(self, target: str, timeout: float, cache_seconds: float) -> None:
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit():
            raise InvalidInput(
                "network_probe_target must be host:port", field="network_probe_target"
            )
        self._host = host.strip("[]")
        self._port = int(port)
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._checked_at: float | None = None
        self._connected = False
        self._lock = asyncio.Lock()

    async def connected(self) -> bool:
        async with self._lock:
            now = time.monotonic()
            if self._checked_at is not None and now - self._checked_at < self._cache_seconds:
                return self._connected
            self._connected = await self._probe()
            self._checked_at = time.monotonic()
            return self._connected

    async def _probe(self) -> bool:
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self._timeout
            )
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

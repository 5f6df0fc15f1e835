"""The node side: joining a control instance, heartbeats, and what the control says.

``tidecast node join`` registers this instance with a control instance and keeps, in
the instance settings, the control's URL, this node's server id, its heartbeat secret
(encrypted with the instance key) and the control's Ed25519 public key. A running node
reports its live sessions and load every ``node_heartbeat_seconds``; each answer carries
the key generations of recently revoked devices, which key verification then honours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tidecast.core.access_keys import load_public_key
from tidecast.core.errors import AccessDenied, ContentUnavailable, TidecastError
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.servers import check_base_url, host_load
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage import instance_settings_repo
from tidecast.storage.database import Database

log = logging.getLogger(__name__)

LINK_SETTING = "node_link"
JOIN_PATH = "/api/nodes/join"
HEARTBEAT_PATH = "/api/nodes/heartbeat"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """This node's link to its control instance (the secret in clear, in memory only)."""

    control_url: str
    server_id: int
    secret: str
    public_key: str


class NodeLink:
    """Whether this instance is a node, and its heartbeats while it runs."""

    def __init__(
        self,
        db: Database,
        secret: InstanceSecret,
        fetcher: Fetcher,
        *,
        heartbeat_seconds: float,
        live_connections: Callable[[], int],
    ) -> None:
        self._db = db
        self._secret = secret
        self._fetcher = fetcher
        self._interval = heartbeat_seconds
        self._live_connections = live_connections
        self._config: NodeConfig | None = None
        self._public_key: Ed25519PublicKey | None = None
        self._task: asyncio.Task[None] | None = None
        self.revoked: dict[int, int] = {}
        """Device id -> its key generation now, for devices revoked recently."""
        self.last_heartbeat_at: float | None = None

    @property
    def config(self) -> NodeConfig | None:
        return self._config

    @property
    def public_key(self) -> Ed25519PublicKey:
        assert self._public_key is not None, "not a node"
        return self._public_key

    async def load(self) -> None:
        """Read the link from the instance settings (none: this is not a node)."""
        async with self._db.read() as conn:
            stored = (await instance_settings_repo.load_all(conn)).get(LINK_SETTING)
        self._set(_config_from(stored, self._secret) if isinstance(stored, dict) else None)

    async def join(
        self,
        control_url: str,
        join_token: str,
        *,
        base_url: str,
        name: str,
        country_code: str = "",
        city: str = "",
    ) -> NodeConfig:
        """Register with a control instance and keep the link; errors name the control's
        answer. Joining again replaces the previous link."""
        control = check_base_url(control_url)
        status, answer = await self._fetcher.request_json(
            "POST",
            control + JOIN_PATH,
            json={
                "token": join_token,
                "base_url": base_url,
                "name": name,
                "country_code": country_code,
                "city": city,
            },
            caller_is_local=True,  # the operator named the control
        )
        if status != 200:
            message = answer.get("error") or answer.get("message") or f"HTTP {status}"
            raise AccessDenied(f"the control instance refused: {message}", reason="join_refused")
        try:
            config = NodeConfig(
                control, int(answer["server_id"]), str(answer["secret"]), str(answer["public_key"])
            )
            load_public_key(config.public_key)
        except (KeyError, TypeError, ValueError):
            raise ContentUnavailable(f"{control} did not answer as a tidecast control") from None
        stored = {
            "control_url": config.control_url,
            "server_id": config.server_id,
            "secret": self._secret.encrypt(config.secret),
            "public_key": config.public_key,
        }
        async with self._db.write() as conn:
            await instance_settings_repo.store(conn, LINK_SETTING, stored, int(time.time()))
        self._set(config)
        return config

    async def leave(self) -> None:
        """Forget the link (the control keeps its row until an administrator deletes it)."""
        async with self._db.write() as conn:
            await instance_settings_repo.store(conn, LINK_SETTING, {}, int(time.time()))
        self._set(None)

    # -- heartbeats ----------------------------------------------------------------------

    async def start(self) -> None:
        """Report while running. The link is read again every interval, so a join (or a
        leave) made with the CLI while the server runs takes effect without a restart."""
        if self._task is None:
            self._task = asyncio.create_task(self._beat_forever(), name="node-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def heartbeat(self) -> None:
        """Report once; take the revoked devices from the answer. Raises on failure."""
        config = self._config
        assert config is not None, "not a node"
        status, answer = await self._fetcher.request_json(
            "POST",
            config.control_url + HEARTBEAT_PATH,
            json={"active_connections": self._live_connections(), "load": host_load()},
            headers={"Authorization": f"Bearer {config.secret}"},
            caller_is_local=True,
        )
        if status != 200:
            raise ContentUnavailable(f"the control answered heartbeat with HTTP {status}")
        self.revoked = _revocations(answer.get("revoked_devices"))
        self.last_heartbeat_at = time.time()

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.load()
                if self._config is not None:
                    await self.heartbeat()
            except TidecastError as exc:
                log.warning("heartbeat to the control failed: %s", exc.message)
            except Exception:  # the loop must outlive any one failure
                log.exception("heartbeat to the control failed")
            await asyncio.sleep(self._interval)

    def _set(self, config: NodeConfig | None) -> None:
        if config == self._config:
            return
        self._config = config
        self._public_key = load_public_key(config.public_key) if config is not None else None
        self.revoked = {}


def _config_from(stored: dict[str, Any], secret: InstanceSecret) -> NodeConfig | None:
    if not stored:
        return None
    return NodeConfig(
        control_url=str(stored["control_url"]),
        server_id=int(stored["server_id"]),
        secret=secret.decrypt(str(stored["secret"])),
        public_key=str(stored["public_key"]),
    )


def _revocations(raw: object) -> dict[int, int]:
    revoked: dict[int, int] = {}
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict):
                device, generation = entry.get("device_id"), entry.get("generation")
                if isinstance(device, int) and isinstance(generation, int):
                    revoked[device] = generation
    return revoked

"""What a signed-in user may use: which servers, keys for them, and playback with a key.

The control instance answers ``/api/servers`` and ``/api/key`` from here. Every instance
asks :meth:`Entitlements.check_playback` before a playback start: on a node, or with
``require_subscription``, a caller that is not on loopback must present a valid access
key for this server; a key that is presented is always checked, whoever calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tidecast.core.access import Caller
from tidecast.core.access_keys import KeyClaims, KeySigner, verify_key
from tidecast.core.devices import Device, Devices, parse_id
from tidecast.core.errors import AccessDenied, NotFound
from tidecast.core.nodes import NodeLink
from tidecast.core.servers import Server, Servers
from tidecast.core.subscriptions import Subscription, Subscriptions
from tidecast.core.users import User

REVOCATION_SLACK = 3600
"""Seconds revocations are reported beyond a key's lifetime (clocks disagree a little)."""


@dataclass(frozen=True, slots=True)
class Overview:
    """A user's standing: subscription, signed-in devices, device limit (0: none)."""

    subscription: Subscription | None
    devices: list[Device]
    device_limit: int
    may_stream: bool


@dataclass(frozen=True, slots=True)
class IssuedKey:
    server_id: int
    key: str
    expires_at: int
    playback_url: str


class Entitlements:
    """Servers and access keys for users; access keys checked at playback."""

    def __init__(
        self,
        signer: KeySigner,
        devices: Devices,
        subscriptions: Subscriptions,
        servers: Servers,
        node: NodeLink,
        *,
        key_lifetime: int,
    ) -> None:
        self._signer = signer
        self._devices = devices
        self._subscriptions = subscriptions
        self._servers = servers
        self._node = node
        self._key_lifetime = key_lifetime

    @property
    def public_key(self) -> str:
        """The control's public key, as nodes store it."""
        return self._signer.public_key

    async def overview(self, user: User) -> Overview:
        assert user.id is not None
        subscription = await self._subscriptions.current(user.id)
        devices = [d for d in await self._devices.of_user(user.id) if d.active]
        return Overview(
            subscription=subscription,
            devices=devices,
            device_limit=self._subscriptions.device_limit(subscription),
            may_stream=subscription is not None or not self._subscriptions.required,
        )

    async def servers_for(self, user: User, device_id: object, *, base_url: str) -> list[Server]:
        """The enabled servers ``user``'s plan allows (every one without a plan), for one
        of the user's own devices."""
        await self._devices.own(user, device_id)
        subscription = await self._current(user)
        return [
            server
            for server in await self._servers.list(base_url=base_url)
            if server.enabled and _allows(subscription, server.id)
        ]

    async def issue_key(
        self, user: User, *, server_id: object, device_id: object, base_url: str
    ) -> IssuedKey:
        """A key for one of the caller's own devices on a server the plan allows.

        AccessDenied: a device that is not the caller's or is revoked
        (``foreign_device``), no active subscription while one is required
        (``no_subscription``), a server outside the plan or disabled
        (``server_not_allowed``). NotFound: an unknown server.
        """
        device = await self._devices.own(user, device_id)
        subscription = await self._current(user)
        if subscription is None and self._subscriptions.required:
            raise AccessDenied("an active subscription is required", reason="no_subscription")
        server = await self._servers.get(parse_id(server_id, "server_id"), base_url=base_url)
        if not server.enabled or not _allows(subscription, server.id):
            raise AccessDenied("this server is not in your plan", reason="server_not_allowed")
        now = int(time.time())
        expires = now + self._key_lifetime
        if subscription is not None and self._subscriptions.required:
            expires = min(expires, subscription.expires_at)
        assert user.id is not None
        key = self._signer.sign(
            KeyClaims(user.id, device.id, device.key_generation, server.id, now, expires)
        )
        return IssuedKey(
            server_id=server.id,
            key=key,
            expires_at=expires,
            playback_url=f"{server.base_url}/ace/getstream?access_key={key}",
        )

    async def node_heartbeat(
        self, secret: str | None, *, active_connections: object, load: object
    ) -> tuple[Server, dict[int, int]]:
        """Record a node's heartbeat: the node, and device id -> key generation for the
        devices revoked within a key lifetime (older keys have expired anyway)."""
        server = await self._servers.heartbeat(
            secret, active_connections=active_connections, load=load
        )
        since = int(time.time()) - self._key_lifetime - REVOCATION_SLACK
        return server, await self._devices.revoked_generations(since)

    async def check_playback(self, access_key: str | None, caller: Caller) -> None:
        """Whether ``caller`` may start playback here; AccessDenied if not.

        Loopback callers without a key always may; so may everyone on an instance that
        is neither a node nor requires a subscription.
        """
        if not access_key:
            if caller.is_local or not self.keys_required:
                return
            raise AccessDenied("an access key is required", reason="access_key_required")
        config = self._node.config
        if config is not None:
            claims = verify_key(access_key, self._node.public_key, server_id=config.server_id)
            if claims.generation < self._node.revoked.get(claims.device_id, -1):
                raise _revoked()
        else:
            claims = verify_key(access_key, self._signer.public, server_id=self._servers.self_id)
            await self._check_device(claims)

    @property
    def keys_required(self) -> bool:
        return self._node.config is not None or self._subscriptions.required

    async def _check_device(self, claims: KeyClaims) -> None:
        try:
            device = await self._devices.get(claims.device_id)
        except NotFound:
            raise _revoked() from None
        if (
            not device.active
            or device.user_id != claims.user_id
            or device.key_generation != claims.generation
        ):
            raise _revoked()

    async def _current(self, user: User) -> Subscription | None:
        assert user.id is not None
        return await self._subscriptions.current(user.id)


def _allows(subscription: Subscription | None, server_id: int) -> bool:
    return subscription is None or subscription.plan.allows_server(server_id)


def _revoked() -> AccessDenied:
    return AccessDenied("access key revoked", reason="bad_access_key")

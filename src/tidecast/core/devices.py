"""Devices: the client devices a user is signed in on, each with its own bearer token.

A device is known per user by the client's own id (``client_id``); signing in again from
it reuses its row and rotates its token. Only devices that are not revoked count against
the user's device limit (the plan's, or the instance default without one; 0: no limit).
Logging out, or an administrator, revokes a device: its token dies, its slot is free,
and its key generation moves on, so access keys issued to it are refused by every node.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from tidecast.core.accounts import AccountService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    InvalidInput,
    MissingParameter,
    NotFound,
)
from tidecast.core.instance_secret import hash_token
from tidecast.core.subscriptions import Subscriptions
from tidecast.core.users import User
from tidecast.storage import credentials_repo, devices_repo
from tidecast.storage.database import Database
from tidecast.storage.devices_repo import DeviceRow

DEVICE_KIND = "device"
"""Bearer tokens of the device API (seed 002), one per signed-in device."""
_TOUCH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    user_id: int
    client_id: str
    name: str
    created_at: int
    last_seen_at: int | None
    revoked_at: int | None
    key_generation: int

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class DeviceSession:
    """A device API caller: the account, the device and the bearer token it presented."""

    user: User
    device: Device
    token: str


class Devices:
    """Sign-in per device, device limits and revocation."""

    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        subscriptions: Subscriptions,
        *,
        token_lifetime: int,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self._subscriptions = subscriptions
        self._token_lifetime = token_lifetime

    async def login(
        self,
        identifier: str,
        password: str,
        *,
        client_id: object,
        name: object,
        address: str | None,
        two_factor_code: object = None,
    ) -> tuple[str, Device]:
        """Sign a device in: ``(bearer token, device)``.

        ``identifier`` is the account's login or email; the password, then the two-factor
        code of an account with two-factor on, are checked by ``AccountService.sign_in``.
        A known device gets a new token (the old one dies); a new one needs a free slot:
        AccessDenied(reason="device_limit") when the user has used them all.
        """
        client = _text(client_id, "device_id")
        label = _text(name, "device_name")
        user = await self._accounts.sign_in(
            identifier, password, two_factor_code=two_factor_code, address=address
        )
        assert user.id is not None
        limit = self._subscriptions.device_limit(await self._subscriptions.current(user.id))
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        async with self._db.write() as conn:
            await devices_repo.lock_user(conn, user.id)
            row = await devices_repo.by_client(conn, user.id, client)
            if row is None or row.revoked_at is not None:
                used = await devices_repo.count_active(conn, user.id)
                if limit and used >= limit:
                    raise AccessDenied(f"device limit reached ({limit})", reason="device_limit")
            if row is None:
                device_id = await devices_repo.insert(
                    conn,
                    user_id=user.id,
                    client_id=client,
                    name=label,
                    credential_id=None,
                    now=now,
                )
            else:
                device_id = row.id
                if row.credential_id is not None:
                    await credentials_repo.revoke(conn, row.credential_id, now)
            credential_id = await credentials_repo.insert(
                conn,
                kind=DEVICE_KIND,
                token_hash=hash_token(token),
                now=now,
                owner=str(user.id),
                device=str(device_id),
                label=label,
                expires_at=now + self._token_lifetime,
            )
            await devices_repo.reactivate(
                conn, device_id, name=label, credential_id=credential_id, now=now
            )
            stored = await devices_repo.by_id(conn, device_id)
        assert stored is not None
        return token, _device(stored)

    async def session(self, token: str | None) -> DeviceSession:
        """The caller behind a device token; AuthenticationRequired unless it is the
        current token of a device that is not revoked."""
        if not token:
            raise AuthenticationRequired("missing token", reason="auth_missing")
        digest = hash_token(token)
        now = int(time.time())
        async with self._db.read() as conn:
            credential = await credentials_repo.find_by_hash(conn, digest)
            row = None
            if credential is not None and credential.kind == DEVICE_KIND:
                row = await devices_repo.by_credential(conn, credential.id)
        if (
            credential is None
            or row is None
            or credential.revoked_at is not None
            or (credential.expires_at is not None and credential.expires_at < now)
        ):
            raise AuthenticationRequired("invalid token")
        try:
            user = await self._accounts.get_by_id(row.user_id)
        except NotFound:
            raise AuthenticationRequired("invalid token") from None
        if row.last_seen_at is None or now - row.last_seen_at > _TOUCH_SECONDS:
            async with self._db.write() as conn:
                await devices_repo.touch(conn, row.id, now)
        return DeviceSession(user, _device(row), token)

    async def logout(self, session: DeviceSession) -> None:
        """Sign the session's device out: its token dies and its slot is free."""
        await self.revoke(session.device.id)

    async def of_user(self, user_id: int) -> list[Device]:
        """Every device of a user, revoked ones included (``active`` tells)."""
        async with self._db.read() as conn:
            return [_device(row) for row in await devices_repo.of_user(conn, user_id)]

    async def get(self, device_id: int) -> Device:
        async with self._db.read() as conn:
            row = await devices_repo.by_id(conn, device_id)
        if row is None:
            raise NotFound("no such device", field="device_id", reason="device_not_found")
        return _device(row)

    async def own(self, user: User, device_id: object) -> Device:
        """The caller's own, active device ``device_id``; AccessDenied otherwise (a device
        of another user is refused exactly like one that does not exist)."""
        number = parse_id(device_id, "device_id")
        async with self._db.read() as conn:
            row = await devices_repo.by_id(conn, number)
        if row is None or row.user_id != user.id or row.revoked_at is not None:
            raise AccessDenied("unknown device", field="device_id", reason="foreign_device")
        return _device(row)

    async def revoke(self, device_id: int) -> None:
        """Revoke a device and its token (idempotent); NotFound for an unknown id."""
        now = int(time.time())
        async with self._db.write() as conn:
            row = await devices_repo.by_id(conn, device_id)
            if row is None:
                raise NotFound("no such device", field="device_id", reason="device_not_found")
            if row.revoked_at is not None:
                return
            if row.credential_id is not None:
                await credentials_repo.revoke(conn, row.credential_id, now)
            await devices_repo.revoke(conn, device_id, now)

    async def revoked_generations(self, since: int) -> dict[int, int]:
        """Device id -> key generation now, for devices whose keys were revoked since
        ``since``: a key naming an older generation of such a device is dead."""
        async with self._db.read() as conn:
            return await devices_repo.revoked_since(conn, since)


def parse_id(value: object, field: str) -> int:
    """A row id as clients send it: an integer or a string of digits."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 18:
        value = int(value.strip())
    if value is None or value == "":
        raise MissingParameter(f"missing parameter: {field}", field=field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{field} must be an id", field=field)
    return value


def _text(value: object, field: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MissingParameter(f"missing parameter: {field}", field=field)
    if not isinstance(value, str) or len(value.strip()) > 255:
        raise InvalidInput(f"{field} must be a string of at most 255 characters", field=field)
    return value.strip()


def _device(row: DeviceRow) -> Device:
    return Device(
        id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        name=row.name,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        key_generation=row.key_generation,
    )

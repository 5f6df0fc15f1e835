"""Devices as stored: one row per (user, client device id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import devices, users


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: int
    user_id: int
    client_id: str
    name: str
    credential_id: int | None
    created_at: int
    last_seen_at: int | None
    revoked_at: int | None
    key_generation: int
    keys_revoked_at: int | None


def _row(row: Row[Any]) -> DeviceRow:
    m = row._mapping
    return DeviceRow(
        id=m["id"],
        user_id=m["user_id"],
        client_id=m["client_id"],
        name=m["name"],
        credential_id=m["credential_id"],
        created_at=m["created_at"],
        last_seen_at=m["last_seen_at"],
        revoked_at=m["revoked_at"],
        key_generation=m["key_generation"],
        keys_revoked_at=m["keys_revoked_at"],
    )


async def by_id(conn: AsyncConnection, device_id: int) -> DeviceRow | None:
    row = (await conn.execute(select(devices).where(devices.c.id == device_id))).first()
    return _row(row) if row is not None else None


async def by_client(conn: AsyncConnection, user_id: int, client_id: str) -> DeviceRow | None:
    query = select(devices).where(devices.c.user_id == user_id, devices.c.client_id == client_id)
    row = (await conn.execute(query)).first()
    return _row(row) if row is not None else None


async def by_credential(conn: AsyncConnection, credential_id: int) -> DeviceRow | None:
    query = select(devices).where(devices.c.credential_id == credential_id)
    row = (await conn.execute(query)).first()
    return _row(row) if row is not None else None


async def of_user(conn: AsyncConnection, user_id: int) -> list[DeviceRow]:
    query = select(devices).where(devices.c.user_id == user_id).order_by(devices.c.id)
    return [_row(row) for row in await conn.execute(query)]


async def count_active(conn: AsyncConnection, user_id: int) -> int:
    query = select(func.count()).where(devices.c.user_id == user_id, devices.c.revoked_at.is_(None))
    return int((await conn.execute(query)).scalar_one())


async def lock_user(conn: AsyncConnection, user_id: int) -> bool:
    """Lock the user's row until the transaction ends (PostgreSQL), so two sign-ins
    cannot both take a user's last device slot; False if there is no such user."""
    query = select(users.c.id).where(users.c.id == user_id).with_for_update()
    return (await conn.execute(query)).first() is not None


async def insert(
    conn: AsyncConnection,
    *,
    user_id: int,
    client_id: str,
    name: str,
    credential_id: int | None,
    now: int,
) -> int:
    result = await conn.execute(
        devices.insert().values(
            user_id=user_id,
            client_id=client_id,
            name=name,
            credential_id=credential_id,
            created_at=now,
            last_seen_at=now,
            key_generation=0,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def reactivate(
    conn: AsyncConnection, device_id: int, *, name: str, credential_id: int, now: int
) -> None:
    await conn.execute(
        devices.update()
        .where(devices.c.id == device_id)
        .values(name=name, credential_id=credential_id, last_seen_at=now, revoked_at=None)
    )


async def revoke(conn: AsyncConnection, device_id: int, now: int) -> None:
    await conn.execute(
        devices.update()
        .where(devices.c.id == device_id)
        .values(
            revoked_at=now,
            credential_id=None,
            key_generation=devices.c.key_generation + 1,
            keys_revoked_at=now,
        )
    )


async def touch(conn: AsyncConnection, device_id: int, now: int) -> None:
    await conn.execute(devices.update().where(devices.c.id == device_id).values(last_seen_at=now))


async def revoked_since(conn: AsyncConnection, since: int) -> dict[int, int]:
    """Device id -> current key generation, for devices whose keys were revoked since then."""
    query = select(devices.c.id, devices.c.key_generation).where(devices.c.keys_revoked_at >= since)
    return {device_id: generation for device_id, generation in await conn.execute(query)}

"""An account's two-factor state, as stored in its ``users`` row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import users


@dataclass(frozen=True, slots=True)
class TwoFactorRow:
    user_id: int
    secret_encrypted: str | None
    enabled: bool
    recovery_hashes: list[str]
    last_step: int | None


async def of_user(
    conn: AsyncConnection, user_id: int, *, for_update: bool = False
) -> TwoFactorRow | None:
    """The row's two-factor columns; ``for_update`` locks the row (PostgreSQL) until the
    transaction ends, so two logins with one code cannot both pass."""
    c = users.c
    query = select(
        c.id, c.totp_secret, c.totp_enabled, c.totp_recovery_hashes, c.totp_last_step
    ).where(c.id == user_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return TwoFactorRow(
        user_id=row.id,
        secret_encrypted=row.totp_secret,
        enabled=bool(row.totp_enabled),
        recovery_hashes=list(row.totp_recovery_hashes or []),
        last_step=row.totp_last_step,
    )


async def enabled_ids(conn: AsyncConnection, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` have two-factor authentication on."""
    if not user_ids:
        return set()
    query = select(users.c.id).where(users.c.id.in_(user_ids), users.c.totp_enabled.is_(True))
    return {row.id for row in await conn.execute(query)}


async def store(conn: AsyncConnection, user_id: int, **values: Any) -> None:
    """Set two-factor columns: ``secret_encrypted``, ``enabled``, ``recovery_hashes``,
    ``last_step``."""
    names = {
        "secret_encrypted": "totp_secret",
        "enabled": "totp_enabled",
        "recovery_hashes": "totp_recovery_hashes",
        "last_step": "totp_last_step",
    }
    columns = {names[key]: value for key, value in values.items()}
    await conn.execute(update(users).where(users.c.id == user_id).values(**columns))

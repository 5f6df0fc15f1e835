"""The one credentials table: every kind of token, stored as a SHA-256 hash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import credentials


@dataclass(frozen=True, slots=True)
class CredentialRow:
    id: int
    kind: str
    token_hash: str
    owner: str | None
    device: str | None
    created_at: int
    expires_at: int | None
    revoked_at: int | None


def _row(mapping: object) -> CredentialRow:
    m = mapping._mapping  # type: ignore[attr-defined]
    return CredentialRow(
        id=m["id"],
        kind=m["kind"],
        token_hash=m["token_hash"],
        owner=m["owner"],
        device=m["device"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
    )


async def find_by_hash(conn: AsyncConnection, token_hash: str) -> CredentialRow | None:
    result = await conn.execute(select(credentials).where(credentials.c.token_hash == token_hash))
    row = result.first()
    return _row(row) if row is not None else None


async def find_active_of_kind(conn: AsyncConnection, kind: str) -> list[CredentialRow]:
    result = await conn.execute(
        select(credentials).where(credentials.c.kind == kind, credentials.c.revoked_at.is_(None))
    )
    return [_row(row) for row in result]


async def insert(
    conn: AsyncConnection,
    *,
    kind: str,
    token_hash: str,
    now: int,
    owner: str | None = None,
    device: str | None = None,
    label: str = "",
    expires_at: int | None = None,
) -> int:
    result = await conn.execute(
        credentials.insert().values(
            kind=kind,
            token_hash=token_hash,
            owner=owner,
            device=device,
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def revoke(conn: AsyncConnection, credential_id: int, now: int) -> None:
    await conn.execute(
        credentials.update().where(credentials.c.id == credential_id).values(revoked_at=now)
    )


async def touch(conn: AsyncConnection, credential_id: int, now: int) -> None:
    await conn.execute(
        credentials.update().where(credentials.c.id == credential_id).values(last_used_at=now)
    )


async def revoke_owner(conn: AsyncConnection, owner: str, kinds: set[str] | None, now: int) -> None:
    query = credentials.update().where(
        credentials.c.owner == owner, credentials.c.revoked_at.is_(None)
    )
    if kinds is not None:
        query = query.where(credentials.c.kind.in_(sorted(kinds)))
    await conn.execute(query.values(revoked_at=now))

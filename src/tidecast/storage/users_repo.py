"""Users as stored: one row per account, local, online (``login@home``) or guest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tidecast.storage.tables import login_failures, users


@dataclass(slots=True)
class UserRow:
    login: str
    nickname: str
    type: int
    created_at: int
    updated_at: int
    password_hash: str | None = None
    email: str | None = None
    avatar_file: str = "blank.png"
    bio: str | None = None
    url: str | None = None
    location: str | None = None
    language: str | None = None
    main_series_lang: str | None = None
    fallback_series_lang: str | None = None
    flag_tutorial_done: bool = False
    flag_sendstats: bool = False
    flag_public: bool = True
    flag_displayfavorites: bool = False
    flag_parentsonly: bool = False
    flag_temporary: bool = False
    social_networks: dict[str, Any] = field(default_factory=dict)
    banner: str = "default.jpg"
    anime_list_to_fetch: str | None = None
    anime_list_user: str | None = None
    anime_list_last_modified_at: int | None = None
    anime_list_ids: list[int] = field(default_factory=list)
    anime_list_titles: list[str] = field(default_factory=list)
    last_login_at: int | None = None
    id: int | None = None

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}


_COLUMNS = [f.name for f in fields(UserRow)]


def _from_row(row: Row[Any]) -> UserRow:
    m = row._mapping
    return UserRow(**{name: m[name] for name in _COLUMNS})


async def insert(conn: AsyncConnection, user: UserRow) -> int:
    result = await conn.execute(users.insert().values(**user.values()))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def by_login(conn: AsyncConnection, login: str) -> UserRow | None:
    row = (await conn.execute(select(users).where(users.c.login == login))).first()
    return _from_row(row) if row is not None else None


async def by_id(conn: AsyncConnection, user_id: int) -> UserRow | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return _from_row(row) if row is not None else None


async def by_email(conn: AsyncConnection, email: str) -> UserRow | None:
    query = select(users).where(func.lower(users.c.email) == email.lower())
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def by_nickname(conn: AsyncConnection, nickname: str) -> UserRow | None:
    query = select(users).where(func.lower(users.c.nickname) == nickname.lower())
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def all_users(conn: AsyncConnection, *, public_only: bool) -> list[UserRow]:
    query = select(users).order_by(users.c.login)
    if public_only:
        query = query.where(users.c.flag_public.is_(True))
    return [_from_row(row) for row in await conn.execute(query)]


SEARCHABLE = ("login", "nickname", "email")
"""The columns :func:`search` may look in."""
LIKE_ESCAPE = "\\"


def like_pattern(words: str) -> str:
    """A LIKE pattern matching ``words`` anywhere, its ``%``, ``_`` and ``\\`` taken
    literally (with ``ESCAPE`` :data:`LIKE_ESCAPE`)."""
    for char in (LIKE_ESCAPE, "%", "_"):
        words = words.replace(char, LIKE_ESCAPE + char)
    return f"%{words}%"


async def search(
    conn: AsyncConnection,
    *,
    words: str,
    columns: Sequence[str] = SEARCHABLE,
    public_only: bool,
    also_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[UserRow], int]:
    """Accounts by login, ``limit`` from ``offset``, and how many there are in all.

    ``words`` (when not empty) must be part of one of ``columns``, case-insensitively
    (``words`` is lower-cased here, the columns by the database's ``lower``). With
    ``public_only``, only public accounts count, and account ``also_id`` whatever it is.
    """
    where: list[ColumnElement[bool]] = []
    if words:
        pattern = like_pattern(words.lower())
        where.append(
            or_(
                false(),
                *(func.lower(users.c[name]).like(pattern, escape=LIKE_ESCAPE) for name in columns),
            )
        )
    if public_only:
        where.append(
            users.c.flag_public.is_(True)
            if also_id is None
            else or_(users.c.flag_public.is_(True), users.c.id == also_id)
        )
    count = select(func.count()).select_from(users).where(*where)
    total = int((await conn.execute(count)).scalar_one())
    query = select(users).where(*where).order_by(users.c.login).offset(offset).limit(limit)
    return [_from_row(row) for row in await conn.execute(query)], total


async def free_guest(conn: AsyncConnection, busy_since: int) -> UserRow | None:
    """A guest account nobody logged into since ``busy_since``; its row is locked until the
    transaction ends (PostgreSQL), and one another transaction holds is passed over, so two
    visitors at once get two accounts."""
    c = users.c
    query = (
        select(users)
        .where(c.type == 2, (c.last_login_at.is_(None)) | (c.last_login_at < busy_since))
        .order_by(c.last_login_at.nulls_first(), c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def update_values(conn: AsyncConnection, user_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(**values))


async def remove(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(delete(users).where(users.c.id == user_id))


@dataclass(frozen=True, slots=True)
class FailureRow:
    key: str
    failures: int
    first_failure_at: int
    locked_until: int | None


async def failures_of(conn: AsyncConnection, keys: list[str]) -> list[FailureRow]:
    result = await conn.execute(select(login_failures).where(login_failures.c.key.in_(keys)))
    return [FailureRow(**row._mapping) for row in result]


async def store_failure(conn: AsyncConnection, row: FailureRow) -> None:
    await conn.execute(delete(login_failures).where(login_failures.c.key == row.key))
    await conn.execute(
        login_failures.insert().values(
            key=row.key,
            failures=row.failures,
            first_failure_at=row.first_failure_at,
            locked_until=row.locked_until,
        )
    )


async def clear_failures(conn: AsyncConnection, key: str) -> None:
    await conn.execute(delete(login_failures).where(login_failures.c.key == key))


async def purge_failures(conn: AsyncConnection, window_start: int, now: int) -> None:
    """Forget failures older than the window whose lockout, if any, has ended."""
    c = login_failures.c
    await conn.execute(
        delete(login_failures).where(
            c.first_failure_at < window_start,
            (c.locked_until.is_(None)) | (c.locked_until <= now),
        )
    )


async def count_temporary_guests(conn: AsyncConnection) -> int:
    query = (
        select(func.count())
        .select_from(users)
        .where(users.c.type == 2, users.c.flag_temporary.is_(True))
    )
    return int((await conn.execute(query)).scalar_one())


async def count_operators_locked(conn: AsyncConnection, except_id: int) -> int:
    """Operators other than ``except_id``. Every operator row, ``except_id``'s included, is
    locked until the transaction ends (PostgreSQL), so two removals of the last two
    operators serialise and the second sees the first's result."""
    rows = await conn.execute(select(users.c.id).where(users.c.type == 0).with_for_update())
    return sum(1 for (user_id,) in rows if user_id != except_id)

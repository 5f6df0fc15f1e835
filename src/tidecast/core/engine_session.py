"""The account signed in on the engine API (``sign_in`` / ``sign_out`` / ``check_auth``).

Like the Ace Stream engine, the engine API has one signed-in account at a time; the
playlist's favorites and ``check_auth`` are that account's. The sign-in is a credential
(kind ``engine_session``, with the usual token lifetime) and so survives restarts. It ends
when it expires or when anything revokes the account's credentials: at once for a change
made in this process (password, rename, deletion), within :data:`USER_CACHE_SECONDS` for
one made by another (``tidecast user passwd``), as for any token.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tidecast.core.accounts import USER_CACHE_SECONDS, AccountService
from tidecast.core.credentials import ENGINE_SESSION_KIND, TokenService
from tidecast.core.errors import AccessDenied
from tidecast.core.instance_secret import hash_token
from tidecast.core.users import Role, User
from tidecast.storage import credentials_repo, users_repo
from tidecast.storage.credentials_repo import CredentialRow
from tidecast.storage.database import Database

INSTANCE_VIEWER = 0
"""Whose favorites the engine API shows when nobody is signed in: the instance's own."""


@dataclass(frozen=True, slots=True)
class Package:
    """A signed-in user's subscription as ``check_auth`` reports it (``package_*``)."""

    name: str
    color: str
    days_left: int


@dataclass(frozen=True, slots=True)
class _Checked:
    """The sign-in as last read from the database, reused while nothing changed."""

    credential: str
    user: User
    expires_at: int | None
    at: float
    changes: int


PackageLookup = Callable[[User], Awaitable[Package | None]]
"""Where a user's package comes from: the subscription service, once there is one."""


async def no_package(_user: User) -> Package | None:
    return None


class EngineSession:
    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        tokens: TokenService,
        packages: PackageLookup = no_package,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self._tokens = tokens
        self._packages = packages
        # The SHA-256 of the sign-in credential; None while nobody is signed in, so the
        # signed-out case (most requests) needs no database read.
        self._credential: str | None = None
        self._checked: _Checked | None = None

    async def load(self) -> None:
        async with self._db.read() as conn:
            rows = await credentials_repo.find_active_of_kind(conn, ENGINE_SESSION_KIND)
        latest = max(rows, key=lambda row: (row.created_at, row.id), default=None)
        self._credential = latest.token_hash if latest is not None else None

    async def sign_in(
        self,
        identifier: str,
        password: str,
        *,
        address: str | None,
        two_factor_code: object = None,
    ) -> User:
        """Sign an account in (a login, counted in ``last_login_at``), replacing whoever was;
        an account with two-factor on needs its code (``AccountService.sign_in``).

        A failed sign-in leaves the previous one in place.
        """
        session = await self._accounts.login(
            identifier,
            password,
            address=address,
            two_factor_code=two_factor_code,
            kind=ENGINE_SESSION_KIND,
            device="engine",
        )
        credential = hash_token(session.token)
        await self._end_all(keep=credential)
        self._credential = credential
        return session.user

    async def sign_out(self) -> None:
        self._credential = None
        await self._end_all(keep=None)

    async def _end_all(self, keep: str | None) -> None:
        now = int(time.time())
        async with self._db.write() as conn:
            for row in await credentials_repo.find_active_of_kind(conn, ENGINE_SESSION_KIND):
                if row.token_hash != keep:
                    await credentials_repo.revoke(conn, row.id, now)

    async def current(self) -> User | None:
        """The signed-in account, or None; read again once any account changed here or
        after :data:`USER_CACHE_SECONDS`, so a request usually costs no database read."""
        credential = self._credential
        if credential is None:
            return None
        checked = self._checked
        if (
            checked is not None
            and checked.credential == credential
            and checked.changes == self._accounts.changes
            and time.monotonic() - checked.at < USER_CACHE_SECONDS
            and (checked.expires_at is None or checked.expires_at > time.time())
        ):
            return checked.user
        changes, at = self._accounts.changes, time.monotonic()
        async with self._db.read() as conn:
            row = await credentials_repo.find_by_hash(conn, credential)
            user = (
                await users_repo.by_id(conn, int(row.owner))
                if row is not None and _active(row) and row.owner
                else None
            )
        if self._credential != credential:
            return user  # signed in or out meanwhile: leave the new state alone
        if user is None or row is None:
            self._credential = None  # expired, revoked, or the account was deleted
            self._checked = None
            return None
        self._checked = _Checked(credential, user, row.expires_at, at, changes)
        return user

    async def package(self, user: User) -> Package | None:
        return await self._packages(user)

    async def viewer(self) -> int:
        """The user id favorites belong to (0 when nobody is signed in)."""
        user = await self.current()
        return INSTANCE_VIEWER if user is None or user.id is None else user.id

    async def favorites_viewer(self) -> int:
        """Like :meth:`viewer`, but guests have no favorites."""
        user = await self.current()
        if user is not None and user.type == Role.GUEST:
            raise AccessDenied("guests have no favorites", reason="guests_no_favorites")
        return INSTANCE_VIEWER if user is None or user.id is None else user.id


def _active(row: CredentialRow) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > time.time())

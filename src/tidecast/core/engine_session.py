"""The account signed in on the engine API (``sign_in`` / ``sign_out`` / ``check_auth``).

Like the Ace Stream engine, the engine API has one signed-in account at a time; the
playlist's favorites and ``check_auth`` are that account's. The sign-in is a credential
(kind ``engine_session``) and so survives restarts.
"""

from __future__ import annotations

from tidecast.core.accounts import AccountService
from tidecast.core.credentials import ENGINE_SESSION_KIND, TokenService
from tidecast.core.errors import AccessDenied, NotFound
from tidecast.core.users import Role, User
from tidecast.storage import credentials_repo
from tidecast.storage.database import Database

INSTANCE_VIEWER = 0
"""Whose favorites the engine API shows when nobody is signed in: the instance's own."""


class EngineSession:
    def __init__(self, db: Database, accounts: AccountService, tokens: TokenService) -> None:
        self._db = db
        self._accounts = accounts
        self._tokens = tokens
        self._user_id: int | None = None

    async def load(self) -> None:
        async with self._db.read() as conn:
            rows = await credentials_repo.find_active_of_kind(conn, ENGINE_SESSION_KIND)
        latest = max(rows, key=lambda row: (row.created_at, row.id), default=None)
        self._user_id = int(latest.owner) if latest is not None and latest.owner else None

    async def sign_in(self, identifier: str, password: str, *, address: str | None) -> User:
        user = await self._accounts.authenticate(identifier, password, address=address)
        await self.sign_out()
        assert user.id is not None
        await self._tokens.issue(ENGINE_SESSION_KIND, str(user.id), label="engine sign-in")
        self._user_id = user.id
        return user

    async def sign_out(self) -> None:
        if self._user_id is not None:
            await self._tokens.revoke_owner(str(self._user_id), {ENGINE_SESSION_KIND})
        self._user_id = None

    async def current(self) -> User | None:
        if self._user_id is None:
            return None
        try:
            return await self._accounts.get_by_id(self._user_id)
        except NotFound:
            self._user_id = None  # the account was deleted meanwhile
            return None

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

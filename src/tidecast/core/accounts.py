"""The one account store, and signing in: every surface (engine ``sign_in``, user
commands, admin API, device API, web UI) goes through :class:`AccountService`, so an
account created through one signs in through all of them.

The account records (reading, searching, creating, editing, deleting) are
:class:`~tidecast.core.account_store.AccountStore`'s; this module adds passwords
checked, sessions opened and ended, guest sign-ins, and the account behind a token.
A password sign-in (:meth:`AccountService.sign_in`, which :meth:`~AccountService.login`
uses) asks an account with two-factor on for its code too; :meth:`~AccountService.authenticate`
checks the password alone, for surfaces that ask for the code on a page of their own.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from tidecast.core.account_store import (
    ONLINE_WINDOW_SECONDS,
    RESERVED_LOGIN,
    SEARCH_FIELDS,
    AccountPolicy,
    AccountStore,
    UserPage,
    drop_account_data,
    with_values,
)
from tidecast.core.credentials import COMMAND_KIND, TokenService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    FeatureClosed,
    InvalidInput,
    NotFound,
)
from tidecast.core.login_throttle import LoginThrottle
from tidecast.core.passwords import verify_password
from tidecast.core.security_code import SecurityCode
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import Role, User, check_new_login, is_internal, is_online
from tidecast.storage import users_repo
from tidecast.storage.database import Database
from tidecast.storage.users_repo import UserRow

__all__ = [
    "GUEST_BUSY_SECONDS",
    "MAX_IDENTIFIER",
    "ONLINE_WINDOW_SECONDS",
    "RESERVED_LOGIN",
    "SEARCH_FIELDS",
    "USER_CACHE_SECONDS",
    "AccountPolicy",
    "AccountService",
    "Session",
    "UserPage",
]

MAX_IDENTIFIER = 320
"""Longest login or email worth looking up when logging in."""
GUEST_BUSY_SECONDS = 60 * 60
USER_CACHE_SECONDS = 5.0
"""How long :meth:`AccountService.user_for_token` reuses an account it read, as the token
service reuses a verified token; every change made through this service forgets it."""


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str


class AccountService(AccountStore):
    def __init__(
        self,
        db: Database,
        tokens: TokenService,
        security_code: SecurityCode,
        throttle: LoginThrottle,
        policy: AccountPolicy,
        two_factor: TwoFactor,
    ) -> None:
        super().__init__(db, tokens, security_code, throttle, policy)
        self._two_factor = two_factor

    # -- logging in ----------------------------------------------------------------------

    async def authenticate(self, identifier: str, password: str, *, address: str | None) -> User:
        """The account for a login (or email) and password; throttled per account and address.

        The password alone: a sign-in is :meth:`sign_in`, unless its surface asks for the
        two-factor code itself (the web UI's code page, ``Admin.Login``).
        An account's failures are counted under its login whichever identifier named it,
        so its login and its email share one lockout; an unknown identifier counts as itself.
        Guests (no password) never authenticate this way.
        """
        key = identifier.strip().lower() if isinstance(identifier, str) else ""
        async with self._db.read() as conn:
            user = await users_repo.by_login(conn, key)
            if user is None and "@" in key:
                user = await users_repo.by_email(conn, key)
        if user is not None and is_internal(user.login):
            user = None  # an account that would manage the instance's own playlist
        if len(key) > MAX_IDENTIFIER:
            raise AuthenticationRequired("wrong login or password", reason="bad_credentials")
        account = user.login if user is not None else key
        async with self._throttle.guard(account, address):
            await self._throttle.check(account, address)
            stored = user.password_hash if user is not None else None
            if not await verify_password(stored, password or "") or user is None:
                await self._throttle.failed(account, address)
                raise AuthenticationRequired("wrong login or password", reason="bad_credentials")
            await self._throttle.succeeded(account)
        return user

    async def sign_in(
        self, identifier: str, password: str, *, two_factor_code: object, address: str | None
    ) -> User:
        """The account a password sign-in names: :meth:`authenticate`, then for an account
        with two-factor on its code (an app code or a recovery code), else
        AuthenticationRequired ``tfa_required`` / ``tfa_invalid``.

        The password is checked first, so a code is neither looked at nor spent, and
        two-factor never mentioned, until it is right.
        """
        user = await self.authenticate(identifier, password, address=address)
        await self._two_factor.check_sign_in(user, two_factor_code, address=address)
        return user

    async def login(
        self,
        identifier: str,
        password: str,
        *,
        address: str | None,
        two_factor_code: object = None,
        security_code: object = None,
        kind: str = COMMAND_KIND,
        device: str | None = None,
    ) -> Session:
        """A login token for a password sign-in (:meth:`sign_in`); a security code also
        makes the account an operator."""
        user = await self.sign_in(
            identifier, password, two_factor_code=two_factor_code, address=address
        )
        values: dict[str, Any] = {"last_login_at": int(time.time())}
        if security_code not in (None, "") and user.type != Role.OPERATOR:
            if is_online(user.login):
                raise AccessDenied(
                    "Admin accounts are not allowed to be created online", reason="online_admin"
                )
            if not self.security_code.consume(security_code, address):
                raise AccessDenied("wrong security code", reason="wrong_security_code")
            values["type"] = int(Role.OPERATOR)
        return await self._open(user, values, kind=kind, device=device)

    async def open_session(
        self, user: User, *, kind: str = COMMAND_KIND, device: str | None = None
    ) -> Session:
        """A login token for an account whose password was checked (:meth:`authenticate`)
        and that passed whatever else its surface asks (e.g. a two-factor code); the login
        is recorded as :meth:`login` records it."""
        return await self._open(user, {"last_login_at": int(time.time())}, kind=kind, device=device)

    async def _open(
        self, user: User, values: dict[str, Any], *, kind: str, device: str | None
    ) -> Session:
        assert user.id is not None
        async with self._db.write() as conn:
            await users_repo.update_values(conn, user.id, values)
        self._forget(user.id)
        user = with_values(user, values)
        token = await self._tokens.issue(kind, str(user.id), device=device)
        return Session(user, token)

    async def login_guest(
        self, name: str | None, *, kind: str = COMMAND_KIND, address: str | None = None
    ) -> Session:
        """A session on a guest account: a free one (nobody signed into it for
        :data:`GUEST_BUSY_SECONDS`), or else a new temporary one (named ``name``).

        A reused guest account starts afresh: the previous guest's tokens end and what it
        owned (playlist, external playlists, tasks, favorites) is deleted. Each ``address``
        has :attr:`~tidecast.core.login_throttle.ThrottlePolicy.guest_sign_ins` a window,
        then TooManyAttempts.
        """
        if not self._policy.allow_guest_login:
            raise FeatureClosed("guest logins are disabled", reason="guests_not_allowed")
        await self._throttle.note_guest_sign_in(address)
        now = int(time.time())
        async with self._db.write() as conn:
            guest = await users_repo.free_guest(conn, now - GUEST_BUSY_SECONDS)
            if guest is not None:
                await drop_account_data(conn, guest)
            else:
                if (
                    not self._policy.allow_custom_guests
                    or await users_repo.count_temporary_guests(conn)
                    >= self._policy.max_temporary_guests
                ):
                    raise Conflict("no guest account is free", reason="no_guest_free")
                base = check_new_login(name) if name else f"guest-{secrets.token_hex(3)}"
                if is_online(base):
                    raise InvalidInput("a guest name cannot name an instance", field="name")
                guest = UserRow(
                    login=base,
                    nickname=base,
                    type=int(Role.GUEST),
                    flag_temporary=True,
                    created_at=now,
                    updated_at=now,
                )
                await self._check_unique(conn, guest)
                guest.id = await users_repo.insert(conn, guest)
            assert guest.id is not None
            await users_repo.update_values(conn, guest.id, {"last_login_at": now})
        self._forget(guest.id)
        # A reused guest account starts afresh: the previous guest's tokens end.
        await self._tokens.revoke_owner(str(guest.id))
        token = await self._tokens.issue(kind, str(guest.id))
        return Session(with_values(guest, {"last_login_at": now}), token)

    async def user_for_token(self, token: str | None, kinds: set[str]) -> User:
        """The account a bearer token belongs to; AuthenticationRequired otherwise.

        The account read is reused for :data:`USER_CACHE_SECONDS` (a role or password
        changed by another process shows within that time, as a revoked token does).
        """
        info = await self._tokens.verify(token, kinds)
        try:
            user_id = int(info.owner)
        except ValueError:
            raise AuthenticationRequired("invalid token") from None
        now = time.monotonic()
        recent = self._recent.get(user_id)
        if recent is not None and now - recent[1] < USER_CACHE_SECONDS:
            return recent[0]
        changes = self._changes
        try:
            user = await self.get_by_id(user_id)
        except NotFound:
            raise AuthenticationRequired("invalid token") from None
        if is_internal(user.login):
            raise AuthenticationRequired("invalid token")
        if changes == self._changes:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[user_id] = (user, now)
        return user

    async def new_session(self, user: User, *, kind: str = COMMAND_KIND) -> Session:
        """A fresh login token for an account that proved itself another way (e.g. it just
        changed its password, which ends its other sessions)."""
        assert user.id is not None
        return Session(user, await self._tokens.issue(kind, str(user.id)))

    async def logout(self, token: str) -> None:
        await self._tokens.revoke(token)

"""The one account store: creating, reading, editing and deleting users, and logging in.

Every surface (engine ``sign_in``, user commands, admin API, device API, web UI) goes
through this service, so an account created through one signs in through all of them.
A password sign-in (:meth:`AccountService.sign_in`, which :meth:`~AccountService.login`
uses) asks an account with two-factor on for its code too; :meth:`~AccountService.authenticate`
checks the password alone, for surfaces that ask for the code on a page of their own.
Role rules follow seed 003: creating an operator needs an operator or the security code;
operators cannot be demoted below the last one; guests have no password and cannot edit.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

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
from tidecast.core.passwords import check_strength, hash_password, verify_password
from tidecast.core.security_code import SecurityCode
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import (
    ROLES_BY_NAME,
    Role,
    User,
    check_changes,
    check_email,
    check_nickname,
    is_online,
    local_part,
    normalize_login,
)
from tidecast.storage import playlist_repo, users_repo
from tidecast.storage.database import Connection, Database
from tidecast.storage.users_repo import UserRow

RESERVED_LOGIN = "admin"
"""Only the host's console or an operator may create it; it can never delete itself."""
MAX_IDENTIFIER = 320
"""Longest login or email worth looking up when logging in."""
ONLINE_WINDOW_SECONDS = 15 * 60
"""A user counts as logged in (``flag_logged_in``) this long after their last login."""
GUEST_BUSY_SECONDS = 60 * 60
USER_CACHE_SECONDS = 5.0
"""How long :meth:`AccountService.user_for_token` reuses an account it read, as the token
service reuses a verified token; every change made through this service forgets it."""


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    allow_user_creation: bool = True
    allow_guest_login: bool = True
    allow_custom_guests: bool = True
    online_accounts: bool = True
    max_temporary_guests: int = 50


class AccountService:
    def __init__(
        self,
        db: Database,
        tokens: TokenService,
        security_code: SecurityCode,
        throttle: LoginThrottle,
        policy: AccountPolicy,
        two_factor: TwoFactor,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self.security_code = security_code
        self._throttle = throttle
        self._policy = policy
        self._two_factor = two_factor
        self._recent: dict[int, tuple[User, float]] = {}
        self._changes = 0  # bumped by every write, so a read racing one is not remembered

    # -- reading -------------------------------------------------------------------------

    async def get(self, login: str) -> User:
        async with self._db.read() as conn:
            user = await users_repo.by_login(conn, normalize_login(login))
        if user is None:
            raise NotFound(f"no user {login!r}", field="username", reason="user_not_found")
        return user

    async def get_by_id(self, user_id: int) -> User:
        async with self._db.read() as conn:
            user = await users_repo.by_id(conn, user_id)
        if user is None:
            raise NotFound("no such user", reason="user_not_found")
        return user

    async def visible_to(self, viewer: User | None) -> list[User]:
        """Everyone for operators; public accounts (and oneself) for anyone else."""
        is_operator = viewer is not None and viewer.type == Role.OPERATOR
        async with self._db.read() as conn:
            users = await users_repo.all_users(conn, public_only=not is_operator)
            if viewer is not None and not is_operator and not viewer.flag_public:
                users.append(viewer)
        return sorted(users, key=lambda u: u.login)

    async def all(self) -> list[User]:
        """Every account, by login (the host's console: ``tidecast user list``)."""
        async with self._db.read() as conn:
            return await users_repo.all_users(conn, public_only=False)

    def can_see(self, viewer: User | None, user: User) -> bool:
        return user.flag_public or (
            viewer is not None and (viewer.type == Role.OPERATOR or viewer.id == user.id)
        )

    @staticmethod
    def logged_in_recently(user: User) -> bool:
        return user.last_login_at is not None and (
            time.time() - user.last_login_at < ONLINE_WINDOW_SECONDS
        )

    # -- creating ------------------------------------------------------------------------

    async def create(
        self,
        login: str,
        password: str | None,
        *,
        role: str = "user",
        nickname: str | None = None,
        email: str | None = None,
        security_code: object = None,
        actor: User | None = None,
        trusted: bool = False,
        address: str | None = None,
    ) -> User:
        """Create an account. ``trusted`` is the host's own console (CLI), which may do
        anything; otherwise an operator needs an operator actor or the security code."""
        login = normalize_login(login)
        wanted = ROLES_BY_NAME.get(role)
        if wanted is None:
            raise InvalidInput("role must be admin, user or guest", field="role")
        actor_is_operator = actor is not None and actor.type == Role.OPERATOR
        if not trusted and not actor_is_operator and not self._policy.allow_user_creation:
            raise FeatureClosed("creating accounts is disabled", reason="creation_disabled")
        if login == RESERVED_LOGIN and not (trusted or actor_is_operator):
            raise AccessDenied(f"the login {RESERVED_LOGIN!r} is reserved", reason="unauthorized")
        if not (trusted or actor_is_operator):
            await self._throttle.note_creation(address)
        if is_online(login):
            if not self._policy.online_accounts:
                raise FeatureClosed(
                    "Creating online accounts is not allowed on this instance",
                    reason="online_disabled",
                )
            if wanted == Role.OPERATOR:
                raise AccessDenied(
                    "Admin accounts are not allowed to be created online", reason="online_admin"
                )
        needs_password = wanted != Role.GUEST or bool(password)
        if needs_password:
            if not password:
                raise InvalidInput(
                    "password is required", field="password", reason="password_too_short"
                )
            check_strength(password)
        now = int(time.time())
        row = UserRow(
            login=login,
            nickname=check_nickname(nickname) if nickname else local_part(login),
            email=check_email(email),
            type=int(wanted),
            created_at=now,
            updated_at=now,
        )
        # Everything that can fail is checked before the single-use code is spent.
        async with self._db.read() as conn:
            await self._check_unique(conn, row)
        if (
            wanted == Role.OPERATOR
            and not (trusted or actor_is_operator)
            and not self.security_code.consume(security_code, address)
        ):
            raise AccessDenied("an operator or the security code is needed", reason="unauthorized")
        if needs_password:
            assert password is not None
            row.password_hash = await hash_password(password)
        async with self._db.write() as conn:
            await self._check_unique(conn, row)
            row.id = await users_repo.insert(conn, row)
        return row

    async def _check_unique(self, conn: Connection, row: UserRow) -> None:
        existing = await users_repo.by_login(conn, row.login)
        if existing is not None and existing.id != row.id:
            raise Conflict(f"user {row.login} already exists", field="login", reason="user_exists")
        same_nick = await users_repo.by_nickname(conn, row.nickname)
        if same_nick is not None and same_nick.id != row.id:
            raise Conflict("nickname already in use", field="nickname", reason="nickname_taken")
        if "@" in row.login:
            # An online login equal to someone's email would take over their email login.
            mail_owner = await users_repo.by_email(conn, row.login)
            if mail_owner is not None and mail_owner.id != row.id:
                raise Conflict(
                    f"user {row.login} already exists", field="login", reason="user_exists"
                )
        if row.email:
            same_mail = await users_repo.by_email(conn, row.email)
            if same_mail is not None and same_mail.id != row.id:
                raise Conflict("email already in use", field="email", reason="email_taken")
            login_owner = await users_repo.by_login(conn, row.email)
            if login_owner is not None and login_owner.id != row.id:
                raise Conflict("email already in use", field="email", reason="email_taken")

    # -- editing -------------------------------------------------------------------------

    async def edit_self(self, user: User, changes: dict[str, Any]) -> User:
        if user.type == Role.GUEST:
            raise AccessDenied("guests cannot edit their account", reason="guests_cannot_edit")
        changes = dict(changes)
        if "type" in changes and changes["type"] != user.type:
            raise AccessDenied("you cannot change your own type", reason="cannot_change_type")
        changes.pop("type", None)
        return await self._apply(user, changes)

    async def edit(self, login: str, changes: dict[str, Any], *, actor: User) -> User:
        """An operator's edit; online accounts only take ``type`` and ``flag_tutorial_done``."""
        self.require_operator(actor)
        user = await self.get(login)
        changes = dict(changes)
        if is_online(user.login) and set(changes) - {"type", "flag_tutorial_done"}:
            raise InvalidInput(
                "only type and flag_tutorial_done of online accounts can be edited here",
                reason="online_edit",
            )
        new_type = None
        if "type" in changes:
            new_type = changes.pop("type")
            if new_type not in (0, 1, 2) or isinstance(new_type, bool):
                raise InvalidInput("type must be 0, 1 or 2", field="type")
        return await self._apply(user, changes, new_type=new_type)

    async def _apply(
        self, user: User, changes: dict[str, Any], *, new_type: int | None = None
    ) -> User:
        """Validate and store ``changes``; the type only ever comes from ``new_type``, which
        callers set after their own role checks (never from a client's ``changes``)."""
        values: dict[str, Any] = {}
        if new_type is not None:
            values["type"] = int(new_type)
        changes = dict(changes)
        password = changes.pop("password", None)
        avatar = changes.pop("avatar_file", None)
        values.update(check_changes(changes))
        if password is not None:
            values["password_hash"] = await hash_password(password)
        if avatar is not None:
            if not isinstance(avatar, str) or not 0 < len(avatar) <= 255:
                raise InvalidInput("avatar must be a stored file name", field="avatar")
            values["avatar_file"] = avatar
        if not values:
            return user
        values["updated_at"] = int(time.time())
        updated = UserRow(**{**_fields(user), **values})
        async with self._db.write() as conn:
            await self._check_unique(conn, updated)
            if user.type == Role.OPERATOR and values.get("type", Role.OPERATOR) != Role.OPERATOR:
                await self._keep_an_operator(conn, user)
            assert user.id is not None
            await users_repo.update_values(conn, user.id, values)
        self._forget(user.id)
        if password is not None:
            await self._tokens.revoke_owner(str(user.id))
        return updated

    async def set_password(self, login: str, password: str) -> None:
        """The host's console sets a password (``tidecast user passwd``)."""
        user = await self.get(login)
        await self._apply(user, {"password": password})

    async def reset_password(
        self, login: str, password: str, security_code: object, *, address: str | None = None
    ) -> None:
        """Seed 003 ``resetUserPassword`` for a local account: needs the security code,
        checked first so that the answer tells nothing about which accounts exist."""
        check_strength(password)
        if is_online(normalize_login(login)):
            raise InvalidInput(
                "online accounts reset their password at their home instance", reason="online_reset"
            )
        if not self.security_code.consume(security_code, address):
            raise AccessDenied("wrong security code", reason="wrong_security_code")
        user = await self.get(login)
        await self._apply(user, {"password": password})

    async def set_anime_list(self, user: User, ids: list[int], titles: list[str]) -> User:
        values = {
            "anime_list_ids": ids,
            "anime_list_titles": titles,
            "anime_list_last_modified_at": int(time.time()),
        }
        async with self._db.write() as conn:
            assert user.id is not None
            await users_repo.update_values(conn, user.id, values)
        self._forget(user.id)
        return UserRow(**{**_fields(user), **values})

    async def rename(self, user: User, new_login: str) -> User:
        """Change a login (converting to and from online); its tokens are revoked."""
        new_login = normalize_login(new_login)
        renamed = UserRow(**{**_fields(user), "login": new_login, "updated_at": int(time.time())})
        async with self._db.write() as conn:
            await self._check_unique(conn, renamed)
            assert user.id is not None
            await users_repo.update_values(
                conn, user.id, {"login": new_login, "updated_at": renamed.updated_at}
            )
            # The account's own playlist follows it (owners are logins).
            await playlist_repo.rename_owner(conn, user.login, new_login)
        self._forget(user.id)
        await self._tokens.revoke_owner(str(user.id))
        return renamed

    # -- deleting ------------------------------------------------------------------------

    async def delete(self, login: str, *, actor: User | None, trusted: bool = False) -> None:
        if not trusted:
            if actor is None:
                raise AuthenticationRequired("log in as an operator to delete accounts")
            self.require_operator(actor)
        user = await self.get(login)
        if user.login == RESERVED_LOGIN and not trusted:
            raise AccessDenied("the admin account cannot be deleted", reason="admin_undeletable")
        await self._remove(user)

    async def delete_self(self, user: User) -> None:
        if user.login == RESERVED_LOGIN:
            raise AccessDenied("the admin account cannot be deleted", reason="admin_undeletable")
        await self._remove(user)

    async def _remove(self, user: User) -> None:
        assert user.id is not None
        async with self._db.write() as conn:
            if user.type == Role.OPERATOR:
                await self._keep_an_operator(conn, user)
            await playlist_repo.forget_viewer(conn, user.id)
            await users_repo.remove(conn, user.id)
        self._forget(user.id)
        await self._tokens.revoke_owner(str(user.id))

    async def _keep_an_operator(self, conn: Connection, user: User) -> None:
        """Inside the write that removes or demotes ``user``: refuse if no operator would
        remain (the other operators' rows are locked, so concurrent removals serialise)."""
        assert user.id is not None
        if await users_repo.count_operators_locked(conn, user.id) == 0:
            raise AccessDenied("the last operator cannot be removed", reason="admin_undeletable")

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
        user = UserRow(**{**_fields(user), **values})
        token = await self._tokens.issue(kind, str(user.id), device=device)
        return Session(user, token)

    async def login_guest(self, name: str | None, *, kind: str = COMMAND_KIND) -> Session:
        if not self._policy.allow_guest_login:
            raise FeatureClosed("guest logins are disabled", reason="guests_not_allowed")
        now = int(time.time())
        async with self._db.write() as conn:
            guest = await users_repo.free_guest(conn, now - GUEST_BUSY_SECONDS)
            if guest is None:
                if (
                    not self._policy.allow_custom_guests
                    or await users_repo.count_temporary_guests(conn)
                    >= self._policy.max_temporary_guests
                ):
                    raise Conflict("no guest account is free", reason="no_guest_free")
                base = normalize_login(name) if name else f"guest-{secrets.token_hex(3)}"
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
        return Session(UserRow(**{**_fields(guest), "last_login_at": now}), token)

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
        if changes == self._changes:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[user_id] = (user, now)
        return user

    @property
    def changes(self) -> int:
        """Bumped by every account change made through this service, for caches of accounts."""
        return self._changes

    def _forget(self, user_id: int) -> None:
        self._changes += 1
        self._recent.pop(user_id, None)

    async def new_session(self, user: User, *, kind: str = COMMAND_KIND) -> Session:
        """A fresh login token for an account that proved itself another way (e.g. it just
        changed its password, which ends its other sessions)."""
        assert user.id is not None
        return Session(user, await self._tokens.issue(kind, str(user.id)))

    async def logout(self, token: str) -> None:
        await self._tokens.revoke(token)

    # -- gates ---------------------------------------------------------------------------

    @staticmethod
    def require_operator(actor: User) -> None:
        if actor.type != Role.OPERATOR:
            raise AccessDenied("operators only", reason="admin_please")


def _fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in UserRow.__dataclass_fields__}

"""The account records: reading, searching, creating, editing and deleting users.

:class:`~tidecast.core.accounts.AccountService`, the one account store every surface
uses, is an :class:`AccountStore` that also signs accounts in; this module holds what
needs no sign-in. Role rules follow seed 003: creating an operator needs an operator or
the security code; operators cannot be demoted below the last one; guests have no
password and cannot edit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tidecast.core.credentials import TokenService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    FeatureClosed,
    InvalidInput,
    NotFound,
)
from tidecast.core.login_throttle import LoginThrottle
from tidecast.core.passwords import check_strength, hash_password
from tidecast.core.security_code import SecurityCode
from tidecast.core.users import (
    ROLES_BY_NAME,
    Role,
    User,
    check_changes,
    check_email,
    check_new_login,
    check_nickname,
    is_internal,
    is_online,
    local_part,
    normalize_login,
)
from tidecast.storage import external_repo, playlist_repo, tasks_repo, users_repo
from tidecast.storage.database import Connection, Database
from tidecast.storage.users_repo import UserRow

RESERVED_LOGIN = "admin"
"""Only the host's console or an operator may create it; it can never delete itself."""
ONLINE_WINDOW_SECONDS = 15 * 60
"""A user counts as logged in (``flag_logged_in``) this long after their last login."""
SEARCH_FIELDS = users_repo.SEARCHABLE
"""What :meth:`AccountStore.search` looks in: ``login``, ``nickname``, ``email``."""


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    allow_user_creation: bool = True
    allow_guest_login: bool = True
    allow_custom_guests: bool = True
    online_accounts: bool = True
    max_temporary_guests: int = 50


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of accounts, and how many the search found in all."""

    users: list[User]
    total: int


class AccountStore:
    def __init__(
        self,
        db: Database,
        tokens: TokenService,
        security_code: SecurityCode,
        throttle: LoginThrottle,
        policy: AccountPolicy,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self.security_code = security_code
        self._throttle = throttle
        self._policy = policy
        # Accounts read for tokens (AccountService.user_for_token); every change forgets.
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

    async def search(
        self,
        words: str = "",
        *,
        viewer: User | None,
        offset: int = 0,
        limit: int | None = None,
        fields: tuple[str, ...] = SEARCH_FIELDS,
    ) -> UserPage:
        """Accounts ``viewer`` may see (:meth:`can_see`), by login, ``limit`` of them from
        ``offset`` on, and how many match in all.

        ``words`` (when not empty) is looked for in ``fields`` (some of
        :data:`SEARCH_FIELDS`): part of any of them, in any case (``%`` and ``_`` are
        plain characters). Matching and paging happen in the database.
        """
        if not set(fields) <= set(SEARCH_FIELDS) or offset < 0 or (limit is not None and limit < 0):
            raise ValueError("search fields, offset or limit out of range")
        is_operator = viewer is not None and viewer.type == Role.OPERATOR
        async with self._db.read() as conn:
            users, total = await users_repo.search(
                conn,
                words=words,
                columns=fields,
                public_only=not is_operator,
                also_id=viewer.id if viewer is not None else None,
                offset=offset,
                limit=limit,
            )
        return UserPage(users, total)

    async def visible_to(self, viewer: User | None) -> list[User]:
        """Everyone for operators; public accounts (and oneself) for anyone else."""
        return (await self.search(viewer=viewer)).users

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
        anything; otherwise an operator needs an operator actor or the security code.
        The core's own owner keys (``_no_owner_``) are no one's login, not even then."""
        login = check_new_login(login)
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
        updated = with_values(user, values)
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
        return with_values(user, values)

    async def rename(self, user: User, new_login: str) -> User:
        """Change a login (converting to and from online); its tokens are revoked, and its
        playlist, external playlists and tasks (owned by login) follow it."""
        new_login = check_new_login(new_login)
        renamed = with_values(user, {"login": new_login, "updated_at": int(time.time())})
        async with self._db.write() as conn:
            await self._check_unique(conn, renamed)
            assert user.id is not None
            await users_repo.update_values(
                conn, user.id, {"login": new_login, "updated_at": renamed.updated_at}
            )
            # What the account owns is filed under its login; an internal key's data (a
            # login from before those were refused) stays the instance's.
            if not is_internal(user.login):
                await playlist_repo.rename_owner(conn, user.login, new_login)
                await external_repo.rename_owner(conn, user.login, new_login)
                await tasks_repo.rename_owner(conn, user.login, new_login)
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
            await drop_account_data(conn, user)
            await users_repo.remove(conn, user.id)
        self._forget(user.id)
        await self._tokens.revoke_owner(str(user.id))

    async def _keep_an_operator(self, conn: Connection, user: User) -> None:
        """Inside the write that removes or demotes ``user``: refuse if no operator would
        remain (the other operators' rows are locked, so concurrent removals serialise)."""
        assert user.id is not None
        if await users_repo.count_operators_locked(conn, user.id) == 0:
            raise AccessDenied("the last operator cannot be removed", reason="admin_undeletable")

    # -- changes -------------------------------------------------------------------------

    @property
    def changes(self) -> int:
        """Bumped by every account change made through this service, for caches of accounts."""
        return self._changes

    def _forget(self, user_id: int) -> None:
        self._changes += 1
        self._recent.pop(user_id, None)

    # -- gates ---------------------------------------------------------------------------

    @staticmethod
    def require_operator(actor: User) -> None:
        if actor.type != Role.OPERATOR:
            raise AccessDenied("operators only", reason="admin_please")


async def drop_account_data(conn: Connection, user: User) -> None:
    """Inside a write: delete what ``user`` owns (its playlist items, trash included, its
    external playlists and their items, its tasks) and its favorites, so that no later
    account with its login (a new one, or the next visitor of a guest account) gets them.

    Data under an internal key (:func:`~tidecast.core.users.is_internal`) is the
    instance's, so an account with such a login (from before those were refused) only
    loses its favorites.
    """
    assert user.id is not None
    await playlist_repo.forget_viewer(conn, user.id)
    if is_internal(user.login):
        return
    await external_repo.delete_of_owner(conn, user.login)
    await playlist_repo.delete_of_owner(conn, user.login)
    await tasks_repo.delete_of_owner(conn, user.login)


def with_values(user: User, values: dict[str, Any]) -> UserRow:
    """``user`` as stored after ``values`` are written to it."""
    fields = {name: getattr(user, name) for name in UserRow.__dataclass_fields__}
    return UserRow(**{**fields, **values})

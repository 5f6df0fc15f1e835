"""Online accounts: a user whose home is another tidecast instance (``login@instance``).

The home is reached at ``{online_scheme}://{instance}/api/command`` through its own seed-003
command surface, as any client of it would: ``createUser``, ``login``, ``editMyAccount``,
``deleteMyAccount``, ``refreshAnimeList``, ``getMyAccount`` and ``checkAuth``. On the home
the account is an ordinary local one named by the part before the ``@``.

The online token is the home's own login token for that account. This instance never
stores it: it is handed to the client, which sends it back as ``onlineAuthorization``.

A home is named by whoever created or converted the account, so every request to one
goes through the Fetcher under the same rule, whoever is calling: a loopback or private
address is refused unless the operator allowed private homes (``allow_private_homes``,
for tests and LANs of instances). A caller's own locality never widens it. Errors the
home answers become core errors naming the instance and the home's code; tokens and
passwords never appear in a message or a log line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Any

from tidecast.core.accounts import AccountService, Session
from tidecast.core.anime_lists import AnimeLists, clean_anime_list
from tidecast.core.credentials import COMMAND_KIND, TokenService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    ContentUnavailable,
    FeatureClosed,
    InvalidInput,
    NotFound,
    TidecastError,
)
from tidecast.core.passwords import check_strength
from tidecast.core.users import (
    EDITABLE_FIELDS,
    Role,
    User,
    check_changes,
    check_email,
    check_nickname,
    home_instance,
    is_online,
    local_part,
    normalize_login,
)
from tidecast.engine.http_fetch import Fetcher

log = logging.getLogger(__name__)

HOME_MAX_BYTES = 16 * 1024 * 1024
"""Largest answer read from a home instance (a profile with a long anime list)."""
LOCAL_ONLY_FIELDS = frozenset({"avatar_file", "type", "password"})
"""Edit keys that are not profile fields: the avatar file stays local, the type cannot
change, and the password is checked apart (it goes home too)."""
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
HOME_TWO_FACTOR_CODES = frozenset({"TWO_FACTOR_REQUIRED", "TWO_FACTOR_INVALID"})
"""A home's ``login`` answers these for an account with two-factor on (seed-003 surface)."""


@dataclass(frozen=True, slots=True)
class HomeAnswer:
    """One command's answer: ``data`` on success, else the status and the home's code."""

    ok: bool
    status: int
    code: str | None
    data: Any


class HomeClient:
    """Sends seed-003 commands to other tidecast instances."""

    def __init__(self, fetcher: Fetcher, scheme: str, *, allow_private: bool) -> None:
        self._fetcher = fetcher
        self._scheme = scheme
        self._allow_private = allow_private

    async def command(
        self,
        instance: str,
        cmd: str,
        body: dict[str, Any] | None = None,
        *,
        authorization: str | None = None,
    ) -> HomeAnswer:
        payload: dict[str, Any] = {"body": body or {}}
        if authorization is not None:
            payload["authorization"] = authorization
        status, answer = await self._fetcher.request_json(
            "POST",
            f"{self._scheme}://{instance}/api/command",
            json={"cmd": cmd, "body": payload},
            caller_is_local=self._allow_private,
            max_bytes=HOME_MAX_BYTES,
        )
        data = answer.get("data")
        if answer.get("err") is False:
            return HomeAnswer(True, status, None, data)
        if answer.get("err") is not True:
            raise ContentUnavailable(
                f"{instance} does not answer as a tidecast instance (HTTP {status})",
                reason="online_error",
            )
        # The envelope's own status wins: a proxy in front of the home may change HTTP's.
        message = None
        if isinstance(data, dict):
            reported = data.get("code")
            if isinstance(reported, int) and not isinstance(reported, bool):
                status = reported
            message = data.get("message")
        return HomeAnswer(False, status, _safe_code(message), None)


def _safe_code(message: Any) -> str | None:
    """The home's message code, or the fields a validation error names; nothing else."""
    if not isinstance(message, dict):
        return None
    code = message.get("code")
    if isinstance(code, str):
        return code if _CODE.fullmatch(code) else None
    fields = [key for key in message if isinstance(key, str) and _CODE.fullmatch(key)]
    return ", ".join(fields[:5]) or None


def home_error(instance: str, answer: HomeAnswer, doing: str) -> TidecastError:
    """The core error for a home's refusal; ``doing`` completes "… refused to <doing>"."""
    said = f" ({answer.code})" if answer.code else ""
    message = f"{instance} refused to {doing}{said}"
    if answer.code == "UNKNOWN_COMMAND":
        return ContentUnavailable(
            f"{instance} does not know how to {doing}: is it a tidecast instance?",
            reason="online_error",
        )
    if answer.code == "PASSWORD_TOO_SHORT":
        return InvalidInput(message, field="password", reason="password_too_short")
    if answer.status == 401:
        return AuthenticationRequired(
            f"{instance} did not accept the online token; log in again",
            reason="invalid_online_token",
        )
    if answer.status == 503:
        return FeatureClosed(message, reason="online_refused")
    if answer.status == 403:
        return AccessDenied(message, reason="online_refused")
    if answer.status == 404:
        return NotFound(message, reason="online_not_found")
    if answer.status == 409:
        return Conflict(message, reason="online_conflict")
    if 400 <= answer.status < 500:
        return InvalidInput(message, reason="online_invalid")
    return ContentUnavailable(
        f"{instance} failed to {doing} (HTTP {answer.status}{said})", reason="online_error"
    )


class OnlineAccounts:
    """Creating online accounts, converting accounts to and from online ones, and keeping
    them in step with their home."""

    def __init__(
        self,
        accounts: AccountService,
        tokens: TokenService,
        fetcher: Fetcher,
        anime_lists: AnimeLists,
        *,
        scheme: str,
        enabled: bool = True,
        allow_private_homes: bool = False,
        allow_user_creation: bool = True,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._home = HomeClient(fetcher, scheme, allow_private=allow_private_homes)
        self._anime_lists = anime_lists
        self._enabled = enabled
        self._allow_user_creation = allow_user_creation

    async def register(
        self,
        login: str,
        password: str,
        *,
        nickname: str | None = None,
        email: str | None = None,
        actor: User | None = None,
    ) -> None:
        """Create the online account ``login`` (``name@instance``) at its home.

        The home's ``createUser`` then its ``login``, which proves the account works with
        ``password``; the caller then stores the account here (``AccountService.create``,
        with the same password). Nothing is sent home unless online accounts and account
        creation (or an operator ``actor``) are allowed here, the login is free here and
        the password strong enough. A home that already has the account takes it as it
        is when ``password`` logs in to it (an earlier attempt whose local half failed);
        otherwise Conflict ``user_exists_online``.
        """
        if not self._enabled:
            raise FeatureClosed(
                "Creating online accounts is not allowed on this instance",
                reason="online_disabled",
            )
        operator = actor is not None and actor.type == Role.OPERATOR
        if not self._allow_user_creation and not operator:
            raise FeatureClosed("creating accounts is disabled", reason="creation_disabled")
        login = normalize_login(login)
        if not is_online(login):
            raise InvalidInput("an online login is name@instance", field="login")
        check_strength(password)
        profile: dict[str, str] = {}
        if nickname:
            profile["nickname"] = check_nickname(nickname)
        if email_address := check_email(email):
            profile["email"] = email_address
        await self._check_free(login, "user_exists")
        instance, name = home_instance(login), local_part(login)
        created = await self._home.command(
            instance, "createUser", {"login": name, "password": password, **profile}
        )
        exists = not created.ok and created.code == "USER_ALREADY_EXISTS"
        if not created.ok and not exists:
            raise home_error(instance, created, "create the account")
        try:
            await self._home_login(instance, name, password)
        except InvalidInput as exc:
            if not exists or exc.reason != "wrong_password":
                raise
            raise Conflict(
                f"{instance} already has an account named {name}", reason="user_exists_online"
            ) from None
        log.info("account %s %s at %s", name, "found" if exists else "created", instance)

    async def convert_to_online(
        self, user: User, instance: str, password: str
    ) -> tuple[Session, str]:
        """Create the account at ``instance`` and become ``login@instance`` here.

        Checks the local password, calls the home's ``createUser`` then ``login``, and
        renames the local user; its old tokens are revoked. A failure after the home
        created the account deletes it there again. Then the profile (languages, flags,
        anime list link…) is copied home, best effort. Returns a new local session and
        the online token.
        """
        if not self._enabled:
            raise FeatureClosed(
                "online accounts are not allowed on this instance", reason="online_disabled"
            )
        if is_online(user.login):
            raise InvalidInput("this account is already an online account", reason="is_online")
        if user.login == "admin":
            raise InvalidInput("the admin account cannot be converted", reason="admin_convert")
        if user.type == Role.GUEST:
            raise AccessDenied("guests cannot have online accounts", reason="not_guest")
        new_login = _online_login(user.login, instance)
        instance = home_instance(new_login)
        await self._check_password(user, password)
        await self._check_free(new_login, "user_exists")
        name = user.login
        created = await self._home.command(
            instance,
            "createUser",
            {"login": name, "password": password, "nickname": user.nickname}
            | ({"email": user.email} if user.email else {}),
        )
        if not created.ok:
            if created.code == "USER_ALREADY_EXISTS":
                raise Conflict(
                    f"{instance} already has an account named {name}", reason="user_exists_online"
                )
            raise home_error(instance, created, "create the account")
        online_token: str | None = None
        try:
            online_token = await self._home_login(instance, name, password)
            renamed = await self._accounts.rename(user, new_login)
        except Exception:
            await self._undo_creation(instance, name, online_token)
            raise
        log.info("account %s is now online at %s", name, instance)
        await self._push_profile(renamed, instance, online_token)
        return await self._new_session(renamed), online_token

    async def convert_to_local(self, user: User, password: str, online_token: str) -> Session:
        """Delete the account at its home and become a local account again.

        The password is checked by the home (its ``login``); it becomes the local
        password too. The home's ``deleteMyAccount`` runs before the local rename, so a
        refusal leaves everything as it was. ``online_token`` is not needed: the fresh
        login proves more. Returns a new local session; old tokens are revoked.
        """
        if not is_online(user.login):
            raise InvalidInput("this account is not an online account", reason="not_online")
        instance = home_instance(user.login)
        name = local_part(user.login)
        await self._check_free(name, "user_exists_locally")
        if not password:
            raise InvalidInput("password is required", field="password", reason="wrong_password")
        token = await self._home_login(instance, name, password)
        deleted = await self._home.command(instance, "deleteMyAccount", authorization=token)
        if not deleted.ok:
            raise home_error(instance, deleted, "delete the account")
        renamed = await self._accounts.rename(user, name)
        # A home may have accepted a password local rules refuse: then the old one stays.
        with contextlib.suppress(InvalidInput):
            await self._accounts.set_password(name, password)
        log.info("account %s left %s and is local again", name, instance)
        return await self._new_session(renamed)

    async def push_edit(self, user: User, changes: dict[str, Any], online_token: str) -> str:
        """Send an online account's profile changes home (``editMyAccount``).

        Nothing is stored here: the caller applies ``changes`` locally
        (``AccountService.edit_self``) once this returns, so a refused push changes
        nothing. Before anything is sent, ``changes`` are checked as the local edit
        will check them (guests, type, unknown fields, values, password strength); only
        a clash with another local account's nickname or email can still be found
        after the home took the edit. The avatar stays local. A password change ends the
        home's sessions, so the account logs in there again and the new online token is
        returned; otherwise ``online_token`` is.
        """
        instance = self._home_of(user)
        if user.type == Role.GUEST:
            raise AccessDenied("guests cannot edit their account", reason="guests_cannot_edit")
        if "type" in changes and changes["type"] != user.type:
            raise AccessDenied("you cannot change your own type", reason="cannot_change_type")
        pushed = check_changes(
            {key: value for key, value in changes.items() if key not in LOCAL_ONLY_FIELDS}
        )
        password = changes.get("password")
        if password is not None:
            if not isinstance(password, str):
                raise InvalidInput("password must be text", field="password")
            check_strength(password)
            pushed["password"] = password
        if not pushed:
            return online_token
        _require_token(online_token)
        answer = await self._home.command(
            instance, "editMyAccount", pushed, authorization=online_token
        )
        if not answer.ok:
            raise home_error(instance, answer, "edit the account")
        if password is None:
            return online_token
        return await self._home_login(instance, local_part(user.login), password)

    async def refresh_anime_list(self, user: User, online_token: str | None) -> User:
        """Bring the user's anime list up to date and return the user.

        An account this instance is home to fetches its list itself. An online account
        asks its home to refresh (``refreshAnimeList``), then copies the ids and titles
        of the home's ``getMyAccount``. A list uploaded here (MyAnimeList export) stays.
        """
        if not is_online(user.login):
            return await self._anime_lists.fetch(user)
        if user.anime_list_to_fetch == "myanimelist":
            return user
        instance = home_instance(user.login)
        token = _require_token(online_token)
        refreshed = await self._home.command(instance, "refreshAnimeList", authorization=token)
        if not refreshed.ok:
            raise home_error(instance, refreshed, "refresh the anime list")
        account = await self._home.command(instance, "getMyAccount", authorization=token)
        if not account.ok:
            raise home_error(instance, account, "show the account")
        if not isinstance(account.data, dict):
            raise ContentUnavailable(f"{instance} sent no account", reason="online_error")
        ids, titles = clean_anime_list(
            account.data.get("anime_list_ids"), account.data.get("anime_list_titles")
        )
        return await self._accounts.set_anime_list(user, ids, titles)

    async def check_online_token(self, user: User, online_token: str) -> bool:
        """Whether the home accepts ``online_token`` as this account's (``checkAuth``).

        A home that cannot be reached is ContentUnavailable, not False.
        """
        instance = self._home_of(user)
        if not online_token:
            return False
        answer = await self._home.command(instance, "checkAuth", authorization=online_token)
        if not answer.ok:
            if answer.status in (401, 403):
                return False
            raise home_error(instance, answer, "check the online token")
        data = answer.data
        return isinstance(data, dict) and data.get("username") == local_part(user.login)

    async def login_at_home(self, user: User, password: str) -> str | None:
        """The online token for an online account that just logged in locally, or None when
        its home cannot be reached or refuses (the local login stands on its own)."""
        if not is_online(user.login):
            return None
        try:
            return await self._home_login(
                home_instance(user.login), local_part(user.login), password
            )
        except TidecastError as exc:
            log.info("online login at %s failed: %s", home_instance(user.login), exc.message)
            return None

    # -- helpers ---------------------------------------------------------------------------

    async def _check_password(self, user: User, password: str) -> None:
        # A signed-in user confirming their password before a change, not a sign-in: the
        # token they hold passed two-factor already, so no code is asked again here.
        try:
            await self._accounts.authenticate(user.login, password or "", address=None)
        except AuthenticationRequired:
            raise InvalidInput(
                "wrong password", field="password", reason="wrong_password"
            ) from None

    async def _check_free(self, login: str, reason: str) -> None:
        try:
            await self._accounts.get(login)
        except NotFound:
            return
        raise Conflict(f"a local account named {login} already exists", reason=reason)

    async def _home_login(self, instance: str, name: str, password: str) -> str:
        answer = await self._home.command(
            instance, "login", {"username": name, "password": password}
        )
        if not answer.ok:
            if answer.code in HOME_TWO_FACTOR_CODES:
                # The home's own login wants the account's code, which this instance does
                # not have: a password alone never opens a session there.
                raise AccessDenied(
                    f"{name} has two-factor authentication on at {instance}, so this "
                    "instance cannot log in there with the password alone",
                    reason="online_two_factor",
                )
            if answer.status == 401:
                raise InvalidInput(
                    f"{instance} did not accept the password of {name}",
                    field="password",
                    reason="wrong_password",
                )
            raise home_error(instance, answer, "log in")
        token = answer.data.get("token") if isinstance(answer.data, dict) else None
        if not isinstance(token, str) or not token:
            raise ContentUnavailable(f"{instance} sent no token", reason="online_error")
        return token

    async def _push_profile(self, user: User, instance: str, online_token: str) -> None:
        profile = _profile(user)
        if not profile:
            return
        try:
            answer = await self._home.command(
                instance, "editMyAccount", profile, authorization=online_token
            )
        except TidecastError as exc:
            answer = HomeAnswer(False, 0, type(exc).__name__, None)
        if not answer.ok:
            log.warning("profile of %s not copied to %s (%s)", user.login, instance, answer.code)

    async def _undo_creation(self, instance: str, name: str, token: str | None) -> None:
        if token is None:
            log.warning("account %s was created at %s but could not be removed", name, instance)
            return
        try:
            answer = await self._home.command(instance, "deleteMyAccount", authorization=token)
        except TidecastError:
            answer = HomeAnswer(False, 0, None, None)
        if not answer.ok:
            log.warning("account %s was created at %s but could not be removed", name, instance)

    async def _new_session(self, user: User) -> Session:
        assert user.id is not None
        return Session(user, await self._tokens.issue(COMMAND_KIND, str(user.id)))

    @staticmethod
    def _home_of(user: User) -> str:
        if not is_online(user.login):
            raise InvalidInput("this account is not an online account", reason="not_online")
        return home_instance(user.login)


def _online_login(login: str, instance: str) -> str:
    text = (instance or "").strip().lower()
    if not text or "@" in text or "/" in text:
        raise InvalidInput("instance must be a host name, optionally with :port", field="instance")
    try:
        return normalize_login(f"{login}@{text}")
    except InvalidInput:
        raise InvalidInput(
            "instance must be a host name, optionally with :port", field="instance"
        ) from None


def _require_token(online_token: str | None) -> str:
    if not online_token:
        raise AuthenticationRequired(
            "onlineAuthorization is required for an online account",
            reason="online_token_missing",
        )
    return online_token


def _profile(user: User) -> dict[str, Any]:
    """The profile fields worth copying to a new home: those that differ from defaults."""
    profile: dict[str, Any] = {}
    for field in dataclasses.fields(user):
        if field.name not in EDITABLE_FIELDS or field.name in ("nickname", "email"):
            continue
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = field.default
        value = getattr(user, field.name)
        if value != default:
            profile[field.name] = value
    return profile

"""Operators on the admin command API: logging in, sessions, and admin API keys.

``Admin.Login`` (seed 001) checks, in this order: a captcha, once the account or the
address failed too often (:meth:`AdminAuth.captcha_required`); the password (argon2id,
throttled by the account store); that the account is an operator; its two-factor code
or a recovery code. Success opens a session: a bearer token of kind
:data:`ADMIN_SESSION_KIND` that expires. An admin API key (kind
:data:`ADMIN_API_KEY_KIND`, no expiry, revocable) works instead of a session on every
command, opens a session in place of a password, and is what makes ``DisableCaptcha``
and ``Disable2FA`` count; without one they are ignored.

Every login, successful or not, is written to the audit log, never with a secret.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from tidecast.core.accounts import AccountService
from tidecast.core.audit import ANONYMOUS, AuditAction, AuditLog
from tidecast.core.captcha import Captchas
from tidecast.core.credentials import TokenService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    MissingParameter,
    NotFound,
    TidecastError,
)
from tidecast.core.instance_secret import hash_token
from tidecast.core.login_throttle import LoginThrottle
from tidecast.core.passwords import check_strength
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import Role, User, check_email, check_nickname, normalize_login
from tidecast.storage import admin_keys_repo, users_repo
from tidecast.storage.database import Database

ADMIN_SESSION_KIND = "admin_session"
ADMIN_API_KEY_KIND = "admin_api_key"
MAX_LABEL = 255


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    session_seconds: int = 8 * 3600
    captcha_after_failures: int = 3
    """0: every password login needs a captcha."""
    window_seconds: int = 900
    """The login throttle's window: failures older than this do not count."""


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What ``Admin.Login`` was given (``None``/empty: not given)."""

    username: str | None
    password: str | None
    address: str | None
    captcha_id: str | None = None
    captcha: str | None = None
    disable_captcha: bool = False
    api_key: str | None = None
    tfa_code: str | None = None
    recovery_code: str | None = None
    disable_2fa: bool = False


@dataclass(frozen=True, slots=True)
class AdminLogin:
    user: User
    session_id: str
    tfa_enabled: bool


@dataclass(frozen=True, slots=True)
class Admin:
    """An authenticated operator, and how: ``session_id`` is None for an API key."""

    user: User
    session_id: str | None


@dataclass(frozen=True, slots=True)
class AdminChanges:
    """``Admin.Update``'s fields; ``password`` None keeps the password."""

    name: str
    login: str
    email: str
    password: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    label: str
    created_at: int
    last_used_at: int | None


def bad_credentials() -> AuthenticationRequired:
    return AuthenticationRequired("invalid username or password", reason="bad_credentials")


class AdminAuth:
    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        tokens: TokenService,
        throttle: LoginThrottle,
        two_factor: TwoFactor,
        captchas: Captchas,
        audit: AuditLog,
        policy: AdminPolicy,
    ) -> None:
        self._db = db
        self._accounts = accounts
        self._tokens = tokens
        self._throttle = throttle
        self._two_factor = two_factor
        self._captchas = captchas
        self._audit = audit
        self._policy = policy

    # -- logging in ----------------------------------------------------------------------

    async def login(self, attempt: LoginAttempt) -> AdminLogin:
        """A new session for an operator; every outcome is audited."""
        detail: dict[str, str] = {}
        try:
            result = await self._login(attempt, detail)
        except TidecastError as exc:
            detail.update(result="failed", reason=exc.reason or type(exc).__name__)
            await self._audit.record(
                AuditAction.ADMIN_LOGIN,
                actor=ANONYMOUS,
                target=attempt.username or "",
                detail=detail,
                address=attempt.address,
            )
            raise
        await self._audit.record(
            AuditAction.ADMIN_LOGIN,
            actor=result.user.login,
            target=result.user.login,
            detail={"result": "ok", **detail},
            address=attempt.address,
        )
        return result

    async def _login(self, attempt: LoginAttempt, detail: dict[str, str]) -> AdminLogin:
        key_owner = await self._key_owner(attempt)
        if key_owner is not None and not attempt.password:
            detail["method"] = "api_key"
            if attempt.username and attempt.username.strip().lower() != key_owner.login:
                raise bad_credentials()
            return await self._open(key_owner, await self._tfa_on(key_owner))
        if not attempt.username:
            raise MissingParameter("missing username", field="username")
        if not attempt.password:
            raise MissingParameter("missing password", field="password")
        detail["method"] = "password"
        await self._check_captcha(attempt, key_owner, detail)
        user = await self._accounts.authenticate(
            attempt.username, attempt.password, address=attempt.address
        )
        if user.type != Role.OPERATOR:
            raise bad_credentials()
        tfa_on = await self._tfa_on(user)
        if tfa_on:
            if attempt.disable_2fa and key_owner is not None and key_owner.id == user.id:
                detail["two_factor"] = "skipped with the account's API key"
            else:
                used = await self._two_factor.check_login(
                    user, attempt.tfa_code, attempt.recovery_code, address=attempt.address
                )
                detail["two_factor"] = used
                tfa_on = used != "recovery"
        return await self._open(user, tfa_on)

    async def _key_owner(self, attempt: LoginAttempt) -> User | None:
        """The operator whose admin API key came with the login; a wrong key counts as a
        failed login of the address, and alone (no password) fails the login."""
        if not attempt.api_key:
            return None
        account = f"api-key:{attempt.address}"
        async with self._throttle.guard(account, attempt.address):
            await self._throttle.check(account, attempt.address)
            owner = await self._operator_of(attempt.api_key, ADMIN_API_KEY_KIND)
            if owner is None:
                await self._throttle.failed(account, attempt.address)
        if owner is None and not attempt.password:
            raise bad_credentials()
        return owner

    async def _check_captcha(
        self, attempt: LoginAttempt, key_owner: User | None, detail: dict[str, str]
    ) -> None:
        if not await self.captcha_required(attempt.username or "", attempt.address):
            return
        if attempt.disable_captcha and key_owner is not None:
            detail["challenge"] = "captcha skipped with an API key"
            return
        if not attempt.captcha:
            raise MissingParameter("missing captcha", field="captcha", reason="captcha_missing")
        if not self._captchas.check(attempt.captcha_id, attempt.captcha):
            raise InvalidInput("invalid captcha", field="captcha", reason="captcha_invalid")
        detail["challenge"] = "captcha solved"

    async def captcha_required(self, username: str, address: str | None) -> bool:
        """Whether a password login of ``username`` from ``address`` needs a captcha now."""
        limit = self._policy.captcha_after_failures
        if limit <= 0:
            return True
        now = int(time.time())
        keys = LoginThrottle.keys(await self._account_key(username), address)
        async with self._db.read() as conn:
            rows = await users_repo.failures_of(conn, keys)
        window = self._policy.window_seconds
        return any(r.failures >= limit and now - r.first_failure_at <= window for r in rows)

    async def _account_key(self, username: str) -> str:
        """The name the login throttle counts an account's failures under (its login,
        whether it logs in with its login or its email address)."""
        key = username.strip().lower()
        if "@" in key and len(key) <= 320:
            async with self._db.read() as conn:
                user = await users_repo.by_email(conn, key)
            if user is not None:
                return user.login
        return key

    async def _tfa_on(self, user: User) -> bool:
        assert user.id is not None
        return await self._two_factor.is_enabled(user.id)

    async def _open(self, user: User, tfa_enabled: bool) -> AdminLogin:
        assert user.id is not None
        now = int(time.time())
        async with self._db.write() as conn:
            await users_repo.update_values(conn, user.id, {"last_login_at": now})
        session_id = await self._tokens.issue(
            ADMIN_SESSION_KIND,
            str(user.id),
            lifetime=self._policy.session_seconds,
            label="admin session",
        )
        return AdminLogin(user, session_id, tfa_enabled)

    async def logout(self, admin: Admin) -> None:
        if admin.session_id is not None:
            await self._tokens.revoke(admin.session_id)

    # -- the operator's own account (Admin.Update) -----------------------------------------

    async def update_self(self, admin: Admin, admin_id: int, changes: AdminChanges) -> str | None:
        """Change the calling operator's name, login, email and password.

        ``admin_id`` must name the caller: an unknown id or one that is no operator is
        NotFound(admin_not_found), another operator's AccessDenied(not_owner). A new
        login or password ends every session and key of the account (the account store's
        rule), so a new SessionID is returned then; None otherwise.
        """
        target = await self._operator_by_id(admin_id)
        if target.id != admin.user.id:
            raise AccessDenied("admin account not owned by the logged-in admin", reason="not_owner")
        values: dict[str, object] = {
            "nickname": check_nickname(changes.name),
            "email": check_email(changes.email),
        }
        login = normalize_login(changes.login)
        if changes.password is not None:
            check_strength(changes.password)
            values["password"] = changes.password
        await self._check_free(target, login, values)
        user = target
        if login != target.login:
            user = await self._accounts.rename(target, login)
        await self._accounts.edit_self(user, values)
        if login == target.login and changes.password is None:
            return None
        return (await self._open(user, await self._tfa_on(user))).session_id

    async def _check_free(self, user: User, login: str, values: dict[str, object]) -> None:
        """Refuse a login, email or name someone else has before anything changes: a
        rename ends the caller's session, so no change may fail after it."""
        email, nickname = values["email"], values["nickname"]
        async with self._db.read() as conn:
            others = [
                ("user_exists", await users_repo.by_login(conn, login)),
                ("email_taken", await users_repo.by_email(conn, str(email)) if email else None),
                ("nickname_taken", await users_repo.by_nickname(conn, str(nickname))),
            ]
        for reason, other in others:
            if other is not None and other.id != user.id:
                raise Conflict(f"{reason.split('_')[0]} already in use", reason=reason)

    async def _operator_by_id(self, user_id: int) -> User:
        try:
            user = await self._accounts.get_by_id(user_id)
        except NotFound:
            user = None
        if user is None or user.type != Role.OPERATOR:
            raise NotFound("invalid admin id", field="admin_id", reason="admin_not_found")
        return user

    # -- who is calling ------------------------------------------------------------------

    async def authorize(self, session_id: str | None, api_keys: Sequence[str]) -> Admin:
        """The operator a SessionID (or else an admin API key) belongs to.

        None valid: AuthenticationRequired (99998); valid but not an operator (any more):
        AccessDenied (99999).
        """
        candidates = [(session_id, ADMIN_SESSION_KIND)] if session_id else []
        candidates += [(key, ADMIN_API_KEY_KIND) for key in api_keys if key]
        for token, kind in candidates:
            assert token is not None
            try:
                user = await self._accounts.user_for_token(token, {kind})
            except AuthenticationRequired:
                continue
            if user.type != Role.OPERATOR:
                raise AccessDenied("not enough privileges", reason="not_operator")
            return Admin(user, token if kind == ADMIN_SESSION_KIND else None)
        raise AuthenticationRequired(
            "authentication failure or session expired", reason="session_invalid"
        )

    async def _operator_of(self, token: str, kind: str) -> User | None:
        try:
            user = await self._accounts.user_for_token(token, {kind})
        except AuthenticationRequired:
            return None
        return user if user.type == Role.OPERATOR else None

    # -- admin API keys ------------------------------------------------------------------

    async def create_api_key(self, user: User, label: str) -> tuple[ApiKey, str]:
        """A new key of ``user``'s; the key itself is returned only here."""
        if len(label) > MAX_LABEL:
            raise InvalidInput(f"label must have at most {MAX_LABEL} characters", field="label")
        assert user.id is not None
        key = await self._tokens.issue(ADMIN_API_KEY_KIND, str(user.id), lifetime=0, label=label)
        async with self._db.read() as conn:
            key_id = await admin_keys_repo.id_of_hash(conn, hash_token(key))
        assert key_id is not None
        return ApiKey(key_id, label, int(time.time()), None), key

    async def api_keys(self, user: User) -> list[ApiKey]:
        async with self._db.read() as conn:
            rows = await admin_keys_repo.active_of(conn, ADMIN_API_KEY_KIND, str(user.id))
        return [ApiKey(r.id, r.label, r.created_at, r.last_used_at) for r in rows]

    async def delete_api_key(self, user: User, key_id: int) -> ApiKey:
        """Revoke one of ``user``'s keys; NotFound for anyone else's, or a revoked one."""
        async with self._db.read() as conn:
            row = await admin_keys_repo.by_id(conn, ADMIN_API_KEY_KIND, key_id)
        if row is None or row.owner != str(user.id) or row.revoked_at is not None:
            raise NotFound("no such API key", field="key_id", reason="api_key_not_found")
        await self._tokens.revoke_id(row.id)
        return ApiKey(row.id, row.label, row.created_at, row.last_used_at)

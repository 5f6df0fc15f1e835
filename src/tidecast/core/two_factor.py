"""Two-factor authentication of operators: enrolment, codes at login, recovery codes.

Enrolment has two steps: :meth:`TwoFactor.begin` stores a new secret (encrypted with
the instance key) and shows it once; :meth:`TwoFactor.confirm` turns two-factor on when
a code from it checks, and hands out the recovery codes, once. A code is accepted once
(its time step is remembered), and wrong codes are throttled per account like wrong
passwords. A recovery code logs in once and turns two-factor off (Oempro's rule), so
the operator enrols again.

:meth:`TwoFactor.check_sign_in` is the step every password sign-in takes after the
password (``AccountService.sign_in``): a one-shot surface (user commands, engine API,
device API) sends the code with the password and gets a distinct error without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tidecast.core import totp
from tidecast.core.errors import AuthenticationRequired, Conflict, InvalidInput, NotFound
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.login_throttle import LoginThrottle
from tidecast.core.users import User
from tidecast.storage import two_factor_repo
from tidecast.storage.database import Connection, Database
from tidecast.storage.two_factor_repo import TwoFactorRow


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str


def invalid_code() -> InvalidInput:
    return InvalidInput(
        "invalid two-factor authentication code", field="TfaCode", reason="tfa_invalid"
    )


def code_required() -> AuthenticationRequired:
    """A sign-in with the right password, of an account with two-factor on, sent no code."""
    return AuthenticationRequired("two-factor code required", reason="tfa_required")


def wrong_sign_in_code() -> AuthenticationRequired:
    """A sign-in sent a two-factor code that is wrong, replayed or not a recovery code."""
    return AuthenticationRequired("invalid two-factor code", reason="tfa_invalid")


def sign_in_code(code: object) -> str | None:
    """The code a sign-in sent, as text: JSON clients may send ``123456`` as a number
    (zero-padded back to six digits); None when none was sent."""
    if isinstance(code, int) and not isinstance(code, bool) and code >= 0:
        return f"{code:0{totp.DIGITS}d}"
    if isinstance(code, str) and code.strip():
        return code.strip()
    return None


def is_app_code(code: str) -> bool:
    """Whether ``code`` has an authenticator app code's shape (anything else is taken for
    a recovery code, which never has it)."""
    digits = code.replace(" ", "")
    return len(digits) == totp.DIGITS and digits.isascii() and digits.isdigit()


class TwoFactor:
    def __init__(
        self, db: Database, secret: InstanceSecret, throttle: LoginThrottle, *, issuer: str
    ) -> None:
        self._db = db
        self._secret = secret
        self._throttle = throttle
        self._issuer = issuer

    async def is_enabled(self, user_id: int) -> bool:
        async with self._db.read() as conn:
            row = await two_factor_repo.of_user(conn, user_id)
        return row is not None and row.enabled

    async def enabled_among(self, user_ids: list[int]) -> set[int]:
        async with self._db.read() as conn:
            return await two_factor_repo.enabled_ids(conn, user_ids)

    async def begin(self, user: User) -> Enrolment:
        """A new secret for ``user`` (not yet in force); Conflict while two-factor is on."""
        assert user.id is not None
        secret = totp.new_secret()
        async with self._db.write() as conn:
            row = await self._row(conn, user.id)
            if row.enabled:
                raise Conflict("two-factor authentication is already on", reason="tfa_enabled")
            await two_factor_repo.store(
                conn, user.id, secret_encrypted=self._secret.encrypt(secret), last_step=None
            )
        return Enrolment(secret, totp.provisioning_uri(secret, user.login, self._issuer))

    async def enrolment(self, user: User) -> Enrolment | None:
        """The enrolment :meth:`begin` started and nobody confirmed yet (its secret and URI,
        to show again until it is confirmed); None while two-factor is on or never begun."""
        assert user.id is not None
        async with self._db.read() as conn:
            row = await two_factor_repo.of_user(conn, user.id)
        if row is None or row.enabled or not row.secret_encrypted:
            return None
        secret = self._secret.decrypt(row.secret_encrypted)
        return Enrolment(secret, totp.provisioning_uri(secret, user.login, self._issuer))

    async def confirm(self, user: User, code: object, *, address: str | None) -> list[str]:
        """Turn two-factor on with a code of the secret from :meth:`begin`; the recovery
        codes, which are shown only now."""
        assert user.id is not None
        codes = totp.new_recovery_codes()
        async with self._attempt(user, address), self._db.write() as conn:
            row = await self._row(conn, user.id)
            if row.enabled or not row.secret_encrypted:
                raise Conflict("start with Admin.2FA.Enable", reason="tfa_not_started")
            step = self._step(row, code)
            if step is None:
                raise invalid_code()
            await two_factor_repo.store(
                conn,
                user.id,
                enabled=True,
                last_step=step,
                recovery_hashes=[totp.recovery_digest(c) for c in codes],
            )
        return codes

    async def disable(
        self, user: User, code: object, recovery_code: object, *, address: str | None
    ) -> None:
        """Turn two-factor off with a current code (or a recovery code)."""
        assert user.id is not None
        async with self._attempt(user, address), self._db.write() as conn:
            row = await self._row(conn, user.id)
            if not row.enabled:
                raise Conflict("two-factor authentication is off", reason="tfa_disabled")
            if (
                self._step(row, code) is None
                and totp.find_recovery(row.recovery_hashes, recovery_code) is None
            ):
                raise invalid_code()
            await self._turn_off(conn, user.id)

    async def reset(self, user_id: int) -> None:
        """An operator turns someone's two-factor off (a lost phone); no code needed."""
        async with self._db.write() as conn:
            await self._row(conn, user_id)
            await self._turn_off(conn, user_id)

    async def check_login(
        self, user: User, code: object, recovery_code: object, *, address: str | None
    ) -> str:
        """Pass a login through two-factor: ``"totp"`` for a good code, ``"recovery"`` for
        a recovery code (spent, and two-factor turned off); InvalidInput(tfa_invalid)."""
        assert user.id is not None
        async with self._attempt(user, address), self._db.write() as conn:
            row = await self._row(conn, user.id)
            if recovery_code not in (None, ""):
                if totp.find_recovery(row.recovery_hashes, recovery_code) is None:
                    raise invalid_code()
                await self._turn_off(conn, user.id)
                return "recovery"
            step = self._step(row, code)
            if step is None:
                raise invalid_code()
            await two_factor_repo.store(conn, user.id, last_step=step)
        return "totp"

    async def check_sign_in(self, user: User, code: object, *, address: str | None) -> str | None:
        """Pass a password sign-in through two-factor: None when the account has it off
        (``code`` is ignored), else as :meth:`check_login`, ``code`` being an app code or
        a recovery code. No code: AuthenticationRequired(tfa_required); a wrong or
        replayed one: AuthenticationRequired(tfa_invalid), counted by the throttle.

        Call it only once the password checked: either answer tells that the password was
        right, which only its holder may learn.
        """
        assert user.id is not None
        if not await self.is_enabled(user.id):
            return None
        text = sign_in_code(code)
        if text is None:
            raise code_required()
        app = is_app_code(text)
        try:
            return await self.check_login(
                user, text if app else None, None if app else text, address=address
            )
        except InvalidInput as exc:
            if exc.reason == "tfa_invalid":
                raise wrong_sign_in_code() from None
            raise

    def _step(self, row: TwoFactorRow, code: object) -> int | None:
        """The step of a good code not used before (a replayed code is a wrong one)."""
        if not row.secret_encrypted:
            return None
        step = totp.matching_step(self._secret.decrypt(row.secret_encrypted), code)
        if step is None or (row.last_step is not None and step <= row.last_step):
            return None
        return step

    @asynccontextmanager
    async def _attempt(self, user: User, address: str | None) -> AsyncIterator[None]:
        """One throttled code check: refused while locked out, and a wrong code counts
        against the account (and the address) as a wrong password does."""
        account = f"2fa:{user.id}"
        async with self._throttle.guard(account, address):
            await self._throttle.check(account, address)
            try:
                yield
            except InvalidInput as exc:
                if exc.reason == "tfa_invalid":
                    await self._throttle.failed(account, address)
                raise
            await self._throttle.succeeded(account)

    @staticmethod
    async def _row(conn: Connection, user_id: int) -> TwoFactorRow:
        row = await two_factor_repo.of_user(conn, user_id, for_update=True)
        if row is None:
            raise NotFound("no such user", reason="user_not_found")
        return row

    @staticmethod
    async def _turn_off(conn: Connection, user_id: int) -> None:
        await two_factor_repo.store(
            conn,
            user_id,
            enabled=False,
            secret_encrypted=None,
            recovery_hashes=[],
            last_step=None,
        )

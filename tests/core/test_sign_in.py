"""Password sign-ins pass through two-factor in the core (``AccountService.sign_in``).

Every one-shot sign-in path (``login``, the engine's ``sign_in``, a device's login) asks
an account with two-factor on for its code after its password, and none says a word
about two-factor before the password is right. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time

import pyotp
import pytest

from tidecast.core import totp
from tidecast.core.errors import AuthenticationRequired, TooManyAttempts
from tidecast.core.services import Services
from tidecast.core.two_factor import is_app_code, sign_in_code
from tidecast.core.users import User

PASSWORD = "correct horse battery"


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps * totp.STEP_SECONDS)


async def enrolled(services: Services, login: str = "alice") -> tuple[User, str, list[str]]:
    """An account with two-factor on: the account, its secret and its recovery codes."""
    user = await services.accounts.create(login, PASSWORD, trusted=True)
    secret = (await services.two_factor.begin(user)).secret
    codes = await services.two_factor.confirm(user, code(secret, -1), address=None)
    return user, secret, codes


async def refused(services: Services, password: str, given: object) -> str | None:
    with pytest.raises(AuthenticationRequired) as caught:
        await services.accounts.sign_in(
            "alice", password, two_factor_code=given, address="203.0.113.9"
        )
    return caught.value.reason


async def test_an_account_with_two_factor_needs_its_code(services: Services) -> None:
    user, secret, _ = await enrolled(services)
    assert await refused(services, PASSWORD, None) == "tfa_required"
    assert await refused(services, PASSWORD, "  ") == "tfa_required"
    assert await refused(services, PASSWORD, "000000") == "tfa_invalid"
    assert await refused(services, PASSWORD, "not-a-recovery-code") == "tfa_invalid"
    good = code(secret)
    # A wrong password says only that, code or none, and spends no code.
    assert await refused(services, "wrong password", None) == "bad_credentials"
    assert await refused(services, "wrong password", good) == "bad_credentials"
    signed = await services.accounts.sign_in("alice", PASSWORD, two_factor_code=good, address=None)
    assert signed.id == user.id
    assert await refused(services, PASSWORD, good) == "tfa_invalid"  # good once
    number = int(code(secret, 1))  # JSON clients may send it as a number
    session = await services.accounts.login("alice", PASSWORD, address=None, two_factor_code=number)
    assert session.user.id == user.id


async def test_a_recovery_code_signs_in_once_and_turns_two_factor_off(
    services: Services,
) -> None:
    user, _, codes = await enrolled(services)
    assert user.id is not None
    session = await services.accounts.login(
        "alice", PASSWORD, address=None, two_factor_code=codes[0].upper()
    )
    assert session.user.id == user.id
    assert not await services.two_factor.is_enabled(user.id)
    await services.accounts.sign_in("alice", PASSWORD, two_factor_code=None, address=None)
    # Enrolled again, the old recovery codes are gone with the old secret.
    secret = (await services.two_factor.begin(user)).secret
    await services.two_factor.confirm(user, code(secret, -1), address=None)
    assert await refused(services, PASSWORD, codes[0]) == "tfa_invalid"
    assert await refused(services, PASSWORD, codes[1]) == "tfa_invalid"


async def test_without_two_factor_nothing_changes(services: Services) -> None:
    user = await services.accounts.create("bob", PASSWORD, trusted=True)
    for given in (None, "", "123456"):  # a code is ignored
        signed = await services.accounts.sign_in(
            "bob", PASSWORD, two_factor_code=given, address=None
        )
        assert signed.id == user.id
    # The password alone is still what authenticate checks (web UI, Admin.Login).
    await enrolled(services)
    assert (await services.accounts.authenticate("alice", PASSWORD, address=None)).login == (
        "alice"
    )


async def test_wrong_codes_are_throttled(services: Services) -> None:
    await enrolled(services)
    reasons = set()
    with pytest.raises(TooManyAttempts):
        for _ in range(services.settings.login_account_failures + 1):
            reasons.add(await refused(services, PASSWORD, "000000"))
    assert reasons == {"tfa_invalid"}


async def test_every_sign_in_path_asks_for_the_code(services: Services) -> None:
    _, secret, _ = await enrolled(services)
    devices = services.devices
    with pytest.raises(AuthenticationRequired) as caught:
        await devices.login("alice", PASSWORD, client_id="d1", name="phone", address=None)
    assert caught.value.reason == "tfa_required"
    token, _ = await devices.login(
        "alice",
        PASSWORD,
        client_id="d1",
        name="phone",
        address=None,
        two_factor_code=code(secret),
    )
    assert (await devices.session(token)).user.login == "alice"
    engine = services.engine_session
    with pytest.raises(AuthenticationRequired) as caught:
        await engine.sign_in("alice", PASSWORD, address=None, two_factor_code="999999")
    assert caught.value.reason == "tfa_invalid"
    assert await engine.current() is None
    await engine.sign_in("alice", PASSWORD, address=None, two_factor_code=code(secret, 1))
    current = await engine.current()
    assert current is not None and current.login == "alice"


def test_codes_as_clients_send_them() -> None:
    assert sign_in_code(None) is None and sign_in_code(" ") is None
    assert sign_in_code(True) is None and sign_in_code(-1) is None
    assert sign_in_code(42) == "000042" and sign_in_code(" 123 456 ") == "123 456"
    assert is_app_code("123 456") and is_app_code("000042")
    assert not is_app_code("abcd-efgh-jkmn") and not is_app_code("12345")
    assert not is_app_code("\uff11" * 6)  # full-width digits are not a code

"""Two-factor enrolment and login codes: each code once, recovery codes once, throttled."""

from __future__ import annotations

import time

import pytest

from tidecast.core import totp
from tidecast.core.errors import Conflict, InvalidInput, TooManyAttempts
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import User
from tidecast.storage import two_factor_repo, users_repo
from tidecast.storage.database import Database
from tidecast.storage.users_repo import UserRow


@pytest.fixture
async def user(db: Database) -> User:
    row = UserRow(login="boss", nickname="boss", type=0, created_at=0, updated_at=0)
    async with db.write() as conn:
        row.id = await users_repo.insert(conn, row)
    return row


@pytest.fixture
def two_factor(db: Database) -> TwoFactor:
    throttle = LoginThrottle(db, ThrottlePolicy(account_failures=3))
    return TwoFactor(db, InstanceSecret(b"k" * 32), throttle, issuer="tidecast")


def now_code(secret: str, steps: int = 0) -> str:
    return totp.code_at(secret, time.time() + steps * totp.STEP_SECONDS)


async def enrolled(two_factor: TwoFactor, user: User) -> tuple[str, list[str]]:
    secret = (await two_factor.begin(user)).secret
    codes = await two_factor.confirm(user, now_code(secret, -1), address=None)
    return secret, codes


async def test_enrolment_needs_a_code_of_the_new_secret(
    two_factor: TwoFactor, user: User, db: Database
) -> None:
    assert user.id is not None
    enrolment = await two_factor.begin(user)
    assert enrolment.uri.startswith("otpauth://totp/")
    assert not await two_factor.is_enabled(user.id)  # not before it is confirmed
    with pytest.raises(InvalidInput):
        await two_factor.confirm(user, "000000", address=None)
    codes = await two_factor.confirm(user, now_code(enrolment.secret), address=None)
    assert await two_factor.is_enabled(user.id) and len(codes) == totp.RECOVERY_CODES
    async with db.read() as conn:
        row = await two_factor_repo.of_user(conn, user.id)
    assert row is not None and row.secret_encrypted
    assert enrolment.secret not in row.secret_encrypted  # encrypted at rest
    assert not set(codes) & set(row.recovery_hashes)  # only digests
    with pytest.raises(Conflict):
        await two_factor.begin(user)


async def test_a_login_code_is_accepted_once(two_factor: TwoFactor, user: User) -> None:
    secret, _codes = await enrolled(two_factor, user)
    code = now_code(secret)
    assert await two_factor.check_login(user, code, None, address=None) == "totp"
    with pytest.raises(InvalidInput):  # replayed
        await two_factor.check_login(user, code, None, address=None)
    with pytest.raises(InvalidInput):  # an older step after a newer one
        await two_factor.check_login(user, now_code(secret, -1), None, address=None)


async def test_recovery_code_logs_in_once_and_turns_two_factor_off(
    two_factor: TwoFactor, user: User
) -> None:
    assert user.id is not None
    _secret, codes = await enrolled(two_factor, user)
    assert await two_factor.check_login(user, None, codes[0], address=None) == "recovery"
    assert not await two_factor.is_enabled(user.id)
    _secret, fresh = await enrolled(two_factor, user)
    with pytest.raises(InvalidInput):  # the old codes died with the old enrolment
        await two_factor.check_login(user, None, codes[1], address=None)
    assert await two_factor.check_login(user, None, fresh[1], address=None) == "recovery"


async def test_wrong_codes_lock_the_account_out(two_factor: TwoFactor, user: User) -> None:
    secret, _codes = await enrolled(two_factor, user)
    for _ in range(3):
        with pytest.raises(InvalidInput):
            await two_factor.check_login(user, "000000", None, address="10.1.1.1")
    with pytest.raises(TooManyAttempts):  # even the right code, while locked out
        await two_factor.check_login(user, now_code(secret), None, address="10.1.1.1")


async def test_disable_needs_a_code(two_factor: TwoFactor, user: User) -> None:
    assert user.id is not None
    secret, codes = await enrolled(two_factor, user)
    with pytest.raises(InvalidInput):
        await two_factor.disable(user, "000000", None, address=None)
    await two_factor.disable(user, None, codes[0], address=None)
    assert not await two_factor.is_enabled(user.id)
    with pytest.raises(Conflict):
        await two_factor.disable(user, now_code(secret), None, address=None)

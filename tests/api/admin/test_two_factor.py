"""Two-factor authentication on the admin API: enrolment, code 101 for a missing, wrong or
replayed code, recovery codes, and ``Disable2FA`` only with the account's own key."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from tidecast.core import totp
from tidecast.core.services import Services
from tidecast.core.users import User
from tidecast.settings import Settings

from .conftest import PASSWORD, AdminApi, codes


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Wrong codes count as failed logins of the address; these tests make many on purpose.
    return make_settings(admin_captcha_after_failures=50, login_address_failures=50)


def code(secret: str, steps: int = 0) -> str:
    return totp.code_at(secret, time.time() + steps * totp.STEP_SECONDS)


async def enrol(api: AdminApi, session: str) -> tuple[str, list[str]]:
    started = await api.ok("Admin.2FA.Enable", SessionID=session)
    secret = started["Secret"]
    uri = urlsplit(started["OtpauthURI"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [secret]
    assert codes(await api.call("Admin.2FA.Confirm", SessionID=session, TfaCode="000000")) == [101]
    confirmed = await api.ok("Admin.2FA.Confirm", SessionID=session, TfaCode=code(secret, -1))
    recovery: list[str] = confirmed["RecoveryCodes"]
    assert len(recovery) == 10
    return secret, recovery


async def test_enrolment_then_logins_need_a_fresh_code(
    api: AdminApi, operator: User, session: str
) -> None:
    secret, _recovery = await enrol(api, session)
    login = {"Username": "boss", "Password": PASSWORD}
    missing = await api.call("Admin.Login", **login)
    assert codes(missing) == [101]
    assert missing["ErrorText"] == ["Invalid two-factor authentication code"]
    assert codes(await api.call("Admin.Login", **login, TfaCode="123 456")) == [101]
    good = code(secret)
    body = await api.ok("Admin.Login", **login, TFACode=good)
    assert body["AdminInfo"]["2FA_Enabled"] == "Yes"
    assert codes(await api.call("Admin.Login", **login, TfaCode=good)) == [101]  # replayed


async def test_recovery_code_logs_in_once_and_turns_two_factor_off(
    api: AdminApi, operator: User, session: str
) -> None:
    _secret, recovery = await enrol(api, session)
    login = {"Username": "boss", "Password": PASSWORD}
    body = await api.ok("Admin.Login", **login, TFARecoveryCode=recovery[0].upper())
    assert body["AdminInfo"]["2FA_Enabled"] == "No"
    # Enrolled again, the old recovery codes are dead, the used one included.
    session = body["SessionID"]
    await enrol(api, session)
    for used in (recovery[0], recovery[1]):
        assert codes(await api.call("Admin.Login", **login, TFARecoveryCode=used)) == [101]


async def test_disable_2fa_needs_the_accounts_own_valid_key(
    api: AdminApi, operator: User, admin_key: str, session: str, services: Services
) -> None:
    await enrol(api, session)
    login = {"Username": "boss", "Password": PASSWORD, "Disable2FA": "true"}
    assert codes(await api.call("Admin.Login", **login)) == [101]
    assert codes(await api.call("Admin.Login", **login, AdminApiKey="forged")) == [101]
    other = await services.accounts.create("second", PASSWORD, role="admin", trusted=True)
    _info, other_key = await services.admin_auth.create_api_key(other, "k")
    assert codes(await api.call("Admin.Login", **login, AdminApiKey=other_key)) == [101]
    body = await api.ok("Admin.Login", **login, AdminApiKey=admin_key)
    assert body["AdminInfo"]["2FA_Enabled"] == "Yes"  # skipped for this login, still on


async def test_disable_with_a_code(api: AdminApi, operator: User, session: str) -> None:
    secret, _recovery = await enrol(api, session)
    assert codes(await api.call("Admin.2FA.Disable", SessionID=session, TfaCode="000000")) == [101]
    await api.ok("Admin.2FA.Disable", SessionID=session, TfaCode=code(secret))
    body = await api.ok("Admin.Login", Username="boss", Password=PASSWORD)
    assert body["AdminInfo"]["2FA_Enabled"] == "No"
    again = await api.call("Admin.2FA.Disable", SessionID=session, TfaCode=code(secret, 1))
    assert codes(again) == [100013]


async def test_an_operator_turns_off_someone_elses_two_factor(
    api: AdminApi, operator: User, session: str, services: Services
) -> None:
    other = await services.accounts.create("second", PASSWORD, role="admin", trusted=True)
    assert other.id is not None
    enrolment = await services.two_factor.begin(other)
    await services.two_factor.confirm(other, code(enrolment.secret), address=None)
    await api.ok("User.Update", SessionID=session, UserID=other.id, Disable2FA="Yes")
    assert not await services.two_factor.is_enabled(other.id)

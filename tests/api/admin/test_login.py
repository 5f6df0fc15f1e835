"""``Admin.Login`` (seed 001): answers, every documented error code, captchas that start
after failures, API keys, sessions that expire, and the global codes 99998 / 99999."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tidecast.core.services import Services
from tidecast.core.users import User

from .conftest import PASSWORD, AdminApi, codes

ClientFactory = Callable[[str], httpx.AsyncClient]


async def test_login_answers_a_session_and_admin_info(
    api: AdminApi, operator: User, services: Services
) -> None:
    body = await api.ok("Admin.Login", Username="boss", Password=PASSWORD)
    assert list(body)[:3] == ["Success", "ErrorCode", "ErrorText"]
    assert body["AdminInfo"] == {
        "AdminID": str(operator.id),
        "Name": "boss",
        "Username": "boss",
        "EmailAddress": "boss@example.org",
        "2FA_Enabled": "No",
    }
    session_id = body["SessionID"]
    assert isinstance(session_id, str) and len(session_id) >= 32
    assert (await api.ok("Admin.APIKeys.Get", SessionID=session_id))["APIKeys"] == []
    # The session is stored hashed, like every credential.
    async with services.db.read() as conn:
        rows = (await conn.exec_driver_sql("SELECT token_hash FROM credentials")).all()
    assert session_id not in {row[0] for row in rows}


async def test_missing_username_and_password_are_codes_1_and_2(api: AdminApi) -> None:
    assert codes(await api.call("Admin.Login")) == [1, 2]
    body = await api.call("Admin.Login", Username="boss")
    assert codes(body) == [2] and body["ErrorText"] == ["Missing password"]
    body = await api.call("Admin.Login", Password=PASSWORD, Username="  ")
    assert codes(body) == [1] and body["ErrorText"] == ["Missing username"]


async def test_invalid_credentials_are_code_3(
    api: AdminApi, operator: User, services: Services
) -> None:
    await services.accounts.create("viewer", PASSWORD, trusted=True)
    wrong = await api.call("Admin.Login", Username="boss", Password="not the password")
    assert codes(wrong) == [3] and wrong["ErrorText"] == ["Invalid username or password"]
    assert codes(await api.call("Admin.Login", Username="nobody", Password=PASSWORD)) == [3]
    # A right password of an account that is not an operator opens nothing either.
    assert codes(await api.call("Admin.Login", Username="viewer", Password=PASSWORD)) == [3]


async def test_captcha_is_needed_after_failures_of_the_account_or_the_address(
    client_from: ClientFactory, operator: User, services: Services
) -> None:
    attacker = AdminApi(client_from("203.0.113.7"))
    for _ in range(services.settings.admin_captcha_after_failures):
        assert codes(await attacker.call("Admin.Login", Username="boss", Password="guess1234")) == [
            3
        ]
    # Now even the right password needs a captcha, from this address...
    assert codes(await attacker.call("Admin.Login", Username="boss", Password=PASSWORD)) == [4]
    assert codes(await attacker.call("Admin.Login", Username="other", Password=PASSWORD)) == [4]
    # ...and for this account from anywhere; another account elsewhere does not.
    elsewhere = AdminApi(client_from("198.51.100.9"))
    assert codes(await elsewhere.call("Admin.Login", Username="boss", Password=PASSWORD)) == [4]
    assert codes(await elsewhere.call("Admin.Login", Username="other", Password="x" * 8)) == [3]
    captcha_id = services.captchas.remember("K7PQX2")
    body = await elsewhere.ok(
        "Admin.Login", Username="boss", Password=PASSWORD, CaptchaID=captcha_id, Captcha="k7pqx2"
    )
    assert body["AdminInfo"]["Username"] == "boss"


async def test_api_key_instead_of_a_password(api: AdminApi, operator: User, admin_key: str) -> None:
    body = await api.ok("Admin.Login", AdminApiKey=admin_key)
    assert body["AdminInfo"]["AdminID"] == str(operator.id)
    assert (await api.ok("Admin.Login", adminapikey=admin_key, username="BOSS"))["SessionID"]
    # The key belongs to boss: it opens no session named for anyone else.
    assert codes(await api.call("Admin.Login", AdminApiKey=admin_key, Username="other")) == [3]
    assert codes(await api.call("Admin.Login", AdminApiKey="not-a-key")) == [3]


async def test_revoked_and_unknown_api_keys_open_nothing(
    api: AdminApi, admin_key: str, session: str
) -> None:
    listed = (await api.ok("Admin.APIKeys.Get", AdminAPIKey=admin_key))["APIKeys"]
    assert [key["Label"] for key in listed] == ["tests"] and admin_key not in str(listed)
    await api.ok("Admin.APIKey.Delete", SessionID=session, APIKeyID=listed[0]["APIKeyID"])
    assert codes(await api.call("Admin.APIKeys.Get", AdminAPIKey=admin_key)) == [99998]
    assert codes(await api.call("Admin.APIKeys.Get", APIKey=admin_key)) == [99998]
    assert codes(await api.call("Admin.Login", AdminApiKey=admin_key)) == [3]
    assert codes(await api.call("Admin.APIKeys.Get", AdminAPIKey="unknown")) == [99998]
    # Deleting it twice, or someone else's, is not found.
    again = await api.call("Admin.APIKey.Delete", SessionID=session, APIKeyID=listed[0]["APIKeyID"])
    assert codes(again) == [100012]


async def test_api_key_create_shows_the_key_once(api: AdminApi, session: str) -> None:
    created = await api.ok("Admin.APIKey.Create", SessionID=session, Label="backup job")
    assert created["Label"] == "backup job" and created["APIKeyID"]
    assert (await api.ok("Admin.APIKeys.Get", AdminAPIKey=created["APIKey"]))["APIKeys"]
    listed = (await api.ok("Admin.APIKeys.Get", SessionID=session))["APIKeys"]
    assert "APIKey" not in listed[-1] and created["APIKey"] not in str(listed)


async def test_no_unknown_or_ended_session_is_99998(api: AdminApi, session: str) -> None:
    for params in ({}, {"SessionID": "nope"}, {"SessionID": session + "x"}):
        body = await api.call("Users.Get", **params)
        assert codes(body) == [99998]
        assert body["ErrorText"] == ["Authentication failure or session expired"]
    await api.ok("Admin.Logout", SessionID=session)
    assert codes(await api.call("Users.Get", SessionID=session)) == [99998]


async def test_a_session_of_an_account_that_is_no_operator_is_99999(
    api: AdminApi, services: Services, operator: User, session: str
) -> None:
    other = await services.accounts.create("second", PASSWORD, role="admin", trusted=True)
    _info, other_key = await services.admin_auth.create_api_key(other, "k")
    other_session = (await api.ok("Admin.Login", AdminApiKey=other_key))["SessionID"]
    await api.ok("User.Update", SessionID=session, UserID=other.id, Role="user")
    for command in ("Users.Get", "AuditLog.Get", "Plans.Get", "Admin.APIKey.Create"):
        body = await api.call(command, SessionID=other_session)
        assert codes(body) == [99999] and body["ErrorText"] == ["Not enough privileges"]
    assert codes(await api.call("Users.Get", AdminAPIKey=other_key)) == [99999]
    assert codes(await api.call("Admin.Login", AdminApiKey=other_key)) == [3]

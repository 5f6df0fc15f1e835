"""Two-factor on every one-shot sign-in: user commands' ``login``, the engine API's
``sign_in`` and the device API's ``POST /api/login``, each in its own envelope.

An account with two-factor on is refused without a code and with a wrong one (after a
right password only), signs in with a code of its authenticator app or, once, with a
recovery code; an account without two-factor signs in as before.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp

from tidecast.core import totp
from tidecast.core.services import Services

PASSWORD = "correct horse battery"
LOGIN = "alice"
EMAIL = "alice@example.com"


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps * totp.STEP_SECONDS)


async def enrolled(services: Services) -> tuple[str, list[str]]:
    """``alice`` with two-factor on: its secret and its recovery codes."""
    user = await services.accounts.create(LOGIN, PASSWORD, email=EMAIL, trusted=True)
    secret = (await services.two_factor.begin(user)).secret
    codes = await services.two_factor.confirm(user, code(secret, -1), address=None)
    return secret, codes


async def two_factor_on(services: Services) -> bool:
    user = await services.accounts.get(LOGIN)
    assert user.id is not None
    return await services.two_factor.is_enabled(user.id)


# -- user commands (seed 003): POST /api/command {cmd: "login"} -----------------------------


async def command_login(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    body = {"username": LOGIN, "password": PASSWORD, **body}
    return await client.post("/api/command", json={"cmd": "login", "body": {"body": body}})


def command_error(status: int, error: str) -> dict[str, Any]:
    return {"err": True, "data": {"code": status, "message": {"code": error}}}


async def test_command_login_needs_the_code(client: httpx.AsyncClient, services: Services) -> None:
    secret, codes = await enrolled(services)
    for body, error in (
        ({}, "TWO_FACTOR_REQUIRED"),
        ({"twoFactorCode": ""}, "TWO_FACTOR_REQUIRED"),
        ({"twoFactorCode": "000000"}, "TWO_FACTOR_INVALID"),
        ({"twoFactorCode": "abcd-efgh-jkmn"}, "TWO_FACTOR_INVALID"),
        ({"password": "wrong password", "twoFactorCode": code(secret)}, "LOG_ERROR"),
        ({"password": "wrong password"}, "LOG_ERROR"),
    ):
        response = await command_login(client, **body)
        assert response.status_code == 401
        assert response.json() == command_error(401, error), body
    answer = await command_login(client, twoFactorCode=code(secret))
    assert answer.status_code == 200 and answer.json()["data"]["username"] == LOGIN
    token = answer.json()["data"]["token"]
    check = await client.post(
        "/api/command", json={"cmd": "checkAuth", "body": {"authorization": token}}
    )
    assert check.json()["data"]["username"] == LOGIN
    replayed = await command_login(client, twoFactorCode=code(secret))
    assert replayed.json() == command_error(401, "TWO_FACTOR_INVALID")
    recovered = await command_login(client, twoFactorCode=codes[0])
    assert recovered.status_code == 200, recovered.text
    assert not await two_factor_on(services)  # a recovery code turns two-factor off
    assert (await command_login(client)).status_code == 200


# -- the engine API (seed 000): sign_in -------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    query = {"method": "sign_in", "token": token, "api_version": 3}
    query |= {"email": EMAIL, "password": PASSWORD, **params}
    response = await client.get("/server/api", params=query)
    assert response.status_code == 200
    return dict(response.json())


def engine_error(message: str) -> dict[str, Any]:
    return {"result": None, "error": {"message": message, "code": 0}}


async def signed_in(client: httpx.AsyncClient, token: str) -> str | None:
    query = {"method": "check_auth", "token": token, "api_version": 3}
    return (await client.get("/server/api", params=query)).json()["result"]["login"]


async def test_engine_sign_in_needs_the_code(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    secret, codes = await enrolled(services)
    assert await sign_in(client, token) == engine_error("two_factor_required")
    assert await sign_in(client, token, code="000000") == engine_error("two_factor_invalid")
    assert await sign_in(client, token, password="wrong", code=code(secret)) == engine_error(
        "auth_error"
    )
    assert await signed_in(client, token) is None
    assert await sign_in(client, token, code=code(secret)) == {"result": "ok", "error": None}
    assert await signed_in(client, token) == LOGIN
    # Refused: the previous sign-in stays, as for a wrong password.
    assert await sign_in(client, token, code=code(secret)) == engine_error("two_factor_invalid")
    assert await signed_in(client, token) == LOGIN
    assert await sign_in(client, token, code=codes[3]) == {"result": "ok", "error": None}
    assert not await two_factor_on(services)
    assert await sign_in(client, token) == {"result": "ok", "error": None}


async def test_engine_sign_in_api_version_0_is_the_bare_message(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    await enrolled(services)
    query = {"method": "sign_in", "token": token, "email": EMAIL, "password": PASSWORD}
    body = (await client.get("/server/api", params=query)).json()
    assert body == {"result": None, "error": "two_factor_required"}


# -- the device API (seed 002): POST /api/login -----------------------------------------------


async def device_login(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    body = {
        "email": EMAIL,
        "password": PASSWORD,
        "device_id": "uuid-1-1-1",
        "device_name": "iPhone",
        **body,
    }
    return await client.post("/api/login", json=body)


async def test_device_login_needs_the_code(client: httpx.AsyncClient, services: Services) -> None:
    secret, codes = await enrolled(services)
    required = {"error": "two-factor code required", "two_factor": True}
    invalid = {"error": "invalid two-factor code", "two_factor": True}
    for body, expected in (
        ({}, required),
        ({"code": None}, required),
        ({"code": "000000"}, invalid),
        ({"code": 123}, invalid),
        ({"code": ["123456"]}, required),  # not a code at all
    ):
        response = await device_login(client, **body)
        assert (response.status_code, response.json()) == (401, expected), body
        assert response.headers["cache-control"] == "no-cache, private"
    wrong = await device_login(client, password="wrong password", code=code(secret))
    assert wrong.status_code == 401 and set(wrong.json()) == {"error"}
    answer = await device_login(client, code=int(code(secret)))  # a number, as JSON allows
    assert answer.status_code == 200, answer.text
    bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
    assert (await client.get("/api/user", headers=bearer)).status_code == 200
    assert (await device_login(client, code=code(secret))).json() == invalid  # used once
    recovered = await device_login(client, code=codes[5])
    assert recovered.status_code == 200, recovered.text
    assert not await two_factor_on(services)


async def test_form_encoded_device_login_takes_the_code_too(
    client: httpx.AsyncClient, services: Services
) -> None:
    secret, _ = await enrolled(services)
    form = {
        "email": EMAIL,
        "password": PASSWORD,
        "device_id": "d2",
        "device_name": "TV",
        "code": code(secret),
    }
    response = await client.post("/api/login", data=form)
    assert response.status_code == 200, response.text


async def test_accounts_without_two_factor_sign_in_as_before(
    client: httpx.AsyncClient, services: Services, token: str
) -> None:
    await services.accounts.create(LOGIN, PASSWORD, email=EMAIL, trusted=True)
    assert (await command_login(client)).status_code == 200
    assert (await command_login(client, twoFactorCode="123456")).status_code == 200
    assert await sign_in(client, token) == {"result": "ok", "error": None}
    assert (await device_login(client)).status_code == 200
    assert (await device_login(client, code="123456")).status_code == 200


async def test_the_codes_are_documented(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    commands = document["paths"]["/api/command"]["post"]["x-tidecast-commands"]
    assert "twoFactorCode" in [field["name"] for field in commands["login"]["fields"]]
    methods = document["paths"]["/server/api"]["get"]["x-tidecast-methods"]
    assert "code" in [param["name"] for param in methods["sign_in"]["parameters"]]
    device = document["paths"]["/api/login"]["post"]["requestBody"]["content"]
    schema = device["application/json"]["schema"]
    assert "code" in schema["properties"] and "code" not in schema["required"]

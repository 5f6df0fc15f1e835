"""Account methods of the engine API: sign_in, sign_out, check_auth (seed 000)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

import tidecast.core.engine_session as engine_session_module
from tidecast.api.engine.envelope import render_error
from tidecast.app import create_app
from tidecast.core.engine_session import EngineSession, Package
from tidecast.core.errors import AuthenticationRequired
from tidecast.core.services import Services, build_services
from tidecast.core.users import User
from tidecast.settings import Settings

PASSWORD = "correct horse battery"
IH = "0a4848271c91ce2d8965ce416267c25047dc8141"
IH2 = "1b5959382d02df3e9a76df527378d36158ed9252"

SIGNED_OUT = {
    "package_name": None,
    "global_auth_level": 0,
    "purse_amount": -1,
    "auth_level": 0,
    "session_auth_level": -1,
    "package_color": -1,
    "bonus_amount": -1,
    "token": None,
    "bonuses_updated_at": 0,
    "login": None,
    "package_days_left": -1,
    "method": "none",
    "ace_auth_token": None,
}


class Engine:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def body(self, method: str, **params: Any) -> Any:
        query = {"method": method, "token": self.token, "api_version": 3, **params}
        response = await self.client.get("/server/api", params=query)
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        body = await self.body(method, **params)
        assert body["error"] is None, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> str:
        body = await self.body(method, **params)
        assert body["result"] is None, body
        assert body["error"]["code"] == 0
        return str(body["error"]["message"])


@pytest.fixture
def engine(client: httpx.AsyncClient, token: str) -> Engine:
    return Engine(client, token)


async def add_user(services: Services, login: str, role: str = "user", **kw: Any) -> User:
    password = kw.pop("password", PASSWORD)
    return await services.accounts.create(login, password, role=role, trusted=True, **kw)


async def test_check_auth_signed_out_is_the_seeds_shape(engine: Engine) -> None:
    body = await engine.body("check_auth")
    assert body == {"result": SIGNED_OUT, "error": None}
    assert list(body["result"]) == list(SIGNED_OUT)


async def test_sign_in_with_email_then_check_auth_and_sign_out(
    engine: Engine, services: Services
) -> None:
    await add_user(services, "alice", email="Alice@Example.org")
    assert await engine.ok("sign_in", email="alice@example.org", password=PASSWORD) == "ok"
    status = await engine.ok("check_auth")
    assert list(status) == list(SIGNED_OUT)
    assert status == {
        **SIGNED_OUT,
        "global_auth_level": 2,
        "auth_level": 2,
        "token": "alice",
        "login": "alice",
        "method": "tidecast",
    }
    assert (await services.accounts.get("alice")).last_login_at is not None
    assert await engine.ok("sign_out") == "ok"
    assert await engine.ok("check_auth") == SIGNED_OUT
    assert await engine.ok("sign_out") == "ok"  # signing out twice is harmless


async def test_sign_in_with_login_and_role_levels(engine: Engine, services: Services) -> None:
    await add_user(services, "root", role="admin")
    await add_user(services, "visitor", role="guest")
    assert await engine.ok("sign_in", login="ROOT", password=PASSWORD) == "ok"
    assert (await engine.ok("check_auth"))["auth_level"] == 3
    assert await engine.ok("sign_in", email="visitor", password=PASSWORD) == "ok"
    status = await engine.ok("check_auth")
    assert (status["login"], status["auth_level"], status["global_auth_level"]) == (
        "visitor",
        1,
        1,
    )


async def test_bad_credentials_answer_auth_error(engine: Engine, services: Services) -> None:
    await add_user(services, "alice", email="alice@example.org")
    await add_user(services, "bob")
    assert await engine.ok("sign_in", login="bob", password=PASSWORD) == "ok"
    wrong = await engine.body("sign_in", email="alice@example.org", password="not-the-password")
    unknown = await engine.body("sign_in", email="nobody@example.org", password=PASSWORD)
    expected = {"result": None, "error": {"message": "auth_error", "code": 0}}
    assert wrong == expected
    assert unknown == expected
    # A failed sign-in leaves the previous one in place.
    assert (await engine.ok("check_auth"))["login"] == "bob"
    # Without api_version the error is the bare message.
    legacy = await engine.client.get(
        "/server/api",
        params={"method": "sign_in", "token": engine.token, "login": "bob", "password": "x"},
    )
    assert legacy.json() == {"result": None, "error": "auth_error"}


async def test_sign_in_errors(engine: Engine, services: Services) -> None:
    await add_user(services, "alice")
    assert "not supported" in await engine.error("sign_in", google_token="ya29.a0Af")
    assert "Google" in await engine.error(
        "sign_in", google_token="ya29.a0Af", email="alice", password=PASSWORD
    )
    assert await engine.error("sign_in", password=PASSWORD) == "missing parameter: email (or login)"
    assert await engine.error("sign_in", email="alice") == "missing parameter: password"
    assert await engine.ok("check_auth") == SIGNED_OUT


async def test_account_methods_need_the_engine_token(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_user(services, "alice")
    for method, extra in [
        ("sign_in", {"login": "alice", "password": PASSWORD}),
        ("sign_out", {}),
        ("check_auth", {}),
    ]:
        missing = await client.get("/server/api", params={"method": method, **extra})
        assert missing.json() == {"result": None, "error": "missing token"}
        bad = await client.get("/server/api", params={"method": method, "token": "x", **extra})
        assert bad.json() == {"result": None, "error": "invalid token"}
    assert await services.engine_session.current() is None


async def test_sign_in_by_post_form(
    client: httpx.AsyncClient, token: str, services: Services
) -> None:
    await add_user(services, "alice")
    reply = await client.post(
        "/server/api?method=sign_in&api_version=3",
        data={"token": token, "login": "alice", "password": PASSWORD},
    )
    assert reply.json() == {"result": "ok", "error": None}


@pytest.fixture
async def strict_services(make_settings: Callable[..., Settings]) -> AsyncIterator[Services]:
    services = build_services(make_settings(login_account_failures=3, login_lockout_seconds=60))
    await services.start()
    yield services
    await services.stop()


async def test_throttling_locks_the_account_out(strict_services: Services) -> None:
    services = strict_services
    await add_user(services, "alice", email="alice@example.org")
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:6878") as c:
        e = Engine(c, services.engine_token.reveal())
        # The login and the email share one count.
        for identifier in ("alice", "alice@example.org", "ALICE"):
            assert await e.error("sign_in", email=identifier, password="wrong-pass") == "auth_error"
        message = await e.error("sign_in", login="alice", password=PASSWORD)
        assert message.startswith("too many failed logins: try again in ")
        assert await e.ok("check_auth") == SIGNED_OUT


async def test_guests_cannot_set_favorites(engine: Engine, services: Services) -> None:
    await add_user(services, "visitor", role="guest")
    item = await engine.ok("playlist_add_item", infohash=IH, title="One")
    assert await engine.ok("sign_in", login="visitor", password=PASSWORD) == "ok"
    assert await engine.error("playlist_item_set_favorite", id=item, value=1) == (
        "guests have no favorites"
    )
    assert await engine.error("playlist_update_item", id=item, is_favorite=1) == (
        "guests have no favorites"
    )
    # Other edits stay open to a signed-in guest, and the guest sees no favorites.
    assert await engine.ok("playlist_update_item", id=item, title="Renamed") is True
    assert (await engine.ok("playlist_get", favorites=1))["playlist"] == []


async def test_favorites_are_per_signed_in_user(engine: Engine, services: Services) -> None:
    await add_user(services, "alice")
    await add_user(services, "bob")
    a = await engine.ok("playlist_add_item", infohash=IH, title="A")
    b = await engine.ok("playlist_add_item", infohash=IH2, title="B")

    async def favorites() -> list[int]:
        return [i["id"] for i in (await engine.ok("playlist_get", favorites=1))["playlist"]]

    async def flags() -> dict[int, bool]:
        items = (await engine.ok("playlist_get"))["playlist"]
        return {i["id"]: i["is_favorite"] for i in items}

    assert await engine.ok("playlist_item_set_favorite", id=b, value=1) is True  # the instance's
    await engine.ok("sign_in", login="alice", password=PASSWORD)
    assert await favorites() == []
    await engine.ok("playlist_item_set_favorite", id=a, value=1)
    await engine.ok("sign_in", login="bob", password=PASSWORD)
    assert await favorites() == []
    await engine.ok("playlist_update_item", id=b, is_favorite=1)
    assert await flags() == {a: False, b: True}
    await engine.ok("sign_in", login="alice", password=PASSWORD)
    assert await favorites() == [a]
    assert await flags() == {a: True, b: False}
    await engine.ok("playlist_item_set_favorite", id=a, value=0)
    await engine.ok("sign_in", login="bob", password=PASSWORD)
    assert await favorites() == [b]
    await engine.ok("sign_out")
    assert await favorites() == [b]  # nobody signed in: the instance's own favorites


async def test_sign_in_ends_with_a_password_change_or_deletion(
    engine: Engine, services: Services
) -> None:
    await add_user(services, "alice")
    await add_user(services, "bob")
    await engine.ok("sign_in", login="alice", password=PASSWORD)
    await services.accounts.set_password("alice", "another password")
    assert await engine.ok("check_auth") == SIGNED_OUT
    await engine.ok("sign_in", login="bob", password=PASSWORD)
    await services.accounts.delete("bob", actor=None, trusted=True)
    assert await engine.ok("check_auth") == SIGNED_OUT
    assert await engine.error("sign_in", login="alice", password=PASSWORD) == "auth_error"
    assert await engine.ok("sign_in", login="alice", password="another password") == "ok"


async def test_sign_in_survives_a_restart(
    engine: Engine, services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_session_module, "USER_CACHE_SECONDS", 0.2)
    await add_user(services, "alice")
    await engine.ok("sign_in", login="alice", password=PASSWORD)
    again = build_services(settings)
    await again.start()
    try:
        user = await again.engine_session.current()
        assert user is not None and user.login == "alice"
        await again.engine_session.sign_out()
    finally:
        await again.stop()
    # Signing out elsewhere (another process on the same database) ends it here too, once
    # what this process remembers of the sign-in is old enough to be read again.
    await asyncio.sleep(0.3)
    assert await engine.ok("check_auth") == SIGNED_OUT


async def test_check_auth_reports_the_package_of_a_subscription(
    engine: Engine, services: Services
) -> None:
    await add_user(services, "alice")

    async def packages(user: User) -> Package | None:
        return Package("Standard", "green", 284) if user.login == "alice" else None

    services.engine_session = EngineSession(
        services.db, services.accounts, services.tokens, packages=packages
    )
    await engine.ok("sign_in", login="alice", password=PASSWORD)
    status = await engine.ok("check_auth")
    assert (status["package_name"], status["package_color"], status["package_days_left"]) == (
        "Standard",
        "green",
        284,
    )


def test_bad_credentials_are_auth_error_in_the_envelope() -> None:
    exc = AuthenticationRequired("wrong login or password", reason="bad_credentials")
    body = json.loads(bytes(render_error(exc, api_version=3).body))
    assert body == {"result": None, "error": {"message": "auth_error", "code": 0}}
    other = json.loads(bytes(render_error(AuthenticationRequired(), api_version=3).body))
    assert other["error"]["message"] == "invalid token"


async def test_remote_callers_sign_in_when_remote_access_is_on(
    engine: Engine, client_from: Callable[[str], httpx.AsyncClient], services: Services
) -> None:
    """Remote access: yes. A remote caller is throttled by its own address."""
    await add_user(services, "alice")
    remote = Engine(client_from("203.0.113.7"), engine.token)
    assert await remote.error("sign_in", login="alice", password=PASSWORD) == "access denied"
    assert await engine.ok("set_allow_remote_access", value=1) == "ok"
    assert await remote.ok("sign_in", login="alice", password=PASSWORD) == "ok"
    assert (await remote.ok("check_auth"))["login"] == "alice"
    assert await remote.ok("sign_out") == "ok"


async def test_account_methods_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    methods = spec["paths"]["/server/api"]["get"]["x-tidecast-methods"]
    for name in ("sign_in", "sign_out", "check_auth"):
        assert methods[name]["public"] is False and methods[name]["remote_access"] is True
    documented = {p["name"] for p in methods["sign_in"]["parameters"]}
    assert {"email", "login", "password", "google_token"} <= documented

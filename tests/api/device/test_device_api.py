"""The device API (seed 002) in process: every endpoint, its shapes and its errors.

Laravel's shapes are the contract: 401 ``{"message": "Unauthenticated."}`` for a bad
token, 401 ``{"error"}`` for wrong credentials, 422 ``{"message", "errors"}`` for
validation, ``{"error"}`` for refusals; JSON with ``cache-control: no-cache, private``
and ``access-control-allow-origin: *`` everywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tidecast.api.device.routes import ENDPOINTS
from tidecast.core.services import Services
from tidecast.settings import Settings

PASSWORD = "correct horse battery"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
AUTHED = [
    ("POST", "/api/logout"),
    ("GET", "/api/user"),
    ("GET", "/api/subscription"),
    ("GET", "/api/userApp"),
    ("POST", "/api/servers"),
    ("POST", "/api/key"),
]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(default_device_limit=2)


def _check_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache, private"
    assert response.headers["access-control-allow-origin"] == "*"


async def _user(services: Services, login: str = "alex") -> None:
    await services.accounts.create(
        login, PASSWORD, email=f"{login}@example.com", nickname=login.title(), trusted=True
    )


async def _login(
    client: httpx.AsyncClient, device: str = "uuid-1-1-1", email: str = "alex@example.com"
) -> tuple[dict[str, str], str]:
    response = await client.post(
        "/api/login",
        json={"email": email, "password": PASSWORD, "device_id": device, "device_name": "iPhone"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["device_id"]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    response = await client.request(method, path, headers=headers, json=body or None)
    _check_headers(response)
    return response


async def test_login_answers_token_and_device_id(
    client: httpx.AsyncClient, services: Services
) -> None:
    await _user(services)
    response = await client.post(
        "/api/login",
        json={
            "email": "alex@example.com",
            "password": PASSWORD,
            "device_id": "uuid-1-1-1",
            "device_name": "iPhone 12",
        },
        headers={"Accept": "application/json"},
    )
    _check_headers(response)
    body = response.json()
    assert response.status_code == 200 and set(body) == {"token", "device_id"}
    assert isinstance(body["token"], str) and len(body["token"]) >= 40
    assert body["device_id"].isdecimal()
    # The login works as well as the email, and a form body as well as JSON.
    form = await client.post(
        "/api/login",
        data={"email": "alex", "password": PASSWORD, "device_id": "2", "device_name": "TV"},
    )
    assert form.status_code == 200 and form.json()["device_id"] != body["device_id"]


async def test_login_errors(client: httpx.AsyncClient, services: Services) -> None:
    await _user(services)
    wrong = await client.post(
        "/api/login",
        json={"email": "alex", "password": "nope", "device_id": "d", "device_name": "n"},
    )
    _check_headers(wrong)
    assert wrong.status_code == 401 and wrong.json() == {"error": "wrong login or password"}
    unknown = await client.post(
        "/api/login",
        json={
            "email": "who@example.com",
            "password": PASSWORD,
            "device_id": "d",
            "device_name": "n",
        },
    )
    assert unknown.status_code == 401 and unknown.json() == wrong.json()
    missing = await client.post("/api/login", json={"email": "alex", "password": PASSWORD})
    _check_headers(missing)
    assert missing.status_code == 422
    assert missing.json() == {
        "message": "The device id field is required. (and 1 more error)",
        "errors": {
            "device_id": ["The device id field is required."],
            "device_name": ["The device name field is required."],
        },
    }
    typed = await client.post(
        "/api/login", json={"email": 5, "password": PASSWORD, "device_id": 7, "device_name": "n"}
    )
    assert typed.status_code == 422
    assert typed.json()["errors"] == {"email": ["The email field must be a string."]}
    for raw in (b"{", b"[1]"):
        bad = await client.post(
            "/api/login", content=raw, headers={"content-type": "application/json"}
        )
        assert bad.status_code == 422 and "body" in bad.json()["errors"]


async def test_login_is_throttled(client: httpx.AsyncClient, services: Services) -> None:
    await _user(services)
    body = {"email": "alex", "password": "nope", "device_id": "d", "device_name": "n"}
    for _ in range(services.settings.login_account_failures):
        assert (await client.post("/api/login", json=body)).status_code == 401
    locked = await client.post("/api/login", json={**body, "password": PASSWORD})
    _check_headers(locked)
    assert locked.status_code == 429 and "error" in locked.json()


@pytest.mark.parametrize(("method", "path"), AUTHED)
async def test_bad_or_missing_tokens_are_unauthenticated(
    client: httpx.AsyncClient, services: Services, method: str, path: str
) -> None:
    await _user(services)
    headers, _ = await _login(client)
    await _call(client, "POST", "/api/logout", headers)
    for sent in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic YTpi"},
        headers,  # logged out
        {"Authorization": f"Bearer {services.engine_token.reveal()}"},  # another kind
    ):
        response = await _call(client, method, path, sent, device_id=1, server_id=1)
        assert response.status_code == 401 and response.json() == {"message": "Unauthenticated."}


async def test_user_subscription_and_user_app(
    client: httpx.AsyncClient, services: Services
) -> None:
    await _user(services)
    headers, device_id = await _login(client)
    user = (await _call(client, "GET", "/api/user", headers)).json()
    assert user["email"] == "alex@example.com" and user["login"] == "alex"
    assert user["name"] == "Alex" and ISO.fullmatch(user["created_at"])
    assert (user["devices_count"], user["devices_limit"]) == (1, 2)
    none = (await _call(client, "GET", "/api/subscription", headers)).json()
    assert none == {
        "active": False,
        "allowed": True,  # require_subscription is off: a household needs none
        "plan": None,
        "plan_id": None,
        "color": None,
        "starts_at": None,
        "expires_at": None,
        "days_left": None,
        "devices_limit": 2,
        "devices_used": 1,
        "server_ids": None,
    }
    plan = await services.subscriptions.create_plan(
        name="Premium", color="#3b82f6", device_limit=0, duration_days=30, server_ids=[]
    )
    assert user["id"] is not None
    await services.subscriptions.grant(user_id=user["id"], plan_id=plan.id)
    sub = (await _call(client, "GET", "/api/subscription", headers)).json()
    assert sub["active"] and sub["plan"] == "Premium" and sub["days_left"] == 30
    assert sub["devices_limit"] is None  # the plan sets no limit
    assert ISO.fullmatch(sub["expires_at"]) and ISO.fullmatch(sub["starts_at"])
    other_headers, _ = await _login(client, "uuid-2")
    app = (await _call(client, "GET", "/api/userApp", other_headers)).json()
    assert set(app) == {"user", "subscription", "devices"}
    assert app["subscription"] == sub | {"devices_used": 2}
    assert [(d["device_id"], d["current"]) for d in app["devices"]] == [
        (device_id, False),
        (app["devices"][1]["device_id"], True),
    ]
    assert app["devices"][0]["client_device_id"] == "uuid-1-1-1"


async def test_the_device_limit_and_logout(client: httpx.AsyncClient, services: Services) -> None:
    await _user(services)
    first, _ = await _login(client, "a")
    await _login(client, "b")
    refused = await client.post(
        "/api/login",
        json={"email": "alex", "password": PASSWORD, "device_id": "c", "device_name": "n"},
    )
    _check_headers(refused)
    assert refused.status_code == 403 and refused.json() == {"error": "device limit reached (2)"}
    again, _ = await _login(client, "a")  # a known device signs in again
    assert (await _call(client, "GET", "/api/user", first)).status_code == 401  # rotated
    out = await _call(client, "POST", "/api/logout", again)
    assert out.status_code == 200 and out.json() == {"message": "Logged out successfully"}
    await _login(client, "c")  # the freed slot


async def test_servers_and_keys(client: httpx.AsyncClient, services: Services) -> None:
    await _user(services)
    headers, device_id = await _login(client)
    listed = await _call(client, "POST", "/api/servers", headers, device_id=int(device_id))
    assert listed.status_code == 200
    [me] = listed.json()
    assert me == {
        "id": services.servers.self_id,
        "name": "tidecast",
        "country": "",
        "country_code": "",
        "city": "",
        "ping_url": "http://127.0.0.1:6878/api/ping",
        "base_url": "http://127.0.0.1:6878",
        "active_connections": 0,
        "load": me["load"],
        "is_available": True,
    }
    key = await _call(client, "POST", "/api/key", headers, server_id=me["id"], device_id=device_id)
    assert key.status_code == 200
    issued = key.json()
    assert set(issued) == {"server_id", "key", "expires_at", "playback_url"}
    assert issued["playback_url"] == (
        f"http://127.0.0.1:6878/ace/getstream?access_key={issued['key']}"
    )
    lifetime = services.settings.access_key_lifetime_seconds
    expires = time.strptime(issued["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(time.mktime(expires) - time.timezone - time.time() - lifetime) < 5
    ping = await client.get("/api/ping")
    assert ping.status_code == 200 and ping.json()["pong"] is True


@pytest.mark.parametrize("path", ["/api/servers", "/api/key"])
async def test_servers_and_key_errors(
    client: httpx.AsyncClient, services: Services, path: str
) -> None:
    await _user(services)
    await _user(services, "sam")
    headers, device_id = await _login(client)
    _, sams_device = await _login(client, email="sam@example.com")
    me = services.servers.self_id
    missing = await _call(client, "POST", path, headers)
    assert missing.status_code == 422 and "device_id" in missing.json()["errors"]
    foreign = await _call(client, "POST", path, headers, device_id=sams_device, server_id=me)
    assert foreign.status_code == 403 and foreign.json() == {"error": "unknown device"}
    bad = await _call(client, "POST", path, headers, device_id="x1", server_id=me)
    assert bad.status_code == 422 and bad.json()["errors"] == {
        "device_id": ["device_id must be an id"]
    }
    if path == "/api/key":
        unknown = await _call(client, "POST", path, headers, device_id=device_id, server_id=999)
        assert unknown.status_code == 404 and unknown.json() == {"error": "no such server"}


async def test_preflight_allows_any_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/user",
        headers={"Origin": "chrome-extension://abc", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in response.headers["access-control-allow-headers"]


async def test_nodes_join_and_heartbeat(client: httpx.AsyncClient, services: Services) -> None:
    token = await services.servers.create_join_token()
    joined = await client.post(
        "/api/nodes/join",
        json={"token": token, "base_url": "http://node.example", "name": "n", "country_code": "SE"},
    )
    _check_headers(joined)
    assert joined.status_code == 200
    answer = joined.json()
    assert answer["public_key"] == services.entitlements.public_key
    again = await client.post(
        "/api/nodes/join", json={"token": token, "base_url": "http://node.example"}
    )
    assert again.status_code == 403 and again.json() == {"error": "invalid or used join token"}
    missing = await client.post("/api/nodes/join", json={})
    assert missing.status_code == 422 and set(missing.json()["errors"]) == {"token", "base_url"}
    beat = await client.post(
        "/api/nodes/heartbeat",
        json={"active_connections": 2, "load": 0.25},
        headers={"Authorization": f"Bearer {answer['secret']}"},
    )
    assert beat.status_code == 200
    assert beat.json() == {"server_id": answer["server_id"], "revoked_devices": []}
    node = await services.servers.get(answer["server_id"])
    assert node.is_available and node.active_connections == 2 and node.country == "Sweden"
    for headers in ({}, {"Authorization": "Bearer node_nonsense"}):
        refused = await client.post("/api/nodes/heartbeat", json={}, headers=headers)
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthenticated."}
    invalid = await client.post(
        "/api/nodes/heartbeat",
        json={"active_connections": "many"},
        headers={"Authorization": f"Bearer {answer['secret']}"},
    )
    assert invalid.status_code == 422


async def test_heartbeats_carry_revoked_devices(
    client: httpx.AsyncClient, services: Services
) -> None:
    await _user(services)
    headers, device_id = await _login(client)
    registration = await services.servers.register(
        await services.servers.create_join_token(), base_url="http://n.example", name="n"
    )
    await _call(client, "POST", "/api/logout", headers)
    beat = await client.post(
        "/api/nodes/heartbeat",
        json={"active_connections": 0, "load": 0},
        headers={"Authorization": f"Bearer {registration.secret}"},
    )
    assert beat.json()["revoked_devices"] == [{"device_id": int(device_id), "generation": 1}]


async def test_openapi_documents_every_device_endpoint(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for endpoint in ENDPOINTS:
        operation = paths[endpoint.path][endpoint.method.lower()]
        assert operation["summary"] == endpoint.summary
    assert paths["/api/key"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ] == ["server_id", "device_id"]

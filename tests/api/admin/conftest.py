"""Fixtures of the admin API tests: an operator, its API key, a session, a client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tidecast.core.services import Services
from tidecast.core.users import User

PASSWORD = "correct horse battery"


class AdminApi:
    """A client of ``/api.php``: POSTs a form, reads the JSON envelope."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def raw(self, command: str, **params: Any) -> httpx.Response:
        data = {key: str(value) for key, value in params.items() if value is not None}
        return await self.client.post("/api.php", data={"Command": command, **data})

    async def call(self, command: str, **params: Any) -> dict[str, Any]:
        response = await self.raw(command, **params)
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, command: str, **params: Any) -> dict[str, Any]:
        body = await self.call(command, **params)
        assert body["Success"] is True, body
        assert body["ErrorCode"] == 0 and body["ErrorText"] == ""
        return body


def codes(body: dict[str, Any]) -> list[int]:
    assert body["Success"] is False, body
    assert len(body["ErrorCode"]) == len(body["ErrorText"])
    assert all(isinstance(text, str) and text for text in body["ErrorText"])
    return list(body["ErrorCode"])


@pytest.fixture
def api(client: httpx.AsyncClient) -> AdminApi:
    return AdminApi(client)


@pytest.fixture
async def operator(services: Services) -> User:
    return await services.accounts.create(
        "boss", PASSWORD, role="admin", email="boss@example.org", trusted=True
    )


@pytest.fixture
async def admin_key(services: Services, operator: User) -> str:
    _info, key = await services.admin_auth.create_api_key(operator, "tests")
    return key


@pytest.fixture
async def session(api: AdminApi, admin_key: str) -> str:
    """A SessionID opened with the operator's API key (no password hashing)."""
    body = await api.ok("Admin.Login", AdminApiKey=admin_key)
    session_id: str = body["SessionID"]
    return session_id

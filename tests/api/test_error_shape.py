"""Every core error, through every dialect's envelope: the shape is a contract."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidecast.api.admin import envelope as admin
from tidecast.api.admin.table import COMMANDS as ADMIN_COMMANDS
from tidecast.api.commands import envelope as commands
from tidecast.api.commands.table import COMMANDS
from tidecast.api.engine.envelope import render_error
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import (
    ALL_ERRORS,
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    ContentUnavailable,
    FeatureClosed,
    FetchRefused,
    InvalidInput,
    ItemLocked,
    MissingParameter,
    NotFound,
    NotSupported,
    PayloadTooLarge,
    StorageUnavailable,
    TidecastError,
    TooManyAttempts,
    UnknownCommand,
    UnsupportedContent,
)
from tidecast.core.services import Services


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("api_version", [0, 3])
def test_engine_envelope(error_class: type[TidecastError], api_version: int) -> None:
    exc = error_class("something specific")
    response = render_error(exc, api_version=api_version)
    body = json.loads(bytes(response.body))
    assert list(body) == ["result", "error"]
    assert body["result"] is None
    internal = error_class in (TidecastError, StorageUnavailable)
    assert response.status_code == (500 if internal else 200)
    message = "internal error" if internal else "something specific"
    if api_version >= 2:
        assert body["error"] == {"message": message, "code": 0}
    else:
        assert body["error"] == message


def test_engine_envelope_unexpected_exception_is_a_500_without_traceback() -> None:
    response = render_error(ValueError("secret detail"), api_version=0)
    assert response.status_code == 500
    assert json.loads(bytes(response.body)) == {"result": None, "error": "internal error"}
    assert b"secret detail" not in bytes(response.body)
    assert b"Traceback" not in bytes(response.body)


# -- the user commands' envelope (seed 003) -------------------------------------------------


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("command", [None, "getUsers", "editUser"])
def test_command_envelope(error_class: type[TidecastError], command: str | None) -> None:
    """``{err: true, data: {code, message: {code, data?}}}``, HTTP status ``data.code``."""
    cmd = COMMANDS[command] if command else None
    status, body = commands.failure(error_class("something specific"), cmd)
    assert list(body) == ["err", "data"] and body["err"] is True
    data = body["data"]
    assert set(data) == {"code", "message"} and data["code"] == status
    assert isinstance(status, int) and 400 <= status < 600
    message = data["message"]
    assert set(message) <= {"code", "data"} and isinstance(message["code"], str)
    assert message["code"] == message["code"].upper()
    internal = error_class in (TidecastError, StorageUnavailable)
    if internal:
        assert status == 500 and "data" not in message
        assert message["code"] == (cmd.error if cmd else "INTERNAL_ERROR")
    else:
        assert "something specific" in str(message.get("data", "")) or "data" not in message
    assert json.loads(json.dumps(body)) == body


def test_command_envelope_special_shapes() -> None:
    """The two shapes the original server has besides ``message: {code}``."""
    missing = AuthenticationRequired("no token", reason="auth_missing")
    assert commands.failure(missing, COMMANDS["getMyAccount"]) == (
        401,
        {"err": True, "data": {"code": 401}},
    )
    field = InvalidInput("Required", field="username")
    assert commands.failure(field, COMMANDS["getUser"]) == (
        400,
        {"err": True, "data": {"code": 400, "message": {"username": ["Required"]}}},
    )
    # Where the seed names a code for the command, it wins, the field detail kept as data.
    assert commands.failure(field, COMMANDS["editUser"])[1]["data"] == {
        "code": 400,
        "message": {"code": "USER_EDIT_ERROR", "data": {"username": ["Required"]}},
    }


@pytest.mark.parametrize(
    ("reason", "code", "engine"),
    [
        ("tfa_required", "TWO_FACTOR_REQUIRED", "two_factor_required"),
        ("tfa_invalid", "TWO_FACTOR_INVALID", "two_factor_invalid"),
    ],
)
def test_two_factor_sign_in_refusals(reason: str, code: str, engine: str) -> None:
    """A sign-in with the right password and no (or a wrong) two-factor code."""
    exc = AuthenticationRequired("two-factor code", reason=reason)
    assert commands.failure(exc, COMMANDS["login"]) == (
        401,
        {"err": True, "data": {"code": 401, "message": {"code": code}}},
    )
    body = json.loads(bytes(render_error(exc, api_version=3).body))
    assert body == {"result": None, "error": {"message": engine, "code": 0}}


def test_command_envelope_unexpected_exception_is_a_500_without_traceback() -> None:
    status, body = commands.failure(ValueError("secret detail"), COMMANDS["getUsers"])
    assert status == 500
    assert body == {"err": True, "data": {"code": 500, "message": {"code": "USER_LIST_ERROR"}}}
    assert "secret detail" not in json.dumps(body)


def test_every_command_reason_is_a_known_shape() -> None:
    for reason, reply in commands.REASONS.items():
        status, body = commands.failure(TidecastError("x", reason=reason), None)
        assert status == reply.status, reason
        assert body["data"]["code"] == status


def test_every_error_class_is_listed() -> None:
    import tidecast.core.errors as errors

    declared = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, TidecastError)
    }
    assert declared == set(ALL_ERRORS)


# -- the admin command API's envelope (seed 001) ---------------------------------------------


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("command", [None, "admin.login", "users.get"])
def test_admin_envelope(error_class: type[TidecastError], command: str | None) -> None:
    """``{Success: false, ErrorCode: [n], ErrorText: [text]}``; ``Errors`` besides on 4xx/5xx."""
    cmd = ADMIN_COMMANDS[command] if command else None
    status, body = admin.failure(error_class("something specific"), cmd)
    assert body["Success"] is False
    assert isinstance(body["ErrorCode"], list) and len(body["ErrorCode"]) == 1
    assert all(isinstance(code, int) and code > 0 for code in body["ErrorCode"])
    assert len(body["ErrorText"]) == 1 and isinstance(body["ErrorText"][0], str)
    internal = error_class in (TidecastError, StorageUnavailable)
    if internal:
        assert status == 500 and body["ErrorText"] == ["Internal error"]
    assert ("Errors" in body) == (status >= 400)
    assert json.loads(json.dumps(body)) == body


def test_admin_envelope_unexpected_exception_is_a_500_without_traceback() -> None:
    status, body = admin.failure(ValueError("secret detail"), None)
    assert status == 500 and body["ErrorCode"] == [100002]
    assert "secret detail" not in json.dumps(body)


# -- the web UI's error page ------------------------------------------------------------------


async def webui_failure(services: Services, exc: Exception) -> httpx.Response:
    """What a browser gets when a web UI page's handler raises ``exc``."""
    ui = WebUI(services)

    async def failing(_request: Request, _visitor: Visitor) -> Response:
        raise exc

    app = Starlette(routes=[Route("/webui/failing", ui.page(failing))])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get("/webui/failing")


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
async def test_webui_error_page(services: Services, error_class: type[TidecastError]) -> None:
    """An HTML page in the web UI's look with the error's own status and message."""
    reply = await webui_failure(services, error_class("something specific"))
    internal = error_class in (TidecastError, StorageUnavailable)
    assert reply.status_code == (500 if internal else STATUSES_BY_CLASS[error_class])
    assert reply.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert 'id="page-error"' in reply.text
    assert ("something specific" in reply.text) is not internal


async def test_webui_unexpected_exception_is_a_500_page_without_traceback(
    services: Services,
) -> None:
    reply = await webui_failure(services, ValueError("secret detail"))
    assert reply.status_code == 500
    assert "Something went wrong on the server." in reply.text
    assert "secret detail" not in reply.text and "Traceback" not in reply.text


STATUSES_BY_CLASS = {
    TidecastError: 500,
    InvalidInput: 400,
    MissingParameter: 400,
    UnknownCommand: 404,
    NotFound: 404,
    AuthenticationRequired: 401,
    AccessDenied: 403,
    FeatureClosed: 403,
    TooManyAttempts: 429,
    Conflict: 409,
    ItemLocked: 409,
    UnsupportedContent: 400,
    ContentUnavailable: 502,
    FetchRefused: 403,
    PayloadTooLarge: 413,
    NotSupported: 400,
    StorageUnavailable: 500,
}
"""Written out rather than read from the web UI: the statuses are the contract."""

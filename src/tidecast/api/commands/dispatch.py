"""One command, whatever carried it (HTTP or Socket.IO): look up, gate, validate, call, render.

The payload is the original client's ``{body, authorization, onlineAuthorization}``.
The checks run in the original server's order: token present -> token valid (the user
exists) -> role -> frontend mode (operators always pass) -> body fields. A command with
optional authentication checks only the mode when no token is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidecast.api.commands.command import MODE_RANK, BodyField, Call, Command
from tidecast.api.commands.envelope import failure, success
from tidecast.core.access import Caller
from tidecast.core.credentials import COMMAND_KIND
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    FeatureClosed,
    InvalidInput,
    MissingParameter,
    UnknownCommand,
)
from tidecast.core.services import Services
from tidecast.core.users import Role, User

TOKEN_KINDS = {COMMAND_KIND}


async def execute(
    services: Services,
    table: Mapping[str, Command],
    name: object,
    payload: object,
    caller: Caller,
) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, envelope)``; never raises."""
    command: Command | None = None
    try:
        command = table.get(name) if isinstance(name, str) else None
        if command is None:
            raise UnknownCommand("unknown command")
        request = _object(payload, "body")
        user = await gate(services, command, request.get("authorization"))
        body = parse_body(command, _object(request.get("body"), "body"))
        online_token = request.get("onlineAuthorization")
        call = Call(
            services=services,
            caller=caller,
            body=body,
            user=user,
            online_token=online_token if isinstance(online_token, str) and online_token else None,
        )
        result = await command.handler(call)
    except Exception as exc:  # every failure is rendered in the envelope, never raised
        return failure(exc, command)
    return 200, success(result)


def _object(value: object, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"Expected object, received {_js_type(value)}", field=field)
    return value


def bearer(value: object) -> str | None:
    """The token of an ``authorization`` value: the bare token, or ``Bearer <token>``."""
    if not isinstance(value, str) or not value.strip():
        return None
    token = value.strip()
    return token[7:].strip() if token[:7].lower() == "bearer " else token


async def _authenticate_token(services: Services, value: object) -> User:
    token = bearer(value)
    if token is None:
        raise AuthenticationRequired("authorization is required", reason="auth_missing")
    return await services.accounts.user_for_token(token, TOKEN_KINDS)


async def gate(services: Services, command: Command, authorization: object) -> User | None:
    """The caller's account once the command's access, role and mode gates pass."""
    user: User | None = None
    if command.access == "required" or (
        command.access == "optional" and bearer(authorization) is not None
    ):
        user = await _authenticate_token(services, authorization)
    _check_role(command, user)
    _check_mode(services, command, user)
    return user


def _check_role(command: Command, user: User | None) -> None:
    if user is None or user.type <= command.role:
        return
    if command.role == Role.OPERATOR:
        raise AccessDenied("an operator is required", reason="admin_please")
    raise AccessDenied("guests cannot do this", reason="not_guest")


def _check_mode(services: Services, command: Command, user: User | None) -> None:
    if user is not None and user.type == Role.OPERATOR:
        return
    if MODE_RANK[services.settings.frontend_mode] < MODE_RANK[command.mode]:
        raise FeatureClosed("the frontend is closed", reason="frontend_closed")


def parse_body(command: Command, args: dict[str, Any]) -> dict[str, Any]:
    """The declared fields, type-checked; with ``passthrough`` the other keys too.

    No text anywhere in what is kept may hold what a database cannot store (see
    :func:`_check_storable`), so such input is a 400, never a driver error.
    """
    body: dict[str, Any] = {}
    for spec in command.fields:
        value = args.get(spec.name)
        if value is None:
            if spec.required:
                raise MissingParameter("Required", field=spec.name)
            if spec.name in args:
                body[spec.name] = None
            continue
        _check_kind(spec, value)
        body[spec.name] = value
    if command.passthrough:
        for key, value in args.items():
            body.setdefault(key, value)
    for key, value in body.items():
        _check_storable(key, value)
    return body


def _check_storable(field: str, value: Any) -> None:
    """Refuse NUL characters (PostgreSQL text cannot hold them) and lone surrogates (they
    have no UTF-8 form) in ``field``'s value, its keys and items included, at any depth.

    The walk is iterative: how deep the JSON parser let a value nest is not this
    function's concern.
    """
    pending: list[Any] = [field, value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                raise InvalidInput("text must not contain NUL or unpaired surrogates", field=field)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_kind(spec: BodyField, value: Any) -> None:
    kind = spec.kind
    is_int = isinstance(value, int) and not isinstance(value, bool)
    ok = {
        "string": isinstance(value, str),
        "integer": is_int,
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "code": isinstance(value, str) or is_int,
        "avatar": isinstance(value, str)
        or (isinstance(value, dict) and isinstance(value.get("path"), str)),
        "any": True,
    }[kind]
    if not ok:
        expected = {"code": "string or number", "avatar": "{path} object"}.get(kind, kind)
        raise InvalidInput(f"Expected {expected}, received {_js_type(value)}", field=spec.name)


def _js_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

"""The ``{err, data}`` envelope, and the one place core errors become command errors.

Success is ``{"err": false, "data": <result>}``; an action's result is
``{"code": 200, "message": {"code": "USER_CREATED", "data"?: …}}``. Failure is
``{"err": true, "data": {"code": <http-like>, "message": {"code": "<CODE>", "data"?: …}}}``
and travels with that HTTP status (``data.code``).

An error is looked up, first match wins: the command's overrides by ``reason``, then
:data:`REASONS`, then the command's overrides by class, then :data:`CLASSES` by class —
both along the exception's MRO, so a new core subclass renders like its parent.

Two shapes differ on purpose, as the original server's do:

- a missing token answers ``{"code": 401}`` with no message (an invalid one answers
  ``{"code": 401, "message": {"code": "USER_UNKNOWN"}}``);
- a field that fails validation, where the seed names no code, answers
  ``{"code": 400, "message": {"<field>": ["<why>"]}}`` (zod's shape).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tidecast.api.commands.command import Command, ErrorKey, ErrorReply, Message
from tidecast.core import errors as core

log = logging.getLogger("tidecast.api.commands")

REASONS: dict[str, ErrorReply] = {
    "auth_missing": ErrorReply(401, None),
    "admin_please": ErrorReply(403, "ADMIN_PLEASE"),
    "not_guest": ErrorReply(403, "NOT_GUEST"),
    "frontend_closed": ErrorReply(503, "WEBAPPMODE_CLOSED_API_MESSAGE"),
    "bad_credentials": ErrorReply(401, "LOG_ERROR"),
    # A right password of an account with two-factor on, and no code or a wrong one.
    "tfa_required": ErrorReply(401, "TWO_FACTOR_REQUIRED"),
    "tfa_invalid": ErrorReply(401, "TWO_FACTOR_INVALID"),
    "login_invalid": ErrorReply(400, "USER_LOGIN_INVALID"),
    "password_too_short": ErrorReply(400, "PASSWORD_TOO_SHORT"),
    "user_exists": ErrorReply(409, "USER_ALREADY_EXISTS"),
    "nickname_taken": ErrorReply(409, "NICKNAME_ALREADY_IN_USE"),
    "email_taken": ErrorReply(409, "EMAIL_ALREADY_IN_USE"),
    "user_not_found": ErrorReply(404, "USER_NOT_EXISTS"),
    "unauthorized": ErrorReply(403, "UNAUTHORIZED"),
    "online_admin": ErrorReply(403, "USER_CREATE_ERROR", detail=True),
    "online_disabled": ErrorReply(403, "USER_CREATE_ERROR", detail=True),
    "creation_disabled": ErrorReply(403, "USER_CREATION_DISABLED"),
    "admin_undeletable": ErrorReply(406, "USER_DELETE_ADMIN_DAMEDESU"),
    "guests_cannot_edit": ErrorReply(403, "GUESTS_CANNOT_EDIT"),
    "cannot_change_type": ErrorReply(403, "USER_CANNOT_CHANGE_TYPE"),
    "online_edit": ErrorReply(400, "USER_EDIT_ERROR", detail=True),
    "wrong_security_code": ErrorReply(403, "WRONG_SECURITY_CODE"),
    # The seed answers a reset of an online account with code 200 and this error code.
    "online_reset": ErrorReply(200, "USER_RESETPASSWORD_ERROR"),
    "guests_not_allowed": ErrorReply(403, "GUESTS_NOT_ALLOWED"),
    "no_guest_free": ErrorReply(500, "NO_MORE_GUESTS_AVAILABLE"),
    "invalid_online_token": ErrorReply(403, "INVALID_ONLINE_TOKEN"),
    "online_token_missing": ErrorReply(403, "INVALID_ONLINE_TOKEN", detail=True),
    "admin_convert": ErrorReply(500, "ADMIN_CONVERT_ERROR"),
}
"""Core ``reason`` tags -> the seed's codes."""

CLASSES: dict[type[core.TidecastError], ErrorReply] = {
    core.TidecastError: ErrorReply(500, "INTERNAL_ERROR", own=True, internal=True),
    core.StorageUnavailable: ErrorReply(500, "INTERNAL_ERROR", own=True, internal=True),
    core.InvalidInput: ErrorReply(400, "INVALID_DATA", own=True, detail=True, fields=True),
    core.PayloadTooLarge: ErrorReply(413, "PAYLOAD_TOO_LARGE", detail=True),
    core.UnknownCommand: ErrorReply(404, "UNKNOWN_COMMAND"),
    core.NotFound: ErrorReply(404, "NOT_FOUND", own=True, detail=True),
    core.AuthenticationRequired: ErrorReply(401, "USER_UNKNOWN"),
    core.AccessDenied: ErrorReply(403, "FORBIDDEN", own=True, detail=True),
    core.TooManyAttempts: ErrorReply(429, "TOO_MANY_ATTEMPTS", detail=True),
    core.Conflict: ErrorReply(409, "CONFLICT", own=True, detail=True),
    core.UnsupportedContent: ErrorReply(400, "INVALID_DATA", own=True, detail=True),
    # The seed answers failures reaching another instance with the command's code and 500.
    core.ContentUnavailable: ErrorReply(500, "UPSTREAM_ERROR", own=True, detail=True),
    core.NotSupported: ErrorReply(501, "NOT_SUPPORTED", own=True, detail=True),
}
"""Core error classes -> status and code (``own``: the command's own error code)."""


def resolve(exc: core.TidecastError, command: Command | None) -> ErrorReply:
    overrides: Mapping[ErrorKey, ErrorReply] = command.errors if command is not None else {}
    if exc.reason is not None:
        for table in (overrides, REASONS):
            if exc.reason in table:
                return table[exc.reason]
    for cls in type(exc).__mro__:
        if cls in overrides:
            return overrides[cls]
    for cls in type(exc).__mro__:
        if cls in CLASSES:
            return CLASSES[cls]
    return CLASSES[core.TidecastError]


def error_data(exc: BaseException, command: Command | None) -> dict[str, Any]:
    """The ``data`` of a failure envelope; logs what clients must not see."""
    name = command.name if command is not None else "?"
    if not isinstance(exc, core.TidecastError):
        log.error("command %s failed unexpectedly", name, exc_info=exc)
        exc = core.TidecastError()
    reply = resolve(exc, command)
    if reply.internal:
        log.error("command %s failed: %s", name, exc.message, exc_info=exc)
    elif reply.status >= 500:
        log.warning("command %s failed: %s", name, exc.message)
    if reply.fields and exc.field:
        return {"code": reply.status, "message": {exc.field: [exc.message]}}
    code = command.error if reply.own and command is not None else reply.code
    if code is None:
        return {"code": reply.status}
    message: dict[str, Any] = {"code": code}
    if reply.detail and not reply.internal:
        message["data"] = {exc.field: [exc.message]} if exc.field else exc.message
    return {"code": reply.status, "message": message}


def failure(exc: BaseException, command: Command | None) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, envelope)`` of a failure."""
    data = error_data(exc, command)
    return int(data["code"]), {"err": True, "data": data}


def success(result: Any) -> dict[str, Any]:
    if isinstance(result, Message):
        message: dict[str, Any] = {"code": result.code}
        if result.data is not None:
            message["data"] = result.data
        result = {"code": 200, "message": message}
    return {"err": False, "data": result}

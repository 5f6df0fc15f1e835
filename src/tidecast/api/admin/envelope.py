"""The ``{Success, ErrorCode, ErrorText, …}`` envelope, and the one place where core errors
become admin API error codes.

Success is ``{"Success": true, "ErrorCode": 0, "ErrorText": "", …command's keys}``.
Failure is ``{"Success": false, "ErrorCode": [n, …], "ErrorText": ["…", …]}``: one entry
per problem (a request missing both Username and Password is ``[1, 2]``). Command errors
travel with HTTP 200, as Oempro's do; the hard failures (malformed request 100000, bad
HTTP method 100001, unknown command 100003, internal error 100002) with 4xx/5xx and,
as from Oempro 5.9.3, ``Errors: [{Code, Message}]`` besides.

An error is looked up, first match wins: the command's codes by ``reason``, then by
``missing:<param>`` / ``invalid:<param>``, then by class along the MRO; then
:data:`REASONS`; then :data:`CLASSES` along the MRO, so a new core subclass renders like
its parent.
"""

from __future__ import annotations

import logging
from typing import Any

from tidecast.api.admin.command import Command, ErrorCode
from tidecast.core import errors as core

log = logging.getLogger("tidecast.api.admin")

AUTH_FAILED = ErrorCode(99998, "Authentication failure or session expired")
NO_PRIVILEGES = ErrorCode(99999, "Not enough privileges")
INTERNAL = ErrorCode(100002, "Internal error", status=500)

REASONS: dict[str, ErrorCode] = {
    "malformed_request": ErrorCode(100000, None, status=400),
    "bad_method": ErrorCode(100001, None, status=400),
    "session_invalid": AUTH_FAILED,
    "not_operator": NO_PRIVILEGES,
    "admin_please": NO_PRIVILEGES,
    "tfa_invalid": ErrorCode(101, "Invalid two-factor authentication code"),
    # Refusals that are not about privileges: their message says what is wrong.
    "admin_undeletable": ErrorCode(100016, None),
    "cannot_change_type": ErrorCode(100016, None),
    "guests_cannot_edit": ErrorCode(100016, None),
    "online_admin": ErrorCode(100016, None),
    "online_edit": ErrorCode(100016, None),
}
"""Core ``reason`` tags -> codes, for every command."""

CLASSES: dict[type[core.TidecastError], ErrorCode] = {
    core.TidecastError: INTERNAL,
    core.StorageUnavailable: INTERNAL,
    core.UnknownCommand: ErrorCode(100003, None, status=400),
    core.AuthenticationRequired: AUTH_FAILED,
    core.AccessDenied: NO_PRIVILEGES,
    core.FeatureClosed: ErrorCode(100016, None),
    core.TooManyAttempts: ErrorCode(100006, None),
    core.InvalidInput: ErrorCode(100010, None),
    core.MissingParameter: ErrorCode(100011, None),
    core.PayloadTooLarge: ErrorCode(100000, None, status=413),
    core.UnsupportedContent: ErrorCode(100010, None),
    core.NotFound: ErrorCode(100012, None),
    core.Conflict: ErrorCode(100013, None),
    core.NotSupported: ErrorCode(100014, None),
    core.ContentUnavailable: ErrorCode(100015, None),
}
"""Core error classes -> tidecast's codes for what no command names (README lists them)."""


def resolve(exc: core.TidecastError, command: Command | None) -> ErrorCode:
    own = command.errors if command is not None else {}
    if exc.reason is not None and exc.reason in own:
        return own[exc.reason]
    if exc.field is not None:
        kind = "missing" if isinstance(exc, core.MissingParameter) else "invalid"
        key = f"{kind}:{exc.field.lower()}"
        if key in own:
            return own[key]
    for cls in type(exc).__mro__:
        if cls in own:
            return own[cls]
    if exc.reason is not None and exc.reason in REASONS:
        return REASONS[exc.reason]
    for cls in type(exc).__mro__:
        if cls in CLASSES:
            return CLASSES[cls]
    return INTERNAL


def problems(exc: BaseException, command: Command | None) -> list[tuple[int, str, int]]:
    """``(code, text, HTTP status)`` of each problem in ``exc`` (an ExceptionGroup holds
    several); logs what clients must not see."""
    if isinstance(exc, BaseExceptionGroup):
        return [entry for inner in exc.exceptions for entry in problems(inner, command)]
    name = command.name if command is not None else "?"
    if not isinstance(exc, core.TidecastError):
        log.error("admin command %s failed unexpectedly", name, exc_info=exc)
        return [(INTERNAL.number, str(INTERNAL.text), INTERNAL.status)]
    code = resolve(exc, command)
    if code.status >= 500:
        log.error("admin command %s failed: %s", name, exc.message, exc_info=exc)
        return [(INTERNAL.number, str(INTERNAL.text), code.status)]
    return [(code.number, code.text if code.text is not None else exc.message, code.status)]


def failure(exc: BaseException, command: Command | None) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, envelope)`` of a failure."""
    found = problems(exc, command)
    status = max(entry[2] for entry in found)
    body: dict[str, Any] = {
        "Success": False,
        "ErrorCode": [entry[0] for entry in found],
        "ErrorText": [entry[1] for entry in found],
    }
    if status >= 400:
        body["Errors"] = [{"Code": entry[0], "Message": entry[1]} for entry in found]
    return status, body


def success(result: dict[str, Any]) -> dict[str, Any]:
    return {"Success": True, "ErrorCode": 0, "ErrorText": "", **result}

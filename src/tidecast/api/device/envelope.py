"""The device API's JSON, and the one place core errors become its error bodies.

Every answer is JSON with ``cache-control: no-cache, private`` and
``access-control-allow-origin: *``, as the original Laravel server sends. Errors take
Laravel's shapes:

- a missing, invalid or revoked bearer token: 401 ``{"message": "Unauthenticated."}``;
- wrong login or password: 401 ``{"error": "…"}`` (the seed's login answer);
- a right password without the account's two-factor code, or with a wrong one: 401
  ``{"error": "…", "two_factor": true}`` (the flag Laravel Fortify's login answers), so
  a client knows to ask for the code;
- validation: 422 ``{"message": "…", "errors": {"<field>": ["…"]}}``;
- anything else: its status with ``{"error": "…"}`` — 403 refusals (device limit,
  another user's device, a server outside the plan), 404, 409, 413, 429; 5xx say no more
  than ``internal error`` / ``storage unavailable``.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.responses import Response

from tidecast.core import errors as core

log = logging.getLogger("tidecast.api.device")

HEADERS = {"Cache-Control": "no-cache, private", "Access-Control-Allow-Origin": "*"}

STATUS: dict[type[core.TidecastError], int] = {
    core.TidecastError: 500,
    core.InvalidInput: 422,
    core.PayloadTooLarge: 413,
    core.UnknownCommand: 404,
    core.NotFound: 404,
    core.AuthenticationRequired: 401,
    core.AccessDenied: 403,
    core.TooManyAttempts: 429,
    core.Conflict: 409,
    core.UnsupportedContent: 422,
    core.ContentUnavailable: 502,
    core.NotSupported: 501,
    core.StorageUnavailable: 503,
}
"""Core error classes -> HTTP status, looked up along the exception's MRO."""

UNAUTHENTICATED = {"message": "Unauthenticated."}

SIGN_IN_REASONS: dict[str, dict[str, Any]] = {
    "bad_credentials": {},
    "tfa_required": {"two_factor": True},
    "tfa_invalid": {"two_factor": True},
}
"""AuthenticationRequired reasons a sign-in answers as ``{"error": message, **extra}``;
any other is a token problem, ``Unauthenticated.``"""


class FieldErrors(core.InvalidInput):
    """Several fields failed validation at once (Laravel reports them all)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.values()))[0]
        more = sum(len(messages) for messages in errors.values()) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(first + suffix, field=next(iter(errors)))
        self.errors = errors


def status_of(exc: core.TidecastError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def body_of(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The status and body answering ``exc``."""
    if not isinstance(exc, core.TidecastError):
        log.error("device API failure", exc_info=exc)
        return 500, {"error": "internal error"}
    status = status_of(exc)
    if isinstance(exc, core.AuthenticationRequired):
        extra = SIGN_IN_REASONS.get(exc.reason or "")
        if extra is not None:
            return status, {"error": exc.message, **extra}
        return status, dict(UNAUTHENTICATED)
    if status == 422:
        errors = (
            exc.errors if isinstance(exc, FieldErrors) else {exc.field or "body": [exc.message]}
        )
        return status, {"message": exc.message, "errors": errors}
    if status >= 500:
        if isinstance(exc, core.StorageUnavailable | core.ContentUnavailable | core.NotSupported):
            return status, {"error": exc.message}
        log.error("device API failure", exc_info=exc)
        return status, {"error": "internal error"}
    return status, {"error": exc.message}


def render(value: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(value), status_code=status, media_type="application/json", headers=HEADERS
    )


def failure(exc: BaseException) -> Response:
    status, body = body_of(exc)
    return render(body, status)

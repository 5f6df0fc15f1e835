"""The engine API's envelopes, and the one place core errors become engine errors.

``/server/api`` and ``/webui/api/service`` answer ``{"result": …, "error": …}``: the error
is a string, or with ``api_version`` 2 or more an object ``{"message", "code"}``. Errors
travel with HTTP 200 (clients read the ``error`` field), except an unexpected failure,
which is logged and answered 500 in the same shape. JSON uses Python's default
separators with ``result`` before ``error``, as the original engine does.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.responses import Response

from tidecast.core import errors as core

log = logging.getLogger("tidecast.api.engine")

# class -> (HTTP status, code). The original engine sends code 0 for every error it
# documents ("auth_error", "unknown protocol"), so tidecast does the same; the message
# tells them apart.
ERROR_MAP: dict[type[core.TidecastError], tuple[int, int]] = {
    core.TidecastError: (500, 0),
    core.InvalidInput: (200, 0),
    core.UnknownCommand: (200, 0),
    core.NotFound: (200, 0),
    core.AuthenticationRequired: (200, 0),
    core.AccessDenied: (200, 0),
    core.Conflict: (200, 0),
    core.UnsupportedContent: (200, 0),
    core.ContentUnavailable: (200, 0),
    core.NotSupported: (200, 0),
}

# reason -> message, where the seed documents the engine's own word for a core error.
REASON_MESSAGES: dict[str, str] = {
    "bad_credentials": "auth_error",  # sign_in with a wrong email/login or password
    # tidecast's own words, in the same style: the password was right, the code is not.
    "tfa_required": "two_factor_required",
    "tfa_invalid": "two_factor_invalid",
}

_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}", re.ASCII)


def lookup(exc: core.TidecastError) -> tuple[int, int]:
    for cls in type(exc).__mro__:
        if cls in ERROR_MAP:
            return ERROR_MAP[cls]
    return ERROR_MAP[core.TidecastError]


def error_value(message: str, code: int, api_version: int) -> object:
    return {"message": message, "code": code} if api_version >= 2 else message


def render_result(result: Any, *, jsonp: str | None = None, cors: bool = True) -> Response:
    return _render({"result": result, "error": None}, 200, jsonp=jsonp, cors=cors)


def render_error(
    exc: BaseException, *, api_version: int, jsonp: str | None = None, cors: bool = True
) -> Response:
    if isinstance(exc, core.TidecastError):
        status, code = lookup(exc)
        message = REASON_MESSAGES.get(exc.reason or "", exc.message)
        if status >= 500:
            message = "internal error"
            log.error("engine API failure: %s", exc, exc_info=exc)
    else:
        log.error("unexpected engine API failure", exc_info=exc)
        status, code, message = 500, 0, "internal error"
    body = {"result": None, "error": error_value(message, code, api_version)}
    return _render(body, status, jsonp=jsonp, cors=cors)


def valid_callback(name: str | None) -> str | None:
    """A JSONP callback name, or None when it is absent or unsafe to echo."""
    if name and _CALLBACK.fullmatch(name):
        return name
    return None


class EnvelopeResponse(Response):
    """A rendered envelope; its headers are built directly, as this is the hottest path."""

    def __init__(self, body: bytes, status: int, content_type: bytes, cors: bool) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", content_type),
        ]
        if cors:
            self.raw_headers.append((b"access-control-allow-origin", b"*"))


def _render(body: dict[str, Any], status: int, *, jsonp: str | None, cors: bool) -> Response:
    text = json.dumps(body)
    if jsonp:
        script = f"{jsonp}({text});".encode()
        return EnvelopeResponse(script, status, b"application/javascript; charset=utf-8", cors)
    return EnvelopeResponse(text.encode(), status, b"application/json", cors)

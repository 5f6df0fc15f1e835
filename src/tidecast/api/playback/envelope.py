"""The playback API's envelope, and the one place core errors become playback errors.

Playback and session endpoints answer ``{"response": …, "error": …}`` (``result`` in
place of ``response`` when the client sends ``api_version`` 2 or more, as the official
SDK reads it), with string errors and HTTP 200, in Python's default JSON style with the
response first. In redirect mode and on stream URLs there is no envelope: an error is
an HTTP status with a short text, as the original engine answers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response

from tidecast.core import errors as core
from tidecast.core.playback import SessionGone

log = logging.getLogger("tidecast.api.playback")

# class -> HTTP status when there is no envelope (redirect mode, stream URLs).
STATUS_MAP: dict[type[core.TidecastError], int] = {
    core.TidecastError: 500,
    core.InvalidInput: 400,
    core.NotFound: 404,
    core.AccessDenied: 403,
    core.AuthenticationRequired: 401,
    core.UnsupportedContent: 415,
    # The engine answers 500 for content it cannot load; players show that as an error.
    core.ContentUnavailable: 500,
    core.NotSupported: 501,
    SessionGone: 404,
}


def status_of(exc: core.TidecastError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_MAP:
            return STATUS_MAP[cls]
    return 500


def message_of(exc: BaseException) -> str:
    if isinstance(exc, core.TidecastError) and (
        status_of(exc) < 500 or isinstance(exc, core.ContentUnavailable)
    ):
        return exc.message
    log.error("playback API failure", exc_info=exc)
    return "internal error"


def api_version_of(raw: str | None) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0


def render(value: Any, *, api_version: int = 0) -> Response:
    key = "result" if api_version >= 2 else "response"
    return _json({key: value, "error": None})


def render_error(exc: BaseException, *, api_version: int = 0) -> Response:
    key = "result" if api_version >= 2 else "response"
    return _json({key: None, "error": message_of(exc)})


def plain_error(exc: BaseException) -> Response:
    """An error without envelope: the status tells, the body says it in a few words."""
    status = status_of(exc) if isinstance(exc, core.TidecastError) else 500
    return Response(
        message_of(exc) + "\n",
        status_code=status,
        media_type="text/plain",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def _json(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body),
        media_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )

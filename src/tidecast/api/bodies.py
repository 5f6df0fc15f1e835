"""Request bodies, read within a limit: the one place every surface bounds what it reads."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive

from tidecast.core.errors import InvalidInput, PayloadTooLarge


def limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that fails once the request body passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"request body over {limit} bytes")
        return message

    return wrapped


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The JSON object the body holds (``{}`` for an empty body).

    PayloadTooLarge past ``limit`` bytes; InvalidInput for anything but a JSON object
    (bad JSON or UTF-8, huge integers, deep nesting included).
    """
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(bytes(raw))
    except (ValueError, RecursionError):
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("request body must be a JSON object")
    return parsed

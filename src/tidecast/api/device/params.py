"""Reading a device API request: the bearer token and the JSON (or form) body."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from tidecast.api.device.envelope import FieldErrors
from tidecast.core.errors import InvalidInput, PayloadTooLarge

BODY_LIMIT = 64 * 1024


def bearer(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def read_body(request: Request) -> dict[str, Any]:
    """The request's fields: a JSON object, a form, or the query of a GET."""
    if request.method == "GET":
        return dict(request.query_params)
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > BODY_LIMIT:
            raise PayloadTooLarge("request body is too large")
    if not raw.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("The request body must be valid JSON.", field="body") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    return parsed


def require(body: dict[str, Any], *fields: str) -> None:
    """Laravel's ``required`` rule for each field, all reported at once (422)."""
    errors: dict[str, list[str]] = {}
    for field in fields:
        value = body.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[field] = [f"The {field.replace('_', ' ')} field is required."]
    if errors:
        raise FieldErrors(errors)


def strings(body: dict[str, Any], *fields: str) -> None:
    """Laravel's ``string`` rule for each field present."""
    errors = {
        field: [f"The {field.replace('_', ' ')} field must be a string."]
        for field in fields
        if field in body and not isinstance(body[field], str)
    }
    if errors:
        raise FieldErrors(errors)

"""Reading the web UI's forms: URL-encoded fields, size-capped, as plain strings."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from tidecast.core.errors import InvalidInput, PayloadTooLarge

FORM_LIMIT = 64 * 1024
"""No form of these pages carries more; a bigger body is refused before it is parsed."""


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields (the first value of each); files are not accepted here."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > FORM_LIMIT:
        raise PayloadTooLarge("the form is too large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > FORM_LIMIT:
            raise PayloadTooLarge("the form is too large")
    held = bytes(body)

    async def replay() -> Message:
        return {"type": "http.request", "body": held, "more_body": False}

    # The body was consumed above: Starlette's parser reads the bytes held instead.
    async with Request(request.scope, replay).form(max_files=0, max_fields=64) as form:
        fields: dict[str, str] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise InvalidInput("files are not accepted here", field=name)
            fields.setdefault(name, value)
        return fields

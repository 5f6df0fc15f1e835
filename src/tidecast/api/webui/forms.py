"""Reading the web UI's forms: fields as plain strings, uploads as bytes, size-capped.

The body is read (and refused past its cap) before it is parsed, so a form never costs
more memory than its cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from tidecast.core.errors import InvalidInput, PayloadTooLarge

FORM_LIMIT = 64 * 1024
"""No form without a file carries more; a bigger body is refused before it is parsed."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a form carried: its name as the browser gave it, and its bytes."""

    filename: str
    data: bytes


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields (the first value of each); files are not accepted here."""
    fields, _ = await _parse(request, FORM_LIMIT, max_files=0)
    return fields


async def read_upload(request: Request, limit: int) -> tuple[dict[str, str], dict[str, Upload]]:
    """A multipart form's fields and files (the first of each name), at most ``limit`` bytes
    in all; an empty file input (nothing chosen) is left out."""
    return await _parse(request, limit, max_files=4)


async def _parse(
    request: Request, limit: int, *, max_files: int
) -> tuple[dict[str, str], dict[str, Upload]]:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge("the form is too large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge("the form is too large")
    held = bytes(body)

    async def replay() -> Message:
        return {"type": "http.request", "body": held, "more_body": False}

    # The body was consumed above: Starlette's parser reads the bytes held instead.
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    replayed = Request(request.scope, replay)
    async with replayed.form(max_files=max_files, max_fields=64, max_part_size=limit) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if max_files == 0:
                    raise InvalidInput("files are not accepted here", field=name)
                data = await value.read()
                if value.filename and name not in files:
                    files[name] = Upload(value.filename, data)
            else:
                fields.setdefault(name, value)
    return fields, files

"""Reading what the browser sent: form fields as plain strings, uploads as bytes (the body
size-capped), query-string filters, and whole numbers from either.

The body is read (and refused past its cap) before it is parsed, so a form never costs
more memory than its cap. Whatever cannot be read (a malformed multipart body, too many
fields or files, a file where none is accepted, a NUL character no database stores) is
refused as :class:`InvalidInput`, so every page answers it with a 400 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from tidecast.core.errors import InvalidInput, PayloadTooLarge
from tidecast.core.integers import INT_MAX

FORM_LIMIT = 64 * 1024
"""No form without a file carries more; a bigger body is refused before it is parsed."""
MAX_FIELDS = 64
NUL = "\x00"
"""PostgreSQL's text refuses it, so no field or filter may carry it on any database."""


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
    # isdigit() alone admits "²", and int() refuses thousands of digits: ASCII, and short.
    if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > limit):
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
    try:
        async with replayed.form(
            max_files=max_files, max_fields=MAX_FIELDS, max_part_size=limit
        ) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    if value.filename and name not in files:
                        files[name] = Upload(value.filename, data)
                else:
                    fields.setdefault(name, _text(value, name))
    # Too many fields or files (a file where the form takes none), a multipart body
    # without its boundary...: Starlette raises the first inside an app, the second
    # elsewhere.
    except (HTTPException, MultiPartException):
        raise InvalidInput("the form could not be read; reload the page and try again") from None
    return fields, files


def query_text(params: Mapping[str, str], name: str, limit: int) -> str:
    """A query-string filter (``?q=``, ``?tag=``…): stripped, cut at ``limit`` characters,
    empty when missing; InvalidInput naming ``name`` when it holds a NUL."""
    return _text(params.get(name, ""), name).strip()[:limit]


def _text(value: str, name: str) -> str:
    if NUL in value:
        raise InvalidInput("the text must not contain a NUL character", field=name)
    return value


def whole_number(text: str, field_name: str, label: str) -> int:
    """A form's integer field, within what every database column holds; InvalidInput
    naming ``field_name`` otherwise."""
    value = text.strip()
    digits = value.removeprefix("-")
    # isdigit() alone admits digits int() refuses ("²"): ASCII only.
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
        raise InvalidInput(f"{label} must be a whole number", field=field_name)
    if abs(int(value)) > INT_MAX:
        raise InvalidInput(f"{label} is too large", field=field_name)
    return int(value)


def page_number(text: str | None) -> int:
    """``?page=``: 1 when missing or nonsense (a bookmark of a shorter list still opens)."""
    if text and text.isascii() and text.isdigit() and len(text) < 7:
        return max(int(text), 1)
    return 1

"""The command surface over HTTP: ``/api/command``, uploads, ``/avatars/<key>``.

``/api/command`` takes ``{"cmd", "body"}`` as JSON (``application/json`` only, so a web
page of another origin cannot send one without a preflight this server never grants)
and answers the envelope with HTTP ``data.code``. ``/api/importFile`` takes a multipart
``file`` with the token in the ``authorization`` header and answers a multer-like object;
``/api/importAnimeList`` takes a MyAnimeList export the same way.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tidecast.api.bodies import limited
from tidecast.api.callers import caller_of
from tidecast.api.commands.command import BodyField, Call, Command
from tidecast.api.commands.dispatch import execute, gate
from tidecast.api.commands.envelope import failure
from tidecast.api.commands.table import COMMANDS
from tidecast.core.anime_lists import MAX_EXPORT_BYTES
from tidecast.core.errors import InvalidInput, MissingParameter, NotFound, PayloadTooLarge
from tidecast.core.services import Services
from tidecast.core.users import Role

COMMAND_BODY_LIMIT = 1024 * 1024
FORM_OVERHEAD = 64 * 1024
"""Multipart headers and boundaries allowed on top of the avatar size limit."""


async def import_avatar(call: Call) -> dict[str, Any]:
    stored = await call.services.avatars.store(call.body["file"])
    return {
        "fieldname": "file",
        "originalname": call.body["originalname"],
        "encoding": "7bit",
        "mimetype": stored.mime,
        "filename": stored.key,
        "path": stored.key,
        "size": stored.size,
    }


IMPORT_FILE = Command(
    "importFile",
    import_avatar,
    "Upload an avatar (multipart field file; the token in the authorization header). "
    "Pass the answer's path as avatar: {path} to editMyAccount or editUser.",
    access="required",
    role=Role.USER,
    mode="closed",
    error="IMPORT_FILE_ERROR",
    fields=(BodyField("file", "any", "PNG, JPEG, GIF, WebP or ICO image", required=True),),
)


async def import_anime_list(call: Call) -> dict[str, Any]:
    user = await call.services.anime_lists.link(call.me, "myanimelist", mal_xml=call.body["file"])
    return {
        "code": 200,
        "message": {
            "code": "ANIME_LIST_IMPORTED",
            "data": {"anime_list_ids": len(user.anime_list_ids)},
        },
    }


IMPORT_ANIME_LIST = Command(
    "importAnimeList",
    import_anime_list,
    "Link a MyAnimeList export (multipart field file, XML or .xml.gz; the token in the "
    "authorization header) to your account; getAnimeList then matches its series.",
    access="required",
    role=Role.USER,
    mode="closed",
    error="ANIME_LIST_IMPORT_ERROR",
    fields=(BodyField("file", "any", "MyAnimeList anime list export", required=True),),
)
ANIME_LIST_LIMIT = MAX_EXPORT_BYTES


def _envelope_response(status: int, envelope: dict[str, Any]) -> Response:
    return Response(
        json.dumps(envelope, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


def _declared_too_large(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isascii() and declared.isdigit() and int(declared) > limit


async def _read_command(request: Request) -> tuple[object, object]:
    if _declared_too_large(request, COMMAND_BODY_LIMIT):
        raise PayloadTooLarge(f"request body over {COMMAND_BODY_LIMIT} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise InvalidInput("the body must be application/json")
    raw = await request.body()
    try:
        parsed = json.loads(raw)
    except RecursionError:
        raise InvalidInput("the body nests arrays or objects too deeply") from None
    except ValueError:
        # Malformed JSON or UTF-8, and integers past Python's limit on digits.
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("the body must be a JSON object")
    return parsed.get("cmd"), parsed.get("body")


async def _command(request: Request, services: Services) -> Response:
    if request.method != "POST":
        # A transport failure, not a core error: no command was even read.
        envelope = {"err": True, "data": {"code": 405, "message": {"code": "METHOD_NOT_ALLOWED"}}}
        response = _envelope_response(405, envelope)
        response.headers["Allow"] = "POST"
        return response
    try:
        name, payload = await _read_command(request)
    except Exception as exc:  # malformed requests are answered in the envelope too
        return _envelope_response(*failure(exc, None))
    caller = caller_of(request, services)
    return _envelope_response(*await execute(services, COMMANDS, name, payload, caller))


async def _upload(
    request: Request, services: Services, command: Command, max_bytes: int
) -> Response:
    """A multipart upload command: the file in field ``file``, the token in a header."""
    if request.method != "POST":
        return Response(status_code=405, headers={"Allow": "POST"})
    form = None
    try:
        user = await gate(services, command, request.headers.get("authorization"))
        limit = max_bytes + FORM_OVERHEAD
        if _declared_too_large(request, limit):
            raise PayloadTooLarge(f"request body over {limit} bytes")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise InvalidInput("send the file as multipart/form-data", field="file")
        try:
            form = await request.form(max_files=1, max_fields=16)
        except (MultiPartException, HTTPException) as exc:
            raise InvalidInput(f"malformed form data: {getattr(exc, 'message', exc)}") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise MissingParameter("Required", field="file")
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"file over {max_bytes} bytes", field="file")
        call = Call(
            services=services,
            caller=caller_of(request, services),
            body={"file": data, "originalname": (upload.filename or "")[:255]},
            user=user,
            online_token=None,
        )
        result = await command.handler(call)
    except Exception as exc:
        return _envelope_response(*failure(exc, command))
    finally:
        if form is not None:
            await form.close()
    return JSONResponse(result)


def endpoints(services: Services) -> dict[str, ASGIApp]:
    """Exact path -> ASGI app, served ahead of the router (see ``tidecast.app``)."""

    async def command_app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, limited(receive, COMMAND_BODY_LIMIT))
        await (await _command(request, services))(scope, receive, send)

    async def import_app(scope: Scope, receive: Receive, send: Send) -> None:
        limit = services.avatars.max_bytes
        request = Request(scope, limited(receive, limit + FORM_OVERHEAD))
        await (await _upload(request, services, IMPORT_FILE, limit))(scope, receive, send)

    async def anime_list_app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, limited(receive, ANIME_LIST_LIMIT + FORM_OVERHEAD))
        response = await _upload(request, services, IMPORT_ANIME_LIST, ANIME_LIST_LIMIT)
        await response(scope, receive, send)

    # The seed writes /api/importfile; the original client posts /api/importFile.
    return {
        "/api/command": command_app,
        "/api/importFile": import_app,
        "/api/importfile": import_app,
        "/api/importAnimeList": anime_list_app,
    }


def routes(services: Services) -> list[Route]:
    async def avatar(request: Request) -> Response:
        try:
            data, mime = await services.avatars.read(request.path_params["key"])
        except NotFound:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(
            data,
            media_type=mime,
            headers={
                # The name is the content's hash: it never changes.
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'",
            },
        )

    return [Route("/avatars/{key}", avatar, methods=["GET", "HEAD"])]

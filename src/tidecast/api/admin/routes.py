"""``/api.php``: read the request (query, form or JSON), run the command, render the answer.

GET and POST are served alike; a POST body is a form (``application/x-www-form-urlencoded``
or ``multipart/form-data``) or a JSON object, at most :data:`BODY_LIMIT` bytes. The
answer's form comes from ``ResponseFormat`` (``JSON``, the default, or ``XML``) and
``JSONPCallBack`` (a JavaScript identifier, or the request is refused with 100000).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tidecast.api.admin.dispatch import execute
from tidecast.api.admin.envelope import failure
from tidecast.api.admin.params import Params
from tidecast.api.admin.rendering import render, valid_callback
from tidecast.api.admin.table import COMMANDS
from tidecast.api.bodies import limited
from tidecast.api.callers import address_of
from tidecast.core.errors import InvalidInput, PayloadTooLarge
from tidecast.core.services import Services

PATH = "/api.php"
BODY_LIMIT = 1024 * 1024


def malformed(message: str) -> InvalidInput:
    return InvalidInput(message, reason="malformed_request")


async def read_params(request: Request) -> Params:
    """Every parameter of the request: the query's, then the body's (which win)."""
    params = Params()
    params.update(request.query_params.multi_items())
    if request.method != "POST":
        return params
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > BODY_LIMIT:
        raise PayloadTooLarge(f"request body over {BODY_LIMIT} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=0, max_fields=200)
        except (MultiPartException, HTTPException) as exc:
            raise malformed(f"malformed form data: {getattr(exc, 'message', exc)}") from None
        try:
            params.update((k, v) for k, v in form.multi_items() if isinstance(v, str))
        finally:
            await form.close()
    elif content_type == "application/json" or content_type.endswith("+json"):
        params.update(_json_object(await request.body()).items())
    return params


def _json_object(raw: bytes) -> dict[str, object]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # bad JSON or UTF-8, huge integers, deep nesting
        raise malformed("the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise malformed("the body must be a JSON object")
    return parsed


def _wants_xml(params: Params) -> bool:
    try:
        return (params.text("ResponseFormat") or "").strip().upper() == "XML"
    except InvalidInput:
        return False


async def answer(request: Request, services: Services) -> Response:
    params = Params()
    try:
        params.update(request.query_params.multi_items())
        if request.method not in ("GET", "POST"):
            raise InvalidInput(f"HTTP method {request.method} not allowed", reason="bad_method")
        params = await read_params(request)
        callback = params.text("JSONPCallBack")
        if callback is not None and not valid_callback(callback):
            raise malformed("JSONPCallBack must be a JavaScript identifier")
    except Exception as exc:  # a request that cannot be read is answered all the same
        status, body = failure(exc, None)
        response = render(body, status, xml=_wants_xml(params))
        if request.method not in ("GET", "POST"):
            response.headers["Allow"] = "GET, POST"
        return response
    address = address_of(request, services)
    base_url = str(request.base_url).rstrip("/")
    status, body = await execute(services, COMMANDS, params, address, base_url)
    return render(body, status, xml=_wants_xml(params) and callback is None, callback=callback)


def endpoints(services: Services) -> dict[str, ASGIApp]:
    """Exact path -> ASGI app, served ahead of the router (see ``tidecast.app``)."""

    async def api_php(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, limited(receive, BODY_LIMIT))
        response = await answer(request, services)
        await response(scope, receive, send)

    return {PATH: api_php}

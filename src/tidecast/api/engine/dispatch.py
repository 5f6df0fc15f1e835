"""One request to ``/server/api`` or ``/webui/api/service``: parse, check access, call, render."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.bodies import read_json_object
from tidecast.api.callers import caller_of
from tidecast.api.engine.envelope import render_error, render_result, valid_callback
from tidecast.api.engine.params import Param, Params
from tidecast.core.access import Caller, check_access, parse_address
from tidecast.core.errors import AccessDenied, InvalidInput, PayloadTooLarge, UnknownCommand
from tidecast.core.services import Services

Handler = Callable[["Call"], Awaitable[Any]]

JSON_BODY_LIMIT = 32 * 1024 * 1024
"""JSON bodies carry at most a base64 transport file (16 MiB before encoding)."""


@dataclass(frozen=True, slots=True)
class Method:
    """One engine API method as the seed describes it: name, access and parameters."""

    name: str
    handler: Handler
    summary: str
    public: bool
    remote: bool
    params: tuple[Param, ...] = ()
    cors: bool = True
    extension: bool = False  # a tidecast addition, not in the seed


@dataclass(slots=True)
class Call:
    request: Request
    params: Params
    services: Services
    caller: Caller
    api_version: int

    @property
    def base_url(self) -> str:
        """scheme://host:port as the client addressed us, for absolute URLs we return."""
        return str(self.request.base_url).rstrip("/")


def _api_version(request: Request) -> int:
    raw = request.query_params.get("api_version", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0


def _addressed_by_ip(request: Request) -> bool:
    """Whether the Host header names an IP literal or localhost, not a DNS name.

    A DNS-rebinding page reaches us under its own host name; refusing such names for
    methods that must never reach a web page closes that door.
    """
    host = request.headers.get("host", "")
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    if hostname in ("localhost", ""):
        return True
    return parse_address(hostname) is not None


async def _read_body(request: Request, limit: int) -> tuple[FormData | None, dict[str, Any] | None]:
    if request.method != "POST":
        return None, None
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        try:
            return await request.form(max_files=8, max_fields=200), None
        except (MultiPartException, HTTPException) as exc:
            raise InvalidInput(f"malformed form data: {getattr(exc, 'message', exc)}") from None
    if content_type.startswith("application/json"):
        return None, await read_json_object(request, JSON_BODY_LIMIT)
    return None, None


async def dispatch(request: Request, table: Mapping[str, Method], services: Services) -> Response:
    api_version = 0
    jsonp = None
    method: Method | None = None
    form: FormData | None = None
    try:
        api_version = _api_version(request)
        if request.query_params.get("format") == "jsonp":
            jsonp = valid_callback(request.query_params.get("callback"))
        caller = caller_of(request, services)
        switches = services.switches
        name = request.query_params.get("method", "")
        method = table.get(name)
        # The address policy comes first: a refused caller learns nothing about methods.
        check_access(
            caller,
            remote_allowed_for_method=True if method is None else method.remote,
            allow_intranet=switches.allow_intranet,
            allow_remote=switches.allow_remote,
        )
        if method is None:
            raise UnknownCommand("unknown method" if name else "missing method")
        if not method.cors and (
            request.headers.get("origin") or jsonp or not _addressed_by_ip(request)
        ):
            # A browser page (a script tag, or a DNS-rebinding host name) must never read this.
            raise AccessDenied("access denied: not available to web pages")
        query_token = request.query_params.get("token")
        if not method.public and query_token:
            services.engine_token.verify(query_token)  # before reading any upload
        form, json_body = await _read_body(request, services.settings.upload_max_bytes)
        params = Params(request.query_params, form, method.params, json_body)
        if not method.public and not query_token:
            services.engine_token.verify(params_token(form))
        result = await method.handler(Call(request, params, services, caller, api_version))
    except Exception as exc:  # every failure is rendered in the envelope, never raised
        cors = method.cors if method is not None else True
        return render_error(exc, api_version=api_version, jsonp=jsonp, cors=cors)
    finally:
        if form is not None:
            await form.close()
    if isinstance(result, Response):
        return result
    return render_result(result, jsonp=jsonp, cors=method.cors)


def params_token(form: FormData | None) -> str | None:
    if form is None:
        return None
    value = form.get("token")
    return value if isinstance(value, str) else None

"""One request to ``/server/api`` or ``/webui/api/service``: parse, check access, call, render."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.engine.envelope import render_error, render_result, valid_callback
from tidecast.api.engine.params import Param, Params
from tidecast.core.access import Caller, check_access
from tidecast.core.errors import AccessDenied, InvalidInput, PayloadTooLarge, UnknownCommand
from tidecast.core.services import Services

Handler = Callable[["Call"], Awaitable[Any]]


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


def caller_of(request: Request, services: Services) -> Caller:
    client = request.scope.get("client")
    peer = client[0] if client else None
    # Only a configured trusted proxy may speak for someone else; skip the lookup otherwise.
    forwarded = (
        request.headers.get("x-forwarded-for") if services.settings.trusted_proxies else None
    )
    return services.caller(peer, forwarded)


def _api_version(request: Request) -> int:
    raw = request.query_params.get("api_version", "")
    return int(raw) if raw.strip().isdigit() else 0


async def _read_body(request: Request, limit: int) -> tuple[FormData | None, dict[str, Any] | None]:
    if request.method != "POST":
        return None, None
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await request.form(max_files=8, max_fields=200), None
    if content_type.startswith("application/json"):
        raw = await request.body()
        if len(raw) > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        try:
            parsed = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise InvalidInput("request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise InvalidInput("request body must be a JSON object")
        return None, parsed
    return None, None


async def dispatch(request: Request, table: Mapping[str, Method], services: Services) -> Response:
    api_version = _api_version(request)
    jsonp = None
    if request.query_params.get("format") == "jsonp":
        jsonp = valid_callback(request.query_params.get("callback"))
    method: Method | None = None
    form: FormData | None = None
    try:
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
        if not method.cors and request.headers.get("origin"):
            # A browser page (or a DNS-rebinding host name) must never read this answer.
            raise AccessDenied("access denied: not available to web pages")
        form, json_body = await _read_body(request, services.settings.upload_max_bytes)
        params = Params(request.query_params, form, method.params, json_body)
        if not method.public:
            services.engine_token.verify(request.query_params.get("token") or params_token(form))
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

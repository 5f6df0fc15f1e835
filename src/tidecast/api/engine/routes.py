"""The engine service API's routes: ``/server/api``, ``/service/api``, ``/webui/api/service``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tidecast.api.engine import (
    account_methods,
    content_methods,
    external_methods,
    playlist_methods,
    service_methods,
)
from tidecast.api.engine.dispatch import Method, dispatch
from tidecast.core.services import Services


def _table(*groups: tuple[Method, ...]) -> dict[str, Method]:
    table: dict[str, Method] = {}
    for group in groups:
        for method in group:
            if method.name in table:
                raise ValueError(f"engine method {method.name} declared twice")
            table[method.name] = method
    return table


SERVER_API: Mapping[str, Method] = _table(
    service_methods.METHODS,
    playlist_methods.METHODS,
    content_methods.METHODS,
    external_methods.METHODS,
    account_methods.METHODS,
)
WEBUI_SERVICE_API: Mapping[str, Method] = _table(service_methods.WEBUI_METHODS)


def endpoints(services: Services) -> dict[str, ASGIApp]:
    """Exact path -> ASGI app. The engine API is the hottest path clients poll, so the
    app factory serves these paths ahead of the router (see ``tidecast.app``)."""

    def endpoint(table: Mapping[str, Method]) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive)
            if request.method not in ("GET", "POST", "HEAD"):
                response: Response = Response(status_code=405, headers={"Allow": "GET, POST"})
            else:
                response = await dispatch(request, table, services)
            await response(scope, receive, send)

        return app

    server_api = endpoint(SERVER_API)
    return {
        "/server/api": server_api,
        "/service/api": server_api,
        "/webui/api/service": endpoint(WEBUI_SERVICE_API),
    }

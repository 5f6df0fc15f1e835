"""The engine service API's routes: ``/server/api``, ``/service/api``, ``/webui/api/service``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidecast.api.engine import content_methods, external_methods, playlist_methods, service_methods
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
)
WEBUI_SERVICE_API: Mapping[str, Method] = _table(service_methods.WEBUI_METHODS)


def routes(services: Services) -> list[Route]:
    async def server_api(request: Request) -> Response:
        return await dispatch(request, SERVER_API, services)

    async def webui_service(request: Request) -> Response:
        return await dispatch(request, WEBUI_SERVICE_API, services)

    return [
        Route("/server/api", server_api, methods=["GET", "POST"]),
        Route("/service/api", server_api, methods=["GET", "POST"]),
        Route("/webui/api/service", webui_service, methods=["GET", "POST"]),
    ]

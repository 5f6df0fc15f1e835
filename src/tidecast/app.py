"""The application factory: ``create_app(settings)`` wires everything; the lifespan runs it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tidecast.api import docs
from tidecast.api.admin import routes as admin_routes
from tidecast.api.commands import routes as command_routes
from tidecast.api.commands.socket_server import socket_app
from tidecast.api.device import routes as device_routes
from tidecast.api.engine import routes as engine_routes
from tidecast.api.playback import routes as playback_routes
from tidecast.api.webui import routes as webui_routes
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, services: Services | None = None) -> ExactPaths:
    """Build the ASGI app; nothing is started until the lifespan runs."""
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    async def index(_request: Request) -> Response:
        return RedirectResponse("/docs", status_code=302)

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    async def server_error(_request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal error"}, status_code=500)

    routes: list[BaseRoute] = [Route("/", index)]
    routes += docs.routes()
    routes += command_routes.routes(services)
    routes += playback_routes.routes(services)
    routes += device_routes.routes(services)
    routes += webui_routes.routes(services)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 500: server_error},
    )
    app.state.services = services
    paths = engine_routes.endpoints(services) | command_routes.endpoints(services)
    paths |= admin_routes.endpoints(services)
    # Socket.IO takes /socket.io/ and hands everything else, lifespan included, to the app.
    return ExactPaths(paths, socket_app(services, app), app.state)


class ExactPaths:
    """Serve a few exact paths directly, everything else through the fallback app.

    The engine API and command endpoints render every failure in their own envelope, so
    they need none of the router's middleware; skipping it halves their per-request cost.
    """

    def __init__(self, paths: dict[str, ASGIApp], fallback: ASGIApp, state: State) -> None:
        self.paths = paths
        self.fallback = fallback
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.paths.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.fallback(scope, receive, send)

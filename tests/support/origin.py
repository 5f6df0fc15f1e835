"""A real HTTP server on 127.0.0.1 standing in for the internet's web servers.

``Origin.routes`` maps a path (with its query) to ``(body, content type)``; every request is
counted in ``hits``. Tests change routes between requests to model an upstream that moves.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp


@dataclass
class Origin:
    base: str = ""
    routes: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def total_hits(self) -> int:
        return sum(self.hits.values())


@contextmanager
def running_origin() -> Iterator[Origin]:
    state = Origin()

    async def serve(request: Request) -> Response:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        state.hits[path] = state.hits.get(path, 0) + 1
        if path not in state.routes:
            return Response(b"not found", status_code=404, media_type="text/plain")
        body, content_type = state.routes[path]
        return Response(body, media_type=content_type)

    app = Starlette(routes=[Route("/{path:path}", serve)])
    with serving_app(app) as base:
        state.base = base
        yield state


@contextmanager
def serving_app(app: ASGIApp) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread on a free loopback port; yield its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        app, log_level="error", lifespan="off", ws="none", http="h11", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@asynccontextmanager
async def serving_in_loop(app: ASGIApp) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn in the running event loop, on a free loopback port;
    yield its URL. For apps whose services (asyncio futures, the torrent engine) live in
    the test's own loop; the app's lifespan is the caller's to run."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="error", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()

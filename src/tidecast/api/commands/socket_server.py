"""The command surface over Socket.IO, as the original client speaks it.

The event name is the command, its one argument the ``{body, authorization,
onlineAuthorization}`` payload, and the acknowledgement carries the ``{err, data}``
envelope (an event sent without an ack gets no reply). The caller's address is the
connection's TCP peer (or what a trusted proxy says), read once at connect.

A connection's events are handled one at a time, in the order they came: the server
runs without python-socketio's ``async_handlers`` (a websocket's next message is not
read until the current command answered), and a lock per connection also holds back
long-polling requests sent side by side. So one socket costs at most one command's work
at a time, one password hash, say, however many events it queues; other connections
are not held up.

Socket.IO's own logging stays off: it would write every payload, tokens and passwords
included. Cross-origin browser pages are refused (python-socketio's default).
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio  # type: ignore[import-untyped]

from tidecast.api.commands.dispatch import execute
from tidecast.api.commands.table import COMMANDS
from tidecast.core.access import Caller
from tidecast.core.services import Services

SOCKET_PATH = "socket.io"
MAX_MESSAGE_BYTES = 1024 * 1024


def socket_server(services: Services) -> Any:
    """A ``socketio.AsyncServer`` serving every command."""
    server = socketio.AsyncServer(
        async_mode="asgi",
        async_handlers=False,
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=MAX_MESSAGE_BYTES,
    )
    callers: dict[str, Caller] = {}
    busy: dict[str, asyncio.Lock] = {}

    async def connect(sid: str, environ: dict[str, Any], _auth: object = None) -> None:
        scope = environ.get("asgi.scope") or {}
        client = scope.get("client")
        forwarded = (
            environ.get("HTTP_X_FORWARDED_FOR") if services.settings.trusted_proxies else None
        )
        callers[sid] = services.caller(client[0] if client else None, forwarded)
        busy[sid] = asyncio.Lock()

    async def disconnect(sid: str, _reason: object = None) -> None:
        callers.pop(sid, None)
        busy.pop(sid, None)

    async def command(event: str, sid: str, *args: Any) -> dict[str, Any]:
        caller = callers.get(sid) or services.caller(None, None)
        async with busy.get(sid) or asyncio.Lock():
            _status, envelope = await execute(
                services, COMMANDS, event, args[0] if args else None, caller
            )
        return envelope

    server.on("connect", connect)
    server.on("disconnect", disconnect)
    server.on("*", command)
    return server


def socket_app(services: Services, other: Any) -> Any:
    """An ASGI app serving Socket.IO under ``/socket.io/`` and ``other`` for the rest
    (lifespan events included)."""
    return socketio.ASGIApp(
        socket_server(services), other_asgi_app=other, socketio_path=SOCKET_PATH
    )

"""Serving relayed media: direct URLs (Range passed through) and HLS sources.

The relaying itself (fetching, rewriting, tokens, caching) is :mod:`tidecast.core.relay`;
this is its HTTP side. A viewer's ``Range`` and ``If-Range`` go upstream and nothing else
of the request does; of the upstream's answer only the status, the body and the headers
that describe it come back (no cookies). Every relayed answer allows any origin, as web
players need. An upstream that fails is a 502 with the reason; an address the rules
refuse is a 403; a token tidecast did not sign is a 403.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tidecast.api.callers import caller_of
from tidecast.api.playback.envelope import plain_error
from tidecast.api.playback.ranges import RangeNotSatisfiable, parse_range
from tidecast.core.errors import ContentUnavailable, PayloadTooLarge
from tidecast.core.playback import PlaybackSession
from tidecast.core.relay import Relayed
from tidecast.core.services import Services

log = logging.getLogger(__name__)

_FORWARDED = ("range", "if-range")
_CORS = {"Access-Control-Allow-Origin": "*"}
# Failures of the upstream rather than of the request: the gateway's to report.
_UPSTREAM_FAILURES = (ContentUnavailable, PayloadTooLarge)


async def serve_direct(request: Request, session: PlaybackSession, services: Services) -> Response:
    """The session's media URL, streamed; HEAD answers the upstream's headers only."""
    forwarded = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
    stack = AsyncExitStack()
    try:
        upstream = await stack.enter_async_context(
            services.relay.direct(
                session,
                headers=forwarded,
                caller_is_local=_caller_is_local(request, session, services),
            )
        )
    except _UPSTREAM_FAILURES as exc:
        return _bad_gateway(exc)
    session.touch()
    headers = {**upstream.headers, **_CORS}
    if request.method == "HEAD":
        await stack.aclose()
        response = Response(status_code=upstream.status, headers=headers)
        if "content-length" not in upstream.headers and "content-length" in response.headers:
            del response.headers["content-length"]  # not 0: the length is unknown
        return response
    return StreamingResponse(
        _relay_body(session, upstream.body, stack), status_code=upstream.status, headers=headers
    )


async def serve_playlist(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    """The session's HLS playlist, every URI in it pointing back at tidecast."""
    try:
        relayed = await services.relay.playlist(
            session,
            prefix=_prefix(request, session),
            caller_is_local=_caller_is_local(request, session, services),
        )
    except _UPSTREAM_FAILURES as exc:
        return _bad_gateway(exc)
    return _answer(request, relayed)


async def serve_resource(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    """What a relayed playlist's token names: a playlist (rewritten) or media (bytes)."""
    try:
        relayed = await services.relay.resource(
            session,
            request.path_params["token"],
            prefix=_prefix(request, session),
            caller_is_local=_caller_is_local(request, session, services),
        )
    except _UPSTREAM_FAILURES as exc:
        return _bad_gateway(exc)
    return _answer(request, relayed)


def _caller_is_local(request: Request, session: PlaybackSession, services: Services) -> bool:
    return services.relay.caller_is_local(session, caller_of(request, services).is_local)


def _prefix(request: Request, session: PlaybackSession) -> str:
    """Where relayed URIs point: the scheme, host and port the client used."""
    base = str(request.base_url).rstrip("/")
    return f"{base}/ace/h/{session.infohash}/{session.key}/"


def _answer(request: Request, relayed: Relayed) -> Response:
    """A relayed body, or the range of it the request asks for."""
    size = len(relayed.body)
    headers = {"Accept-Ranges": "bytes", **_CORS}
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}", **headers})
    if wanted.partial:
        headers["Content-Range"] = wanted.content_range()
    return Response(
        relayed.body[wanted.start : wanted.end],
        status_code=206 if wanted.partial else 200,
        headers=headers,
        media_type=relayed.content_type,
    )


def _bad_gateway(exc: Exception) -> Response:
    log.info("relay upstream failed: %s", exc)
    response = plain_error(exc)
    response.status_code = 502
    return response


async def _relay_body(
    session: PlaybackSession, body: AsyncIterator[bytes], stack: AsyncExitStack
) -> AsyncIterator[bytes]:
    """The upstream body as it comes; a reader keeps the session from idling out."""
    session.readers += 1
    try:
        async for chunk in body:
            if session.stopped:
                return
            session.touch()
            yield chunk
    finally:
        session.readers -= 1
        session.touch()
        await stack.aclose()

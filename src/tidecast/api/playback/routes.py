"""The playback API's routes.

``/ace/getstream`` (progressive HTTP), ``/ace/manifest.m3u8`` (HLS) and
``/hls/manifest.m3u8`` (an HLS source relayed) start a session and answer its URLs,
as a 302 to the playback URL (``format=redirect``, the default) or in the envelope
(``format=json``). The session URLs carry the content's info-hash and the session key:

- ``/ace/r/<infohash>/<key>``: the stream (``Range`` honoured);
- ``/ace/m/<infohash>/<key>.m3u8``: the HLS playlist, with its segments and relayed
  resources below ``/ace/c/`` and ``/ace/h/``;
- ``/ace/stat/…``, ``/ace/cmd/…?method=stop``, ``/ace/event/…``.

Every URL handed out is absolute, built from the scheme, host and port the client used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from tidecast.api.callers import caller_of
from tidecast.api.playback import params, relay, remux
from tidecast.api.playback.envelope import (
    api_version_of,
    plain_error,
    render,
    render_error,
)
from tidecast.api.playback.ranges import RangeNotSatisfiable, parse_range
from tidecast.core.access import check_access
from tidecast.core.errors import InvalidInput, NotFound, UnknownCommand
from tidecast.core.playback import Output, PlaybackSession
from tidecast.core.services import Services

EVENT_WAIT_SECONDS = 15.0
SessionServer = Callable[[Request, PlaybackSession, Services], Awaitable[Response]]
_CORS = {"Access-Control-Allow-Origin": "*"}


def base_url(request: Request) -> str:
    """scheme://host:port as the client addressed us."""
    return str(request.base_url).rstrip("/")


def session_urls(base: str, session: PlaybackSession) -> dict[str, str]:
    prefix = f"{session.infohash}/{session.key}"
    playback = (
        f"{base}/ace/m/{prefix}.m3u8" if session.output == "hls" else f"{base}/ace/r/{prefix}"
    )
    return {
        "playback_url": playback,
        "stat_url": f"{base}/ace/stat/{prefix}",
        "command_url": f"{base}/ace/cmd/{prefix}",
        "event_url": f"{base}/ace/event/{prefix}",
    }


def routes(services: Services) -> list[BaseRoute]:
    def allowed(request: Request) -> None:
        switches = services.switches
        check_access(
            caller_of(request, services),
            remote_allowed_for_method=True,
            allow_intranet=switches.allow_intranet,
            allow_remote=switches.allow_remote,
        )

    def starter(output: Output) -> Any:
        async def start(request: Request) -> Response:
            query = request.query_params
            api_version = api_version_of(query.get("api_version"))
            json_mode = query.get("format") == "json"
            try:
                allowed(request)
                await services.entitlements.check_playback(
                    query.get("access_key"), caller_of(request, services)
                )
                body = await params.read_body(request)
                selector = params.selector(query, body)
                if request.url.path.startswith("/hls/") and not selector.manifest_url:
                    raise InvalidInput("missing parameter: manifest_url", field="manifest_url")
                session = await services.playback.start_session(
                    selector,
                    params.options(query, output=output),
                    caller_is_local=caller_of(request, services).is_local,
                )
            except Exception as exc:
                return render_error(exc, api_version=api_version) if json_mode else plain_error(exc)
            urls = session_urls(base_url(request), session)
            if not json_mode:
                return RedirectResponse(urls["playback_url"], status_code=302, headers=_CORS)
            response: dict[str, Any] = {}
            if params.parse_flag(query, "use_api_events"):
                response["event_url"] = urls["event_url"]
            response.update(
                playback_url=urls["playback_url"],
                stat_url=urls["stat_url"],
                command_url=urls["command_url"],
                infohash=session.infohash,
                playback_session_id=session.playback_session_id,
                is_live=session.is_live,
                is_encrypted=0,
                client_session_id=params.client_session_id(query),
                is_direct=session.is_direct,
            )
            return render(response, api_version=api_version)

        return start

    def lookup(request: Request) -> PlaybackSession:
        allowed(request)
        return services.playback.session(
            request.path_params["infohash"], request.path_params["key"]
        )

    async def stream(request: Request) -> Response:
        try:
            session = lookup(request)
            if session.kind == "direct":
                return await relay.serve_direct(request, session, services)
            if session.kind != "torrent" or session.file is None:
                raise NotFound("this session has no progressive stream")
            if session.audio != "copy":
                return await remux.serve_transcoded(request, session, services)
            file = session.file
            try:
                wanted = parse_range(request.headers.get("range"), file.size)
            except RangeNotSatisfiable:
                return Response(
                    status_code=416, headers={"Content-Range": f"bytes */{file.size}", **_CORS}
                )
        except Exception as exc:
            return plain_error(exc)
        session.touch()
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Length": str(wanted.length),
            **_CORS,
        }
        if wanted.partial:
            headers["Content-Range"] = wanted.content_range()
        status = 206 if wanted.partial else 200
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=file.mime)
        body = services.playback.read_file(session, wanted.start, wanted.end)
        return StreamingResponse(body, status_code=status, headers=headers, media_type=file.mime)

    def touching(serve: SessionServer) -> Callable[[Request], Awaitable[Response]]:
        """A session URL that counts as player activity and answers failures plainly."""

        async def handle(request: Request) -> Response:
            try:
                session = lookup(request)
                session.touch()
                return await serve(request, session, services)
            except Exception as exc:
                return plain_error(exc)

        return handle

    async def serve_playlist(
        request: Request, session: PlaybackSession, services: Services
    ) -> Response:
        if session.kind == "hls":
            return await relay.serve_playlist(request, session, services)
        if session.kind == "torrent" and session.output == "hls":
            return await remux.serve_playlist(request, session, services)
        raise NotFound("this session has no HLS playlist")

    playlist = touching(serve_playlist)
    segment = touching(remux.serve_segment)
    relayed = touching(relay.serve_resource)

    async def stat(request: Request) -> Response:
        api_version = api_version_of(request.query_params.get("api_version"))
        try:
            session = lookup(request)
            if not params.parse_flag(request.query_params, "skip_player_activity"):
                session.touch()
            figures = services.playback.stat(session)
        except Exception as exc:
            return render_error(exc, api_version=api_version)
        response: dict[str, Any] = {
            "status": figures.status,
            "peers": figures.peers,
            "speed_down": figures.speed_down,
            "speed_up": figures.speed_up,
            "downloaded": figures.downloaded,
            "uploaded": figures.uploaded,
            "progress": figures.progress,
            "total_progress": figures.total_progress,
            "is_live": session.is_live,
            "is_encrypted": 0,
            "infohash": session.infohash,
            "playback_session_id": session.playback_session_id,
            "client_session_id": -1,
            "selected_file_index": session.file.index if session.file is not None else -1,
            "selected_stream_index": 0,
            "stream_status": 0,
            "debug_level": 0,
            "network_monitor_status": 0,
            "manifest_access_mode": -1,
        }
        if figures.error:
            response["error_message"] = figures.error
        return render(response, api_version=api_version)

    async def command(request: Request) -> Response:
        api_version = api_version_of(request.query_params.get("api_version"))
        try:
            session = lookup(request)
            method = request.query_params.get("method", "")
            if method == "stop":
                await services.playback.stop_session(session)
            elif method in ("set_stream", "set_player_activity_timeout"):
                session.touch()
            else:
                raise UnknownCommand("unknown method")
        except Exception as exc:
            return render_error(exc, api_version=api_version)
        return render("ok", api_version=api_version)

    async def event(request: Request) -> Response:
        api_version = api_version_of(request.query_params.get("api_version"))
        try:
            session = lookup(request)
            if not session.live_announced:
                session.live_announced = True
                return render(
                    {"name": "live_changed", "params": {"is_live": session.is_live}},
                    api_version=api_version,
                )
            try:
                await asyncio.wait_for(session.ended.wait(), EVENT_WAIT_SECONDS)
            except TimeoutError:
                return render(None, api_version=api_version)
            lookup(request)  # gone now: answers "unknown playback session id"
            return render(None, api_version=api_version)
        except Exception as exc:
            return render_error(exc, api_version=api_version)

    return [
        Route("/ace/getstream", starter("http"), methods=["GET", "POST", "HEAD"]),
        Route("/ace/manifest.m3u8", starter("hls"), methods=["GET", "POST"]),
        Route("/hls/manifest.m3u8", starter("hls"), methods=["GET", "POST"]),
        Route("/ace/r/{infohash}/{key}", stream, methods=["GET", "HEAD"]),
        Route("/ace/m/{infohash}/{key}.m3u8", playlist, methods=["GET"]),
        Route("/ace/c/{infohash}/{key}/{name}", segment, methods=["GET"]),
        Route("/ace/h/{infohash}/{key}/{token}", relayed, methods=["GET"]),
        Route("/ace/stat/{infohash}/{key}", stat, methods=["GET"]),
        Route("/ace/cmd/{infohash}/{key}", command, methods=["GET"]),
        Route("/ace/event/{infohash}/{key}", event, methods=["GET"]),
    ]

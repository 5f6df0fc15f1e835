"""Serving torrent video remuxed: the HLS playlist and segments, and transcoded audio."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from tidecast.core.errors import NotFound
from tidecast.core.playback import PlaybackSession
from tidecast.core.remuxing import playlist_text
from tidecast.core.services import Services

_SEGMENT = re.compile(r"(\d{1,6})\.ts")
_CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}


async def serve_playlist(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    """The playlist once its first segment exists (or the remux ended)."""
    rendition = await services.remux.rendition(session)
    progress = await rendition.wait(1)
    base = str(request.base_url).rstrip("/")
    segment_url = f"{base}/ace/c/{session.infohash}/{session.key}/{{index}}.ts"
    return Response(
        playlist_text(progress, segment_url),
        media_type="application/vnd.apple.mpegurl",
        headers=_CORS,
    )


async def serve_segment(request: Request, session: PlaybackSession, services: Services) -> Response:
    match = _SEGMENT.fullmatch(request.path_params["name"])
    if match is None:
        raise NotFound("no such segment")
    index = int(match.group(1))
    rendition = await services.remux.rendition(session)
    progress = await rendition.wait(index + 1)
    if len(progress.segments) <= index:
        raise NotFound("no such segment")
    return FileResponse(rendition.remux.segment_path(index), media_type="video/mp2t", headers=_CORS)


async def serve_transcoded(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    """The file as MPEG-TS with its audio re-encoded (no ranges: it is made as it goes)."""
    headers = {"Access-Control-Allow-Origin": "*", "Accept-Ranges": "none"}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type="video/mp2t")
    return StreamingResponse(
        services.remux.transcoded(session), headers=headers, media_type="video/mp2t"
    )

"""Serving torrent video remuxed: HLS playlists and segments, and audio transcoded.

(Skeleton: being written.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tidecast.core.errors import NotSupported
from tidecast.core.playback import PlaybackSession
from tidecast.core.services import Services


async def serve_transcoded(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    raise NotSupported("transcoding is not available yet")


async def serve_playlist(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    raise NotSupported("HLS remux is not available yet")


async def serve_segment(request: Request, session: PlaybackSession, services: Services) -> Response:
    raise NotSupported("HLS remux is not available yet")

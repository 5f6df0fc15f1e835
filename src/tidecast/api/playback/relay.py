"""Serving relayed media: direct URLs (Range passed through) and HLS sources.

(Skeleton: being written.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tidecast.core.errors import NotSupported
from tidecast.core.playback import PlaybackSession
from tidecast.core.services import Services


async def serve_direct(request: Request, session: PlaybackSession, services: Services) -> Response:
    raise NotSupported("direct relay is not available yet")


async def serve_playlist(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    raise NotSupported("HLS relay is not available yet")


async def serve_resource(
    request: Request, session: PlaybackSession, services: Services
) -> Response:
    raise NotSupported("HLS relay is not available yet")

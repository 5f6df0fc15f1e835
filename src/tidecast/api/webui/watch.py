"""The watch page: paste anything playable, play it in the page's own video element.

A POST starts (or rejoins) a playback session through the core, as ``/ace/getstream``
does, then sends the browser to ``/webui/watch?session=<infohash>/<key>``, which plays
the session's playback URL and polls its stat URL. Each account is one viewer (``pid``),
so a second tab of the same account shares the first one's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.pages import see_other, status_of
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.content_refs import ContentRef, parse_reference
from tidecast.core.errors import InvalidInput, UnsupportedContent
from tidecast.core.playback import Options, PlaybackSession, Selector
from tidecast.core.services import Services
from tidecast.core.users import User

MAX_CONTENT = 8192


@dataclass(frozen=True, slots=True)
class SessionLinks:
    """A session's URLs as the page uses them (same-origin paths) and as players do."""

    playback_path: str
    stat_path: str
    command_path: str
    playback_url: str
    is_hls: bool


def selector_for(ref: ContentRef) -> Selector:
    if ref.kind == "content_id":
        return Selector(content_id=ref.value)
    if ref.kind == "infohash":
        return Selector(infohash=ref.value)
    if ref.kind == "magnet":
        return Selector(magnet=ref.value)
    if ref.kind == "hls":
        return Selector(manifest_url=ref.value)
    if ref.kind == "direct":
        return Selector(direct_url=ref.value)
    if ref.kind in ("transport_url", "url"):
        return Selector(url=ref.value)
    raise UnsupportedContent("this is a playlist: import it on the playlist page", field="content")


def links(request: Request, session: PlaybackSession) -> SessionLinks:
    prefix = f"{session.infohash}/{session.key}"
    is_hls = session.output == "hls" or session.kind == "hls"
    playback = f"/ace/m/{prefix}.m3u8" if is_hls else f"/ace/r/{prefix}"
    base = str(request.base_url).rstrip("/")
    return SessionLinks(
        playback_path=playback,
        stat_path=f"/ace/stat/{prefix}",
        command_path=f"/ace/cmd/{prefix}",
        playback_url=base + playback,
        is_hls=is_hls,
    )


def routes(ui: WebUI) -> list[BaseRoute]:
    page = WatchPage(ui)
    return [
        Route("/webui/watch", ui.signed_in(page.show), methods=["GET"]),
        Route("/webui/watch", ui.signed_in(page.start), methods=["POST"]),
    ]


class WatchPage:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services: Services = ui.services
        self._pages = ui.pages

    async def show(self, request: Request, visitor: Visitor, _user: User) -> Response:
        content = request.query_params.get("content", "")[:MAX_CONTENT]
        named = request.query_params.get("session", "")
        session_links: SessionLinks | None = None
        ended = False
        if named:
            infohash, _, key = named.partition("/")
            try:
                session_links = links(request, self._services.playback.session(infohash, key))
            except Exception:  # ended, expired or never was: the page says so
                ended = True
        return self._pages.render(
            request,
            visitor,
            "watch.html",
            content=content,
            errors={},
            links=session_links,
            ended=ended,
        )

    async def start(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = await self._ui.form(request, visitor)
        content = form.get("content", "").strip()
        try:
            if not content:
                raise InvalidInput("Paste a magnet, infohash, content id or URL.", field="content")
            if len(content) > MAX_CONTENT:
                raise InvalidInput("That is too long to be a content reference.", field="content")
            ref = parse_reference(content)
            caller = visitor.caller
            await self._services.entitlements.check_playback(None, caller)
            session = await self._services.playback.start_session(
                selector_for(ref),
                Options(pid=f"webui-{user.id}", file_index=ref.file_index),
                caller_is_local=caller.is_local,
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 500:
                raise
            return self._pages.render(
                request,
                visitor,
                "watch.html",
                status=status,
                content=content,
                errors={"content": str(exc)},
                links=None,
                ended=False,
            )
        query = urlencode({"session": f"{session.infohash}/{session.key}", "content": content})
        return see_other(f"/webui/watch?{query}")

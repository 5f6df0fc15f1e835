"""The watch page: paste anything playable, play it in the page's own video element.

A POST starts (or rejoins) a playback session through the core, as ``/ace/getstream``
does, then sends the browser to ``/webui/watch?session=<infohash>/<key>``, which plays
the session's playback URL and polls its stat URL. Each account is one viewer (``pid``),
so a second tab of the same account shares the first one's session; the page shows,
stops and opens in a player only that account's own sessions.

HLS sessions play natively where the browser can, else through hls.js, served from
``static/vendor/`` (``scripts/build-webui`` puts it there from npm; never a CDN).
Players on the host (``Open in mpv``) may be started only by a browser on the host
itself: a player window is not something a visitor on the network may open.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.pages import see_other, status_of
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.content_refs import ContentRef, parse_reference
from tidecast.core.errors import AccessDenied, InvalidInput, UnsupportedContent
from tidecast.core.playback import Options, PlaybackSession, Selector, SessionGone
from tidecast.core.services import Services
from tidecast.core.users import User

MAX_CONTENT = 8192
VENDOR = Path(__file__).parent / "static" / "vendor"
HLS_JS = VENDOR / "hls.light.min.js"
"""hls.js, for browsers without native HLS; absent until ``scripts/build-webui`` ran."""
HLS_WORKER = VENDOR / "hls.worker.js"
"""hls.js's transmuxer worker, loaded from this origin (the CSP allows no blob: worker)."""


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


def viewer_of(user: User) -> str:
    """The playback ``pid`` of an account's web UI sessions."""
    return f"webui-{user.id}"


def local_base(request: Request, port: int) -> str:
    """Where a player on this host reaches tidecast: the loopback socket the request came
    in on, else loopback on the configured port. Never the Host header: the caller chose it.
    """
    server = request.scope.get("server")
    if server is not None:
        host, bound = server
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and address.is_loopback:
            shown = host if address.version == 4 else f"[{host}]"
            return f"http://{shown}:{bound}"
    return f"http://127.0.0.1:{port}"


def routes(ui: WebUI) -> list[BaseRoute]:
    page = WatchPage(ui)
    return [
        Route("/webui/watch", ui.signed_in(page.show), methods=["GET"]),
        Route("/webui/watch", ui.signed_in(page.start), methods=["POST"]),
        Route("/webui/watch/stop", ui.signed_in(page.stop), methods=["POST"]),
        Route("/webui/watch/player", ui.signed_in(page.open_player), methods=["POST"]),
    ]


class WatchPage:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services: Services = ui.services
        self._pages = ui.pages

    def _own(self, named: str, user: User) -> PlaybackSession:
        """The live session ``<infohash>/<key>`` names, if it is this account's;
        SessionGone otherwise (another account's session is not told apart from none)."""
        infohash, _, key = named.partition("/")
        session = self._services.playback.session(infohash, key)
        if session.pid != viewer_of(user):
            raise SessionGone()
        return session

    def _render(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        *,
        content: str,
        named: str,
        status: int = 200,
        errors: dict[str, str] | None = None,
        stopped: bool = False,
        opened: str = "",
    ) -> Response:
        session_links: SessionLinks | None = None
        ended = False
        if named:
            try:
                session_links = links(request, self._own(named, user))
            except SessionGone:  # stopped, expired, never was, or not this account's
                ended = True
        # Listing the host's players tells what is installed there: local callers only.
        local = visitor.caller.is_local
        return self._pages.render(
            request,
            visitor,
            "watch.html",
            status=status,
            content=content,
            errors=errors or {},
            links=session_links,
            session=named,
            ended=ended,
            players=self._services.players.available() if local else [],
            hls_js=f"/webui/static/vendor/{HLS_JS.name}" if HLS_JS.is_file() else "",
            hls_worker=f"/webui/static/vendor/{HLS_WORKER.name}",
            stopped=stopped,
            opened=opened,
        )

    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        query = request.query_params
        opened = ""
        if visitor.caller.is_local and query.get("opened"):
            names = {player.id: player.name for player in self._services.players.available()}
            opened = names.get(query["opened"], "")
        return self._render(
            request,
            visitor,
            user,
            content=query.get("content", "")[:MAX_CONTENT],
            named=query.get("session", ""),
            stopped=query.get("stopped") == "1",
            opened=opened,
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
                Options(pid=viewer_of(user), file_index=ref.file_index),
                caller_is_local=caller.is_local,
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 500:
                raise
            return self._render(
                request,
                visitor,
                user,
                content=content,
                named="",
                status=status,
                errors={"content": str(exc)},
            )
        return see_other(_watch_url(f"{session.infohash}/{session.key}", content))

    async def stop(self, request: Request, visitor: Visitor, user: User) -> Response:
        """Stop this account's session named in the form; one already gone is no error."""
        form = await self._ui.form(request, visitor)
        named = form.get("session", "")
        try:
            session = self._own(named, user)
        except SessionGone:
            pass
        else:
            await self._services.playback.stop_session(session)
        return see_other(_watch_url(named, form.get("content", ""), stopped="1"))

    async def open_player(self, request: Request, visitor: Visitor, user: User) -> Response:
        """Start a player on the host on this account's session (local callers only)."""
        form = await self._ui.form(request, visitor)
        if not visitor.caller.is_local:
            raise AccessDenied(
                "players start on the tidecast host: only a browser on that host may open one"
            )
        named, content = form.get("session", ""), form.get("content", "")
        try:
            session = self._own(named, user)
            path = links(request, session).playback_path
            port = self._services.settings.port
            player = await self._services.players.open(
                form.get("player_id", ""), local_base(request, port) + path
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 500:
                raise
            return self._render(
                request,
                visitor,
                user,
                content=content,
                named=named,
                status=status,
                errors={"player": str(exc)},
            )
        return see_other(_watch_url(named, content, opened=player.id))


def _watch_url(named: str, content: str, **extra: str) -> str:
    return "/webui/watch?" + urlencode(
        {"session": named, "content": content[:MAX_CONTENT], **extra}
    )

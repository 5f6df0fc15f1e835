"""What every web UI page shares: the services, sessions, renderer and the guards that
decide who may see a page.

Each area of the web UI (sign-in, watch, playlist, account, admin) is a module with a
``routes(ui: WebUI)`` function; the guards here wrap its handlers, so refusals render as
pages in one way everywhere and every POST's CSRF token is checked before a handler
changes anything (``ui.form``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tidecast.api.webui.forms import read_form
from tidecast.api.webui.pages import HEADERS, Pages, see_other, status_of
from tidecast.api.webui.sessions import CSRF_FIELD, Visitor, WebSessions
from tidecast.core.errors import AccessDenied, AuthenticationRequired, NotFound
from tidecast.core.integers import INT_MAX
from tidecast.core.services import Services
from tidecast.core.users import Role, User

Handler = Callable[[Request], Awaitable[Response]]
VisitorPage = Callable[[Request, Visitor], Awaitable[Response]]
UserPage = Callable[[Request, Visitor, User], Awaitable[Response]]

log = logging.getLogger(__name__)


class WebUI:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.sessions = WebSessions(services)
        self.pages = Pages(self.sessions)

    async def form(self, request: Request, visitor: Visitor) -> dict[str, str]:
        """The POSTed fields, once the visitor's CSRF token among them checks out."""
        fields = await read_form(request)
        self.sessions.check_csrf(visitor, fields.get(CSRF_FIELD))
        return fields

    def page(self, handler: VisitorPage) -> Handler:
        """A page anyone the access switches let in may see. Refusals render as pages with
        the error's status; anything unexpected is logged and renders as a 500 page that
        says nothing of its cause. An id in the path (``{name:int}``) past what any row can
        have is not found, before the handler runs."""

        async def endpoint(request: Request) -> Response:
            try:
                visitor = await self.sessions.visitor(request)
            except AccessDenied as exc:
                return PlainTextResponse(str(exc), status_code=403, headers=HEADERS)
            try:
                _check_ids(request)
                return await handler(request, visitor)
            except Exception as exc:
                if status_of(exc) == 500:
                    log.error("web UI page failed: %s", request.url.path, exc_info=exc)
                return self.pages.refused(request, visitor, exc)

        return endpoint

    async def missing(self, request: Request, visitor: Visitor) -> Response:
        """Any other path under /webui/: a page saying so, in the web UI's own look."""
        raise NotFound("there is no such page")

    def signed_in(self, handler: UserPage) -> Handler:
        """A page for an account: signed-out browsers are sent to sign in first."""

        async def with_user(request: Request, visitor: Visitor) -> Response:
            if visitor.user is None:
                if request.method != "GET":
                    raise AuthenticationRequired("sign in first")
                query = f"?{request.url.query}" if request.url.query else ""
                target = urlencode({"next": request.url.path + query})
                return see_other(f"/webui/login?{target}")
            return await handler(request, visitor, visitor.user)

        return self.page(with_user)

    def operator(self, handler: UserPage) -> Handler:
        """A page for operators only: anyone else signed in is refused (403)."""

        async def checked(request: Request, visitor: Visitor, user: User) -> Response:
            if user.type != Role.OPERATOR:
                raise AccessDenied("only operators may use this page")
            return await handler(request, visitor, user)

        return self.signed_in(checked)


def _check_ids(request: Request) -> None:
    # The database would fail on such an id (SQLite past 2**63, PostgreSQL past INT_MAX).
    for value in request.path_params.values():
        if isinstance(value, int) and value > INT_MAX:
            raise NotFound("there is no such page")

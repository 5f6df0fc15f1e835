"""The web UI's route table: pages under ``/webui/``, its static files, sign-in and out.

``/webui/api/service`` is the engine API's exact path and is answered before this router
is reached. Pages that need an account send a signed-out browser to the sign-in page;
every POST checks the visitor's CSRF token before it changes anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tidecast.api.webui.forms import read_form
from tidecast.api.webui.pages import HEADERS, Pages, see_other, status_of
from tidecast.api.webui.sessions import CSRF_FIELD, Visitor, WebSessions
from tidecast.api.webui.watch import WatchPage
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import AccessDenied, AuthenticationRequired, TooManyAttempts
from tidecast.core.services import Services
from tidecast.core.users import User

STATIC = Path(__file__).parent / "static"
HOME = "/webui/watch"

Handler = Callable[[Request], Awaitable[Response]]
SignedIn = Callable[[Request, Visitor, User], Awaitable[Response]]


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a web UI path only, never another site."""
    if target and target.startswith("/webui/") and not target.startswith("/webui//"):
        return target
    return HOME


def routes(services: Services) -> list[BaseRoute]:
    sessions = WebSessions(services)
    pages = Pages(sessions)
    watch = WatchPage(services, pages)

    async def visitor_or_refusal(request: Request) -> Visitor | Response:
        try:
            return await sessions.visitor(request)
        except AccessDenied as exc:
            return PlainTextResponse(str(exc), status_code=403, headers=HEADERS)

    def page(handler: Callable[[Request, Visitor], Awaitable[Response]]) -> Handler:
        """A page anyone the access switches let in may see; refusals render as pages."""

        async def endpoint(request: Request) -> Response:
            visitor = await visitor_or_refusal(request)
            if isinstance(visitor, Response):
                return visitor
            try:
                return await handler(request, visitor)
            except Exception as exc:
                if status_of(exc) == 500:
                    raise
                return pages.refused(request, visitor, exc)

        return endpoint

    def signed_in(handler: SignedIn) -> Handler:
        """A page for an account: signed-out browsers are sent to sign in first."""

        async def with_user(request: Request, visitor: Visitor) -> Response:
            if visitor.user is None:
                if request.method != "GET":
                    raise AuthenticationRequired("sign in first")
                target = urlencode({"next": request.url.path + _query(request)})
                return see_other(f"/webui/login?{target}")
            return await handler(request, visitor, visitor.user)

        return page(with_user)

    async def index(request: Request, visitor: Visitor) -> Response:
        return see_other(HOME if visitor.user else "/webui/login")

    async def login_form(request: Request, visitor: Visitor) -> Response:
        target = safe_next(request.query_params.get("next"))
        if visitor.user is not None:
            return see_other(target)
        return pages.render(
            request, visitor, "login.html", login="", errors={}, form_error=None, next=target
        )

    async def login(request: Request, visitor: Visitor) -> Response:
        form = await read_form(request)
        sessions.check_csrf(visitor, form.get(CSRF_FIELD))
        identifier = form.get("login", "").strip()
        password = form.get("password", "")
        target = safe_next(form.get("next"))
        errors: dict[str, str] = {}
        form_error = None
        status = 400
        if not identifier:
            errors["login"] = "Enter your login or email."
        if not password:
            errors["password"] = "Enter your password."  # noqa: S105 - a message
        if not errors:
            address = str(visitor.caller.address) if visitor.caller.address else None
            try:
                session = await services.accounts.login(
                    identifier, password, address=address, kind=WEB_KIND
                )
            except TooManyAttempts as exc:
                form_error, status = str(exc), 429
            except AuthenticationRequired:
                status = 401
                errors["password"] = "Wrong login or password."  # noqa: S105 - a message
            else:
                response = see_other(target)
                sessions.sign_in(request, response, session.token)
                return response
        return pages.render(
            request,
            visitor,
            "login.html",
            status=status,
            login=identifier,
            errors=errors,
            form_error=form_error,
            next=target,
        )

    async def logout(request: Request, visitor: Visitor) -> Response:
        form = await read_form(request)
        sessions.check_csrf(visitor, form.get(CSRF_FIELD))
        if visitor.session_token is not None:
            await services.accounts.logout(visitor.session_token)
        response = see_other("/webui/login")
        sessions.sign_out(request, response)
        return response

    return [
        Route("/webui", page(index), methods=["GET"]),
        Route("/webui/", page(index), methods=["GET"]),
        Route("/webui/login", page(login_form), methods=["GET"]),
        Route("/webui/login", page(login), methods=["POST"]),
        Route("/webui/logout", page(logout), methods=["POST"]),
        Route("/webui/watch", signed_in(watch.show), methods=["GET"]),
        Route("/webui/watch", signed_in(watch.start), methods=["POST"]),
        Mount("/webui/static", StaticFiles(directory=STATIC), name="webui-static"),
    ]


def _query(request: Request) -> str:
    query = request.url.query
    return f"?{query}" if query else ""

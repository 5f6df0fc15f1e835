"""Signing in and out of the web UI with an account of the account store."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import AuthenticationRequired, TooManyAttempts

HOME = "/webui/watch"


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a web UI path only, never another site."""
    if target and target.startswith("/webui/") and not target.startswith("/webui//"):
        return target
    return HOME


def routes(ui: WebUI) -> list[BaseRoute]:
    accounts = ui.services.accounts

    async def index(request: Request, visitor: Visitor) -> Response:
        return see_other(HOME if visitor.user else "/webui/login")

    async def login_form(request: Request, visitor: Visitor) -> Response:
        target = safe_next(request.query_params.get("next"))
        if visitor.user is not None:
            return see_other(target)
        return ui.pages.render(
            request, visitor, "login.html", login="", errors={}, form_error=None, next=target
        )

    async def login(request: Request, visitor: Visitor) -> Response:
        form = await ui.form(request, visitor)
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
                session = await accounts.login(identifier, password, address=address, kind=WEB_KIND)
            except TooManyAttempts as exc:
                form_error, status = str(exc), 429
            except AuthenticationRequired:
                status = 401
                errors["password"] = "Wrong login or password."  # noqa: S105 - a message
            else:
                response = see_other(target)
                ui.sessions.sign_in(request, response, session.token)
                return response
        return ui.pages.render(
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
        await ui.form(request, visitor)
        if visitor.session_token is not None:
            await accounts.logout(visitor.session_token)
        response = see_other("/webui/login")
        ui.sessions.sign_out(request, response)
        return response

    return [
        Route("/webui", ui.page(index), methods=["GET"]),
        Route("/webui/", ui.page(index), methods=["GET"]),
        Route("/webui/login", ui.page(login_form), methods=["GET"]),
        Route("/webui/login", ui.page(login), methods=["POST"]),
        Route("/webui/logout", ui.page(logout), methods=["POST"]),
    ]

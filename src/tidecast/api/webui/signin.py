"""Signing in and out of the web UI with an account of the account store, or as a guest.

A password sign-in goes through :meth:`AccountService.authenticate` (throttled). An
account with two-factor on then gets no session yet: the browser holds a short-lived
pending cookie (see ``sessions``) and is sent to the code form, and only a code (or a
recovery code) that :meth:`TwoFactor.check_login` accepts opens the session. Guests
sign in with one button where the instance allows guests (``allow_guest_login``); the
account store refuses them otherwise, whatever the page showed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.callers import address_of
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    NotFound,
    TooManyAttempts,
)
from tidecast.core.users import User

HOME = "/webui/watch"
CODE_PAGE = "/webui/login/code"
RECOVERED = "/webui/account/two-factor?done=recovered"
"""Where a recovery-code sign-in lands: that code turned two-factor off."""
EXPIRED = "The sign-in took too long; enter your password again."


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a web UI path only, never another site."""
    if target and target.startswith("/webui/") and not target.startswith("/webui//"):
        return target
    return HOME


def routes(ui: WebUI) -> list[BaseRoute]:
    signin = SignIn(ui)
    return [
        Route("/webui", ui.page(signin.index), methods=["GET"]),
        Route("/webui/", ui.page(signin.index), methods=["GET"]),
        Route("/webui/login", ui.page(signin.login_form), methods=["GET"]),
        Route("/webui/login", ui.page(signin.login), methods=["POST"]),
        Route("/webui/login/guest", ui.page(signin.guest), methods=["POST"]),
        Route(CODE_PAGE, ui.page(signin.code_form), methods=["GET"]),
        Route(CODE_PAGE, ui.page(signin.code), methods=["POST"]),
        Route("/webui/logout", ui.page(signin.logout), methods=["POST"]),
    ]


class SignIn:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._accounts = ui.services.accounts
        self._two_factor = ui.services.two_factor
        self._guests = ui.services.settings.allow_guest_login

    async def index(self, request: Request, visitor: Visitor) -> Response:
        return see_other(HOME if visitor.user else "/webui/login")

    async def login_form(self, request: Request, visitor: Visitor) -> Response:
        target = safe_next(request.query_params.get("next"))
        if visitor.user is not None:
            return see_other(target)
        return self._login_page(request, visitor, target)

    async def login(self, request: Request, visitor: Visitor) -> Response:
        form = await self._ui.form(request, visitor)
        identifier = form.get("login", "").strip()
        password = form.get("password", "")
        target = safe_next(form.get("next"))
        errors: dict[str, str] = {}
        if not identifier:
            errors["login"] = "Enter your login or email."
        if not password:
            errors["password"] = "Enter your password."  # noqa: S105 - a message
        if errors:
            return self._login_page(request, visitor, target, 400, login=identifier, errors=errors)
        address = address_of(request, self._ui.services)
        try:
            user = await self._accounts.authenticate(identifier, password, address=address)
        except TooManyAttempts as exc:
            return self._login_page(
                request, visitor, target, 429, login=identifier, form_error=str(exc)
            )
        except AuthenticationRequired:
            wrong = {"password": "Wrong login or password."}
            return self._login_page(request, visitor, target, 401, login=identifier, errors=wrong)
        assert user.id is not None
        if await self._two_factor.is_enabled(user.id):
            response = see_other(f"{CODE_PAGE}?{urlencode({'next': target})}")
            self._ui.sessions.hold_pending(request, response, visitor, user.id)
            return response
        session = await self._accounts.open_session(user, kind=WEB_KIND)
        response = see_other(target)
        self._ui.sessions.sign_in(request, response, session.token)
        return response

    async def guest(self, request: Request, visitor: Visitor) -> Response:
        form = await self._ui.form(request, visitor)
        target = safe_next(form.get("next"))
        try:
            session = await self._accounts.login_guest(
                None, kind=WEB_KIND, address=address_of(request, self._ui.services)
            )
        except TooManyAttempts as exc:
            return self._login_page(request, visitor, target, 429, form_error=str(exc))
        except (AccessDenied, Conflict) as exc:
            # Guests turned off (FeatureClosed) or none free: said on the sign-in page.
            status = 409 if isinstance(exc, Conflict) else 403
            message = (
                "Guest sign-in is not allowed on this instance."
                if isinstance(exc, AccessDenied)
                else "No guest account is free right now; try again later."
            )
            return self._login_page(request, visitor, target, status, form_error=message)
        response = see_other(target)
        self._ui.sessions.sign_in(request, response, session.token)
        return response

    async def code_form(self, request: Request, visitor: Visitor) -> Response:
        target = safe_next(request.query_params.get("next"))
        if visitor.user is not None:
            return see_other(target)
        if await self._pending_user(request, visitor) is None:
            return see_other(f"/webui/login?{urlencode({'next': target})}")
        return self._code_page(request, visitor, target)

    async def code(self, request: Request, visitor: Visitor) -> Response:
        form = await self._ui.form(request, visitor)
        target = safe_next(form.get("next"))
        user = await self._pending_user(request, visitor)
        if user is None:
            response = self._login_page(request, visitor, target, 401, form_error=EXPIRED)
            self._ui.sessions.drop_pending(request, response)
            return response
        code = form.get("code", "").strip()
        recovery = form.get("recovery_code", "").strip()
        field = "recovery_code" if recovery and not code else "code"
        if not code and not recovery:
            missing = {"code": "Enter the code your authenticator app shows."}
            return self._code_page(request, visitor, target, 400, errors=missing)
        address = address_of(request, self._ui.services)
        try:
            used = await self._two_factor.check_login(
                user, code or None, recovery if not code else None, address=address
            )
        except TooManyAttempts as exc:
            return self._code_page(request, visitor, target, 429, form_error=str(exc))
        except InvalidInput:
            wrong = {field: "That code is not right (or was used already); try the next one."}
            return self._code_page(request, visitor, target, 401, errors=wrong)
        session = await self._accounts.open_session(user, kind=WEB_KIND)
        response = see_other(RECOVERED if used == "recovery" else target)
        self._ui.sessions.sign_in(request, response, session.token)
        return response

    async def logout(self, request: Request, visitor: Visitor) -> Response:
        await self._ui.form(request, visitor)
        if visitor.session_token is not None:
            await self._accounts.logout(visitor.session_token)
        response = see_other("/webui/login")
        self._ui.sessions.sign_out(request, response)
        return response

    async def _pending_user(self, request: Request, visitor: Visitor) -> User | None:
        user_id = self._ui.sessions.pending_user_id(request, visitor)
        if user_id is None:
            return None
        try:
            return await self._accounts.get_by_id(user_id)
        except NotFound:
            return None

    def _login_page(
        self,
        request: Request,
        visitor: Visitor,
        target: str,
        status: int = 200,
        *,
        login: str = "",
        errors: dict[str, str] | None = None,
        form_error: str | None = None,
    ) -> Response:
        return self._ui.pages.render(
            request,
            visitor,
            "login.html",
            status=status,
            login=login,
            errors=errors or {},
            form_error=form_error,
            next=target,
            guests=self._guests,
        )

    def _code_page(
        self,
        request: Request,
        visitor: Visitor,
        target: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        context.setdefault("errors", {})
        context.setdefault("form_error", None)
        return self._ui.pages.render(
            request, visitor, "two_factor_signin.html", status=status, next=target, **context
        )

"""Two-factor authentication of one's own account, through the core's :class:`TwoFactor`
(as the admin API's ``Admin.2FA.*`` commands use it).

Enrolment: *Set up* stores a new secret that is not in force yet; the page then shows it
as a QR code of its ``otpauth://`` URI (a PNG drawn here with segno, inlined as a data:
URL the CSP allows) and as text, until a code from it confirms it. The recovery codes
exist only in the answer to that confirmation: they are rendered once, in that response
(no-store), never stored where a later page could show them. Turning it off takes a
current code, a recovery code, or the account's password.
"""

from __future__ import annotations

import segno
from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.callers import address_of
from tidecast.api.webui.account_page import ACCOUNT, AccountView, check_editable, done, editable
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.errors import AuthenticationRequired, Conflict, InvalidInput, TooManyAttempts
from tidecast.core.users import User

PAGE = f"{ACCOUNT}/two-factor"


def qr_data_uri(uri: str) -> str:
    """``uri`` as a QR code: a PNG data: URL, black on white whatever the page's theme
    (scanners want dark modules on a light ground, and a quiet zone around them)."""
    return str(segno.make(uri, error="m").png_data_uri(scale=5, border=4))


class TwoFactorPage(AccountView):
    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        return await self._page(request, visitor, user)

    async def begin(self, request: Request, visitor: Visitor, user: User) -> Response:
        await self.ui.form(request, visitor)
        check_editable(user)
        await self.services.two_factor.begin(user)
        return see_other(PAGE)

    async def confirm(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = await self.ui.form(request, visitor)
        check_editable(user)
        code = form.get("code", "").strip()
        if not code:
            missing = {"code": "Enter the code your app shows."}
            return await self._page(request, visitor, user, 400, errors=missing)
        address = address_of(request, self.services)
        try:
            codes = await self.services.two_factor.confirm(user, code, address=address)
        except TooManyAttempts as exc:
            return await self._page(request, visitor, user, 429, form_error=str(exc))
        except InvalidInput:
            wrong = {"code": "That code is not right; check your phone's clock, then try the next."}
            return await self._page(request, visitor, user, 400, errors=wrong)
        except Conflict:
            again = "Two-factor setup was not started (or is already done); start again."
            return await self._page(request, visitor, user, 409, form_error=again)
        return self.render(request, visitor, "account_two_factor_codes.html", codes=codes)

    async def disable(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = await self.ui.form(request, visitor)
        check_editable(user)
        code = form.get("code", "").strip()
        password = form.get("password", "")
        address = address_of(request, self.services)
        two_factor = self.services.two_factor
        try:
            if code:
                # A six-digit code or a recovery code: the core tries both.
                await two_factor.disable(user, code, code, address=address)
            elif password:
                await self.services.accounts.authenticate(user.login, password, address=address)
                assert user.id is not None
                await two_factor.reset(user.id)
            else:
                missing = {"code": "Enter a code from your app, or your password below."}
                return await self._page(request, visitor, user, 400, off_errors=missing)
        except TooManyAttempts as exc:
            return await self._page(request, visitor, user, 429, form_error=str(exc))
        except InvalidInput:
            wrong = {"code": "That code is not right."}
            return await self._page(request, visitor, user, 400, off_errors=wrong)
        except AuthenticationRequired:
            wrong = {"password": "That is not your password."}
            return await self._page(request, visitor, user, 401, off_errors=wrong)
        except Conflict:
            return see_other(PAGE)  # already off: what was asked for is done
        return done(PAGE, "two-factor-off")

    async def _page(
        self, request: Request, visitor: Visitor, user: User, status: int = 200, **context: object
    ) -> Response:
        assert user.id is not None
        two_factor = self.services.two_factor
        enabled = await two_factor.is_enabled(user.id)
        enrolment = None if enabled else await two_factor.enrolment(user)
        context.setdefault("off_errors", {})
        return self.render(
            request,
            visitor,
            "account_two_factor.html",
            status,
            enabled=enabled,
            enrolment=enrolment,
            qr=qr_data_uri(enrolment.uri) if enrolment else None,
            editable=editable(user),
            **context,
        )

"""Changing one's password: the current one is checked first (throttled as a login).

The account store revokes every token of the account when its password changes (web
sessions, user-command and engine tokens, device tokens), so this browser is handed a
new web session at once and stays signed in; the page says what happens to the rest.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.callers import address_of
from tidecast.api.webui.account_page import ACCOUNT, AccountView, check_editable, done, editable
from tidecast.api.webui.sessions import Visitor
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import AuthenticationRequired, InvalidInput, TooManyAttempts
from tidecast.core.passwords import check_strength
from tidecast.core.users import User

PAGE = f"{ACCOUNT}/password"


class PasswordPage(AccountView):
    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        return self._page(request, visitor, user)

    async def change(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = await self.ui.form(request, visitor)
        check_editable(user)
        current = form.get("current_password", "")
        new = form.get("new_password", "")
        errors: dict[str, str] = {}
        if not current:
            errors["current_password"] = "Enter your current password."  # noqa: S105
        try:
            check_strength(new)
        except InvalidInput as exc:
            errors["new_password"] = f"The new {exc}."
        if new != form.get("confirm_password", ""):
            errors["confirm_password"] = "This does not match the new password."  # noqa: S105
        if errors:
            return self._page(request, visitor, user, 400, errors=errors)
        accounts = self.services.accounts
        try:
            await accounts.authenticate(
                user.login, current, address=address_of(request, self.services)
            )
        except TooManyAttempts as exc:
            return self._page(request, visitor, user, 429, form_error=str(exc))
        except AuthenticationRequired:
            wrong = {"current_password": "That is not your current password."}
            return self._page(request, visitor, user, 401, errors=wrong)
        updated = await accounts.edit_self(user, {"password": new})
        # The change ended every session of the account, this one too: open a new one.
        session = await accounts.new_session(updated, kind=WEB_KIND)
        response = done(PAGE, "password")
        self.ui.sessions.sign_in(request, response, session.token)
        return response

    def _page(
        self, request: Request, visitor: Visitor, user: User, status: int = 200, **context: object
    ) -> Response:
        return self.render(
            request, visitor, "account_password.html", status, editable=editable(user), **context
        )

"""What the account pages share: their sub-navigation, notices after a change, how a core
error lands next to its field, and dates as the pages show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import AccessDenied, TidecastError
from tidecast.core.users import Role, User, is_online

ACCOUNT = "/webui/account"
SECTIONS = (
    (ACCOUNT, "Profile"),
    (f"{ACCOUNT}/password", "Password"),
    (f"{ACCOUNT}/two-factor", "Two-factor"),
    (f"{ACCOUNT}/devices", "Devices"),
    (f"{ACCOUNT}/subscription", "Subscription"),
)
NOTICES = {
    "profile": "Your profile is saved.",
    "avatar": "Your new avatar is saved.",
    "password": "Your password is changed. Your other browsers, apps and devices were "
    "signed out; this browser stays signed in.",
    "two-factor-off": "Two-factor authentication is off.",
    "recovered": "You signed in with a recovery code, so two-factor authentication is now "
    "off. Set it up again below.",
    "device": "The device is signed out.",
}
"""``?done=<key>`` after a change (303) shows one of these; nothing from the URL is echoed."""


class AccountView:
    """Renders an account page with the sub-navigation and the notice of ``?done=``."""

    def __init__(self, ui: WebUI) -> None:
        self.ui = ui
        self.services = ui.services

    def render(
        self,
        request: Request,
        visitor: Visitor,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        context.setdefault("errors", {})
        context.setdefault("form_error", None)
        notice = NOTICES.get(request.query_params.get("done", "")) if status == 200 else None
        return self.ui.pages.render(
            request,
            visitor,
            template,
            status=status,
            sections=SECTIONS,
            notice=notice,
            **context,
        )


def done(path: str, what: str) -> Response:
    """The 303 after a change, to ``path`` with the notice ``what`` (a key of NOTICES)."""
    return see_other(f"{path}?done={what}")


def check_editable(user: User) -> None:
    """AccessDenied for accounts this instance must not change from the web UI: guests
    (the account store refuses them too) and online accounts, whose profile and password
    live at their home instance (the user commands push changes there; this page cannot)."""
    if user.type == Role.GUEST:
        raise AccessDenied("guest accounts cannot be changed", reason="guests_cannot_edit")
    if is_online(user.login):
        raise AccessDenied("an online account is changed at its home instance")


def editable(user: User) -> bool:
    try:
        check_editable(user)
    except AccessDenied:
        return False
    return True


def place_error(
    exc: TidecastError, fields: dict[str, str], labels: dict[str, str] | None = None
) -> tuple[dict[str, str], str | None]:
    """A core error as ``(errors by form field, form-wide error)``: ``fields`` maps the
    core's field names to the form's; an error naming no such field is form-wide. A core
    message that starts with its field's name (``main_series_lang must be…``) starts
    with the field's label from ``labels`` instead, as the person reads it on the form."""
    message = str(exc).strip()
    core_field = exc.field or ""
    label = (labels or {}).get(core_field)
    if label and core_field and message.lower().startswith(core_field.lower()):
        message = label + message[len(core_field) :]
    message = _sentence(message)
    field = fields.get(core_field)
    if field is None:
        return {}, message
    return {field: message}, None


def when(timestamp: int | None) -> str:
    """A Unix time as the pages show it (UTC, to the minute); "never" for None."""
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _sentence(text: str) -> str:
    text = text.strip() or "That did not work."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else f"{text}."

"""Rendering web UI pages: the Jinja2 environment, security headers, error statuses.

Core errors become HTTP statuses here, in one place, by walking the error's class
hierarchy (the most specific class listed wins).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tidecast.api.webui.sessions import CSRF_FIELD, Visitor, WebSessions
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    ContentUnavailable,
    InvalidInput,
    NotFound,
    NotSupported,
    PayloadTooLarge,
    TooManyAttempts,
    UnknownCommand,
    UnsupportedContent,
)

TEMPLATES = Path(__file__).parent / "templates"

# Pages load only their own scripts, styles and media; no page may be framed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

STATUSES: dict[type[Exception], int] = {
    PayloadTooLarge: 413,
    InvalidInput: 400,
    UnsupportedContent: 400,
    UnknownCommand: 404,
    NotSupported: 400,
    Conflict: 409,
    AuthenticationRequired: 401,
    TooManyAttempts: 429,
    AccessDenied: 403,
    NotFound: 404,
    ContentUnavailable: 502,
}


def status_of(exc: Exception) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 500


class Pages:
    """Renders templates with the visitor and CSRF token every page needs."""

    def __init__(self, sessions: WebSessions) -> None:
        self.sessions = sessions
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def render(
        self,
        request: Request,
        visitor: Visitor,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        html = self._env.get_template(template).render(
            user=visitor.user,
            csrf_field=CSRF_FIELD,
            csrf_token=visitor.csrf_token,
            path=request.url.path,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        self.sessions.remember(request, response, visitor)
        return response

    def refused(self, request: Request, visitor: Visitor, exc: Exception) -> Response:
        """The error page: the core error's own message, never an internal one's."""
        status = status_of(exc)
        message = "Something went wrong on the server." if status == 500 else str(exc)
        return self.render(
            request, visitor, "error.html", status=status, message=message or "refused"
        )


def see_other(location: str) -> Response:
    """Where a form's POST sends the browser next (303, so a reload does not resubmit)."""
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})

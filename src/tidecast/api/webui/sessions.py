"""Web UI sessions: the session cookie, the pre-session cookie and CSRF tokens.

A signed-in browser holds a token of kind ``WEB_KIND`` in the session cookie (HttpOnly,
SameSite=Lax, Secure when the browser reached the instance over https, directly or
through a trusted proxy, or the instance's public URL is https). Every state-changing form
carries a CSRF token derived from the cookie it rides with (an HMAC under a key derived
from the instance secret), so the token is per session, needs no storage and is checked
in constant time. Before sign-in a random pre-session cookie plays the session's part,
so the sign-in form is protected too.

An account with two-factor on signs in in two steps. Between them the browser holds a
pending cookie: the account's id and an expiry, signed (HMAC) together with the
pre-session it was issued to, so it proves "this browser gave this account's password
a moment ago" and nothing more. It is no session: no page but the code form accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.callers import caller_of, reached_over_https
from tidecast.core.access import Caller, check_access
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import AccessDenied, AuthenticationRequired
from tidecast.core.services import Services
from tidecast.core.users import User

SESSION_COOKIE = "tidecast_session"
PRESESSION_COOKIE = "tidecast_presession"
PENDING_COOKIE = "tidecast_pending"
PENDING_SECONDS = 300
"""How long the two-factor step may wait for its code after the password checked out."""
CSRF_FIELD = "csrf_token"
_MAX_COOKIE = 256
"""A longer cookie is no token of ours; it is ignored unread."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is looking at a page: where from, their account (None before sign-in) and the
    CSRF token their forms must carry. ``new_presession`` is a pre-session cookie to set now."""

    caller: Caller
    user: User | None
    session_token: str | None
    csrf_token: str
    new_presession: str | None = None


class WebSessions:
    """Resolves cookies to visitors, and writes and clears the session cookie."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._accounts = services.accounts
        self._key = services.secret.derive("webui-csrf")
        self._pending_key = services.secret.derive("webui-pending")
        lifetime = services.settings.token_lifetime_seconds
        self._max_age = lifetime if lifetime > 0 else None

    async def visitor(self, request: Request) -> Visitor:
        """Who is asking; AccessDenied when the instance's access switches refuse them."""
        caller = caller_of(request, self._services)
        switches = self._services.switches
        check_access(
            caller,
            remote_allowed_for_method=True,
            allow_intranet=switches.allow_intranet,
            allow_remote=switches.allow_remote,
        )
        token = _cookie(request, SESSION_COOKIE)
        if token is not None:
            try:
                user = await self._accounts.user_for_token(token, {WEB_KIND})
            except AuthenticationRequired:
                pass
            else:
                return Visitor(caller, user, token, self._csrf_for("session", token))
        presession = _cookie(request, PRESESSION_COOKIE)
        fresh = None
        if presession is None:
            presession = fresh = secrets.token_urlsafe(32)
        return Visitor(caller, None, None, self._csrf_for("presession", presession), fresh)

    def check_csrf(self, visitor: Visitor, presented: object) -> None:
        """AccessDenied unless ``presented`` is this visitor's CSRF token."""
        if visitor.new_presession is not None or not isinstance(presented, str):
            raise AccessDenied("the form expired; reload the page and try again", reason="csrf")
        if not hmac.compare_digest(presented.encode(), visitor.csrf_token.encode()):
            raise AccessDenied("the form expired; reload the page and try again", reason="csrf")

    def remember(self, request: Request, response: Response, visitor: Visitor) -> None:
        """Set the pre-session cookie a page's forms were signed for, if it is new."""
        if visitor.new_presession is not None:
            self._set(request, response, PRESESSION_COOKIE, visitor.new_presession, None)

    def sign_in(self, request: Request, response: Response, token: str) -> None:
        """Set the session cookie (and end any pending two-factor step)."""
        self._set(request, response, SESSION_COOKIE, token, self._max_age)
        if PENDING_COOKIE in request.cookies:
            self._delete(request, response, PENDING_COOKIE)

    def sign_out(self, request: Request, response: Response) -> None:
        self._delete(request, response, SESSION_COOKIE)

    def hold_pending(
        self, request: Request, response: Response, visitor: Visitor, user_id: int
    ) -> None:
        """Remember, for :data:`PENDING_SECONDS`, that this browser (its pre-session) gave
        the password of account ``user_id``; the second step reads it with
        :meth:`pending_user_id`."""
        expires = int(time.time()) + PENDING_SECONDS
        value = f"{user_id}.{expires}.{self._pending_mac(visitor, user_id, expires)}"
        self._set(request, response, PENDING_COOKIE, value, PENDING_SECONDS)

    def pending_user_id(self, request: Request, visitor: Visitor) -> int | None:
        """The account whose password this browser gave, if that was within
        :data:`PENDING_SECONDS` and under its current pre-session; None otherwise (also
        once signed in: a pending cookie is never a second way into a session)."""
        value = _cookie(request, PENDING_COOKIE)
        if value is None or visitor.user is not None or visitor.new_presession is not None:
            return None
        user_id, _, rest = value.partition(".")
        expires, _, mac = rest.partition(".")
        if not (user_id.isdecimal() and expires.isdecimal()) or len(user_id) > 18:
            return None
        wanted = self._pending_mac(visitor, int(user_id), int(expires))
        if not hmac.compare_digest(mac.encode(), wanted.encode()):
            return None
        if int(expires) < time.time():
            return None
        return int(user_id)

    def drop_pending(self, request: Request, response: Response) -> None:
        self._delete(request, response, PENDING_COOKIE)

    def _set(
        self, request: Request, response: Response, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/webui",
            secure=reached_over_https(request, self._services),
            httponly=True,
            samesite="lax",
        )

    def _delete(self, request: Request, response: Response, name: str) -> None:
        response.delete_cookie(
            name,
            path="/webui",
            secure=reached_over_https(request, self._services),
            httponly=True,
            samesite="lax",
        )

    def _pending_mac(self, visitor: Visitor, user_id: int, expires: int) -> str:
        # The visitor's CSRF token stands for its pre-session (it is an HMAC of it).
        message = f"pending:{user_id}:{expires}:{visitor.csrf_token}".encode()
        return hmac.new(self._pending_key, message, hashlib.sha256).hexdigest()

    def _csrf_for(self, purpose: str, base: str) -> str:
        message = f"{purpose}:{base}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def _cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    if not value or len(value) > _MAX_COOKIE:
        return None
    return value

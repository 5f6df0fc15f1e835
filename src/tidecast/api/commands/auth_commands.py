"""Logging in: ``login``, ``loginGuest`` and ``checkAuth``."""

from __future__ import annotations

from typing import Any

from tidecast.api.commands.command import BodyField, Call, Command
from tidecast.core.accounts import Session
from tidecast.core.errors import AccessDenied, ContentUnavailable
from tidecast.core.users import ROLE_NAMES, Role, User, is_online


def _role(user: User) -> str:
    return ROLE_NAMES[Role(user.type)]


def _session(session: Session) -> dict[str, Any]:
    return {"token": session.token, "username": session.user.login, "role": _role(session.user)}


async def login(call: Call) -> dict[str, Any]:
    body = call.body
    session = await call.services.accounts.login(
        body["username"],
        body["password"],
        address=call.address,
        two_factor_code=body.get("twoFactorCode"),
        security_code=body.get("securityCode"),
    )
    answer = _session(session)
    online_token = await call.services.online.login_at_home(session.user, body["password"])
    if online_token is not None:
        answer["onlineToken"] = online_token
    return answer


async def login_guest(call: Call) -> dict[str, Any]:
    return _session(
        await call.services.accounts.login_guest(call.body.get("name"), address=call.address)
    )


async def check_auth(call: Call) -> dict[str, Any]:
    """The token's account; for an online account, whether its home accepts the online
    token (refused: INVALID_ONLINE_TOKEN; home unreachable: ``onlineAvailable`` false)."""
    user = call.me
    available = False
    if is_online(user.login) and call.online_token:
        try:
            available = await call.services.online.check_online_token(user, call.online_token)
        except ContentUnavailable:
            available = False
        else:
            if not available:
                raise AccessDenied(
                    "the home refused the online token", reason="invalid_online_token"
                )
    return {"username": user.login, "role": _role(user), "onlineAvailable": available}


COMMANDS: tuple[Command, ...] = (
    Command(
        "login",
        login,
        "Log in; an account with two-factor on needs twoFactorCode (else TWO_FACTOR_REQUIRED, "
        "or TWO_FACTOR_INVALID for a wrong one); a securityCode also makes the account an "
        "operator. Answers a token.",
        access="none",
        role=Role.GUEST,
        mode="closed",
        error="LOG_ERROR",
        fields=(
            BodyField("username", "string", "Login (or email address)", required=True),
            BodyField("password", "string", "Password", required=True),
            BodyField(
                "twoFactorCode",
                "code",
                "Two-factor code of the authenticator app, or a recovery code (which turns "
                "two-factor off); needed when the account has two-factor on",
            ),
            BodyField("securityCode", "code", "The security code: promotes to operator"),
        ),
    ),
    Command(
        "loginGuest",
        login_guest,
        "Log in as a free guest account (or a new temporary one named name).",
        access="none",
        role=Role.GUEST,
        mode="closed",
        error="LOG_ERROR",
        fields=(BodyField("name", "string", "Name of a temporary guest"),),
    ),
    Command(
        "checkAuth",
        check_auth,
        "The account of the token: username, role, and whether its online token works.",
        access="required",
        role=Role.GUEST,
        mode="closed",
        error="LOG_ERROR",
    ),
)

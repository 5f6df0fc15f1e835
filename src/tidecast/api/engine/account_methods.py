"""Account methods of the engine API: ``sign_in``, ``sign_out``, ``check_auth``.

``sign_in`` of an account with two-factor on takes its code as ``code`` (a tidecast
extension): without it the error is ``two_factor_required``, with a wrong one
``two_factor_invalid`` (``auth_error`` stays the answer to a wrong password).

The engine has one signed-in account at a time (:mod:`tidecast.core.engine_session`);
the engine API token still guards these methods, as the seed says ("Public: no").

``check_auth`` reports the seed's fields. tidecast's own numbers:

- ``auth_level`` and ``global_auth_level`` come from the role (:data:`AUTH_LEVELS`):
  0 nobody signed in, 1 guest, 2 user, 3 operator. Clients read 0 as "not signed in".
- ``login`` and ``token`` are the account's login (the engine's token field names the
  account, as in the seed's example, never a credential).
- ``package_name``, ``package_color``, ``package_days_left`` come from the user's
  subscription when the subscription service provides one; null, -1, -1 otherwise.
- ``purse_amount``, ``bonus_amount``, ``session_auth_level`` are -1,
  ``bonuses_updated_at`` 0, ``ace_auth_token`` null: tidecast has no purse, no bonuses
  and no Ace Stream account.
"""

from __future__ import annotations

from typing import Any

from tidecast.api.engine.dispatch import Call, Method
from tidecast.api.engine.params import Param
from tidecast.core.errors import MissingParameter, NotSupported
from tidecast.core.users import Role, User

AUTH_LEVELS: dict[int, int] = {Role.GUEST: 1, Role.USER: 2, Role.OPERATOR: 3}
"""``check_auth``'s ``auth_level`` per role; 0 means nobody is signed in."""

SIGNED_OUT: dict[str, Any] = {
    "package_name": None,
    "global_auth_level": 0,
    "purse_amount": -1,
    "auth_level": 0,
    "session_auth_level": -1,
    "package_color": -1,
    "bonus_amount": -1,
    "token": None,
    "bonuses_updated_at": 0,
    "login": None,
    "package_days_left": -1,
    "method": "none",
    "ace_auth_token": None,
}
"""``check_auth`` while nobody is signed in, exactly as the seed shows it."""


def _address(call: Call) -> str | None:
    return str(call.caller.address) if call.caller.address is not None else None


async def sign_in(call: Call) -> Any:
    p = call.params
    if p.str("google_token"):
        raise NotSupported(
            "signing in with Google is not supported: use email (or login) and password",
            field="google_token",
        )
    identifier = p.str("email") or p.str("login")
    if not identifier:
        raise MissingParameter("missing parameter: email (or login)", field="email")
    password = p.required_str("password")
    await call.services.engine_session.sign_in(
        identifier, password, address=_address(call), two_factor_code=p.str("code")
    )
    return "ok"


async def sign_out(call: Call) -> Any:
    await call.services.engine_session.sign_out()
    return "ok"


async def check_auth(call: Call) -> Any:
    session = call.services.engine_session
    user = await session.current()
    if user is None:
        return dict(SIGNED_OUT)
    return await _signed_in(call, user)


async def _signed_in(call: Call, user: User) -> dict[str, Any]:
    package = await call.services.engine_session.package(user)
    level = AUTH_LEVELS[user.type]
    return {
        "package_name": package.name if package else None,
        "global_auth_level": level,
        "purse_amount": -1,
        "auth_level": level,
        "session_auth_level": -1,
        "package_color": package.color if package else -1,
        "bonus_amount": -1,
        "token": user.login,
        "bonuses_updated_at": 0,
        "login": user.login,
        "package_days_left": package.days_left if package else -1,
        "method": "tidecast",
        "ace_auth_token": None,
    }


METHODS = (
    Method(
        "sign_in",
        sign_in,
        "Sign in the user (email or login, and password); 'auth_error' when they are wrong. "
        "An account with two-factor on also needs code: 'two_factor_required' without it, "
        "'two_factor_invalid' when it is wrong.",
        public=False,
        remote=True,
        params=(
            Param("email", description="Email (or login) of the account"),
            Param("login", description="Login of the account, instead of email (tidecast)"),
            Param("password", description="Password"),
            Param(
                "code",
                description="Two-factor code of the authenticator app, or a recovery code "
                "(which turns two-factor off), for an account with two-factor on (tidecast)",
            ),
            Param("google_token", description="Google auth token: not supported by tidecast"),
        ),
    ),
    Method("sign_out", sign_out, "Sign out the user.", public=False, remote=True),
    Method(
        "check_auth",
        check_auth,
        "Who is signed in: login, auth levels from the role, package from the subscription.",
        public=False,
        remote=True,
    ),
)

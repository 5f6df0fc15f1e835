"""Logging in and out: ``Admin.Login`` (seed 001), ``Admin.Logout``, ``Captcha.Get``."""

from __future__ import annotations

import base64
from typing import Any

from tidecast.api.admin.command import Call, Command, ErrorCode, Param
from tidecast.api.admin.params import Params
from tidecast.api.admin.views import admin_info
from tidecast.core.admin_auth import LoginAttempt
from tidecast.core.audit import AuditAction
from tidecast.core.errors import MissingParameter

_TRUE = {"1", "true", "yes", "on"}


def is_true(params: Params, name: str) -> bool:
    """Oempro's ``true``; anything else (absent, ``false``, garbage) is false."""
    value = params.text(name)
    return value is not None and value.strip().lower() in _TRUE


async def admin_login(call: Call) -> dict[str, Any]:
    p = call.params
    api_key = p.text("AdminApiKey")
    username = (p.text("Username") or "").strip() or None
    password = p.text("Password")
    if not api_key:  # an admin API key stands in for both
        missing = [
            MissingParameter("missing username", field="Username") if not username else None,
            MissingParameter("missing password", field="Password") if not password else None,
        ]
        found = [error for error in missing if error is not None]
        if found:
            raise ExceptionGroup("missing credentials", found) if len(found) > 1 else found[0]
    attempt = LoginAttempt(
        username=username,
        password=password,
        address=call.address,
        captcha_id=p.text("CaptchaID"),
        captcha=p.text("Captcha"),
        disable_captcha=is_true(p, "DisableCaptcha"),
        api_key=api_key,
        tfa_code=p.text("TfaCode"),
        recovery_code=p.text("TFARecoveryCode"),
        disable_2fa=is_true(p, "Disable2FA"),
    )
    login = await call.services.admin_auth.login(attempt)
    return {"SessionID": login.session_id, "AdminInfo": admin_info(login.user, login.tfa_enabled)}


async def admin_logout(call: Call) -> dict[str, Any]:
    assert call.admin is not None
    await call.services.admin_auth.logout(call.admin)
    call.record.target = call.me.login
    return {}


async def captcha_get(call: Call) -> dict[str, Any]:
    captcha = await call.services.captchas.new()
    image = base64.b64encode(captcha.png).decode()
    return {"CaptchaID": captcha.id, "CaptchaImage": f"data:image/png;base64,{image}"}


COMMANDS: tuple[Command, ...] = (
    Command(
        "Admin.Login",
        admin_login,
        "Log an operator in; answers a SessionID and AdminInfo. After failed logins of the "
        "account or the address a captcha (Captcha.Get) is needed; with two-factor on, a "
        "TfaCode or a TFARecoveryCode (which turns two-factor off). AdminApiKey instead of "
        "a password opens a session for the key's operator, and makes DisableCaptcha (and, "
        "for its own account, Disable2FA) count.",
        auth="none",
        params=(
            Param("Username", "string", "Login (or email address) of an operator"),
            Param("Password", "secret", "Password"),
            Param("CaptchaID", "string", "CaptchaID from Captcha.Get"),
            Param("Captcha", "string", "The characters in the captcha's image"),
            Param("DisableCaptcha", "boolean", "Skip the captcha (needs a valid AdminApiKey)"),
            Param(
                "AdminApiKey",
                "secret",
                "An admin API key: instead of a password, or to "
                "make DisableCaptcha / Disable2FA count",
            ),
            Param("Disable2FA", "boolean", "Skip two-factor (needs the account's own key)"),
            Param("TfaCode", "string", "Six-digit code of the authenticator app"),
            Param("TFARecoveryCode", "secret", "A recovery code (turns two-factor off)"),
        ),
        errors={
            "missing:username": ErrorCode(1, "Missing username"),
            "missing:password": ErrorCode(2, "Missing password"),
            "bad_credentials": ErrorCode(3, "Invalid username or password"),
            "captcha_missing": ErrorCode(4, "Missing captcha"),
            "captcha_invalid": ErrorCode(5, "Invalid captcha"),
            "tfa_invalid": ErrorCode(101, "Invalid two-factor authentication code"),
        },
        extension=False,
    ),
    Command(
        "Admin.Logout",
        admin_logout,
        "End the session of the SessionID given.",
        audit=AuditAction.ADMIN_LOGOUT,
    ),
    Command(
        "Captcha.Get",
        captcha_get,
        "A new captcha for Admin.Login: CaptchaID and CaptchaImage (a PNG data: URL). It "
        "answers one login attempt, within admin_captcha_seconds.",
        auth="none",
    ),
)

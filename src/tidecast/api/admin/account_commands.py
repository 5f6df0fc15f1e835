"""The operator's own account: ``Admin.Update`` (seed 001), two-factor enrolment, admin
API keys, and reading the audit log."""

from __future__ import annotations

from typing import Any

from tidecast.api.admin.command import Call, Command, ErrorCode, Param
from tidecast.api.admin.views import api_key_info, audit_info
from tidecast.core.admin_auth import AdminChanges
from tidecast.core.audit import AuditAction

DEFAULT_PAGE = 25
MAX_PAGE = 1000


async def admin_update(call: Call) -> dict[str, Any]:
    p = call.params
    assert call.admin is not None
    changes = AdminChanges(
        name=p.required_text("Name"),
        login=p.required_text("Username"),
        email=p.required_text("EmailAddress"),
        password=p.text("Password"),
    )
    admin_id = p.required_int("AdminID", minimum=1)
    call.record.target = call.me.login
    fields = ["Name", "Username", "EmailAddress"] + (["Password"] if changes.password else [])
    call.record.detail = {"fields": fields}
    session_id = await call.services.admin_auth.update_self(call.admin, admin_id, changes)
    return {"SessionID": session_id} if session_id else {}


async def tfa_enable(call: Call) -> dict[str, Any]:
    call.record.target = call.me.login
    enrolment = await call.services.two_factor.begin(call.me)
    return {"Secret": enrolment.secret, "OtpauthURI": enrolment.uri}


async def tfa_confirm(call: Call) -> dict[str, Any]:
    call.record.target = call.me.login
    codes = await call.services.two_factor.confirm(
        call.me, call.params.text("TfaCode"), address=call.address
    )
    return {"RecoveryCodes": codes}


async def tfa_disable(call: Call) -> dict[str, Any]:
    call.record.target = call.me.login
    await call.services.two_factor.disable(
        call.me,
        call.params.text("TfaCode"),
        call.params.text("TFARecoveryCode"),
        address=call.address,
    )
    return {}


async def api_key_create(call: Call) -> dict[str, Any]:
    label = (call.params.text("Label") or "").strip()
    key, secret = await call.services.admin_auth.create_api_key(call.me, label)
    call.record.target = f"apikey:{key.id}"
    call.record.detail = {"label": label}
    return {**api_key_info(key), "APIKey": secret}


async def api_keys_get(call: Call) -> dict[str, Any]:
    keys = await call.services.admin_auth.api_keys(call.me)
    return {"APIKeys": [api_key_info(key) for key in keys]}


async def api_key_delete(call: Call) -> dict[str, Any]:
    key_id = call.params.required_int("APIKeyID", minimum=1)
    call.record.target = f"apikey:{key_id}"
    await call.services.admin_auth.delete_api_key(call.me, key_id)
    return {}


def paging(call: Call) -> tuple[int, int]:
    """``RecordsFrom`` (0) and ``RecordsPerRequest`` (25, at most 1000)."""
    limit = call.params.int("RecordsPerRequest", minimum=1)
    offset = call.params.int("RecordsFrom") or 0
    return offset, min(limit or DEFAULT_PAGE, MAX_PAGE)


async def audit_log_get(call: Call) -> dict[str, Any]:
    offset, limit = paging(call)
    action = (call.params.text("Action") or "").strip() or None
    actor = (call.params.text("Actor") or "").strip() or None
    entries, total = await call.services.audit.entries(
        offset=offset, limit=limit, action=action, actor=actor
    )
    return {"Entries": [audit_info(entry) for entry in entries], "TotalEntries": total}


_TFA_CODE = Param("TfaCode", "string", "Six-digit code of the authenticator app")
_PAGING = (
    Param("RecordsPerRequest", "integer", "Page size (default 25, at most 1000)"),
    Param("RecordsFrom", "integer", "Records to skip (default 0)"),
)

COMMANDS: tuple[Command, ...] = (
    Command(
        "Admin.Update",
        admin_update,
        "Change the logged-in operator's name, username, email address and password. A new "
        "username or password ends every session and API key of the account and answers "
        "a new SessionID.",
        params=(
            Param("Name", "string", "Full name", required=True),
            Param("Username", "string", "Username (a-z, 0-9, '_', '.', '-')", required=True),
            Param("EmailAddress", "string", "Email address", required=True),
            Param("AdminID", "integer", "The logged-in operator's AdminID", required=True),
            Param("Password", "secret", "New password (at least 8 characters)"),
        ),
        errors={
            "missing:name": ErrorCode(1, "Missing name"),
            "missing:username": ErrorCode(2, "Missing username"),
            "missing:emailaddress": ErrorCode(4, "Missing email address"),
            "missing:adminid": ErrorCode(6, "Invalid admin ID"),
            "invalid:adminid": ErrorCode(6, "Invalid admin ID"),
            "admin_not_found": ErrorCode(6, "Invalid admin ID"),
            "invalid:email": ErrorCode(7, "Invalid email address format"),
            "not_owner": ErrorCode(8, "Admin account not owned by the logged-in admin"),
            # tidecast's, where the seed is silent:
            "invalid:password": ErrorCode(9, None),
            "password_too_short": ErrorCode(9, None),
            "login_invalid": ErrorCode(10, None),
            "user_exists": ErrorCode(11, "Username already exists"),
            "email_taken": ErrorCode(12, "Email address already exists"),
            "nickname_taken": ErrorCode(13, "Name already in use"),
        },
        audit=AuditAction.ADMIN_UPDATE,
        extension=False,
    ),
    Command(
        "Admin.2FA.Enable",
        tfa_enable,
        "Start two-factor enrolment: a new Secret and its OtpauthURI (show it as a QR code). "
        "Nothing changes until Admin.2FA.Confirm.",
        audit=AuditAction.ADMIN_2FA_ENABLE,
    ),
    Command(
        "Admin.2FA.Confirm",
        tfa_confirm,
        "Turn two-factor on with a code of the new secret; answers the RecoveryCodes, once.",
        params=(_TFA_CODE,),
        audit=AuditAction.ADMIN_2FA_CONFIRM,
    ),
    Command(
        "Admin.2FA.Disable",
        tfa_disable,
        "Turn two-factor off with a current code (or a recovery code).",
        params=(_TFA_CODE, Param("TFARecoveryCode", "secret", "A recovery code instead")),
        audit=AuditAction.ADMIN_2FA_DISABLE,
    ),
    Command(
        "Admin.APIKey.Create",
        api_key_create,
        "A new admin API key of the logged-in operator: APIKey is shown only in this answer.",
        params=(Param("Label", "string", "What the key is for"),),
        audit=AuditAction.ADMIN_APIKEY_CREATE,
    ),
    Command(
        "Admin.APIKeys.Get",
        api_keys_get,
        "The logged-in operator's API keys (never the keys themselves).",
    ),
    Command(
        "Admin.APIKey.Delete",
        api_key_delete,
        "Revoke one of the logged-in operator's API keys.",
        params=(Param("APIKeyID", "integer", "APIKeyID from Admin.APIKeys.Get", required=True),),
        audit=AuditAction.ADMIN_APIKEY_DELETE,
    ),
    Command(
        "AuditLog.Get",
        audit_log_get,
        "The audit log, newest first: Entries and TotalEntries, optionally only of one "
        "Action or of one Actor.",
        params=(
            *_PAGING,
            Param("Action", "string", "Only this action (e.g. admin.login)"),
            Param("Actor", "string", "Only this account's actions, by username ('-': nobody's)"),
        ),
    ),
)

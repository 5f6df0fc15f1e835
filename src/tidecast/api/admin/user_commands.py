"""Accounts of the shared account store, and their devices: ``Users.Get``, ``User.Get``,
``User.Create``, ``User.Update``, ``Users.Delete``, ``Devices.Get``, ``Device.Revoke``."""

from __future__ import annotations

from typing import Any

from tidecast.api.admin.account_commands import paging
from tidecast.api.admin.command import Call, Command, ErrorCode, ErrorKey, Param
from tidecast.api.admin.views import device_info, subscription_info, user_info
from tidecast.core.audit import AuditAction
from tidecast.core.errors import InvalidInput, MissingParameter
from tidecast.core.users import ROLES_BY_NAME, User

SEARCH_FIELDS = {"username": "login", "name": "nickname", "emailaddress": "email"}
"""``SearchField`` (any case) and the account field it names."""


async def users_get(call: Call) -> dict[str, Any]:
    p = call.params
    offset, limit = paging(call)
    keyword = (p.text("SearchKeyword") or "").strip()
    field = (p.text("SearchField") or "").strip().lower() or None
    if field is not None and field not in SEARCH_FIELDS:
        raise InvalidInput(
            "SearchField must be Username, Name or EmailAddress", field="SearchField"
        )
    found = await call.services.accounts.search(
        keyword,
        viewer=call.me,
        offset=offset,
        limit=limit,
        fields=(SEARCH_FIELDS[field],) if field else tuple(SEARCH_FIELDS.values()),
    )
    page = found.users
    tfa = await call.services.two_factor.enabled_among([u.id for u in page if u.id is not None])
    return {"Users": [user_info(u, u.id in tfa) for u in page], "TotalUsers": found.total}


async def _user(call: Call) -> User:
    return await call.services.accounts.get_by_id(call.params.required_int("UserID", minimum=1))


async def user_get(call: Call) -> dict[str, Any]:
    """By ``UserID``, ``Username`` or ``EmailAddress``, with its current subscription."""
    p = call.params
    accounts = call.services.accounts
    if p.has("UserID"):
        user = await _user(call)
    elif p.has("Username"):
        user = await accounts.get(p.required_text("Username"))
    elif p.has("EmailAddress"):
        user = await accounts.get(p.required_text("EmailAddress"))
    else:
        raise MissingParameter("missing parameter UserID", field="UserID")
    assert user.id is not None
    info = user_info(user, await call.services.two_factor.is_enabled(user.id))
    subscription = await call.services.subscriptions.current(user.id)
    return {"UserInformation": {**info, "Subscription": subscription_info(subscription)}}


def _role(call: Call) -> int | None:
    role = call.params.text("Role")
    if role is None:
        return None
    wanted = ROLES_BY_NAME.get(role.strip().lower())
    if wanted is None:
        raise InvalidInput("Role must be admin, user or guest", field="Role")
    return int(wanted)


async def user_create(call: Call) -> dict[str, Any]:
    p = call.params
    role = (p.text("Role") or "user").strip().lower()
    call.record.target = p.required_text("Username").strip().lower()
    call.record.detail = {"role": role}
    user = await call.services.accounts.create(
        p.required_text("Username"),
        p.required_text("Password"),
        role=role,
        nickname=(p.text("Name") or "").strip() or None,
        email=(p.text("EmailAddress") or "").strip() or None,
        actor=call.me,
        address=call.address,
    )
    call.record.target = user.login
    return {"UserID": user.id}


async def user_update(call: Call) -> dict[str, Any]:
    """Name, EmailAddress, Password, Role; a new Username renames (ending the account's
    sessions); ``Disable2FA`` turns the account's two-factor off (a lost phone)."""
    p = call.params
    accounts = call.services.accounts
    user = await _user(call)
    call.record.target = user.login
    changes: dict[str, Any] = {}
    for param, key in (("Name", "nickname"), ("EmailAddress", "email"), ("Password", "password")):
        if p.has(param):
            changes[key] = p.text(param)
    role = _role(call)
    if role is not None:
        changes["type"] = role
    call.record.detail = {
        "fields": [
            name
            for name in ("Name", "EmailAddress", "Password", "Role", "Username", "Disable2FA")
            if p.has(name)
        ]
    }
    login = (p.text("Username") or "").strip().lower()
    if login and login != user.login:
        user = await accounts.rename(user, login)
    if changes:
        await accounts.edit(user.login, changes, actor=call.me)
    if p.flag("Disable2FA"):
        assert user.id is not None
        await call.services.two_factor.reset(user.id)
    return {}


async def users_delete(call: Call) -> dict[str, Any]:
    ids = call.params.ids("Users") or []
    call.record.target = ",".join(str(user_id) for user_id in ids)
    users = [await call.services.accounts.get_by_id(user_id) for user_id in ids]
    for user in users:
        await call.services.accounts.delete(user.login, actor=call.me)
    call.record.detail = {"logins": [user.login for user in users]}
    return {}


async def devices_get(call: Call) -> dict[str, Any]:
    user = await _user(call)
    assert user.id is not None
    devices = await call.services.devices.of_user(user.id)
    return {"Devices": [device_info(device) for device in devices]}


async def device_revoke(call: Call) -> dict[str, Any]:
    device_id = call.params.required_int("DeviceID", minimum=1)
    call.record.target = f"device:{device_id}"
    await call.services.devices.revoke(device_id)
    return {}


_USER_ID = Param("UserID", "integer", "The account's UserID", required=True)
_PAGING = (
    Param("RecordsPerRequest", "integer", "Page size (default 25, at most 1000)"),
    Param("RecordsFrom", "integer", "Records to skip (default 0)"),
)
_EXISTS: dict[ErrorKey, ErrorCode] = {
    "user_exists": ErrorCode(12, "Username already exists"),
    "email_taken": ErrorCode(13, "Email address already exists"),
}

COMMANDS: tuple[Command, ...] = (
    Command(
        "Users.Get",
        users_get,
        "Accounts by username: Users and TotalUsers; SearchKeyword matches part of the "
        "username, name or email address (or only SearchField's).",
        params=(
            *_PAGING,
            Param("SearchKeyword", "string", "Text to look for"),
            Param("SearchField", "string", "Username, Name or EmailAddress (default: all)"),
        ),
    ),
    Command(
        "User.Get",
        user_get,
        "One account (by UserID, Username or EmailAddress) with its current Subscription.",
        params=(
            Param("UserID", "integer", "The account's UserID"),
            Param("Username", "string", "Or its username"),
            Param("EmailAddress", "string", "Or its email address"),
        ),
    ),
    Command(
        "User.Create",
        user_create,
        "Create an account; answers its UserID.",
        params=(
            Param("Username", "string", "a-z, 0-9, '_', '.', '-'", required=True),
            Param("Password", "secret", "At least 8 characters", required=True),
            Param("Name", "string", "Display name (default: the username)"),
            Param("EmailAddress", "string", "Email address"),
            Param("Role", "string", "user (default), admin or guest"),
        ),
        errors=_EXISTS,
        audit=AuditAction.USER_CREATE,
    ),
    Command(
        "User.Update",
        user_update,
        "Change an account: the parameters given change, the others stay.",
        params=(
            _USER_ID,
            Param("Username", "string", "New username (ends the account's sessions)"),
            Param("Name", "string", "Display name"),
            Param("EmailAddress", "string", "Email address"),
            Param("Password", "secret", "New password (ends the account's sessions)"),
            Param("Role", "string", "admin, user or guest"),
            Param("Disable2FA", "boolean", "Turn the account's two-factor off"),
        ),
        errors=_EXISTS,
        audit=AuditAction.USER_UPDATE,
    ),
    Command(
        "Users.Delete",
        users_delete,
        "Delete accounts (not the admin account, nor the last operator).",
        params=(Param("Users", "id_list", "UserIDs separated by commas", required=True),),
        audit=AuditAction.USER_DELETE,
    ),
    Command(
        "Devices.Get",
        devices_get,
        "The devices an account signed in on (device API), revoked ones included.",
        params=(_USER_ID,),
    ),
    Command(
        "Device.Revoke",
        device_revoke,
        "Sign a device out: its token ends and its slot is free.",
        params=(Param("DeviceID", "integer", "DeviceID from Devices.Get", required=True),),
        audit=AuditAction.DEVICE_REVOKE,
    ),
)

"""Commands on any account: listing, creating, viewing, deleting, editing, password reset."""

from __future__ import annotations

from typing import Any

from tidecast.api.commands.command import (
    BodyField,
    Call,
    Command,
    ErrorKey,
    ErrorReply,
    Message,
)
from tidecast.api.commands.edits import EDIT_ERRORS, PROFILE_FIELDS, profile_changes
from tidecast.api.commands.projection import full_view, list_view
from tidecast.core.errors import AccessDenied, InvalidInput, NotFound
from tidecast.core.users import Role, is_online


async def get_users(call: Call) -> list[dict[str, Any]]:
    return [list_view(user) for user in await call.services.accounts.visible_to(call.user)]


async def create_user(call: Call) -> Message:
    """An online login (``name@instance``) is created at its home first, then here."""
    body = call.body
    role = body.get("role") or "user"
    if role not in ("user", "admin"):
        raise InvalidInput("role must be user or admin", field="role")
    if is_online(body["login"]):
        if role == "admin":
            raise AccessDenied(
                "Admin accounts are not allowed to be created online", reason="online_admin"
            )
        await call.services.online.register(
            body["login"],
            body["password"],
            nickname=body.get("nickname"),
            email=body.get("email"),
            actor=call.user,
        )
    await call.services.accounts.create(
        body["login"],
        body["password"],
        role=role,
        nickname=body.get("nickname"),
        email=body.get("email"),
        security_code=body.get("securityCode"),
        actor=call.user,
        address=call.address,
    )
    return Message("USER_CREATED")


async def get_user(call: Call) -> dict[str, Any]:
    accounts = call.services.accounts
    user = await accounts.get(call.body["username"])
    if not accounts.can_see(call.user, user):
        raise NotFound("no such user", reason="user_not_found")
    viewer = call.me
    private = viewer.type == Role.OPERATOR or viewer.id == user.id
    return full_view(user, private=private)


async def delete_user(call: Call) -> Message:
    await call.services.accounts.delete(call.body["username"], actor=call.me)
    return Message("USER_DELETED")


async def edit_user(call: Call) -> Message:
    body = call.body
    # ``old_login`` names the account when a client also sends its (unchanged) ``login``.
    target = body.get("old_login") or body["login"]
    changes = await profile_changes(call)
    if body["login"] != target:
        changes["login"] = body["login"]  # renaming is not an edit: the core refuses it
    await call.services.accounts.edit(target, changes, actor=call.me)
    return Message("USER_EDITED")


async def reset_user_password(call: Call) -> Message:
    body = call.body
    await call.services.accounts.reset_password(
        body["username"], body["password"], body.get("securityCode"), address=call.address
    )
    return Message("USER_RESETPASSWORD_SUCCESS")


_USERNAME = BodyField("username", "string", "Login of the account", required=True)
_SECURITY_CODE = BodyField("securityCode", "code", "The six-digit security code from the log")
_NO_SUCH_USER: dict[ErrorKey, ErrorReply] = {"login_invalid": ErrorReply(404, "USER_NOT_EXISTS")}

COMMANDS: tuple[Command, ...] = (
    Command(
        "getUsers",
        get_users,
        "List accounts: operators see all, others the public ones (and themselves).",
        access="required",
        role=Role.GUEST,
        mode="restricted",
        error="USER_LIST_ERROR",
    ),
    Command(
        "createUser",
        create_user,
        "Create an account (name@instance: at its home first, then here); an operator "
        "account needs an operator's token or securityCode.",
        access="optional",
        role=Role.GUEST,
        mode="restricted",
        error="USER_CREATE_ERROR",
        success="USER_CREATED",
        fields=(
            BodyField("login", "string", "name, or name@instance for an online account", True),
            BodyField("password", "string", "At least 8 characters", required=True),
            BodyField("role", "string", "user (default) or admin"),
            BodyField("nickname", "string", "Display name (default: the login)"),
            BodyField("email", "string", "Email address"),
            _SECURITY_CODE,
        ),
        errors={
            "password_too_short": ErrorReply(411, "PASSWORD_TOO_SHORT"),
            "user_exists_online": ErrorReply(409, "USER_ALREADY_EXISTS_ONLINE"),
        },
    ),
    Command(
        "getUser",
        get_user,
        "One account's profile; private accounts are visible to operators and themselves.",
        access="required",
        role=Role.GUEST,
        mode="restricted",
        error="USER_VIEW_ERROR",
        fields=(_USERNAME,),
        errors={
            "user_not_found": ErrorReply(404, "USER_VIEW_ERROR"),
            "login_invalid": ErrorReply(404, "USER_VIEW_ERROR"),
        },
    ),
    Command(
        "deleteUser",
        delete_user,
        "Delete an account (not the admin account, nor the last operator).",
        access="required",
        role=Role.OPERATOR,
        mode="closed",
        error="USER_DELETE_ERROR",
        success="USER_DELETED",
        fields=(_USERNAME,),
        errors=_NO_SUCH_USER,
    ),
    Command(
        "editUser",
        edit_user,
        "Edit an account; of an online account only type and flag_tutorial_done.",
        access="required",
        role=Role.OPERATOR,
        mode="closed",
        error="USER_EDIT_ERROR",
        success="USER_EDITED",
        fields=(
            BodyField("login", "string", "Login of the account to edit", required=True),
            BodyField("old_login", "string", "Login of the account, if login is also sent"),
            BodyField("type", "integer", "0 operator, 1 user, 2 guest"),
            *PROFILE_FIELDS,
        ),
        passthrough=True,
        errors={**EDIT_ERRORS, **_NO_SUCH_USER},
    ),
    Command(
        "resetUserPassword",
        reset_user_password,
        "Set a local account's password with the security code.",
        access="optional",
        role=Role.GUEST,
        mode="closed",
        error="USER_RESETPASSWORD_ERROR",
        success="USER_RESETPASSWORD_SUCCESS",
        fields=(
            _USERNAME,
            BodyField("password", "string", "The new password", required=True),
            _SECURITY_CODE,
        ),
        errors={
            **_NO_SUCH_USER,
            "wrong_security_code": ErrorReply(403, "USER_RESETPASSWORD_WRONGSECURITYCODE"),
        },
    ),
)

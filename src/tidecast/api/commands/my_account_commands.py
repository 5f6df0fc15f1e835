"""Commands on the caller's own account, online accounts and anime lists included."""

from __future__ import annotations

from typing import Any

from tidecast.api.commands.command import BodyField, Call, Command, ErrorReply, Message
from tidecast.api.commands.edits import EDIT_ERRORS, PROFILE_FIELDS, profile_changes
from tidecast.api.commands.projection import full_view, item_view
from tidecast.core import errors as core
from tidecast.core.errors import AuthenticationRequired
from tidecast.core.users import Role, is_online

DEFAULT_PAGE_SIZE = 400


async def get_my_account(call: Call) -> dict[str, Any]:
    return full_view(call.me, private=True)


async def delete_my_account(call: Call) -> Message:
    await call.services.accounts.delete_self(call.me)
    return Message("USER_DELETED")


async def edit_my_account(call: Call) -> Message:
    """Edit your own account. An online account's changes go home first and are stored
    here only once the home took them; its online token is answered. A password change
    ends the account's sessions, so a fresh token for the caller is answered too."""
    user = call.me
    online_token = call.online_token
    if is_online(user.login) and not online_token:
        raise AuthenticationRequired(
            "onlineAuthorization is required to edit an online account",
            reason="online_token_missing",
        )
    changes = await profile_changes(call)
    answer: dict[str, str] = {}
    if online_token is not None and is_online(user.login):
        online = call.services.online
        answer["onlineAuthorization"] = await online.push_edit(user, changes, online_token)
    user = await call.services.accounts.edit_self(user, changes)
    if "password" in changes:
        answer["token"] = (await call.services.accounts.new_session(user)).token
    return Message("USER_EDITED", answer or None)


async def convert_to_online(call: Call) -> Message:
    session, online_token = await call.services.online.convert_to_online(
        call.me, call.body["instance"], call.body["password"]
    )
    return Message("USER_CONVERTED", {"token": session.token, "onlineToken": online_token})


async def convert_to_local(call: Call) -> Message:
    session = await call.services.online.convert_to_local(
        call.me, call.body["password"], call.online_token or ""
    )
    return Message("USER_DELETED_ONLINE", {"token": session.token})


async def refresh_anime_list(call: Call) -> None:
    await call.services.online.refresh_anime_list(call.me, call.online_token)


async def get_anime_list(call: Call) -> dict[str, Any]:
    body = call.body
    start = body.get("from") or 0
    items, count = await call.services.anime_lists.matching_items(
        call.me,
        q=body.get("filter") or body.get("q"),
        from_=start,
        size=DEFAULT_PAGE_SIZE if body.get("size") is None else body["size"],
        order=body.get("order"),
        direction=body.get("direction"),
    )
    return {
        "content": [item_view(item) for item in items],
        "infos": {"count": count, "from": start, "to": start + len(items)},
    }


_PASSWORD = BodyField("password", "string", "Your password, to confirm", required=True)

COMMANDS: tuple[Command, ...] = (
    Command(
        "getMyAccount",
        get_my_account,
        "Your own profile, every field but the password.",
        access="required",
        role=Role.GUEST,
        mode="closed",
        error="USER_VIEW_ERROR",
    ),
    Command(
        "deleteMyUser",
        delete_my_account,
        "Delete your own account here (an online account stays at its home).",
        access="required",
        role=Role.USER,
        mode="closed",
        error="USER_DELETE_ERROR",
        success="USER_DELETED",
        errors={"admin_undeletable": ErrorReply(406, "USER_DELETE_ADMIN_DAMEDESU")},
    ),
    Command(
        "deleteMyAccount",
        delete_my_account,
        "Delete your own account here (an online account stays at its home).",
        access="required",
        role=Role.USER,
        mode="closed",
        error="USER_DELETE_ERROR",
        success="USER_DELETED",
        errors={"admin_undeletable": ErrorReply(406, "USER_DELETE_ADMIN_DAMEDESU")},
        alias_of="deleteMyUser",
    ),
    Command(
        # The seed's badge says "Operator user required", yet documents GUESTS_CANNOT_EDIT
        # for it: any account may call it, and the core refuses guests.
        "editMyAccount",
        edit_my_account,
        "Edit your own profile; an online account's changes go home first with "
        "onlineAuthorization, whose token is answered. A new password answers a new token.",
        access="required",
        role=Role.GUEST,
        mode="closed",
        error="USER_EDIT_ERROR",
        success="USER_EDITED",
        fields=(BodyField("type", "integer", "Your type (it cannot change)"), *PROFILE_FIELDS),
        passthrough=True,
        errors=EDIT_ERRORS,
    ),
    Command(
        "convertMyLocalUserToOnline",
        convert_to_online,
        "Create your account at another tidecast instance and become login@instance.",
        access="required",
        role=Role.USER,
        mode="closed",
        error="USER_CONVERT_ERROR",
        success="USER_CONVERTED",
        fields=(
            BodyField("instance", "string", "Home instance: host or host:port", required=True),
            _PASSWORD,
        ),
        errors={"user_exists_online": ErrorReply(409, "USER_ALREADY_EXISTS_ONLINE")},
    ),
    Command(
        "convertMyOnlineUserToLocal",
        convert_to_local,
        "Delete your account at its home instance and keep it here as a local one.",
        access="required",
        role=Role.USER,
        mode="closed",
        error="USER_DELETE_ERROR_ONLINE",
        success="USER_DELETED_ONLINE",
        fields=(_PASSWORD,),
        errors={
            "user_exists_locally": ErrorReply(409, "USER_ALREADY_EXISTS_LOCALLY"),
            "user_exists": ErrorReply(409, "USER_ALREADY_EXISTS_LOCALLY"),  # a racing rename
        },
    ),
    Command(
        "refreshAnimeList",
        refresh_anime_list,
        "Fetch your anime list again (an online account's home does; needs onlineAuthorization).",
        access="required",
        role=Role.USER,
        mode="closed",
        error="REFRESH_ANIME_LIST_ERROR",
        errors={core.InvalidInput: ErrorReply(400, "REFRESH_ANIME_LIST_ERROR", detail=True)},
    ),
    Command(
        "getAnimeList",
        get_anime_list,
        "Playlist items whose series are on your anime list, a page at a time.",
        access="required",
        role=Role.USER,
        mode="closed",
        error="ANIME_LIST_VIEW_ERROR",
        fields=(
            BodyField("filter", "string", "Text the items' titles must contain"),
            BodyField("q", "string", "Same as filter (used when filter is absent)"),
            BodyField("from", "integer", "Index of the first item (default 0)"),
            BodyField("size", "integer", f"Items per page (default {DEFAULT_PAGE_SIZE})"),
            BodyField("order", "string", "title (default) or id"),
            BodyField("direction", "string", "asc (default) or desc"),
            BodyField("parentsOnly", "boolean", "Accepted and ignored"),
            BodyField("blacklist", "boolean", "Accepted and ignored"),
        ),
    ),
)

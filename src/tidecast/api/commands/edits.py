"""What an edit command hands the core: the client's fields, minus what it merely echoes.

Clients of the original server send back whole profiles they read (``login``,
``flag_logged_in``, ``avatar_file``…); those read-only keys are dropped here, and every
other key goes to the core, which refuses what it does not know. ``avatar`` (``{path}``
from ``/api/importFile``, or the key itself) becomes ``avatar_file`` once the file is
known to be a stored upload. An empty ``password`` means "unchanged", as in the original.
"""

from __future__ import annotations

from typing import Any

from tidecast.api.commands.command import BodyField, Call, ErrorKey, ErrorReply, FieldKind
from tidecast.core import errors as core
from tidecast.core.users import EDITABLE_FIELDS

ECHOED = frozenset(
    {
        "login",
        "old_login",
        "avatar_file",
        "last_login_at",
        "flag_logged_in",
        "flag_online",
        "flag_temporary",
        "anime_list_ids",
        "anime_list_titles",
        "anime_list_last_modified_at",
    }
)


def _kind(name: str) -> FieldKind:
    if name.startswith("flag_"):
        return "boolean"
    return "object" if name == "social_networks" else "string"


PROFILE_FIELDS: tuple[BodyField, ...] = (
    BodyField("password", "string", "New password (at least 8 characters); empty: unchanged"),
    BodyField("avatar", "avatar", "{path} answered by /api/importFile (or that key as a string)"),
    *(
        BodyField(name, _kind(name), "Profile field (see getMyAccount)")
        for name in sorted(EDITABLE_FIELDS)
    ),
)
"""The fields of ``editUser`` and ``editMyAccount``, for validation and the docs."""

EDIT_ERRORS: dict[ErrorKey, ErrorReply] = {
    # The seed answers edits that clash with another account as USER_EDIT_ERROR 409.
    "user_exists": ErrorReply(409, "USER_EDIT_ERROR", detail=True),
    "nickname_taken": ErrorReply(409, "USER_EDIT_ERROR", detail=True),
    "email_taken": ErrorReply(409, "USER_EDIT_ERROR", detail=True),
    core.InvalidInput: ErrorReply(400, "USER_EDIT_ERROR", detail=True),
    core.Conflict: ErrorReply(409, "USER_EDIT_ERROR", detail=True),
}


async def profile_changes(call: Call) -> dict[str, Any]:
    changes = {key: value for key, value in call.body.items() if key not in ECHOED}
    if not changes.get("password"):
        changes.pop("password", None)
    if "avatar" in changes:
        avatar = changes.pop("avatar")
        if avatar is not None:
            key = avatar.get("path") if isinstance(avatar, dict) else avatar
            changes["avatar_file"] = await call.services.avatars.existing_key(key)
    return changes

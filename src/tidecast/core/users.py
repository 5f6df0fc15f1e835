"""What a user account is: login rules, roles, editable fields and their validation."""

from __future__ import annotations

import re
from enum import IntEnum
from functools import cache
from typing import Any

import pycountry

from tidecast.core.errors import InvalidInput
from tidecast.core.playlists import NO_OWNER
from tidecast.storage.users_repo import UserRow

User = UserRow
"""An account as the core hands it to the surfaces (``password_hash`` never leaves)."""


class Role(IntEnum):
    OPERATOR = 0
    USER = 1
    GUEST = 2


ROLE_NAMES = {Role.OPERATOR: "admin", Role.USER: "user", Role.GUEST: "guest"}
ROLES_BY_NAME = {name: role for role, name in ROLE_NAMES.items()} | {"operator": Role.OPERATOR}

_LOCAL = re.compile(r"[a-z0-9_.-]{1,64}")
_INSTANCE = re.compile(r"[a-z0-9.-]{1,184}(:[0-9]{1,5})?")
_EMAIL = re.compile(r"[^@\s\x00]{1,64}@[^@\s\x00]{1,185}\.[^@\s\x00]{1,63}")
ANIME_LIST_SOURCES = ("myanimelist", "anilist", "kitsu")

_TEXT_FIELDS = {"bio": 2000, "url": 500, "location": 255, "language": 16, "banner": 255}
_FLAGS = (
    "flag_tutorial_done",
    "flag_sendstats",
    "flag_public",
    "flag_displayfavorites",
    "flag_parentsonly",
)
EDITABLE_FIELDS = frozenset(
    {
        "nickname",
        "email",
        "main_series_lang",
        "fallback_series_lang",
        "social_networks",
        "anime_list_to_fetch",
        "anime_list_user",
        *_TEXT_FIELDS,
        *_FLAGS,
    }
)
"""What an account's owner may change (plus ``password`` and ``avatar``)."""


def normalize_login(text: object) -> str:
    """Lower-cased ``name`` or ``name@instance``; InvalidInput(reason=login_invalid) otherwise."""
    login = text.strip().lower() if isinstance(text, str) else ""
    local, at, instance = login.rpartition("@") if "@" in login else (login, "", "")
    if not _LOCAL.fullmatch(local) or (at and not _INSTANCE.fullmatch(instance)):
        raise InvalidInput(
            "login may hold only a-z, 0-9, '_', '.', '-' (and '@instance' for online accounts)",
            field="login",
            reason="login_invalid",
        )
    return login


INTERNAL_LOGINS = frozenset({NO_OWNER})
"""Owner keys the core files data under that are not accounts: an account with one of
these logins would own that data (``_no_owner_`` is the instance's own playlist)."""


def is_internal(login: str) -> bool:
    """Whether ``login`` is one of :data:`INTERNAL_LOGINS`: an account holding it (made
    before they were refused) cannot sign in, and its data is not its own."""
    return login in INTERNAL_LOGINS


def check_new_login(text: object) -> str:
    """:func:`normalize_login` for a login an account is given (created, renamed, a named
    guest), InvalidInput(reason=login_invalid) for the core's own keys: those of
    :data:`INTERNAL_LOGINS` and, for keys to come, any shaped like them (``_name_``)."""
    login = normalize_login(text)
    if is_internal(login) or (len(login) > 1 and login[0] == login[-1] == "_"):
        raise InvalidInput(
            f"the login {login!r} is reserved", field="login", reason="login_invalid"
        )
    return login


def is_online(login: str) -> bool:
    return "@" in login


def home_instance(login: str) -> str:
    return login.rpartition("@")[2]


def local_part(login: str) -> str:
    return login.rpartition("@")[0] if "@" in login else login


@cache
def _language_codes() -> frozenset[str]:
    codes = set()
    for language in pycountry.languages:
        if hasattr(language, "alpha_2"):
            codes.add(getattr(language, "bibliographic", language.alpha_3))
    return frozenset(codes)


def check_language(value: Any, field: str) -> str | None:
    """An ISO 639-2/B code (``fre``, ``eng``, ``ger``…) or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in _language_codes():
        raise InvalidInput(f"{field} must be an ISO 639-2/B code such as 'eng'", field=field)
    return value.lower()


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate editable fields; unknown keys are refused, so nothing is silently dropped."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE_FIELDS:
            raise InvalidInput(f"{key} cannot be edited", field=key)
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise InvalidInput(f"{key} must be true or false", field=key)
            clean[key] = value
        elif key in ("main_series_lang", "fallback_series_lang"):
            clean[key] = check_language(value, key)
        elif key == "nickname":
            clean[key] = check_nickname(value)
        elif key == "email":
            clean[key] = check_email(value)
        elif key == "social_networks":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str | int | None) for k, v in value.items()
            ):
                raise InvalidInput("social_networks must map names to strings", field=key)
            clean[key] = value
        elif key == "anime_list_to_fetch":
            if value not in (*ANIME_LIST_SOURCES, None):
                raise InvalidInput(
                    f"{key} must be one of {', '.join(ANIME_LIST_SOURCES)}", field=key
                )
            clean[key] = value
        else:
            clean[key] = _text(key, value, _TEXT_FIELDS.get(key, 255))
    return clean


def check_nickname(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
        raise InvalidInput("nickname must have 1 to 64 characters", field="nickname")
    return value.strip()


def check_email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or len(value.strip()) > 254
        or not _EMAIL.fullmatch(value.strip())
    ):
        raise InvalidInput("email is not a valid address", field="email")
    return value.strip().lower()


def _text(key: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{key} must be text of at most {limit} characters", field=key)
    return value

"""What the commands show of users and playlist items (``password_hash`` never appears).

Times are ISO 8601 UTC strings with milliseconds (``2024-05-04T12:09:11.000Z``), as the
original server's JSON dates are; its client tests expect ``last_login_at`` a string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tidecast.core.accounts import AccountService
from tidecast.core.playlists import PlaylistItem
from tidecast.core.users import User


def iso_time(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def list_view(user: User) -> dict[str, Any]:
    """``getUsers``: the list projection. ``flag_online`` is the seed's name for
    ``flag_logged_in`` (the original server's); both are sent."""
    logged_in = AccountService.logged_in_recently(user)
    return {
        "type": user.type,
        "login": user.login,
        "nickname": user.nickname,
        "avatar_file": user.avatar_file,
        "last_login_at": iso_time(user.last_login_at),
        "flag_temporary": user.flag_temporary,
        "flag_public": user.flag_public,
        "flag_logged_in": logged_in,
        "flag_online": logged_in,
    }


def full_view(user: User, *, private: bool) -> dict[str, Any]:
    """``getUser`` / ``getMyAccount``. ``private`` (the owner or an operator) also shows
    the email address and the anime list's titles (which an instance holding an online
    account copies from its home), which other users do not see."""
    view = {
        **list_view(user),
        "bio": user.bio,
        "url": user.url,
        "email": user.email if private else None,
        "main_series_lang": user.main_series_lang,
        "fallback_series_lang": user.fallback_series_lang,
        "flag_tutorial_done": user.flag_tutorial_done,
        "flag_sendstats": user.flag_sendstats,
        "location": user.location,
        "language": user.language,
        "flag_parentsonly": user.flag_parentsonly,
        "flag_displayfavorites": user.flag_displayfavorites,
        "social_networks": dict(user.social_networks),
        "banner": user.banner,
        "anime_list_to_fetch": user.anime_list_to_fetch,
        "anime_list_user": user.anime_list_user,
        "anime_list_last_modified_at": iso_time(user.anime_list_last_modified_at),
        "anime_list_ids": list(user.anime_list_ids),
    }
    if private:
        view["anime_list_titles"] = list(user.anime_list_titles)
    return view


def item_view(item: PlaylistItem) -> dict[str, Any]:
    """A playlist item in ``getAnimeList``'s ``content``."""
    return {
        "id": item.id,
        "title": item.display_title or item.title,
        "original_title": item.title,
        "description": item.description,
        "content_id": item.content_id,
        "infohash": item.infohash,
        "url": item.url,
        "hls_manifest_url": item.hls_manifest_url,
        "dash_manifest_url": item.dash_manifest_url,
        "video_url": item.video_url,
        "file_index": item.file_index,
        "transport_type": item.transport_type,
        "content_type": item.content_type,
        "is_live": item.is_live,
        "category": item.category,
        "subcategory": item.subcategory,
        "tags": list(item.tags),
        "poster": item.poster,
        "languages": item.languages,
        "countries": item.countries,
        "is_favorite": item.is_favorite,
        "created_at": iso_time(item.created_at),
        "updated_at": iso_time(item.updated_at),
    }

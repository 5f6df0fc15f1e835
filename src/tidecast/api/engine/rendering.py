"""Shapes of engine API results: playlist items and external playlists as clients read them."""

from __future__ import annotations

from typing import Any

from tidecast.core.playback_links import playback_path
from tidecast.core.playlists import PlaylistItem


def render_item(item: PlaylistItem, base_url: str, *, in_trash: bool = False) -> dict[str, Any]:
    """A playlist item with the seed's fields (``playlist_get`` / ``playlist_trash_get``)."""
    icons: list[dict[str, Any]] = []
    if item.logo_file or item.tvg_logo or item.poster:
        icons.append(
            {
                "url": f"{base_url}/server/api?method=get_channel_icon&id={item.id}",
                "type": 0 if item.logo_file or item.tvg_logo else 1,
            }
        )
    data: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "display_title": item.display_title,
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
        "tvg_id": item.tvg_id,
        "tvg_name": item.tvg_name,
        "tvg_logo": item.tvg_logo,
        "languages": item.languages,
        "countries": item.countries,
        "is_favorite": item.is_favorite,
        "enabled": item.enabled,
        "locked": item.locked,
        "is_deleted": item.is_deleted,
        "auto_search": item.auto_search,
        "show_autosearch": item.transport_type == "bt",
        "is_multi_vod": False,
        "is_multi_tfile": item.file_index is not None,
        "is_wrapped_url": 0,
        "external_playlist_id": item.external_playlist_id
        if item.external_playlist_id is not None
        else -1,
        "playback_url": base_url + playback_path(item),
        "owner": item.owner,
        "extra": dict(item.extra),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }
    if not in_trash:
        data["hash"] = item.hash
        data["hash_v2"] = item.hash_v2
        data["icons"] = icons
    return data

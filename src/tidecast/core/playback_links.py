"""Where a playlist item plays: the engine playback endpoint that serves it.

Paths are relative; each surface prefixes the scheme, host and port the client used.
"""

from __future__ import annotations

from urllib.parse import urlencode

from tidecast.storage.playlist_repo import ItemRow


def playback_path(item: ItemRow) -> str:
    params: dict[str, str] = {}
    if item.transport_type == "hls" and item.hls_manifest_url:
        return "/hls/manifest.m3u8?" + urlencode({"manifest_url": item.hls_manifest_url})
    if item.content_id:
        params["content_id"] = item.content_id
    elif item.infohash and not (item.url and item.url.startswith("magnet:")):
        params["infohash"] = item.infohash
    elif item.url and item.url.startswith("magnet:"):
        params["magnet"] = item.url
    elif item.url:
        params["url"] = item.url
    elif item.video_url or item.dash_manifest_url:
        params["direct_url"] = item.video_url or item.dash_manifest_url or ""
    if item.file_index is not None:
        params["_idx"] = str(item.file_index)
    return "/ace/getstream?" + urlencode(params)


def descriptor_path(
    *, content_id: str | None = None, infohash: str | None = None, url: str | None = None
) -> str:
    """Playback path for a bare descriptor (open_in_player without a playlist item)."""
    if content_id:
        return "/ace/getstream?" + urlencode({"content_id": content_id})
    if infohash:
        return "/ace/getstream?" + urlencode({"infohash": infohash})
    if url:
        key = "magnet" if url.startswith("magnet:") else "url"
        return "/ace/getstream?" + urlencode({key: url})
    return ""


def reference_of(item: ItemRow) -> str | None:
    """The item's content as an ``analyze_content`` query (acestream link, magnet or URL)."""
    if item.content_id:
        return f"acestream://{item.content_id}"
    if item.url:
        return item.url
    if item.infohash:
        return f"acestream:?infohash={item.infohash}"
    return item.hls_manifest_url or item.video_url or item.dash_manifest_url

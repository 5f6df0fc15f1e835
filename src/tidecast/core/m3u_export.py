"""The playlist as an M3U file, readable by VLC, Kodi and IPTV players."""

from __future__ import annotations

from collections.abc import Iterable

from tidecast.core.playback_links import playback_path
from tidecast.storage.playlist_repo import ItemRow


def _line(value: str) -> str:
    """One M3U line's worth of text: a CR, LF or NUL would start a line of its own."""
    return value.replace("\r", " ").replace("\n", " ").replace("\x00", "")


def _attr(value: str) -> str:
    return _line(value).replace('"', "'")


def export_m3u(items: Iterable[ItemRow], base_url: str) -> str:
    """``#EXTM3U`` with one ``#EXTINF`` per enabled item, pointing at tidecast's playback URL."""
    lines = ["#EXTM3U"]
    for item in items:
        if not item.enabled:
            continue
        attributes = []
        if item.tvg_id:
            attributes.append(f'tvg-id="{_attr(item.tvg_id)}"')
        if item.tvg_name:
            attributes.append(f'tvg-name="{_attr(item.tvg_name)}"')
        if item.tvg_logo:
            attributes.append(f'tvg-logo="{_attr(item.tvg_logo)}"')
        if item.category:
            attributes.append(f'group-title="{_attr(item.category)}"')
        title = _line(item.display_title or item.title)
        duration = -1 if item.is_live != 0 else 0
        head = f"#EXTINF:{duration}" + (" " + " ".join(attributes) if attributes else "")
        lines.append(f"{head},{title}")
        lines.append(_line(base_url + playback_path(item)))
    return "\n".join(lines) + "\n"

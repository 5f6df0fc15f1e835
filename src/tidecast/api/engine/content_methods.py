"""Content methods of the engine API: analysis, media files, content ids, icons, EPG sources."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.responses import Response

from tidecast.api.engine.dispatch import Call, Method
from tidecast.api.engine.envelope import error_value, lookup
from tidecast.api.engine.params import Param
from tidecast.core.content import TRANSPORT_FILE_LIMIT, Analysis
from tidecast.core.deferred_analysis import analyze_items
from tidecast.core.errors import InvalidInput, MissingParameter, TidecastError

MAX_BATCH = 50
"""Queries or items analysed in one call: each may fetch a URL."""


async def _analysis_dict(call: Call, query: str, title: str | None) -> dict[str, Any]:
    return _render_analysis(
        await call.services.content.analyze(
            query, caller_is_local=call.caller.is_local, title=title
        )
    )


def _render_analysis(a: Analysis) -> dict[str, Any]:
    return {
        "content_type": a.content_type,
        "transport_type": a.transport_type,
        "content_id": a.content_id,
        "infohash": a.infohash,
        "item_url": a.item_url,
        "title": a.title,
        "is_live": a.is_live,
        "categories": list(a.categories),
    }


async def analyze_content(call: Call) -> Any:
    return await _analysis_dict(call, call.params.required_str("query"), call.params.str("title"))


async def analyze_deferred_playlist_items(call: Call) -> Any:
    ids = call.params.int_list("playlist_item_id")
    if not ids:
        raise MissingParameter("missing parameter: playlist_item_id", field="playlist_item_id")
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} items at once", field="playlist_item_id")
    found = await analyze_items(
        call.services.playlists, call.services.content, ids, caller_is_local=call.caller.is_local
    )
    items: list[dict[str, Any]] = []
    for entry in found:
        if entry.analysis is not None:
            items.append({"id": entry.item_id, "result": _render_analysis(entry.analysis)})
        elif entry.error is not None:
            _status, code = lookup(entry.error)
            message = error_value(entry.error.message, code, max(call.api_version, 2))
            items.append({"id": entry.item_id, "error": message})
    return {"items": items}


async def analyze_content_multi(call: Call) -> Any:
    queries = call.params.raw_all("query")
    if not queries:
        raise MissingParameter("missing parameter: query", field="query")
    if len(queries) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} queries at once", field="query")
    results: list[dict[str, Any]] = []
    for query in queries:
        try:
            results.append({"result": await _analysis_dict(call, query, None)})
        except TidecastError as exc:
            _status, code = lookup(exc)
            results.append({"error": error_value(exc.message, code, max(call.api_version, 2))})
    return results


def _transport_data(call: Call) -> bytes | None:
    raw = call.params.str("transport_file_data")
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "transport_file_data must be base64", field="transport_file_data"
        ) from None


async def get_media_files(call: Call) -> Any:
    p = call.params
    upload = p.file("file")
    data = _transport_data(call)
    if upload is not None:
        data = await upload.read(TRANSPORT_FILE_LIMIT + 1)
    full = p.str("mode") == "full"
    dump = bool(p.bool("dump_transport_file"))
    media = await call.services.content.media_files(
        content_id=p.str("content_id") or p.str("id"),
        infohash=p.str("infohash"),
        url=p.str("url"),
        magnet=p.str("magnet"),
        data=data,
        caller_is_local=call.caller.is_local,
        include_data=full or dump,
    )
    if call.api_version < 1:
        # The legacy shape python-acestream also reads: index -> file name.
        return {str(f.index): f.filename for f in media.files}
    files: list[dict[str, Any]] = []
    for f in media.files:
        entry: dict[str, Any] = {
            "index": f.index,
            "filename": f.filename,
            "size": f.size,
            "mime": f.mime,
        }
        if full:
            entry.update(
                infohash=media.infohash, type=media.type, transport_type=media.transport_type
            )
        files.append(entry)
    result: dict[str, Any] = {
        "files": files,
        "name": media.name,
        "infohash": media.infohash,
        "content_id": media.content_id,
        "transport_type": media.transport_type,
        "type": media.type,
        "transport_file_cache_key": None,
    }
    if media.transport_file_data is not None:
        result["transport_file_data"] = base64.b64encode(media.transport_file_data).decode()
    return result


async def get_content_id(call: Call) -> Any:
    p = call.params
    content_id = await call.services.content.content_id(
        infohash=p.str("infohash"),
        url=p.str("url"),
        playlist_item_id=p.int("playlist_item_id"),
        caller_is_local=call.caller.is_local,
    )
    return {"content_id": content_id}


async def get_channel_icon(call: Call) -> Any:
    p = call.params
    item_id, name, item_hash = p.int("id"), p.str("common_name"), p.str("item_hash")
    if item_id is None and not name and not item_hash:
        raise MissingParameter("one of id, common_name or item_hash is required")
    data, mime = await call.services.icons.icon(
        item_id=item_id,
        common_name=name,
        item_hash=item_hash,
        caller_is_local=call.caller.is_local,
    )
    return Response(data, media_type=mime, headers={"Cache-Control": "max-age=86400"})


async def parse_m3u_playlist(call: Call) -> Any:
    sources = await call.services.external.epg_sources(
        call.params.required_str("url"), caller_is_local=call.caller.is_local
    )
    return {"epg_sources": sources}


_DESCRIPTORS = (
    Param("content_id", description="Content ID (SHA-1 of the transport file)"),
    Param("id", description="Deprecated alias of content_id"),
    Param("infohash", description="Infohash"),
    Param("url", description="URL of the transport file"),
    Param("magnet", description="Magnet link"),
)

METHODS = (
    Method(
        "analyze_content",
        analyze_content,
        "Analyze the content a query points at.",
        public=True,
        remote=True,
        params=(
            Param(
                "query",
                required=True,
                description="acestream://, acestream:?…, magnet, 40-hex id or URL",
            ),
            Param("title", description="Title to report"),
        ),
    ),
    Method(
        "analyze_content_multi",
        analyze_content_multi,
        "Analyze several queries.",
        public=True,
        remote=True,
        params=(Param("query", "repeated", True, "Repeat for each item"),),
    ),
    Method(
        "analyze_deferred_playlist_items",
        analyze_deferred_playlist_items,
        "Analyse playlist items now and record liveness and ids found (per-item results). "
        "Needs the token: it writes to the playlist and shows items' URLs.",
        public=False,
        remote=True,
        params=(
            Param("playlist_item_id", "int_list", True, "Repeat or comma-separate"),
            Param("use_media_groups", "boolean", description="Accepted and ignored"),
        ),
    ),
    Method(
        "get_media_files",
        get_media_files,
        "Files of a transport file.",
        public=True,
        remote=True,
        params=(
            *_DESCRIPTORS,
            Param("mode", description="brief (default) or full"),
            Param("expand_wrapper", "boolean"),
            Param("dump_transport_file", "boolean"),
            Param("analyze_content", "boolean"),
            Param("create_wrappers", "boolean"),
            Param("transport_file_data", description="Base64 transport file (POST JSON)"),
            Param("file", "file", description="Transport file upload (tidecast)"),
        ),
    ),
    Method(
        "get_content_id",
        get_content_id,
        "Content ID of a transport file or playlist item.",
        public=True,
        remote=True,
        params=(Param("playlist_item_id", "integer"), Param("infohash"), Param("url")),
    ),
    Method(
        "get_channel_icon",
        get_channel_icon,
        "The item's logo or poster (image).",
        public=True,
        remote=True,
        params=(
            Param("id", "integer", description="Playlist item id"),
            Param("common_name", description="Item title or tvg-name"),
            Param("item_hash", description="Item hash"),
        ),
    ),
    Method(
        "parse_m3u_playlist",
        parse_m3u_playlist,
        "EPG sources of an M3U playlist.",
        public=True,
        remote=True,
        params=(Param("url", required=True),),
    ),
)

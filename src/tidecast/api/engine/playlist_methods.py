"""Playlist methods of the engine API (``playlist_*``), import/export and tasks."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from tidecast.api.engine.dispatch import Call, Method
from tidecast.api.engine.params import Param
from tidecast.api.engine.rendering import render_item
from tidecast.core.content import TRANSPORT_FILE_LIMIT
from tidecast.core.errors import InvalidInput, MissingParameter
from tidecast.core.m3u_export import export_m3u
from tidecast.core.playlists import ItemChanges, ItemFilter, NewItem, check_owner

_OWNER = Param(
    "owner", description="Playlist owner (`_no_owner_` or a login); default `_no_owner_`"
)
_ID = Param("id", "integer", True, "Item ID")
_VALUE = Param("value", "boolean", True, "New value")
_MEDIA_GROUPS = Param("use_media_groups", "boolean", description="Accepted and ignored")


def _owner(call: Call) -> str:
    return check_owner(call.params.str("owner"))


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{upload.filename or 'file'} is over {limit} bytes")
    return data


async def playlist_add_item(call: Call) -> Any:
    p = call.params
    services = call.services
    new = NewItem(
        title=p.str("title") or "",
        description=p.str("description") or "",
        content_id=p.str("content_id"),
        infohash=p.str("infohash"),
        hls_manifest_url=p.str("hls_manifest_url"),
        dash_manifest_url=p.str("dash_manifest_url"),
        video_url=p.str("video_url"),
        is_live=-1 if (is_live := p.int("is_live")) is None else is_live,
        category=p.str("category"),
        subcategory=p.str("subcategory") or "",
        tags=p.json_list("tags") or [],
        poster=p.str("poster") or "",
        auto_search=bool(p.bool("auto_search")),
    )
    if new.is_live not in (-1, 0, 1):
        raise InvalidInput("is_live must be -1, 0 or 1", field="is_live")
    transport = p.file("file")
    if transport is not None:
        data = await _read_upload(transport, TRANSPORT_FILE_LIMIT)
        parsed = await services.content.remember(data)
        new.content_id = parsed.content_id
        new.infohash = parsed.infohash
        new.title = new.title or parsed.name
    if (new.content_id or new.infohash) and not (new.infohash and new.title):
        known = await services.content.known(content_id=new.content_id, infohash=new.infohash)
        if known is not None:
            new.infohash = new.infohash or known.infohash
            new.title = new.title or known.name
    logo = p.file("logo_file")
    if logo is not None:
        new.logo_file = await services.icons.store_upload(
            await _read_upload(logo, services.settings.image_max_bytes)
        )
    return await services.playlists.add_item(_owner(call), new)


async def playlist_update_item(call: Call) -> Any:
    p = call.params
    changes = ItemChanges(
        title=p.str("title"),
        poster=p.str("poster"),
        auto_search=p.bool("auto_search"),
        is_favorite=p.bool("is_favorite"),
        tags=p.json_list("tags") if p.str("tags") is not None else None,
    )
    logo = p.file("logo_file")
    if logo is not None:
        changes.logo_file = await call.services.icons.store_upload(
            await _read_upload(logo, call.services.settings.image_max_bytes)
        )
    viewer = (
        await call.services.engine_session.favorites_viewer()
        if changes.is_favorite is not None
        else 0
    )
    await call.services.playlists.update_item(p.required_int("id"), changes, viewer=viewer)
    return True


async def playlist_delete_item(call: Call) -> Any:
    await call.services.playlists.delete_items([call.params.required_int("id")], None)
    return "ok"


async def playlist_delete_items(call: Call) -> Any:
    ids = call.params.int_list("ids")
    if not ids:
        raise MissingParameter("missing parameter: ids", field="ids")
    await call.services.playlists.delete_items(ids, _owner(call))
    return "ok"


async def playlist_restore_item(call: Call) -> Any:
    await call.services.playlists.restore_item(call.params.required_int("id"), _owner(call))
    return "ok"


async def playlist_trash_get(call: Call) -> Any:
    page = await call.services.playlists.page(ItemFilter(owner=_owner(call), deleted=True))
    return {"data": [render_item(i, call.base_url, in_trash=True) for i in page.items]}


async def playlist_trash_clear(call: Call) -> Any:
    await call.services.playlists.clear_trash(_owner(call))
    return "ok"


async def playlist_get(call: Call) -> Any:
    p = call.params
    limit = p.int("limit")
    offset = p.int("offset") or 0
    if (limit is not None and limit < 0) or offset < 0:
        raise InvalidInput("offset and limit must not be negative")
    flt = ItemFilter(
        owner=_owner(call),
        viewer=await call.services.engine_session.viewer(),
        category=p.str("category"),
        search=p.str("search"),
        favorites_only=bool(p.bool("favorites")),
        offset=offset,
        limit=limit,
    )
    page = await call.services.playlists.page(flt)
    return {
        "total_items": page.total_items,
        "playlist": [render_item(i, call.base_url) for i in page.items],
    }


async def playlist_clear(call: Call) -> Any:
    await call.services.playlists.clear(_owner(call))
    return "ok"


async def _set_flag(call: Call, flag: str, *, many: bool = False) -> None:
    p = call.params
    if many:
        ids = p.int_list("ids")
        if not ids:
            raise MissingParameter("missing parameter: ids", field="ids")
    else:
        ids = [p.required_int("id")]
    owner = p.str("owner")
    await call.services.playlists.set_flag(
        ids, check_owner(owner) if owner else None, flag, p.required_bool("value")
    )


async def playlist_item_set_favorite(call: Call) -> Any:
    p = call.params
    owner = p.str("owner")
    viewer = await call.services.engine_session.favorites_viewer()
    await call.services.playlists.set_favorite(
        [p.required_int("id")],
        check_owner(owner) if owner else None,
        viewer,
        p.required_bool("value"),
    )
    return True


async def playlist_item_set_enabled(call: Call) -> Any:
    await _set_flag(call, "enabled")
    return True


async def playlist_items_set_enabled(call: Call) -> Any:
    await _set_flag(call, "enabled", many=True)
    return True


async def playlist_item_set_locked(call: Call) -> Any:
    await _set_flag(call, "locked")
    return True


async def playlist_item_set_auto_search(call: Call) -> Any:
    if not call.params.str("owner"):
        raise MissingParameter("missing parameter: owner", field="owner")
    await _set_flag(call, "auto_search")
    return "ok"


async def playlist_import(call: Call) -> Any:
    upload = call.params.file("file")
    if upload is None:
        raise MissingParameter("missing parameter: file (multipart upload)", field="file")
    owner = _owner(call)
    services = call.services
    path = await services.imports.spool(upload.file, services.settings.upload_max_bytes)
    return {"task_id": await services.imports.start_import(owner, path)}


async def playlist_export(call: Call) -> Any:
    page = await call.services.playlists.page(ItemFilter(owner=_owner(call)))
    body = export_m3u(page.items, call.base_url)
    return Response(
        body,
        media_type="audio/x-mpegurl",
        headers={"Content-Disposition": 'attachment; filename="playlist.m3u"'},
    )


async def get_task(call: Call) -> Any:
    task = await call.services.tasks.get(call.params.required_int("task_id"))
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state,
        "progress": task.progress,
        "result": task.result,
        "error": task.error,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


_ADD_PARAMS = (
    Param("title", description="Title (defaults to the transport file's name)"),
    Param("description"),
    Param("content_id"),
    Param("infohash"),
    Param("file", "file", description="Transport file (.torrent) upload"),
    Param("logo_file", "file", description="Logo image (PNG, JPEG, GIF, WebP, ICO)"),
    _MEDIA_GROUPS,
    Param("auto_search", "boolean"),
    Param("is_live", "integer", description="0 VOD, 1 live, -1 unknown"),
    Param("hls_manifest_url"),
    Param("dash_manifest_url"),
    Param("video_url"),
    Param("category"),
    Param("subcategory"),
    Param("tags", "json_list", description="JSON-encoded list of strings"),
    Param("poster", description="Poster URL"),
    _OWNER,
)

METHODS = (
    Method(
        "playlist_add_item",
        playlist_add_item,
        "Add an item to the playlist; returns its id.",
        public=False,
        remote=True,
        params=_ADD_PARAMS,
    ),
    Method(
        "playlist_update_item",
        playlist_update_item,
        "Update an item (title sets the display title).",
        public=False,
        remote=True,
        params=(
            _ID,
            Param("logo_file", "file"),
            Param("title"),
            Param("poster"),
            Param("auto_search", "boolean"),
            Param("is_favorite", "boolean"),
            _MEDIA_GROUPS,
            Param("tags", "json_list"),
        ),
    ),
    Method(
        "playlist_delete_item",
        playlist_delete_item,
        "Move an item to the trash.",
        public=False,
        remote=True,
        params=(_ID, _MEDIA_GROUPS),
    ),
    Method(
        "playlist_delete_items",
        playlist_delete_items,
        "Move items to the trash (all or none).",
        public=False,
        remote=True,
        params=(_OWNER, Param("ids", "int_list", True, "Item ids, comma separated")),
    ),
    Method(
        "playlist_restore_item",
        playlist_restore_item,
        "Restore an item from the trash.",
        public=False,
        remote=True,
        params=(_OWNER, _ID),
    ),
    Method(
        "playlist_trash_get",
        playlist_trash_get,
        "Get the trash.",
        public=False,
        remote=True,
        params=(_OWNER,),
    ),
    Method(
        "playlist_trash_clear",
        playlist_trash_clear,
        "Clear the trash.",
        public=False,
        remote=True,
        params=(_OWNER,),
    ),
    Method(
        "playlist_get",
        playlist_get,
        "Get the playlist.",
        public=False,
        remote=True,
        params=(
            _OWNER,
            Param("category", description="Only this category (tidecast)"),
            Param("search", description="Title contains (tidecast)"),
            Param("favorites", "boolean", description="Favorites only (tidecast)"),
            Param("offset", "integer", description="Skip this many (tidecast)"),
            Param("limit", "integer", description="At most this many (tidecast)"),
        ),
    ),
    Method(
        "playlist_clear",
        playlist_clear,
        "Delete all items for good (locked items stay).",
        public=False,
        remote=True,
        params=(_OWNER,),
    ),
    Method(
        "playlist_item_set_favorite",
        playlist_item_set_favorite,
        "Set or remove favorite.",
        public=False,
        remote=True,
        params=(_ID, _VALUE, _MEDIA_GROUPS, _OWNER),
    ),
    Method(
        "playlist_item_set_enabled",
        playlist_item_set_enabled,
        "Enable or disable an item.",
        public=False,
        remote=True,
        params=(_ID, _VALUE, _MEDIA_GROUPS, _OWNER),
    ),
    Method(
        "playlist_items_set_enabled",
        playlist_items_set_enabled,
        "Enable or disable several items.",
        public=False,
        remote=True,
        params=(Param("ids", "int_list", True), _VALUE, _MEDIA_GROUPS, _OWNER),
    ),
    Method(
        "playlist_item_set_locked",
        playlist_item_set_locked,
        "Lock or unlock an item.",
        public=False,
        remote=True,
        params=(_ID, _VALUE, _MEDIA_GROUPS, _OWNER),
    ),
    Method(
        "playlist_item_set_auto_search",
        playlist_item_set_auto_search,
        "Enable or disable auto-search.",
        public=False,
        remote=True,
        params=(_ID, _VALUE, Param("owner", required=True, description="Playlist owner")),
    ),
    Method(
        "playlist_import",
        playlist_import,
        "Import an M3U upload in the background; returns task_id.",
        public=False,
        remote=True,
        params=(Param("file", "file", True, "Playlist file (M3U)"), _OWNER),
    ),
    Method(
        "playlist_export",
        playlist_export,
        "The playlist as an M3U file (tidecast).",
        public=False,
        remote=True,
        params=(_OWNER,),
        extension=True,
    ),
    Method(
        "get_task",
        get_task,
        "State of a background task: running|done|failed, progress 0-100, result (tidecast).",
        public=False,
        remote=True,
        params=(Param("task_id", "integer", True),),
        extension=True,
    ),
)

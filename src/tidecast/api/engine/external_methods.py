"""External playlist methods of the engine API (``external_playlist_*``)."""

from __future__ import annotations

from typing import Any

from tidecast.api.engine.dispatch import Call, Method
from tidecast.api.engine.params import Param
from tidecast.core.playlists import NO_OWNER

# The engine token stands for the instance's own playlist owner until accounts sign in.
_CALLER_OWNER = NO_OWNER


async def external_playlist_add(call: Call) -> Any:
    p = call.params
    update_now = p.bool("update_now")
    return await call.services.external.add(
        _CALLER_OWNER,
        type=p.required_str("type"),
        category=p.required_str("category"),
        name=p.required_str("name"),
        url=p.required_str("url"),
        update_interval=p.required_int("update_interval"),
        update_now=True if update_now is None else update_now,
        login=p.str("login") or "",
        password=p.str("password") or "",
        caller_is_local=call.caller.is_local,
    )


async def external_playlist_edit(call: Call) -> Any:
    p = call.params
    await call.services.external.edit(
        p.required_int("id"),
        category=p.required_str("category"),
        name=p.required_str("name"),
        update_interval=p.required_int("update_interval"),
        login=p.str("login"),
        password=p.str("password"),
        caller_is_local=call.caller.is_local,
    )
    return "ok"


async def external_playlist_get(call: Call) -> Any:
    playlists = await call.services.external.get(call.params.int("id"), viewer=_CALLER_OWNER)
    return {
        "playlist": [
            {
                "id": pl.id,
                "type": pl.type,
                "category": pl.category,
                "name": pl.name,
                "url": pl.url,
                "login": pl.login,
                "password": pl.password,
                "update_interval": pl.update_interval,
                "updated_at": pl.updated_at,
                "last_update": pl.last_update,
                "next_update": pl.next_update,
                "last_error": pl.last_error,
                "item_count": pl.item_count,
            }
            for pl in playlists
        ]
    }


async def external_playlist_delete(call: Call) -> Any:
    await call.services.external.delete(call.params.required_int("id"))
    return "ok"


async def external_playlist_update(call: Call) -> Any:
    await call.services.external.update(call.params.required_int("id"))
    return "ok"


async def update_all_external_playlists(call: Call) -> Any:
    return {"task_id": await call.services.external.update_all(_CALLER_OWNER)}


_ID = Param("id", "integer", True, "Playlist ID")
_EDITABLE = (
    Param("category", required=True, description="Playlist category"),
    Param("name", required=True, description="Playlist name"),
    Param("update_interval", "integer", True, "Update interval in seconds"),
    Param("login", description="Login for HTTP Basic authentication"),
    Param("password", description="Password for HTTP Basic authentication"),
)

METHODS = (
    Method(
        "external_playlist_add",
        external_playlist_add,
        "Add an external playlist; returns its id.",
        public=False,
        remote=True,
        params=(
            Param("type", required=True, description="content or broadcast"),
            Param("url", required=True, description="URL of the playlist"),
            *_EDITABLE,
            Param("update_now", "boolean", description="Default: true"),
        ),
    ),
    Method(
        "external_playlist_edit",
        external_playlist_edit,
        "Edit an external playlist.",
        public=False,
        remote=True,
        params=(_ID, *_EDITABLE),
    ),
    Method(
        "external_playlist_get",
        external_playlist_get,
        "One external playlist, or all (password shown to its owner only).",
        public=False,
        remote=True,
        params=(Param("id", "integer", description="Optional playlist ID"),),
    ),
    Method(
        "external_playlist_delete",
        external_playlist_delete,
        "Delete an external playlist and everything it imported.",
        public=False,
        remote=True,
        params=(_ID,),
    ),
    Method(
        "external_playlist_update",
        external_playlist_update,
        "Fetch the playlist now and update its items.",
        public=False,
        remote=True,
        params=(_ID,),
    ),
    Method(
        "update_all_external_playlists",
        update_all_external_playlists,
        "Update every external playlist in the background; returns task_id.",
        public=False,
        remote=True,
    ),
)

"""Engine service methods: version, status, access switches, token, players."""

from __future__ import annotations

from typing import Any

from tidecast.api.engine.dispatch import Call, Method
from tidecast.api.engine.params import Param
from tidecast.core.errors import MissingParameter
from tidecast.core.instance import ALLOW_INTRANET, ALLOW_REMOTE, VERSION
from tidecast.core.playback_links import descriptor_path, playback_path


def version_dict() -> dict[str, Any]:
    return {
        "code": VERSION.code,
        "platform": VERSION.platform,
        "version": VERSION.version,
        "tidecast_version": VERSION.tidecast_version,
    }


async def get_version(call: Call) -> Any:
    return version_dict()


async def get_api_access_token(call: Call) -> Any:
    return {"token": call.services.engine_token.reveal()}


async def set_allow_remote_access(call: Call) -> Any:
    await call.services.switches.set(ALLOW_REMOTE, call.params.required_bool("value"))
    return "ok"


async def set_allow_intranet_access(call: Call) -> Any:
    await call.services.switches.set(ALLOW_INTRANET, call.params.required_bool("value"))
    return "ok"


async def get_status(call: Call) -> Any:
    return {"playlist_loaded": call.services.ready, "version": version_dict()}


async def get_network_connection_status(call: Call) -> Any:
    return {"connected": await call.services.probe.connected()}


async def get_available_players(call: Call) -> Any:
    return {
        "players": [
            {"id": p.id, "name": p.name, "type": p.type, "protocol": p.protocol, "icon": p.icon}
            for p in call.services.players.available()
        ]
    }


async def open_in_player(call: Call) -> Any:
    params = call.params
    player_id = params.required_str("player_id")
    item_id = params.int("playlist_item_id")
    if item_id is not None:
        path = playback_path(await call.services.playlists.get_item(item_id))
    else:
        path = descriptor_path(
            content_id=params.str("content_id"),
            infohash=params.str("infohash"),
            url=params.str("url"),
        )
    if not path:
        raise MissingParameter("one of content_id, infohash, url or playlist_item_id is required")
    # The player runs on this host: it reaches us on loopback, whatever Host the caller used.
    local_base = f"http://127.0.0.1:{call.services.settings.port}"
    await call.services.players.open(player_id, local_base + path)
    return "ok"


_DESCRIPTOR = (
    Param("content_id", description="Content ID"),
    Param("infohash", description="Infohash"),
    Param("url", description="URL of the transport file"),
)

METHODS = (
    Method(
        "get_api_access_token",
        get_api_access_token,
        "Get a token to access private methods.",
        public=True,
        remote=False,
        cors=False,
    ),
    Method(
        "set_allow_remote_access",
        set_allow_remote_access,
        "Allow API access from the Internet.",
        public=False,
        remote=False,
        params=(Param("value", "boolean", True, "New value for this option"),),
    ),
    Method(
        "set_allow_intranet_access",
        set_allow_intranet_access,
        "Allow API access from the intranet.",
        public=False,
        remote=False,
        params=(Param("value", "boolean", True, "New value for this option"),),
    ),
    Method("get_status", get_status, "Get engine status.", public=True, remote=True),
    Method(
        "get_version", get_version, "Get engine version.", public=True, remote=True, extension=True
    ),
    Method(
        "get_network_connection_status",
        get_network_connection_status,
        "Whether the engine is connected to the Internet (a real, cached TCP probe).",
        public=True,
        remote=True,
    ),
    Method(
        "get_available_players",
        get_available_players,
        "Media players installed on this host (found on PATH).",
        public=True,
        remote=True,
        params=(Param("content_id", description="Ignored (required by engines < 3.1.70)."),),
    ),
    Method(
        "open_in_player",
        open_in_player,
        "Start playback in the specified player.",
        public=True,
        remote=True,
        params=(
            Param("player_id", required=True, description="Player ID"),
            *_DESCRIPTOR,
            Param("playlist_item_id", "integer", description="Playlist item (tidecast)"),
        ),
    ),
)

WEBUI_METHODS = (
    Method("get_version", get_version, "Get engine version.", public=True, remote=True),
)

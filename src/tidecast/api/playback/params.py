"""Reading a playback request: what to play (the selector) and how (the options).

Parameters come from the query; official clients POST the transport file as JSON
``{"transport_file_data": "<base64>"}``. Unknown parameters are ignored, booleans are
``0/1`` or ``true/false``, and a malformed value is a clear error.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from tidecast.api.bodies import read_json_object
from tidecast.api.engine.params import parse_bool, parse_int
from tidecast.core.content import TRANSPORT_FILE_LIMIT
from tidecast.core.errors import InvalidInput
from tidecast.core.playback import AudioMode, Options, Output, Selector

JSON_BODY_LIMIT = 4 * TRANSPORT_FILE_LIMIT // 3 + 1024


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object a POST carries (empty for GET or another content type)."""
    if request.method != "POST":
        return {}
    return await read_json_object(request, JSON_BODY_LIMIT)


def _text(query: QueryParams, *names: str) -> str | None:
    for name in names:
        value = query.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def parse_flag(query: QueryParams, name: str) -> bool:
    value = query.get(name)
    if value is None or value.strip() == "":
        return False
    return parse_bool(value, name)


def _index(query: QueryParams, name: str) -> int | None:
    value = query.get(name)
    if value is None or value.strip() == "":
        return None
    index = parse_int(value, name)
    if index < 0:
        raise InvalidInput(f"{name} must not be negative", field=name)
    return index


def _indexes(query: QueryParams, name: str) -> tuple[int, ...]:
    values: list[int] = []
    for raw in query.getlist(name):
        text = raw.strip().strip("[]")
        for part in filter(None, (p.strip() for p in text.split(","))):
            value = parse_int(part, name)
            if value < 0:
                raise InvalidInput(f"{name} must not be negative", field=name)
            values.append(value)
    return tuple(values[:1000])


def selector(query: QueryParams, body: dict[str, Any]) -> Selector:
    data = body.get("transport_file_data")
    transport: bytes | None = None
    if data is not None:
        if not isinstance(data, str):
            raise InvalidInput("transport_file_data must be a base64 string")
        try:
            transport = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("transport_file_data is not valid base64") from None
    return Selector(
        content_id=_text(query, "content_id", "id"),
        infohash=_text(query, "infohash"),
        url=_text(query, "url"),
        magnet=_text(query, "magnet"),
        transport_data=transport,
        direct_url=_text(query, "direct_url"),
        manifest_url=_text(query, "manifest_url"),
    )


def options(query: QueryParams, *, output: Output) -> Options:
    audio: AudioMode = "copy"
    if parse_flag(query, "transcode_mp3"):
        audio = "mp3"
    elif parse_flag(query, "transcode_ac3"):
        audio = "ac3"
    elif parse_flag(query, "transcode_audio"):
        audio = "aac"
    index = _index(query, "_idx")
    selected = _indexes(query, "playlist_selected_indexes")
    if index is None and selected:
        index = selected[0]
    pid = _text(query, "pid", "sid")
    if pid is not None and len(pid) > 256:
        raise InvalidInput("pid is too long", field="pid")
    return Options(
        pid=pid,
        output=output,
        audio=audio,
        file_index=index,
        next_file_indexes=_indexes(query, "next_file_indexes"),
        force_restart=parse_flag(query, "force_session_restart"),
    )


def client_session_id(query: QueryParams) -> int:
    raw = query.get("client_session_id", "")
    try:
        return parse_int(raw, "client_session_id") if raw.strip() else -1
    except InvalidInput:
        return -1

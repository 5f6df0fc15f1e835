"""The OpenAPI document of everything tidecast serves, built from the command tables.

A command surface is one path whose ``method`` parameter (engine API) or ``cmd`` field
(user commands) selects the command; each command's parameters are listed under
``x-tidecast-methods`` / ``x-tidecast-commands`` (and in the description), so the
document is generated from the same declarations the dispatchers enforce.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tidecast import __version__
from tidecast.api.admin.openapi_doc import admin_paths
from tidecast.api.commands.command import BodyField, Command, FieldKind
from tidecast.api.commands.routes import IMPORT_ANIME_LIST, IMPORT_FILE
from tidecast.api.commands.table import COMMANDS
from tidecast.api.device.routes import ENDPOINTS as DEVICE_ENDPOINTS
from tidecast.api.engine.dispatch import Method
from tidecast.api.engine.params import Param, ParamKind
from tidecast.api.engine.routes import SERVER_API, WEBUI_SERVICE_API

_SCHEMAS: dict[ParamKind, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "string", "enum": ["0", "1", "true", "false"]},
    "file": {"type": "string", "format": "binary"},
    "int_list": {"type": "string", "pattern": r"^\d+(,\d+)*$"},
    "json_list": {"type": "string", "description": "JSON-encoded list of strings"},
    "repeated": {"type": "string"},
}

_ENVELOPE = {
    "type": "object",
    "properties": {
        "result": {"description": "The method's result; null on error"},
        "error": {
            "description": "null, a message, or with api_version>=2 an object",
            "oneOf": [
                {"type": "null"},
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "code": {"type": "integer"}},
                },
            ],
        },
    },
    "required": ["result", "error"],
}


_RESPONSES = {
    "description": "The envelope; get_channel_icon answers an image and playlist_export an "
    "M3U file; format=jsonp wraps the envelope in the callback",
    "content": {
        "application/json": {"schema": _ENVELOPE},
        "application/javascript": {"schema": {"type": "string"}},
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "audio/x-mpegurl": {"schema": {"type": "string"}},
    },
}


def _param_doc(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description,
        "schema": _SCHEMAS[param.kind],
    }


def _method_doc(method: Method) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": method.summary,
        "public": method.public,
        "remote_access": method.remote,
        "tidecast_extension": method.extension,
        "parameters": [_param_doc(p) for p in method.params if p.kind != "file"],
    }
    uploads = [p for p in method.params if p.kind == "file"]
    if uploads:
        doc["multipart_fields"] = [
            {"name": p.name, "required": p.required, "description": p.description} for p in uploads
        ]
    return doc


def _upload_body(table: Mapping[str, Method]) -> dict[str, Any]:
    """POST bodies: multipart uploads (file parameters) or the JSON transport file."""
    files = {
        p.name: {**_SCHEMAS["file"], "description": p.description}
        for method in table.values()
        for p in method.params
        if p.kind == "file"
    }
    return {
        "required": False,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {**files, "token": {"type": "string"}},
                    "additionalProperties": {"type": "string"},
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "transport_file_data": {
                            "type": "string",
                            "contentEncoding": "base64",
                            "description": "A transport file (get_media_files)",
                        }
                    },
                }
            },
        },
    }


def _surface(path_doc: str, table: Mapping[str, Method], tag: str) -> dict[str, Any]:
    lines = [path_doc, "", "| method | public | remote | parameters |", "|---|---|---|---|"]
    for name, method in sorted(table.items()):
        params = ", ".join(f"{p.name}{'*' if p.required else ''}" for p in method.params)
        lines.append(
            f"| `{name}` | {'yes' if method.public else 'no'} | "
            f"{'yes' if method.remote else 'no'} | {params} |"
        )
    common = [
        {
            "name": "method",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": sorted(table)},
        },
        {
            "name": "api_version",
            "in": "query",
            "required": False,
            "schema": {"type": "integer"},
            "description": "3 makes errors objects",
        },
        {
            "name": "token",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "Access token from get_api_access_token (private methods)",
        },
        {
            "name": "format",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["json", "jsonp"]},
        },
        {"name": "callback", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    operation = {
        "tags": [tag],
        "description": "\n".join(lines),
        "parameters": common,
        "responses": {"200": _RESPONSES},
        "x-tidecast-methods": {name: _method_doc(m) for name, m in sorted(table.items())},
    }
    return {
        "get": {**operation, "operationId": f"{tag}_get"},
        "post": {**operation, "operationId": f"{tag}_post", "requestBody": _upload_body(table)},
    }


_FIELD_SCHEMAS: dict[FieldKind, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "code": {"type": ["string", "integer"]},
    "avatar": {
        "oneOf": [
            {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
            {"type": "string"},
        ]
    },
    "any": {},
}
_ROLE_BADGES = {0: "Operator user required", 1: "Normal user required", 2: "Authentication needed"}
_MODE_BADGES = {
    "closed": "Frontend can be closed, restricted or open",
    "restricted": "Frontend needs to be restricted or open",
    "open": "Frontend needs to be open",
}
_COMMAND_ENVELOPE = {
    "type": "object",
    "properties": {
        "err": {"type": "boolean"},
        "data": {
            "description": "The result; an action's is {code: 200, message: {code, data?}}; "
            "on error {code, message?: {code, data?} or {<field>: [why]}}"
        },
    },
    "required": ["err", "data"],
}


def _access_badge(command: Command) -> str:
    if command.access == "required":
        return _ROLE_BADGES[int(command.role)]
    if command.access == "optional":
        return "No authentication needed (a token is used when given)"
    return "No authentication needed"


def _field_doc(spec: BodyField) -> dict[str, Any]:
    return {
        "name": spec.name,
        "required": spec.required,
        "description": spec.description,
        "schema": _FIELD_SCHEMAS[spec.kind],
    }


def _command_doc(command: Command) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": command.summary,
        "authentication": command.access,
        "role": ["operator", "user", "guest"][int(command.role)],
        "mode": command.mode,
        "badges": [_access_badge(command), _MODE_BADGES[command.mode]],
        "error_code": command.error,
        "fields": [_field_doc(spec) for spec in command.fields],
        "passthrough": command.passthrough,
    }
    if command.success:
        doc["success_code"] = command.success
    if command.alias_of:
        doc["alias_of"] = command.alias_of
    return doc


def _command_paths() -> dict[str, Any]:
    names = sorted(COMMANDS)
    lines = [
        "User commands (seed 003). The same commands travel over Socket.IO at /socket.io/: "
        "the event name is the command, its argument the payload below, the reply the ack.",
        "",
        "Errors: {err: true, data: {code, message: {code, data?}}} with HTTP status data.code. "
        "A missing token answers {code: 401} alone; an invalid one 401 USER_UNKNOWN; a role "
        "too low 403 ADMIN_PLEASE or NOT_GUEST; a closed frontend 503 "
        "WEBAPPMODE_CLOSED_API_MESSAGE (operators always pass); a field that fails "
        "validation {code: 400, message: {<field>: [why]}}.",
        "",
        "| command | authentication | frontend | body fields |",
        "|---|---|---|---|",
    ]
    for name in names:
        command = COMMANDS[name]
        fields = ", ".join(f"{f.name}{'*' if f.required else ''}" for f in command.fields)
        lines.append(
            f"| `{name}` | {_access_badge(command)} | {_MODE_BADGES[command.mode]} | {fields} |"
        )
    payload = {
        "type": "object",
        "properties": {
            "body": {"type": "object", "description": "The command's fields"},
            "authorization": {"type": "string", "description": "Token answered by login"},
            "onlineAuthorization": {
                "type": "string",
                "description": "Online token, for login@instance accounts",
            },
        },
    }
    command_post = {
        "operationId": "commands_post",
        "tags": ["commands"],
        "description": "\n".join(lines),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "cmd": {"type": "string", "enum": names},
                            "body": payload,
                        },
                        "required": ["cmd"],
                    }
                }
            },
        },
        "responses": {
            "default": {
                "description": "The envelope, with HTTP status data.code on error",
                "content": {"application/json": {"schema": _COMMAND_ENVELOPE}},
            }
        },
        "x-tidecast-commands": {name: _command_doc(COMMANDS[name]) for name in names},
    }
    import_post = {
        "operationId": "import_file",
        "tags": ["commands"],
        "description": IMPORT_FILE.summary,
        "parameters": [
            {
                "name": "authorization",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "Token answered by login",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "The stored file, multer-style; path is its key",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                name: {"type": "integer" if name == "size" else "string"}
                                for name in (
                                    "fieldname",
                                    "originalname",
                                    "encoding",
                                    "mimetype",
                                    "filename",
                                    "path",
                                    "size",
                                )
                            },
                        }
                    }
                },
            },
            "default": {
                "description": "The command envelope's error",
                "content": {"application/json": {"schema": _COMMAND_ENVELOPE}},
            },
        },
        "x-tidecast-commands": {IMPORT_FILE.name: _command_doc(IMPORT_FILE)},
    }
    avatar_get = {
        "operationId": "avatar",
        "tags": ["commands"],
        "description": "An uploaded avatar, by the key /api/importFile answered.",
        "parameters": [
            {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {"description": "The image", "content": {"image/*": {"schema": {}}}},
            "404": {"description": "No such avatar"},
        },
    }
    anime_post = {
        **import_post,
        "operationId": "importAnimeList",
        "description": IMPORT_ANIME_LIST.summary,
        "responses": {
            "200": {
                "description": "The command envelope: ANIME_LIST_IMPORTED",
                "content": {"application/json": {"schema": _COMMAND_ENVELOPE}},
            },
            "default": {
                "description": "The command envelope's error",
                "content": {"application/json": {"schema": _COMMAND_ENVELOPE}},
            },
        },
        "x-tidecast-commands": {IMPORT_ANIME_LIST.name: _command_doc(IMPORT_ANIME_LIST)},
    }
    return {
        "/api/command": {"post": command_post},
        "/api/importFile": {"post": import_post},
        "/api/importAnimeList": {"post": anime_post},
        "/avatars/{key}": {"get": avatar_get},
    }


_PLAYBACK_PARAMS: tuple[tuple[str, str, str], ...] = (
    ("format", "string", "redirect (default: 302 to the playback URL) or json"),
    ("content_id", "string", "Content id (alias: id)"),
    ("id", "string", "Alias of content_id (deprecated)"),
    ("infohash", "string", "Info-hash; metadata comes from the swarm when unknown"),
    ("url", "string", "Transport file URL (or an HLS / media URL)"),
    ("magnet", "string", "Magnet link"),
    ("direct_url", "string", "HTTP(S) media URL relayed with Range passed through"),
    ("pid", "string", "Player id: each gets its own session (alias: sid)"),
    ("sid", "string", "Alias of pid (deprecated)"),
    ("_idx", "integer", "File index in a multi-file torrent (default: the largest video)"),
    ("playlist_selected_indexes", "string", "File indexes; the first plays"),
    ("next_file_indexes", "string", "File indexes fetched in the background"),
    ("transcode_audio", "boolean", "Re-encode the audio to AAC"),
    ("transcode_mp3", "boolean", "Re-encode the audio to MP3"),
    ("transcode_ac3", "boolean", "Re-encode the audio to AC-3"),
    ("use_api_events", "boolean", "Add event_url to the answer"),
    ("force_session_restart", "boolean", "Start a new session for this pid"),
    ("client_session_id", "integer", "Echoed in the answer"),
    ("access_key", "string", "Access key from POST /api/key (on nodes, require_subscription)"),
)

_SESSION_PATHS: tuple[tuple[str, str], ...] = (
    ("/ace/r/{infohash}/{key}", "The stream of a session (Range honoured; 206 / 416)."),
    ("/ace/m/{infohash}/{key}.m3u8", "The HLS playlist of a session."),
    ("/ace/c/{infohash}/{key}/{name}", "A segment of a session's HLS remux."),
    ("/ace/h/{infohash}/{key}/{token}", "A resource of a relayed HLS source (signed token)."),
    (
        "/ace/stat/{infohash}/{key}",
        "Session status: status, peers, speeds (KB/s), bytes, progress.",
    ),
    ("/ace/cmd/{infohash}/{key}", "Session command: method=stop (also set_stream)."),
    ("/ace/event/{infohash}/{key}", "Session events (long poll, up to 15 s)."),
)


def _playback_paths() -> dict[str, Any]:
    """The playback API: starting a session, and the URLs a session hands out."""
    parameters = [
        {"name": name, "in": "query", "description": text, "schema": {"type": kind}}
        for name, kind, text in _PLAYBACK_PARAMS
    ]
    responses = {
        "200": {"description": "format=json: {response, error} with the session URLs"},
        "302": {"description": "Redirect to the playback URL"},
    }

    def start(operation: str, summary: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation,
                "tags": ["playback"],
                "summary": summary,
                "parameters": parameters,
                "responses": responses,
            }
        }

    paths = {
        "/ace/getstream": start("getstream", "Start playback: progressive HTTP."),
        "/ace/manifest.m3u8": start("manifest", "Start playback: HLS (torrents remuxed)."),
        "/hls/manifest.m3u8": start("hls_manifest", "Play an HLS source (manifest_url)."),
    }
    paths["/hls/manifest.m3u8"]["get"]["parameters"] = [
        {"name": "manifest_url", "in": "query", "required": True, "schema": {"type": "string"}},
        *parameters,
    ]
    for path, summary in _SESSION_PATHS:
        names = re.findall(r"\{(\w+)\}", path)
        paths[path] = {
            "get": {
                "operationId": "session_" + path.split("/")[2],
                "tags": ["playback"],
                "summary": summary,
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                    for name in names
                ],
                "responses": {"200": {"description": summary}},
            }
        }
    return paths


def _device_paths() -> dict[str, Any]:
    """The device API (seed 002), from its endpoint table."""
    paths: dict[str, Any] = {}
    for endpoint in DEVICE_ENDPOINTS:
        operation: dict[str, Any] = {
            "operationId": "device_" + endpoint.path.rsplit("/", 1)[-1],
            "tags": ["device"],
            "summary": endpoint.summary,
            "responses": {
                "200": {"description": "JSON"},
                "default": {
                    "description": '401 {"message": "Unauthenticated."}, 422 {message, '
                    'errors}, otherwise {"error": "..."} (a sign-in that needs a two-factor '
                    'code adds "two_factor": true)'
                },
            },
        }
        if endpoint.auth:
            operation["description"] = "Requires authentication: Authorization: Bearer <token>."
        if endpoint.method == "POST":
            properties: dict[str, Any] = {name: {} for name in endpoint.required}
            properties |= {name: {"description": doc} for name, doc in endpoint.optional}
            schema: dict[str, Any] = {"type": "object", "properties": properties}
            if endpoint.required:
                schema["required"] = list(endpoint.required)
            operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
        paths[endpoint.path] = {endpoint.method.lower(): operation}
    return paths


def openapi_document() -> dict[str, Any]:
    server_api = _surface("Engine service API (seed 000).", SERVER_API, "engine")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tidecast",
            "version": __version__,
            "description": "Every API surface tidecast serves on one port.",
        },
        "paths": {
            "/server/api": server_api,
            "/service/api": _surface("Alias of /server/api.", SERVER_API, "engine_alias"),
            "/webui/api/service": _surface(
                "Engine service API (get_version).", WEBUI_SERVICE_API, "webui_service"
            ),
            **_command_paths(),
            **_playback_paths(),
            **_device_paths(),
            **admin_paths(),
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "tags": ["meta"],
                    "responses": {"200": {"description": "This document"}},
                }
            },
            "/docs": {
                "get": {
                    "operationId": "docs",
                    "tags": ["meta"],
                    "responses": {"200": {"description": "This document as HTML"}},
                }
            },
        },
    }

"""The OpenAPI document of everything tidecast serves, built from the command tables.

A command surface is one path whose ``method`` parameter selects the command; each
command's parameters are listed under ``x-tidecast-methods`` (and in the description),
so the document is generated from the same declarations the dispatcher enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidecast import __version__
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

"""The OpenAPI description of ``/api.php``, built from the command table.

Each command is listed under ``x-tidecast-commands`` with its parameters, who may call
it and its own error codes, in the shape ``/docs`` renders for command surfaces.
"""

from __future__ import annotations

from typing import Any

from tidecast.api.admin.command import Command, ErrorCode, Param, ParamKind
from tidecast.api.admin.dispatch import API_KEYS, COMMAND, SESSION_ID
from tidecast.api.admin.envelope import CLASSES, REASONS
from tidecast.api.admin.routes import PATH
from tidecast.api.admin.table import COMMANDS

_SCHEMAS: dict[ParamKind, dict[str, Any]] = {
    "string": {"type": "string"},
    "secret": {"type": "string", "format": "password"},
    "integer": {"type": "string", "pattern": r"^\d+$"},
    "boolean": {"type": "string", "enum": ["true", "false", "yes", "no", "1", "0"]},
    "id_list": {"type": "string", "pattern": r"^\d+(,\d+)*$"},
}

_ENVELOPE = {
    "type": "object",
    "properties": {
        "Success": {"type": "boolean"},
        "ErrorCode": {
            "oneOf": [{"const": 0}, {"type": "array", "items": {"type": "integer"}}],
            "description": "0, or one code per problem",
        },
        "ErrorText": {
            "oneOf": [{"const": ""}, {"type": "array", "items": {"type": "string"}}],
            "description": "'', or the message of each code",
        },
        "Errors": {
            "type": "array",
            "description": "Hard failures (HTTP 4xx/5xx) only",
            "items": {
                "type": "object",
                "properties": {"Code": {"type": "integer"}, "Message": {"type": "string"}},
            },
        },
    },
    "required": ["Success", "ErrorCode", "ErrorText"],
    "additionalProperties": True,
}

_COMMON = (
    Param(COMMAND, "string", "Noun.Verb, in any case", required=True),
    Param("ResponseFormat", "string", "JSON (default) or XML"),
    Param("JSONPCallBack", "string", "Wrap the JSON in this JavaScript function call"),
    Param(SESSION_ID, "secret", "From Admin.Login (operator commands)"),
    *(Param(name, "secret", "An admin API key, instead of SessionID") for name in API_KEYS),
)


def _param_doc(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "required": param.required,
        "description": param.description,
        "schema": _SCHEMAS[param.kind],
    }


def _codes(command: Command) -> dict[str, str]:
    found: dict[int, str] = {}
    for code in command.errors.values():
        found.setdefault(code.number, code.text or "(the error's message)")
    return {str(number): text for number, text in sorted(found.items())}


def _command_doc(command: Command) -> dict[str, Any]:
    who = "Operator: SessionID or admin API key" if command.auth == "operator" else "Anyone"
    codes = _codes(command)
    badges = [who, "tidecast extension" if command.extension else "seed 001"]
    return {
        "summary": command.summary,
        "authentication": command.auth,
        "badges": badges,
        "error_code": ", ".join(f"{n}: {t}" for n, t in codes.items()) or "global codes only",
        "error_codes": codes,
        "fields": [_param_doc(param) for param in command.params],
        "audit_action": command.audit,
    }


def _global_codes() -> list[ErrorCode]:
    seen: dict[int, ErrorCode] = {}
    for code in (*REASONS.values(), *CLASSES.values()):
        seen.setdefault(code.number, code)
    return [seen[number] for number in sorted(seen)]


def _description() -> str:
    lines = [
        "Admin command API (seed 001, Octeth/Oempro style): Command=Noun.Verb by GET or POST "
        "(form or JSON), command and parameter names in any case. Answers {Success, "
        "ErrorCode, ErrorText, …} as JSON, XML (ResponseFormat=XML) or JSONP (JSONPCallBack).",
        "",
        "Errors travel with HTTP 200 as ErrorCode: [n, …] and ErrorText: [message, …]; hard "
        "failures with 4xx/5xx and Errors: [{Code, Message}] besides. Codes every command "
        "may answer: "
        + "; ".join(f"{c.number} {c.text or '(message)'}" for c in _global_codes())
        + ".",
        "",
        "| command | who | parameters |",
        "|---|---|---|",
    ]
    for command in sorted(COMMANDS.values(), key=lambda c: c.name):
        names = ", ".join(f"{p.name}{'*' if p.required else ''}" for p in command.params)
        lines.append(f"| `{command.name}` | {command.auth} | {names} |")
    return "\n".join(lines)


def admin_paths() -> dict[str, Any]:
    names = sorted(command.name for command in COMMANDS.values())
    properties: dict[str, Any] = {p.name: _SCHEMAS[p.kind] for p in _COMMON}
    properties[COMMAND] = {"type": "string", "enum": names}
    schema = {
        "type": "object",
        "properties": properties,
        "required": [COMMAND],
        "additionalProperties": True,
    }
    responses = {
        "default": {
            "description": "The envelope",
            "content": {
                "application/json": {"schema": _ENVELOPE},
                "application/xml": {"schema": {"type": "string"}},
                "application/javascript": {"schema": {"type": "string"}},
            },
        }
    }
    commands = {
        command.name: _command_doc(command)
        for command in sorted(COMMANDS.values(), key=lambda c: c.name)
    }
    query = [{"in": "query", **_param_doc(param)} for param in _COMMON]
    return {
        PATH: {
            "get": {
                "operationId": "admin_get",
                "tags": ["admin"],
                "summary": "Any admin command, parameters in the query (see POST)",
                "parameters": query,
                "responses": responses,
            },
            "post": {
                "operationId": "admin_post",
                "tags": ["admin"],
                "description": _description(),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": schema},
                        "application/json": {"schema": schema},
                    },
                },
                "responses": responses,
                "x-tidecast-commands": commands,
            },
        }
    }

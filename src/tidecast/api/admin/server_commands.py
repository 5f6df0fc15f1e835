"""Streaming servers: ``Servers.Get``, ``Server.Update``, ``Server.Delete``,
``Server.JoinToken.Create``."""

from __future__ import annotations

from typing import Any

from tidecast.api.admin.command import Call, Command, Param
from tidecast.api.admin.views import server_info
from tidecast.core.audit import AuditAction

_TEXT_CHANGES = (
    ("Name", "name"),
    ("CountryCode", "country_code"),
    ("City", "city"),
    ("BaseURL", "base_url"),
)


async def servers_get(call: Call) -> dict[str, Any]:
    servers = await call.services.servers.list(base_url=call.base_url)
    return {"Servers": [server_info(server) for server in servers]}


async def server_update(call: Call) -> dict[str, Any]:
    p = call.params
    server_id = p.required_int("ServerID", minimum=1)
    call.record.target = f"server:{server_id}"
    changes: dict[str, Any] = {}
    for param, key in _TEXT_CHANGES:
        if p.has(param):
            changes[key] = (p.text(param) or "").strip()
    enabled = p.flag("Enabled")
    if enabled is not None:
        changes["enabled"] = enabled
    call.record.detail = {"fields": sorted(changes)}
    await call.services.servers.update(server_id, **changes)
    server = await call.services.servers.get(server_id, base_url=call.base_url)
    return {"Server": server_info(server)}


async def server_delete(call: Call) -> dict[str, Any]:
    server_id = call.params.required_int("ServerID", minimum=1)
    call.record.target = f"server:{server_id}"
    await call.services.servers.delete(server_id)
    return {}


async def join_token_create(call: Call) -> dict[str, Any]:
    return {"JoinToken": await call.services.servers.create_join_token()}


_SERVER_ID = Param("ServerID", "integer", "ServerID from Servers.Get", required=True)

COMMANDS: tuple[Command, ...] = (
    Command("Servers.Get", servers_get, "This instance and every node that joined it."),
    Command(
        "Server.Update",
        server_update,
        "Change a server: the parameters given change, the others stay. Answers the Server.",
        params=(
            _SERVER_ID,
            Param("Name", "string", "Name shown to clients"),
            Param("CountryCode", "string", "ISO 3166 two-letter code (sets Country)"),
            Param("City", "string", "City"),
            Param("BaseURL", "string", "Where clients reach the server (sets PingURL)"),
            Param("Enabled", "boolean", "Whether clients are offered it"),
        ),
        audit=AuditAction.SERVER_UPDATE,
    ),
    Command(
        "Server.Delete",
        server_delete,
        "Remove a node (its heartbeats are refused from then on).",
        params=(_SERVER_ID,),
        audit=AuditAction.SERVER_DELETE,
    ),
    Command(
        "Server.JoinToken.Create",
        join_token_create,
        "A one-time JoinToken for `tidecast node join` on a new node (shown only here).",
        audit=AuditAction.SERVER_JOIN_TOKEN_CREATE,
    ),
)

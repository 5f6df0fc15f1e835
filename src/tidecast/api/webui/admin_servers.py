"""Streaming servers, for an operator (``/webui/admin/servers``): this instance and its
nodes with their live connections, load and last heartbeat; a join token for a new node;
removing a node.

As ``Server.JoinToken.Create`` and ``Server.Delete`` of the admin command API, audited
under the same actions. A join token is shown once, in the answer to the POST that made
it (it is stored only as a hash), so that answer is a page, not a redirect.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, path_id, refusal, when
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import AuditAction, Record
from tidecast.core.servers import JOIN_TOKEN_SECONDS, Server
from tidecast.core.users import User


@dataclass(frozen=True, slots=True)
class ServerRow:
    """One server as the list shows it."""

    id: int
    name: str
    base_url: str
    is_self: bool
    enabled: bool
    available: bool
    connections: int
    load: str
    heartbeat: str


def server_row(server: Server) -> ServerRow:
    return ServerRow(
        id=server.id,
        name=server.name,
        base_url=server.base_url,
        is_self=server.is_self,
        enabled=server.enabled,
        available=server.is_available,
        connections=server.active_connections,
        load=f"{server.load:.0%}",
        heartbeat="live" if server.is_self else when(server.last_heartbeat_at, "never"),
    )


def join_command(control_url: str, token: str) -> str:
    """The command an operator runs on the new node."""
    return (
        f"tidecast node join {shlex.quote(control_url)} --token {shlex.quote(token)} "
        "--url https://node.example"
    )


def routes(area: AdminArea) -> list[BaseRoute]:
    page = ServersPage(area)
    operator = area.ui.operator
    return [
        Route("/webui/admin/servers", operator(page.show), methods=["GET"]),
        Route("/webui/admin/servers/join-token", operator(page.join_token), methods=["POST"]),
        Route(
            "/webui/admin/servers/{server_id:int}/delete", operator(page.delete), methods=["POST"]
        ),
    ]


class ServersPage:
    def __init__(self, area: AdminArea) -> None:
        self._area = area
        self._servers = area.services.servers
        self._public_url = area.services.settings.public_url

    def _base_url(self, request: Request) -> str:
        return self._public_url.rstrip("/") or str(request.base_url).rstrip("/")

    async def show(self, request: Request, visitor: Visitor, _me: User) -> Response:
        return await self._render(request, visitor)

    async def join_token(self, request: Request, visitor: Visitor, me: User) -> Response:
        await self._area.ui.form(request, visitor)
        action = AuditAction.SERVER_JOIN_TOKEN_CREATE
        token = await self._area.audited(
            visitor, me, action, Record(), self._servers.create_join_token
        )
        return await self._render(
            request, visitor, command=join_command(self._base_url(request), token)
        )

    async def delete(self, request: Request, visitor: Visitor, me: User) -> Response:
        await self._area.ui.form(request, visitor)
        server_id: int = path_id(request, "server_id")
        record = Record(target=f"server:{server_id}")
        try:
            await self._area.audited(
                visitor,
                me,
                AuditAction.SERVER_DELETE,
                record,
                lambda: self._servers.delete(server_id),
            )
        except Exception as exc:
            status, errors = refusal(exc, (), "servers")
            return await self._render(request, visitor, errors=errors, status=status)
        return see_other("/webui/admin/servers")

    async def _render(
        self,
        request: Request,
        visitor: Visitor,
        *,
        command: str | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        servers = await self._servers.list(base_url=self._base_url(request))
        return self._area.render(
            request,
            visitor,
            "admin_servers.html",
            status=status,
            servers=[server_row(server) for server in servers],
            command=command,
            token_minutes=JOIN_TOKEN_SECONDS // 60,
            errors=errors or {},
        )

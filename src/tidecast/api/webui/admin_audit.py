"""The audit log, for an operator (``/webui/admin/audit``): newest first, a page at a time,
optionally of one action (``?action=user.create``) and of one actor (``?actor=root``), as
``AuditLog.Get`` reads it. The action filter suggests the core's action names; any name
may be typed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, pager, when
from tidecast.api.webui.forms import page_number, query_text
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import ACTIONS, AuditEntry
from tidecast.core.users import User

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One audit entry as the page shows it."""

    at: str
    actor: str
    action: str
    target: str
    detail: str
    address: str
    failed: bool


def entry_row(entry: AuditEntry) -> EntryRow:
    return EntryRow(
        at=when(entry.at),
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        detail=json.dumps(entry.detail, sort_keys=True, ensure_ascii=False),
        address=entry.address or "",
        failed=entry.detail.get("result") == "failed",
    )


def routes(area: AdminArea) -> list[BaseRoute]:
    async def show(request: Request, visitor: Visitor, _me: User) -> Response:
        action = query_text(request.query_params, "action", 64)
        actor = query_text(request.query_params, "actor", 255)
        number = page_number(request.query_params.get("page"))
        entries, total = await area.services.audit.entries(
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            action=action or None,
            actor=actor or None,
        )
        paging = pager(
            "/webui/admin/audit", {"action": action, "actor": actor}, number, total, PAGE_SIZE
        )
        return area.render(
            request,
            visitor,
            "admin_audit.html",
            entries=[entry_row(entry) for entry in entries],
            total=total,
            action=action,
            actor=actor,
            actions=ACTIONS,
            pager=paging,
        )

    return [Route("/webui/admin/audit", area.ui.operator(show), methods=["GET"])]

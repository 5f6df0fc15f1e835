"""The audit log, for an operator (``/webui/admin/audit``): newest first, a page at a time,
optionally of one action (``?action=user.create``), as ``AuditLog.Get`` reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, when
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import AuditEntry
from tidecast.core.users import User

PAGE_SIZE = 25
ACTIONS = (
    "admin.login",
    "user.create",
    "user.update",
    "user.delete",
    "plan.create",
    "plan.update",
    "plan.delete",
    "grant.create",
    "grant.revoke",
    "server.join_token.create",
    "server.delete",
    "access.update",
)
"""Suggested in the filter (the log holds others too: any action name may be typed)."""


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


def page_number(text: str | None) -> int:
    """``?page=``: 1 when missing or nonsense (a bookmark of a shorter log still opens)."""
    if text and text.isascii() and text.isdigit() and len(text) < 7:
        return max(int(text), 1)
    return 1


def routes(area: AdminArea) -> list[BaseRoute]:
    async def show(request: Request, visitor: Visitor, _me: User) -> Response:
        action = request.query_params.get("action", "").strip()[:64]
        number = page_number(request.query_params.get("page"))
        entries, total = await area.services.audit.entries(
            offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, action=action or None
        )
        pages = max(1, -(-total // PAGE_SIZE))

        def link(to: int) -> str:
            query = {"action": action, "page": str(to)} if action else {"page": str(to)}
            return "/webui/admin/audit?" + urlencode(query)

        return area.render(
            request,
            visitor,
            "admin_audit.html",
            entries=[entry_row(entry) for entry in entries],
            total=total,
            action=action,
            actions=ACTIONS,
            number=number,
            pages=pages,
            newer=link(number - 1) if number > 1 else None,
            older=link(number + 1) if number < pages else None,
        )

    return [Route("/webui/admin/audit", area.ui.operator(show), methods=["GET"])]

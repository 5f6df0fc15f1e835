"""Subscription plans, for an operator (``/webui/admin/plans``): list, create, edit, delete.

Plans change through the core's subscriptions service as ``Plan.Create``,
``Plan.Update`` and ``Plan.Delete`` of the admin command API do, audited under the same
actions. Plans are granted to accounts on each account's page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, path_id, refusal, when, whole_number
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import AuditAction, Record
from tidecast.core.errors import InvalidInput
from tidecast.core.servers import Server
from tidecast.core.subscriptions import Plan
from tidecast.core.users import User

DEFAULT_COLOR = "#3b82f6"
"""The colour of a new plan unless chosen (the admin command API's default too)."""
PLAN_FIELDS = ("name", "color", "device_limit", "duration_days", "server_ids")
EMPTY_FORM = {"name": "", "color": DEFAULT_COLOR, "device_limit": "0", "duration_days": "30"}


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One plan as the list shows it."""

    id: int
    name: str
    color: str
    device_limit: str
    duration_days: int
    servers: str
    updated: str


def plan_row(plan: Plan, servers: list[Server]) -> PlanRow:
    names = [server.name for server in servers if plan.allows_server(server.id)]
    return PlanRow(
        id=plan.id,
        name=plan.name,
        color=plan.color,
        device_limit=str(plan.device_limit) if plan.device_limit else "no limit",
        duration_days=plan.duration_days,
        servers="every server" if not plan.server_ids else ", ".join(names) or "none left",
        updated=when(plan.updated_at),
    )


def plan_values(form: dict[str, str], servers: list[Server]) -> dict[str, Any]:
    """The core's plan fields from a form; each server is a ``server_<id>`` checkbox
    (forms keep one value per name), none ticked meaning every server."""
    return {
        "name": form.get("name", "").strip(),
        "color": form.get("color", "").strip().lower(),
        "device_limit": whole_number(form.get("device_limit", ""), "device_limit", "Devices"),
        "duration_days": whole_number(form.get("duration_days", ""), "duration_days", "Days"),
        "server_ids": sorted(s.id for s in servers if form.get(f"server_{s.id}") == "on"),
    }


def values_of(plan: Plan) -> dict[str, Any]:
    """A plan's fields as :func:`plan_values` gives them (and as its form shows them)."""
    return {
        "name": plan.name,
        "color": plan.color,
        "device_limit": plan.device_limit,
        "duration_days": plan.duration_days,
        "server_ids": list(plan.server_ids),
    }


def routes(area: AdminArea) -> list[BaseRoute]:
    page = PlansPage(area)
    operator = area.ui.operator
    return [
        Route("/webui/admin/plans", operator(page.show), methods=["GET"]),
        Route("/webui/admin/plans", operator(page.create), methods=["POST"]),
        Route("/webui/admin/plans/{plan_id:int}", operator(page.edit_form), methods=["GET"]),
        Route("/webui/admin/plans/{plan_id:int}", operator(page.update), methods=["POST"]),
        Route("/webui/admin/plans/{plan_id:int}/delete", operator(page.delete), methods=["POST"]),
    ]


class PlansPage:
    def __init__(self, area: AdminArea) -> None:
        self._area = area
        self._plans = area.services.subscriptions
        self._servers = area.services.servers

    async def show(self, request: Request, visitor: Visitor, _me: User) -> Response:
        return await self._list(request, visitor, {**EMPTY_FORM, "server_ids": []}, {})

    async def create(self, request: Request, visitor: Visitor, me: User) -> Response:
        form = await self._area.ui.form(request, visitor)
        servers = await self._servers.list()
        record = Record(target=form.get("name", "").strip())

        async def create() -> None:
            plan = await self._plans.create_plan(**plan_values(form, servers))
            record.target, record.detail = f"plan:{plan.id}", {"name": plan.name}

        try:
            await self._area.audited(visitor, me, AuditAction.PLAN_CREATE, record, create)
        except Exception as exc:
            status, errors = refusal(exc, PLAN_FIELDS, "name")
            return await self._list(request, visitor, _echo(form, servers), errors, status)
        return see_other("/webui/admin/plans")

    async def edit_form(self, request: Request, visitor: Visitor, _me: User) -> Response:
        plan = await self._plans.plan(path_id(request, "plan_id"))
        return await self._edit(request, visitor, plan, values_of(plan), {})

    async def update(self, request: Request, visitor: Visitor, me: User) -> Response:
        plan = await self._plans.plan(path_id(request, "plan_id"))
        form = await self._area.ui.form(request, visitor)
        servers = await self._servers.list()
        record = Record(target=f"plan:{plan.id}")

        async def update() -> None:
            # Only what differs is sent, so the audit log names what really changed.
            old = values_of(plan)
            changes = {k: v for k, v in plan_values(form, servers).items() if v != old[k]}
            record.detail = {"fields": sorted(changes)}
            await self._plans.update_plan(plan.id, **changes)

        echo = _echo(form, servers)
        return await self._after(
            request, visitor, me, plan, (AuditAction.PLAN_UPDATE, record), update, echo, "name"
        )

    async def delete(self, request: Request, visitor: Visitor, me: User) -> Response:
        plan = await self._plans.plan(path_id(request, "plan_id"))
        form = await self._area.ui.form(request, visitor)
        record = Record(target=f"plan:{plan.id}")

        async def delete() -> None:
            if form.get("confirm") != "yes":
                raise InvalidInput(f"tick the box to delete {plan.name}", field="confirm")
            await self._plans.delete_plan(plan.id)

        audit = (AuditAction.PLAN_DELETE, record)
        return await self._after(
            request, visitor, me, plan, audit, delete, values_of(plan), "confirm"
        )

    async def _after(
        self,
        request: Request,
        visitor: Visitor,
        me: User,
        plan: Plan,
        audit: tuple[AuditAction, Record],
        action: Callable[[], Awaitable[None]],
        echo: dict[str, Any],
        default: str,
    ) -> Response:
        try:
            await self._area.audited(visitor, me, *audit, action)
        except Exception as exc:
            status, errors = refusal(exc, (*PLAN_FIELDS, "confirm"), default)
            return await self._edit(request, visitor, plan, echo, errors, status)
        return see_other("/webui/admin/plans")

    async def _list(
        self,
        request: Request,
        visitor: Visitor,
        form: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Response:
        servers = await self._servers.list()
        plans = [plan_row(plan, servers) for plan in await self._plans.plans()]
        return self._area.render(
            request,
            visitor,
            "admin_plans.html",
            status=status,
            plans=plans,
            servers=servers,
            form=form,
            errors=errors,
        )

    async def _edit(
        self,
        request: Request,
        visitor: Visitor,
        plan: Plan,
        form: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
    ) -> Response:
        return self._area.render(
            request,
            visitor,
            "admin_plan.html",
            status=status,
            plan=plan,
            servers=await self._servers.list(),
            form=form,
            errors=errors,
        )


def _echo(form: dict[str, str], servers: list[Server]) -> dict[str, Any]:
    """What the operator typed, to show again around an error."""
    echoed: dict[str, Any] = {name: form.get(name, "") for name in EMPTY_FORM}
    echoed["server_ids"] = [s.id for s in servers if form.get(f"server_{s.id}") == "on"]
    return echoed

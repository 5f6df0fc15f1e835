"""Subscription plans and grants: ``Plans.Get``, ``Plan.Create``, ``Plan.Update``,
``Plan.Delete``, ``Grant.Create``, ``Grant.Revoke``, ``Grants.Get``."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from tidecast.api.admin.command import Call, Command, Param
from tidecast.api.admin.params import Params
from tidecast.api.admin.views import grant_info, iso, plan_info
from tidecast.core.audit import AuditAction

DEFAULT_COLOR = "#3b82f6"


async def plans_get(call: Call) -> dict[str, Any]:
    return {"Plans": [plan_info(plan) for plan in await call.services.subscriptions.plans()]}


async def plan_create(call: Call) -> dict[str, Any]:
    p = call.params
    name = p.required_text("Name").strip()
    call.record.target = name
    plan = await call.services.subscriptions.create_plan(
        name=name,
        color=(p.text("Color") or DEFAULT_COLOR).strip(),
        device_limit=p.required_int("DeviceLimit"),
        duration_days=p.required_int("DurationDays", minimum=1),
        server_ids=p.ids("ServerIDs") or [],
    )
    call.record.target = f"plan:{plan.id}"
    call.record.detail = {"name": plan.name}
    return {"PlanID": plan.id}


def _plan_changes(p: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if p.has("Name"):
        changes["name"] = p.required_text("Name").strip()
    if p.has("Color"):
        changes["color"] = p.required_text("Color").strip()
    if p.has("DeviceLimit"):
        changes["device_limit"] = p.int("DeviceLimit")
    if p.has("DurationDays"):
        changes["duration_days"] = p.int("DurationDays", minimum=1)
    if p.has("ServerIDs"):
        changes["server_ids"] = p.ids("ServerIDs") or []
    return changes


async def plan_update(call: Call) -> dict[str, Any]:
    plan_id = call.params.required_int("PlanID", minimum=1)
    call.record.target = f"plan:{plan_id}"
    changes = _plan_changes(call.params)
    call.record.detail = {"fields": sorted(changes)}
    plan = await call.services.subscriptions.update_plan(plan_id, **changes)
    return {"Plan": plan_info(plan)}


async def plan_delete(call: Call) -> dict[str, Any]:
    plan_id = call.params.required_int("PlanID", minimum=1)
    call.record.target = f"plan:{plan_id}"
    await call.services.subscriptions.delete_plan(plan_id)
    return {}


async def grant_create(call: Call) -> dict[str, Any]:
    p = call.params
    user = await call.services.accounts.get_by_id(p.required_int("UserID", minimum=1))
    plan_id = p.required_int("PlanID", minimum=1)
    call.record.target = user.login
    assert user.id is not None
    grant = await call.services.subscriptions.grant(
        user_id=user.id,
        plan_id=plan_id,
        starts_at=p.int("StartsAt"),
        days=p.int("Days", minimum=1),
        by=call.me.login,
    )
    call.record.detail = {"grant": grant.id, "plan": plan_id}
    return {
        "GrantID": grant.id,
        "StartsOn": iso(grant.starts_at),
        "ExpiresOn": iso(grant.expires_at),
    }


async def grant_revoke(call: Call) -> dict[str, Any]:
    grant_id = call.params.required_int("GrantID", minimum=1)
    call.record.target = f"grant:{grant_id}"
    await call.services.subscriptions.revoke_grant(grant_id)
    return {}


async def grants_get(call: Call) -> dict[str, Any]:
    user = await call.services.accounts.get_by_id(call.params.required_int("UserID", minimum=1))
    assert user.id is not None
    grants = await call.services.subscriptions.grants_of(user.id)
    now = int(time.time())
    return {"Grants": [grant_info(grant, now) for grant in grants]}


_PLAN_ID = Param("PlanID", "integer", "PlanID from Plans.Get", required=True)
_PLAN_FIELDS = (
    Param("Name", "string", "Unique name", required=True),
    Param("DeviceLimit", "integer", "Devices a subscriber may sign in on", required=True),
    Param("DurationDays", "integer", "Days a grant of it lasts by default", required=True),
    Param("Color", "string", "Colour for consoles (#rrggbb)"),
    Param("ServerIDs", "id_list", "Servers it may use (none: every server)"),
)
"""A plan's parameters as Plan.Create needs them; Plan.Update takes each optionally."""

COMMANDS: tuple[Command, ...] = (
    Command("Plans.Get", plans_get, "Every subscription plan."),
    Command(
        "Plan.Create",
        plan_create,
        "A new plan; answers its PlanID.",
        params=_PLAN_FIELDS,
        audit=AuditAction.PLAN_CREATE,
    ),
    Command(
        "Plan.Update",
        plan_update,
        "Change a plan: the parameters given change, the others stay. Answers the Plan.",
        params=(_PLAN_ID, *(replace(param, required=False) for param in _PLAN_FIELDS)),
        audit=AuditAction.PLAN_UPDATE,
    ),
    Command(
        "Plan.Delete",
        plan_delete,
        "Delete a plan.",
        params=(_PLAN_ID,),
        audit=AuditAction.PLAN_DELETE,
    ),
    Command(
        "Grant.Create",
        grant_create,
        "Give an account a plan, from StartsAt (default now) for Days (default: the "
        "plan's duration). Answers GrantID, StartsOn and ExpiresOn.",
        params=(
            Param("UserID", "integer", "The account's UserID", required=True),
            _PLAN_ID,
            Param("Days", "integer", "How many days"),
            Param("StartsAt", "integer", "Start, in UNIX seconds"),
        ),
        audit=AuditAction.GRANT_CREATE,
    ),
    Command(
        "Grant.Revoke",
        grant_revoke,
        "End a grant now.",
        params=(Param("GrantID", "integer", "GrantID from Grants.Get", required=True),),
        audit=AuditAction.GRANT_REVOKE,
    ),
    Command(
        "Grants.Get",
        grants_get,
        "An account's grants, revoked and expired ones included.",
        params=(Param("UserID", "integer", "The account's UserID", required=True),),
    ),
)

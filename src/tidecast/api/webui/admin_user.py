"""One account, for an operator (``/webui/admin/users/<id>``): its type, a new password,
its plans (grants), its devices and deleting it.

Each form calls the core as the admin command API does (``User.Update``,
``Users.Delete``, ``Grant.Create``, ``Grant.Revoke``, ``Devices.Get``,
``Device.Revoke``) and is audited under the same action; the account store's rules
(never removing or demoting the last operator, the ``admin`` account undeletable, online
accounts' passwords kept at their home) decide, and a refusal is shown next to the
form's field with nothing changed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import (
    AdminArea,
    day_of,
    day_start,
    path_id,
    refusal,
    when,
)
from tidecast.api.webui.admin_users import ROLE_CHOICES, user_row
from tidecast.api.webui.forms import whole_number
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import AuditAction, Record
from tidecast.core.devices import Device
from tidecast.core.errors import InvalidInput, NotFound
from tidecast.core.subscriptions import DAY, Grant, Plan
from tidecast.core.users import ROLE_NAMES, ROLES_BY_NAME, Role, User

GRANT_FIELDS = ("plan_id", "starts", "expires")
_CORE_GRANT_FIELDS = {"starts_at": "starts", "days": "expires"}


@dataclass(frozen=True, slots=True)
class GrantRow:
    """One grant as the account's page shows it."""

    id: int
    plan: str
    starts: str
    expires: str
    state: str
    created_by: str
    revocable: bool


def grant_row(grant: Grant, plans: dict[int, Plan], now: int) -> GrantRow:
    state = grant.state(now)
    plan = plans.get(grant.plan_id)
    return GrantRow(
        id=grant.id,
        plan=plan.name if plan else f"plan {grant.plan_id}",
        starts=when(grant.starts_at),
        expires=when(grant.expires_at),
        state=state,
        created_by=grant.created_by or "",
        revocable=state in ("active", "upcoming"),
    )


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device the account signed in on (device API), as its page shows it."""

    id: int
    name: str
    client_id: str
    created: str
    last_seen: str
    revoked: str
    active: bool


def device_row(device: Device) -> DeviceRow:
    return DeviceRow(
        id=device.id,
        name=device.name,
        client_id=device.client_id,
        created=when(device.created_at),
        last_seen=when(device.last_seen_at, "never"),
        revoked=when(device.revoked_at, ""),
        active=device.active,
    )


def grant_days(form: dict[str, str], now: int) -> tuple[int | None, int | None]:
    """``(starts_at, days)`` for the core from the form's dates: an empty start is now, an
    empty expiry the plan's duration; the expiry must be a later day than the start."""
    starts = form.get("starts", "").strip()
    expires = form.get("expires", "").strip()
    starts_at = day_start(starts, "starts", "The start") if starts else None
    if not expires:
        return starts_at, None
    first_day = starts_at if starts_at is not None else day_start(day_of(now), "starts", "")
    days = (day_start(expires, "expires", "The expiry") - first_day) // DAY
    if days < 1:
        raise InvalidInput("the expiry must be at least a day after the start", field="expires")
    return starts_at, days


def routes(area: AdminArea) -> list[BaseRoute]:
    page = UserPage(area)
    operator = area.ui.operator
    base = "/webui/admin/users/{user_id:int}"
    return [
        Route(base, operator(page.show), methods=["GET"]),
        Route(base + "/type", operator(page.change_type), methods=["POST"]),
        Route(base + "/password", operator(page.reset_password), methods=["POST"]),
        Route(base + "/delete", operator(page.delete), methods=["POST"]),
        Route(base + "/grants", operator(page.grant), methods=["POST"]),
        Route(base + "/grants/{grant_id:int}/revoke", operator(page.revoke), methods=["POST"]),
        Route(
            base + "/devices/{device_id:int}/revoke",
            operator(page.revoke_device),
            methods=["POST"],
        ),
    ]


class UserPage:
    def __init__(self, area: AdminArea) -> None:
        self._area = area
        self._accounts = area.services.accounts
        self._subscriptions = area.services.subscriptions
        self._devices = area.services.devices

    async def _user(self, request: Request) -> User:
        return await self._accounts.get_by_id(path_id(request, "user_id"))

    async def show(self, request: Request, visitor: Visitor, _me: User) -> Response:
        return await self._render(request, visitor, await self._user(request))

    async def change_type(self, request: Request, visitor: Visitor, me: User) -> Response:
        user = await self._user(request)
        form = await self._area.ui.form(request, visitor)
        role = ROLES_BY_NAME.get(form.get("role", ""))
        audit = AuditAction.USER_UPDATE, Record(target=user.login, detail={"fields": ["Role"]})

        async def change() -> None:
            if role is None:
                raise InvalidInput("choose a type", field="role")
            await self._accounts.edit(user.login, {"type": int(role)}, actor=me)

        refused = await self._act(request, visitor, me, user, audit, change, "role")
        if refused is not None:
            return refused
        if user.id == me.id and role != Role.OPERATOR:
            return see_other("/webui/watch")  # no longer theirs to see
        return see_other(f"/webui/admin/users/{user.id}?saved=role")

    async def reset_password(self, request: Request, visitor: Visitor, me: User) -> Response:
        user = await self._user(request)
        form = await self._area.ui.form(request, visitor)
        audit = AuditAction.USER_UPDATE, Record(target=user.login, detail={"fields": ["Password"]})

        async def reset() -> None:
            await self._accounts.edit(user.login, {"password": form.get("password", "")}, actor=me)

        refused = await self._act(request, visitor, me, user, audit, reset, "password")
        return refused or see_other(f"/webui/admin/users/{user.id}?saved=password")

    async def delete(self, request: Request, visitor: Visitor, me: User) -> Response:
        user = await self._user(request)
        form = await self._area.ui.form(request, visitor)
        record = Record(target=str(user.id), detail={"logins": [user.login]})
        audit = AuditAction.USER_DELETE, record

        async def delete() -> None:
            if form.get("confirm") != "yes":
                raise InvalidInput(f"tick the box to delete {user.login}", field="confirm")
            await self._accounts.delete(user.login, actor=me)

        refused = await self._act(request, visitor, me, user, audit, delete, "confirm")
        # Deleting one's own account ended this session: the list then asks to sign in.
        return refused or see_other("/webui/admin/users")

    async def grant(self, request: Request, visitor: Visitor, me: User) -> Response:
        user = await self._user(request)
        assert user.id is not None
        user_id = user.id
        form = await self._area.ui.form(request, visitor)
        record = Record(target=user.login)

        async def grant() -> None:
            plan_id = whole_number(form.get("plan_id", ""), "plan_id", "The plan")
            starts_at, days = grant_days(form, int(time.time()))
            made = await self._subscriptions.grant(
                user_id=user_id, plan_id=plan_id, starts_at=starts_at, days=days, by=me.login
            )
            record.detail = {"grant": made.id, "plan": plan_id}

        try:
            await self._area.audited(visitor, me, AuditAction.GRANT_CREATE, record, grant)
        except Exception as exc:
            status, errors = refusal(exc, (*GRANT_FIELDS, *_CORE_GRANT_FIELDS), "plan_id")
            errors = {_CORE_GRANT_FIELDS.get(name, name): text for name, text in errors.items()}
            return await self._render(
                request, visitor, user, errors=errors, status=status, grant_form=form
            )
        return see_other(f"/webui/admin/users/{user_id}#grants")

    async def revoke(self, request: Request, visitor: Visitor, me: User) -> Response:
        user = await self._user(request)
        await self._area.ui.form(request, visitor)
        grant_id: int = path_id(request, "grant_id")
        record = Record(target=f"grant:{grant_id}")
        assert user.id is not None
        user_id = user.id

        async def revoke() -> None:
            # Only a grant of the account in the URL: the page revokes no other's.
            if all(grant.id != grant_id for grant in await self._subscriptions.grants_of(user_id)):
                raise NotFound("no such grant", field="grant_id", reason="grant_not_found")
            await self._subscriptions.revoke_grant(grant_id)

        await self._area.audited(visitor, me, AuditAction.GRANT_REVOKE, record, revoke)
        return see_other(f"/webui/admin/users/{user.id}#grants")

    async def revoke_device(self, request: Request, visitor: Visitor, me: User) -> Response:
        """Sign one of the account's devices out (its token ends, its slot is free)."""
        user = await self._user(request)
        await self._area.ui.form(request, visitor)
        device_id: int = path_id(request, "device_id")
        record = Record(target=f"device:{device_id}")

        async def revoke() -> None:
            if (await self._devices.get(device_id)).user_id != user.id:
                raise NotFound("no such device", field="device_id", reason="device_not_found")
            await self._devices.revoke(device_id)

        await self._area.audited(visitor, me, AuditAction.DEVICE_REVOKE, record, revoke)
        return see_other(f"/webui/admin/users/{user.id}#devices")

    async def _act(
        self,
        request: Request,
        visitor: Visitor,
        me: User,
        user: User,
        audit: tuple[AuditAction, Record],
        action: Callable[[], Awaitable[None]],
        field: str,
    ) -> Response | None:
        """Run an audited change of ``user``: None when done, or the page again with the
        refusal next to ``field``."""
        try:
            await self._area.audited(visitor, me, *audit, action)
        except Exception as exc:
            status, errors = refusal(exc, (field,), field)
            return await self._render(request, visitor, user, errors=errors, status=status)
        return None

    async def _render(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        *,
        errors: dict[str, str] | None = None,
        status: int = 200,
        grant_form: dict[str, str] | None = None,
    ) -> Response:
        assert user.id is not None
        now = int(time.time())
        plans = await self._subscriptions.plans()
        by_id = {plan.id: plan for plan in plans}
        grants = await self._subscriptions.grants_of(user.id)
        current = await self._subscriptions.current(user.id)
        devices = await self._devices.of_user(user.id)
        grant_form = grant_form or {}
        return self._area.render(
            request,
            visitor,
            "admin_user.html",
            status=status,
            account=user_row(user),
            role=ROLE_NAMES[Role(user.type)],
            roles=ROLE_CHOICES,
            errors=errors or {},
            saved=request.query_params.get("saved") if status == 200 else None,
            plans=plans,
            plan_choices=[(plan.id, f"{plan.name} ({plan.duration_days} days)") for plan in plans],
            grants=[grant_row(grant, by_id, now) for grant in reversed(grants)],
            current=current,
            current_expires=when(current.expires_at) if current else "",
            grant_form={name: grant_form.get(name, "") for name in GRANT_FIELDS},
            devices=[device_row(device) for device in devices],
        )

"""Plans and grants: what a user may use, and until when.

A plan names a device limit (0: no limit), a duration and the servers it may use (none
listed: every server). A grant gives one user one plan from ``starts_at`` to
``expires_at`` (default: start plus the plan's duration). A user's current subscription
is the active grant that runs longest. Without one, the instance's default device limit
applies, and streaming needs none unless ``require_subscription`` is set.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

from tidecast.core.errors import Conflict, InvalidInput, NotFound
from tidecast.storage import plans_repo, users_repo
from tidecast.storage.database import Database
from tidecast.storage.plans_repo import GrantRow, PlanRow

DAY = 86_400
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True, slots=True)
class Plan:
    id: int
    name: str
    color: str
    device_limit: int  # 0: no limit
    duration_days: int
    server_ids: tuple[int, ...]  # empty: every server
    created_at: int
    updated_at: int

    def allows_server(self, server_id: int) -> bool:
        return not self.server_ids or server_id in self.server_ids


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    user_id: int
    plan_id: int
    starts_at: int
    expires_at: int
    created_by: str | None
    created_at: int
    revoked_at: int | None

    def state(self, now: int) -> str:
        """``revoked``, ``expired``, ``upcoming`` or ``active`` at time ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "upcoming" if self.starts_at > now else "active"

    def is_active(self, now: int) -> bool:
        return self.state(now) == "active"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's active grant together with its plan."""

    user_id: int
    grant_id: int
    plan: Plan
    starts_at: int
    expires_at: int
    days_left: int


def days_left(expires_at: int, now: int) -> int:
    """Whole days until ``expires_at``, a started day counting as one (0 once expired)."""
    return max(0, math.ceil((expires_at - now) / DAY))


class Subscriptions:
    """Plans, grants and the subscription a user currently has."""

    def __init__(self, db: Database, *, default_device_limit: int, required: bool) -> None:
        self._db = db
        self.default_device_limit = default_device_limit
        self.required = required
        """Whether streaming to non-loopback callers needs an active subscription."""

    # -- plans ---------------------------------------------------------------------------

    async def plans(self) -> list[Plan]:
        async with self._db.read() as conn:
            return [_plan(row) for row in await plans_repo.all_plans(conn)]

    async def plan(self, plan_id: int) -> Plan:
        async with self._db.read() as conn:
            row = await plans_repo.plan_by_id(conn, plan_id)
        if row is None:
            raise NotFound("no such plan", field="plan_id", reason="plan_not_found")
        return _plan(row)

    async def create_plan(
        self, *, name: str, color: str, device_limit: int, duration_days: int, server_ids: list[int]
    ) -> Plan:
        values = _check_plan(
            {
                "name": name,
                "color": color,
                "device_limit": device_limit,
                "duration_days": duration_days,
                "server_ids": server_ids,
            }
        )
        try:
            async with self._db.write() as conn:
                plan_id = await plans_repo.insert_plan(conn, values, int(time.time()))
        except Conflict as exc:
            raise _name_taken() from exc
        return await self.plan(plan_id)

    async def update_plan(self, plan_id: int, **changes: object) -> Plan:
        """Change name, color, device_limit, duration_days or server_ids; NotFound if unknown.

        Grants already given keep their dates; a new duration applies to new grants.
        """
        values = _check_plan(changes)
        if values:
            try:
                async with self._db.write() as conn:
                    found = await plans_repo.update_plan(conn, plan_id, values, int(time.time()))
            except Conflict as exc:
                raise _name_taken() from exc
            if not found:
                raise NotFound("no such plan", field="plan_id", reason="plan_not_found")
        return await self.plan(plan_id)

    async def delete_plan(self, plan_id: int) -> None:
        """Delete a plan and the grants of it; NotFound if unknown."""
        async with self._db.write() as conn:
            found = await plans_repo.delete_plan(conn, plan_id)
        if not found:
            raise NotFound("no such plan", field="plan_id", reason="plan_not_found")

    # -- grants --------------------------------------------------------------------------

    async def grant(
        self,
        *,
        user_id: int,
        plan_id: int,
        starts_at: int | None = None,
        days: int | None = None,
        by: str | None = None,
    ) -> Grant:
        """Give a user a plan from ``starts_at`` (default now) for ``days`` (default the
        plan's duration). NotFound for an unknown user or plan."""
        now = int(time.time())
        start = now if starts_at is None else _integer(starts_at, "starts_at", low=0)
        async with self._db.write() as conn:
            if await users_repo.by_id(conn, user_id) is None:
                raise NotFound("no such user", field="user_id", reason="user_not_found")
            plan = await plans_repo.plan_by_id(conn, plan_id)
            if plan is None:
                raise NotFound("no such plan", field="plan_id", reason="plan_not_found")
            length = plan.duration_days if days is None else _integer(days, "days", low=1)
            values = {
                "user_id": user_id,
                "plan_id": plan_id,
                "starts_at": start,
                "expires_at": start + length * DAY,
                "created_by": by,
                "created_at": now,
            }
            grant_id = await plans_repo.insert_grant(conn, values)
            row = await plans_repo.grant_by_id(conn, grant_id)
        assert row is not None
        return _grant(row)

    async def revoke_grant(self, grant_id: int) -> None:
        """End a grant now (idempotent); NotFound if unknown."""
        async with self._db.write() as conn:
            row = await plans_repo.grant_by_id(conn, grant_id)
            if row is None:
                raise NotFound("no such grant", field="grant_id", reason="grant_not_found")
            if row.revoked_at is None:
                await plans_repo.revoke_grant(conn, grant_id, int(time.time()))

    async def grants_of(self, user_id: int) -> list[Grant]:
        async with self._db.read() as conn:
            return [_grant(row) for row in await plans_repo.grants_of(conn, user_id)]

    # -- what a user has -----------------------------------------------------------------

    async def current(self, user_id: int) -> Subscription | None:
        """The active grant that runs longest, with its plan; None without one."""
        now = int(time.time())
        async with self._db.read() as conn:
            grants = [_grant(row) for row in await plans_repo.grants_of(conn, user_id)]
            active = [grant for grant in grants if grant.is_active(now)]
            if not active:
                return None
            best = max(active, key=lambda g: (g.expires_at, g.id))
            plan = await plans_repo.plan_by_id(conn, best.plan_id)
        assert plan is not None  # grants go with their plan
        return Subscription(
            user_id=user_id,
            grant_id=best.id,
            plan=_plan(plan),
            starts_at=best.starts_at,
            expires_at=best.expires_at,
            days_left=days_left(best.expires_at, now),
        )

    def device_limit(self, subscription: Subscription | None) -> int:
        """Devices the holder of ``subscription`` may sign in on (0: no limit)."""
        return self.default_device_limit if subscription is None else subscription.plan.device_limit


def _name_taken() -> Conflict:
    return Conflict("a plan with this name exists", field="name", reason="plan_exists")


def _check_plan(changes: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > 255:
                raise InvalidInput("name must be 1 to 255 characters", field="name")
            values[key] = value.strip()
        elif key == "color":
            if not isinstance(value, str) or not _COLOR.fullmatch(value):
                raise InvalidInput("color must be #rgb or #rrggbb", field="color")
            values[key] = value.lower()
        elif key == "device_limit":
            values[key] = _integer(value, key, low=0)
        elif key == "duration_days":
            values[key] = _integer(value, key, low=1)
        elif key == "server_ids":
            if not isinstance(value, list | tuple):
                raise InvalidInput("server_ids must be a list of server ids", field=key)
            values[key] = sorted({_integer(item, key, low=1) for item in value})
        else:
            raise InvalidInput(f"unknown plan field {key!r}", field=key)
    return values


def _integer(value: object, field: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{field} must be an integer of at least {low}", field=field)
    return value


def _plan(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        name=row.name,
        color=row.color,
        device_limit=row.device_limit,
        duration_days=row.duration_days,
        server_ids=tuple(row.server_ids),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _grant(row: GrantRow) -> Grant:
    return Grant(
        id=row.id,
        user_id=row.user_id,
        plan_id=row.plan_id,
        starts_at=row.starts_at,
        expires_at=row.expires_at,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )

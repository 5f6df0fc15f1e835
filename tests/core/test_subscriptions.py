"""Plans, grants and the current subscription (core, on SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest

from tidecast.core.errors import Conflict, InvalidInput, NotFound
from tidecast.core.services import Services
from tidecast.core.subscriptions import DAY, Grant, days_left

PASSWORD = "correct horse battery"


async def test_plans_can_be_created_changed_and_deleted(services: Services) -> None:
    subs = services.subscriptions
    plan = await subs.create_plan(
        name="Premium", color="#FFAA00", device_limit=3, duration_days=30, server_ids=[2, 1, 2]
    )
    assert (plan.name, plan.color, plan.device_limit, plan.duration_days) == (
        "Premium",
        "#ffaa00",
        3,
        30,
    )
    assert plan.server_ids == (1, 2)
    assert not plan.allows_server(3) and plan.allows_server(2)
    changed = await subs.update_plan(plan.id, device_limit=5, server_ids=[])
    assert changed.device_limit == 5 and changed.server_ids == () and changed.allows_server(9)
    assert [p.id for p in await subs.plans()] == [plan.id]
    await subs.delete_plan(plan.id)
    assert await subs.plans() == []
    with pytest.raises(NotFound):
        await subs.delete_plan(plan.id)
    with pytest.raises(NotFound):
        await subs.update_plan(plan.id, name="x")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("color", "red"),
        ("device_limit", -1),
        ("device_limit", True),
        ("duration_days", 0),
        ("server_ids", [0]),
        ("server_ids", "1,2"),
        ("price", 3),
    ],
)
async def test_bad_plan_fields_name_the_field(
    services: Services, field: str, value: object
) -> None:
    plan = await services.subscriptions.create_plan(
        name="Basic", color="#000", device_limit=1, duration_days=7, server_ids=[]
    )
    with pytest.raises(InvalidInput) as caught:
        await services.subscriptions.update_plan(plan.id, **{field: value})
    assert caught.value.field == field


async def test_plan_names_are_unique(services: Services) -> None:
    await services.subscriptions.create_plan(
        name="Basic", color="#000", device_limit=1, duration_days=7, server_ids=[]
    )
    with pytest.raises(Conflict) as caught:
        await services.subscriptions.create_plan(
            name="Basic", color="#111", device_limit=2, duration_days=7, server_ids=[]
        )
    assert caught.value.reason == "plan_exists"


async def test_grants_make_the_current_subscription(services: Services) -> None:
    subs = services.subscriptions
    user = await services.accounts.create("alex", PASSWORD, trusted=True)
    assert user.id is not None
    assert await subs.current(user.id) is None
    basic = await subs.create_plan(
        name="Basic", color="#000", device_limit=1, duration_days=30, server_ids=[]
    )
    premium = await subs.create_plan(
        name="Premium", color="#fff", device_limit=4, duration_days=365, server_ids=[]
    )
    now = int(time.time())
    first = await subs.grant(user_id=user.id, plan_id=basic.id, by="admin")
    assert first.expires_at - first.starts_at == 30 * DAY and first.created_by == "admin"
    assert abs(first.starts_at - now) <= 2
    current = await subs.current(user.id)
    assert current is not None and current.plan.name == "Basic" and current.days_left == 30
    # An expired grant and one not started yet do not count; the longest active one wins.
    await subs.grant(user_id=user.id, plan_id=premium.id, starts_at=now - 10 * DAY, days=5)
    await subs.grant(user_id=user.id, plan_id=premium.id, starts_at=now + DAY, days=400)
    assert (await subs.current(user.id)).plan.name == "Basic"  # type: ignore[union-attr]
    longest = await subs.grant(user_id=user.id, plan_id=premium.id, days=90)
    current = await subs.current(user.id)
    assert current is not None and current.grant_id == longest.id
    assert services.subscriptions.device_limit(current) == 4
    await subs.revoke_grant(longest.id)
    await subs.revoke_grant(longest.id)  # idempotent
    assert (await subs.current(user.id)).grant_id == first.id  # type: ignore[union-attr]
    assert len(await subs.grants_of(user.id)) == 4
    assert services.subscriptions.device_limit(None) == services.settings.default_device_limit


async def test_grants_need_a_user_and_a_plan(services: Services) -> None:
    user = await services.accounts.create("alex", PASSWORD, trusted=True)
    assert user.id is not None
    plan = await services.subscriptions.create_plan(
        name="Basic", color="#000", device_limit=1, duration_days=30, server_ids=[]
    )
    with pytest.raises(NotFound):
        await services.subscriptions.grant(user_id=user.id + 100, plan_id=plan.id)
    with pytest.raises(NotFound):
        await services.subscriptions.grant(user_id=user.id, plan_id=plan.id + 100)
    with pytest.raises(InvalidInput):
        await services.subscriptions.grant(user_id=user.id, plan_id=plan.id, days=0)
    with pytest.raises(NotFound):
        await services.subscriptions.revoke_grant(12345)
    # Deleting a plan takes its grants with it.
    await services.subscriptions.grant(user_id=user.id, plan_id=plan.id)
    await services.subscriptions.delete_plan(plan.id)
    assert await services.subscriptions.grants_of(user.id) == []
    assert await services.subscriptions.current(user.id) is None


def test_days_left_counts_a_started_day() -> None:
    assert days_left(1000, 1000) == 0
    assert days_left(1000 + DAY, 1000) == 1
    assert days_left(1000 + DAY + 1, 1000) == 2
    assert days_left(0, 1000) == 0


def test_a_grants_state_follows_its_dates_and_revocation() -> None:
    grant = Grant(
        1, 1, 1, starts_at=100, expires_at=200, created_by=None, created_at=0, revoked_at=None
    )
    assert [grant.state(now) for now in (99, 100, 199, 200)] == [
        "upcoming",
        "active",
        "active",
        "expired",
    ]
    assert [grant.is_active(now) for now in (99, 150, 200)] == [False, True, False]
    revoked = Grant(2, 1, 1, 100, 200, None, 0, revoked_at=120)
    assert revoked.state(150) == "revoked" and not revoked.is_active(150)

"""Signing devices in: tokens per device, rotation, limits, logout and revocation."""

from __future__ import annotations

import asyncio

import pytest

from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    InvalidInput,
    MissingParameter,
    NotFound,
)
from tidecast.core.services import Services
from tidecast.core.users import User
from tidecast.settings import Settings

PASSWORD = "correct horse battery"


async def _user(services: Services, login: str = "alex") -> User:
    return await services.accounts.create(
        login, PASSWORD, email=f"{login}@example.com", trusted=True
    )


async def test_login_by_email_or_login_gives_a_token_per_device(services: Services) -> None:
    user = await _user(services)
    token, device = await services.devices.login(
        "ALEX@example.com", PASSWORD, client_id="uuid-1", name="iPhone 12", address="203.0.113.1"
    )
    assert device.user_id == user.id and device.client_id == "uuid-1" and device.active
    session = await services.devices.session(token)
    assert session.user.id == user.id and session.device.id == device.id
    other_token, other = await services.devices.login(
        "alex", PASSWORD, client_id="uuid-2", name="Pixel", address=None
    )
    assert other.id != device.id and other_token != token
    assert [d.id for d in await services.devices.of_user(user.id)] == [device.id, other.id]  # type: ignore[arg-type]


async def test_the_same_device_again_rotates_its_token(services: Services) -> None:
    await _user(services)
    first, device = await services.devices.login(
        "alex", PASSWORD, client_id="uuid-1", name="iPhone", address=None
    )
    second, again = await services.devices.login(
        "alex", PASSWORD, client_id="uuid-1", name="iPhone 12", address=None
    )
    assert again.id == device.id and again.name == "iPhone 12"
    with pytest.raises(AuthenticationRequired):
        await services.devices.session(first)
    assert (await services.devices.session(second)).device.id == device.id


async def test_bad_credentials_and_fields(services: Services) -> None:
    await _user(services)
    with pytest.raises(AuthenticationRequired) as caught:
        await services.devices.login("alex", "wrong", client_id="d", name="n", address=None)
    assert caught.value.reason == "bad_credentials"
    with pytest.raises(MissingParameter) as missing:
        await services.devices.login("alex", PASSWORD, client_id=" ", name="n", address=None)
    assert missing.value.field == "device_id"
    with pytest.raises(InvalidInput) as long:
        await services.devices.login("alex", PASSWORD, client_id="d", name="n" * 256, address=None)
    assert long.value.field == "device_name"
    for token in (None, "", "nonsense", services.engine_token.reveal()):
        with pytest.raises(AuthenticationRequired):
            await services.devices.session(token)


@pytest.fixture
def settings(make_settings: object) -> Settings:
    return make_settings(default_device_limit=2)  # type: ignore[operator,no-any-return]


async def test_the_device_limit_refuses_a_new_device_until_one_logs_out(
    services: Services,
) -> None:
    await _user(services)

    async def login(client: str) -> tuple[str, object]:
        return await services.devices.login(
            "alex", PASSWORD, client_id=client, name=client, address=None
        )

    await login("a")
    await login("b")
    with pytest.raises(AccessDenied) as caught:
        await login("c")
    assert caught.value.reason == "device_limit" and caught.value.message == (
        "device limit reached (2)"
    )
    await login("a")  # a known device still signs in
    again, _ = await login("b")
    await services.devices.logout(await services.devices.session(again))
    await login("c")  # the freed slot
    with pytest.raises(AccessDenied):
        await login("b")


async def test_concurrent_new_devices_cannot_pass_the_limit(services: Services) -> None:
    await _user(services)
    results = await asyncio.gather(
        *(
            services.devices.login("alex", PASSWORD, client_id=f"c{i}", name="n", address=None)
            for i in range(5)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 2
    assert all(isinstance(r, AccessDenied) for r in results if isinstance(r, BaseException))


async def test_a_plan_sets_the_limit_and_zero_means_none(services: Services) -> None:
    user = await _user(services)
    assert user.id is not None
    plan = await services.subscriptions.create_plan(
        name="Family", color="#000", device_limit=0, duration_days=30, server_ids=[]
    )
    await services.subscriptions.grant(user_id=user.id, plan_id=plan.id)
    for i in range(4):
        await services.devices.login("alex", PASSWORD, client_id=f"c{i}", name="n", address=None)
    await services.subscriptions.update_plan(plan.id, device_limit=4)
    with pytest.raises(AccessDenied):
        await services.devices.login("alex", PASSWORD, client_id="c5", name="n", address=None)


async def test_revoking_a_device_ends_its_token_and_moves_its_key_generation(
    services: Services,
) -> None:
    await _user(services)
    token, device = await services.devices.login(
        "alex", PASSWORD, client_id="a", name="n", address=None
    )
    assert await services.devices.revoked_generations(0) == {}
    await services.devices.revoke(device.id)
    await services.devices.revoke(device.id)  # idempotent
    with pytest.raises(AuthenticationRequired):
        await services.devices.session(token)
    assert await services.devices.revoked_generations(0) == {device.id: 1}
    _, again = await services.devices.login("alex", PASSWORD, client_id="a", name="n", address=None)
    assert again.id == device.id and again.active and again.key_generation == 1
    with pytest.raises(NotFound):
        await services.devices.revoke(device.id + 100)


async def test_own_refuses_other_users_and_revoked_devices(services: Services) -> None:
    alex = await _user(services, "alex")
    sam = await _user(services, "sam")
    _, mine = await services.devices.login("alex", PASSWORD, client_id="a", name="n", address=None)
    _, theirs = await services.devices.login("sam", PASSWORD, client_id="a", name="n", address=None)
    assert (await services.devices.own(alex, str(mine.id))).id == mine.id
    for user, device_id in ((alex, theirs.id), (sam, mine.id), (alex, 999_999)):
        with pytest.raises(AccessDenied) as caught:
            await services.devices.own(user, device_id)
        assert caught.value.reason == "foreign_device"
    await services.devices.revoke(mine.id)
    with pytest.raises(AccessDenied):
        await services.devices.own(alex, mine.id)
    with pytest.raises(InvalidInput):
        await services.devices.own(alex, "twelve")

"""Servers a user may use, access keys for them, and the key check at playback start."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tidecast.core.access import AddressClass, Caller
from tidecast.core.access_keys import KeyClaims, KeySigner
from tidecast.core.devices import Device
from tidecast.core.errors import AccessDenied, NotFound
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.nodes import LINK_SETTING
from tidecast.core.services import Services, build_services
from tidecast.core.users import User
from tidecast.settings import Settings
from tidecast.storage import instance_settings_repo

PASSWORD = "correct horse battery"
LOOPBACK = Caller(ipaddress.ip_address("127.0.0.1"), AddressClass.LOOPBACK)
REMOTE = Caller(ipaddress.ip_address("203.0.113.9"), AddressClass.INTERNET)


async def _signed_in(services: Services, login: str = "alex") -> tuple[User, Device]:
    user = await services.accounts.create(login, PASSWORD, trusted=True)
    _, device = await services.devices.login(
        login, PASSWORD, client_id="phone", name="Phone", address=None
    )
    return user, device


async def _node(services: Services, base: str = "http://node.example") -> int:
    token = await services.servers.create_join_token()
    return (await services.servers.register(token, base_url=base, name="node")).server_id


async def test_servers_follow_the_plan(services: Services) -> None:
    user, device = await _signed_in(services)
    assert user.id is not None
    node = await _node(services)
    everything = await services.entitlements.servers_for(user, device.id, base_url="http://me")
    assert [s.id for s in everything] == [services.servers.self_id, node]
    assert everything[0].base_url == "http://me"
    plan = await services.subscriptions.create_plan(
        name="Node only", color="#000", device_limit=2, duration_days=30, server_ids=[node]
    )
    await services.subscriptions.grant(user_id=user.id, plan_id=plan.id)
    only = await services.entitlements.servers_for(user, str(device.id), base_url="http://me")
    assert [s.id for s in only] == [node]
    with pytest.raises(AccessDenied) as caught:
        await services.entitlements.issue_key(
            user, server_id=services.servers.self_id, device_id=device.id, base_url="http://me"
        )
    assert caught.value.reason == "server_not_allowed"
    issued = await services.entitlements.issue_key(
        user, server_id=node, device_id=device.id, base_url="http://me"
    )
    assert issued.playback_url == f"http://node.example/ace/getstream?access_key={issued.key}"
    await services.servers.update(node, enabled=False)
    assert await services.entitlements.servers_for(user, device.id, base_url="") == []
    with pytest.raises(AccessDenied):
        await services.entitlements.issue_key(
            user, server_id=node, device_id=device.id, base_url=""
        )


async def test_keys_only_for_own_devices_and_known_servers(services: Services) -> None:
    alex, _ = await _signed_in(services, "alex")
    _, sams = await _signed_in(services, "sam")
    me = services.servers.self_id
    with pytest.raises(AccessDenied) as caught:
        await services.entitlements.issue_key(alex, server_id=me, device_id=sams.id, base_url="")
    assert caught.value.reason == "foreign_device"
    with pytest.raises(AccessDenied):
        await services.entitlements.servers_for(alex, sams.id, base_url="")
    _, mine = await services.devices.login(
        "alex", PASSWORD, client_id="tv", name="TV", address=None
    )
    with pytest.raises(NotFound):
        await services.entitlements.issue_key(
            alex, server_id=me + 99, device_id=mine.id, base_url=""
        )


async def test_on_the_control_keys_are_checked_against_the_device(services: Services) -> None:
    user, device = await _signed_in(services)
    me = services.servers.self_id
    check = services.entitlements.check_playback
    issued = await services.entitlements.issue_key(
        user, server_id=me, device_id=device.id, base_url="http://me"
    )
    # Without require_subscription nothing is needed, but a key that is shown must hold.
    await check(None, REMOTE)
    await check(issued.key, REMOTE)
    with pytest.raises(AccessDenied):
        # A character in the middle of the signature changed: the last one may carry only
        # padding bits, so changing it need not change the signature.
        middle = len(issued.key) - 20
        other_char = "A" if issued.key[middle] != "A" else "B"
        await check(issued.key[:middle] + other_char + issued.key[middle + 1 :], LOOPBACK)
    other = await _node(services)
    foreign = await services.entitlements.issue_key(
        user, server_id=other, device_id=device.id, base_url=""
    )
    with pytest.raises(AccessDenied, match="another server"):
        await check(foreign.key, REMOTE)
    await services.devices.revoke(device.id)
    with pytest.raises(AccessDenied, match="revoked"):
        await check(issued.key, REMOTE)
    # Signing in again does not bring the old key back.
    await services.devices.login("alex", PASSWORD, client_id="phone", name="Phone", address=None)
    with pytest.raises(AccessDenied, match="revoked"):
        await check(issued.key, REMOTE)
    fresh = await services.entitlements.issue_key(
        user, server_id=me, device_id=device.id, base_url=""
    )
    await check(fresh.key, REMOTE)


@pytest.fixture
async def strict(make_settings: Callable[..., Settings]) -> AsyncIterator[Services]:
    """An instance with ``require_subscription``."""
    services = build_services(
        make_settings(require_subscription=True, access_key_lifetime_seconds=3600)
    )
    await services.start()
    yield services
    await services.stop()


async def test_require_subscription_needs_keys_and_a_subscription(strict: Services) -> None:
    services = strict
    user, device = await _signed_in(services)
    assert user.id is not None
    me = services.servers.self_id
    check = services.entitlements.check_playback
    await check(None, LOOPBACK)  # loopback always plays
    with pytest.raises(AccessDenied) as caught:
        await check(None, REMOTE)
    assert caught.value.reason == "access_key_required"
    with pytest.raises(AccessDenied) as refused:
        await services.entitlements.issue_key(user, server_id=me, device_id=device.id, base_url="")
    assert refused.value.reason == "no_subscription"
    plan = await services.subscriptions.create_plan(
        name="Month", color="#000", device_limit=2, duration_days=30, server_ids=[]
    )
    grant = await services.subscriptions.grant(
        user_id=user.id, plan_id=plan.id, starts_at=int(time.time()) - 30 * 86400 + 60
    )
    issued = await services.entitlements.issue_key(
        user, server_id=me, device_id=device.id, base_url=""
    )
    # A key never outlives the subscription it was given for.
    assert issued.expires_at == grant.expires_at
    await check(issued.key, REMOTE)
    overview = await services.entitlements.overview(user)
    assert overview.may_stream and overview.device_limit == 2 and len(overview.devices) == 1


async def test_a_node_verifies_keys_of_its_control_offline(services: Services) -> None:
    control = KeySigner(InstanceSecret(b"the control"))
    async with services.db.write() as conn:
        link = {
            "control_url": "http://control.example",
            "server_id": 42,
            "secret": services.secret.encrypt("node_secret"),
            "public_key": control.public_key,
        }
        await instance_settings_repo.store(conn, LINK_SETTING, link, 0)
    await services.node.load()
    check = services.entitlements.check_playback
    now = int(time.time())

    def key(server: int = 42, generation: int = 0, expires: int = now + 60) -> str:
        return control.sign(KeyClaims(1, 7, generation, server, now, expires))

    await check(key(), REMOTE)
    await check(None, LOOPBACK)
    with pytest.raises(AccessDenied, match="required"):
        await check(None, REMOTE)
    with pytest.raises(AccessDenied, match="another server"):
        await check(key(server=41), REMOTE)
    with pytest.raises(AccessDenied, match="expired"):
        await check(key(expires=now - 1), REMOTE)
    forged = KeySigner(InstanceSecret(b"not the control")).sign(
        KeyClaims(1, 7, 0, 42, now, now + 60)
    )
    with pytest.raises(AccessDenied, match="signature"):
        await check(forged, REMOTE)
    services.node.revoked = {7: 1}
    with pytest.raises(AccessDenied, match="revoked"):
        await check(key(), REMOTE)
    await check(key(generation=1), REMOTE)
    await services.node.leave()
    await check(None, REMOTE)

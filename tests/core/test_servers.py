"""Servers: this instance's own row, nodes joining with one-time tokens, heartbeats."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    NotFound,
)
from tidecast.core.services import Services
from tidecast.settings import Settings
from tidecast.storage import servers_repo


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        server_name="Home",
        server_country_code="nl",
        server_city="Amsterdam",
        node_heartbeat_seconds=1.0,
    )


async def test_this_instance_is_a_server(services: Services) -> None:
    [me] = await services.servers.list()
    assert me.id == services.servers.self_id and me.is_self and me.is_available
    assert (me.name, me.country, me.country_code, me.city) == (
        "Home",
        "Netherlands",
        "NL",
        "Amsterdam",
    )
    assert me.base_url == "" and me.active_connections == 0 and 0.0 <= me.load <= 1.0
    [seen] = await services.servers.list(base_url="http://192.0.2.1:6878/")
    assert seen.base_url == "http://192.0.2.1:6878"
    assert seen.ping_url == "http://192.0.2.1:6878/api/ping"
    # Restarting keeps the same row.
    await services.servers.ensure_self()
    assert [s.id for s in await services.servers.list()] == [me.id]
    with pytest.raises(Conflict):
        await services.servers.delete(me.id)


async def test_a_node_joins_once_per_token_and_reports(services: Services) -> None:
    token = await services.servers.create_join_token()
    registration = await services.servers.register(
        token, base_url="http://node.example:6878/", name="Node 1", country_code="DE", city="Berlin"
    )
    with pytest.raises(AccessDenied) as caught:
        await services.servers.register(token, base_url="http://other.example", name="x")
    assert caught.value.reason == "bad_join_token"
    node = await services.servers.get(registration.server_id)
    assert (node.base_url, node.ping_url, node.country) == (
        "http://node.example:6878",
        "http://node.example:6878/api/ping",
        "Germany",
    )
    assert not node.is_available  # no heartbeat yet
    beat = await services.servers.heartbeat(registration.secret, active_connections=3, load=0.5)
    assert beat.is_available and beat.active_connections == 3 and beat.load == 0.5
    for secret in (None, "", "node_wrong"):
        with pytest.raises(AuthenticationRequired):
            await services.servers.heartbeat(secret, active_connections=0, load=0)
    with pytest.raises(InvalidInput):
        await services.servers.heartbeat(registration.secret, active_connections=-1, load=0)
    # Silent for three intervals: unavailable.
    async with services.db.write() as conn:
        await servers_repo.record_heartbeat(
            conn, node.id, active_connections=3, load=0.5, now=int(time.time()) - 4
        )
    assert not (await services.servers.get(node.id)).is_available


async def test_bad_join_tokens_and_fields(services: Services) -> None:
    for token in ("", "join_nonsense", services.engine_token.reveal()):
        with pytest.raises(AccessDenied):
            await services.servers.register(token, base_url="http://n.example", name="n")
    token = await services.servers.create_join_token()
    for base in ("", "ftp://n.example", "http://n.example/?q=1"):
        with pytest.raises(InvalidInput):
            await services.servers.register(token, base_url=base, name="n")
    with pytest.raises(InvalidInput):
        await services.servers.register(token, base_url="http://n", name="n", country_code="XX")
    # Refused fields did not use the token up.
    await services.servers.register(token, base_url="http://n.example", name="n")


async def test_servers_can_be_edited_and_deleted(services: Services) -> None:
    registration = await services.servers.register(
        await services.servers.create_join_token(), base_url="http://n.example", name="n"
    )
    edited = await services.servers.update(
        registration.server_id, name="Renamed", enabled=False, country_code="FR"
    )
    assert (edited.name, edited.enabled, edited.country) == ("Renamed", False, "France")
    explicit = await services.servers.update(
        registration.server_id, country="République française", ping_url="http://p.example/ping"
    )
    assert (explicit.country, explicit.ping_url) == (
        "République française",
        "http://p.example/ping",
    )
    with pytest.raises(InvalidInput):
        await services.servers.update(registration.server_id, ping_url="gopher://x")
    with pytest.raises(InvalidInput):
        await services.servers.update(registration.server_id, secret_hash="x")
    await services.servers.delete(registration.server_id)
    with pytest.raises(NotFound):
        await services.servers.delete(registration.server_id)
    with pytest.raises(NotFound):
        await services.servers.update(registration.server_id, name="x")
    with pytest.raises(AuthenticationRequired):
        await services.servers.heartbeat(registration.secret, active_connections=0, load=0)

"""The device API's routes: one table, named as on the wire.

``/api/login`` signs a device in (with ``code`` too for an account with two-factor on);
every other device endpoint takes its token as ``Authorization: Bearer``. ``/api/nodes/*``
are for tidecast nodes joining this instance and reporting to it; ``/api/ping`` is what
clients time to pick a server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.callers import address_of
from tidecast.api.device import rendering
from tidecast.api.device.envelope import HEADERS, failure, render
from tidecast.api.device.params import bearer, read_body, require, strings
from tidecast.core.devices import DeviceSession
from tidecast.core.services import Services


@dataclass(frozen=True, slots=True)
class Call:
    services: Services
    request: Request
    body: dict[str, Any]
    session: DeviceSession | None

    @property
    def me(self) -> DeviceSession:
        assert self.session is not None
        return self.session

    @property
    def base_url(self) -> str:
        """scheme://host:port as the client addressed us."""
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: Literal["GET", "POST"]
    path: str
    handler: Handler
    summary: str
    auth: bool = True  # a device token is required
    required: tuple[str, ...] = ()  # body fields Laravel's ``required`` rule checks
    optional: tuple[tuple[str, str], ...] = ()  # (name, description) of other fields, for docs


async def login(call: Call) -> Any:
    strings(call.body, "email", "password", "device_name")
    token, device = await call.services.devices.login(
        call.body["email"],
        call.body["password"],
        client_id=_client_id(call.body["device_id"]),
        name=call.body["device_name"],
        address=address_of(call.request, call.services),
        two_factor_code=call.body.get("code"),
    )
    return {"token": token, "device_id": str(device.id)}


async def logout(call: Call) -> Any:
    await call.services.devices.logout(call.me)
    return {"message": "Logged out successfully"}


async def user(call: Call) -> Any:
    overview = await call.services.entitlements.overview(call.me.user)
    return rendering.user(
        call.me.user, devices_used=len(overview.devices), devices_limit=overview.device_limit
    )


async def subscription(call: Call) -> Any:
    overview = await call.services.entitlements.overview(call.me.user)
    return rendering.subscription(
        overview.subscription,
        allowed=overview.may_stream,
        devices_used=len(overview.devices),
        devices_limit=overview.device_limit,
    )


async def user_app(call: Call) -> Any:
    overview = await call.services.entitlements.overview(call.me.user)
    used, limit = len(overview.devices), overview.device_limit
    return {
        "user": rendering.user(call.me.user, devices_used=used, devices_limit=limit),
        "subscription": rendering.subscription(
            overview.subscription,
            allowed=overview.may_stream,
            devices_used=used,
            devices_limit=limit,
        ),
        "devices": [
            rendering.device(device, current=device.id == call.me.device.id)
            for device in overview.devices
        ],
    }


async def servers(call: Call) -> Any:
    found = await call.services.entitlements.servers_for(
        call.me.user, call.body["device_id"], base_url=call.base_url
    )
    return [rendering.server(entry) for entry in found]


async def key(call: Call) -> Any:
    issued = await call.services.entitlements.issue_key(
        call.me.user,
        server_id=call.body["server_id"],
        device_id=call.body["device_id"],
        base_url=call.base_url,
    )
    return rendering.key(issued)


async def ping(_call: Call) -> Any:
    return {"pong": True, "time": int(time.time())}


async def node_join(call: Call) -> Any:
    strings(call.body, "token", "base_url")
    registration = await call.services.servers.register(
        call.body["token"],
        base_url=call.body["base_url"],
        name=call.body.get("name") or "",
        country_code=call.body.get("country_code") or "",
        city=call.body.get("city") or "",
    )
    return {
        "server_id": registration.server_id,
        "secret": registration.secret,
        "public_key": call.services.entitlements.public_key,
        "heartbeat_seconds": call.services.settings.node_heartbeat_seconds,
    }


async def node_heartbeat(call: Call) -> Any:
    server, revoked = await call.services.entitlements.node_heartbeat(
        bearer(call.request),
        active_connections=call.body.get("active_connections", 0),
        load=call.body.get("load", 0.0),
    )
    return {
        "server_id": server.id,
        "revoked_devices": [
            {"device_id": device_id, "generation": generation}
            for device_id, generation in sorted(revoked.items())
        ],
    }


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        "/api/login",
        login,
        "Sign a device in (email or login, password): {token, device_id}. An account with "
        "two-factor on also needs code: without it 401 {error: 'two-factor code required', "
        "two_factor: true}, a wrong one 401 {error: 'invalid two-factor code', two_factor: "
        "true}. A new device past the user's device limit is refused with 403.",
        auth=False,
        required=("email", "password", "device_id", "device_name"),
        optional=(
            (
                "code",
                "Two-factor code of the authenticator app (string or number), or a recovery "
                "code (which turns two-factor off); needed when the account has two-factor on",
            ),
        ),
    ),
    Endpoint("POST", "/api/logout", logout, "Sign this device out; its slot is free again."),
    Endpoint("GET", "/api/user", user, "The user, with devices used and the device limit."),
    Endpoint(
        "GET",
        "/api/subscription",
        subscription,
        "The subscription (for the extension): active, allowed, plan, until when, days left.",
    ),
    Endpoint("GET", "/api/userApp", user_app, "User, subscription and devices in one answer."),
    Endpoint(
        "POST",
        "/api/servers",
        servers,
        "The servers the user's plan allows, with live connections, load and availability.",
        required=("device_id",),
    ),
    Endpoint(
        "POST",
        "/api/key",
        key,
        "An access key for one of the caller's devices on a server: key, expiry and the "
        "server's playback URL.",
        required=("server_id", "device_id"),
    ),
    Endpoint("GET", "/api/ping", ping, "What clients time to pick a server.", auth=False),
    Endpoint(
        "POST",
        "/api/nodes/join",
        node_join,
        "A node joins with a one-time join token: its server id, heartbeat secret and the "
        "public key access keys are verified with.",
        auth=False,
        required=("token", "base_url"),
    ),
    Endpoint(
        "POST",
        "/api/nodes/heartbeat",
        node_heartbeat,
        "A node reports {active_connections, load} with its secret as Bearer token; the "
        "answer lists the key generations of revoked devices.",
        auth=False,
    ),
)

PREFLIGHT = {
    **HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
    "Access-Control-Max-Age": "86400",
}


def routes(services: Services) -> list[BaseRoute]:
    return [Route(e.path, _endpoint(services, e), methods=[e.method, "OPTIONS"]) for e in ENDPOINTS]


def _endpoint(services: Services, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        if request.method == "OPTIONS":
            # Bearer tokens, never cookies: any origin may call, as the seed's server allows.
            return Response(status_code=204, headers=PREFLIGHT)
        try:
            session = await services.devices.session(bearer(request)) if endpoint.auth else None
            body = await read_body(request)
            require(body, *endpoint.required)
            result = await endpoint.handler(Call(services, request, body, session))
        except Exception as exc:
            return failure(exc)
        return render(result)

    return serve


def _client_id(value: object) -> object:
    """Clients send their device id as a string or a number; it is kept as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

"""The devices an account is signed in on (device API), each with *Sign out*, and the
account's subscription.

Signing a device out is :meth:`Devices.revoke` on one of the caller's own active devices
(:meth:`Devices.own` refuses anyone else's exactly like a missing one): its token dies at
once and its slot is free.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.account_page import ACCOUNT, AccountView, done, when
from tidecast.api.webui.sessions import Visitor
from tidecast.core.devices import Device
from tidecast.core.users import User

PAGE = f"{ACCOUNT}/devices"


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device as the table shows it."""

    id: int
    name: str
    client_id: str
    added: str
    last_seen: str
    active: bool

    @classmethod
    def of(cls, device: Device) -> DeviceRow:
        return cls(
            id=device.id,
            name=device.name,
            client_id=device.client_id,
            added=when(device.created_at),
            last_seen=when(device.last_seen_at),
            active=device.active,
        )


class DevicesPage(AccountView):
    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        assert user.id is not None
        devices = await self.services.devices.of_user(user.id)
        subscriptions = self.services.subscriptions
        limit = subscriptions.device_limit(await subscriptions.current(user.id))
        # Signed-in devices first, newest first within each group.
        ordered = sorted(devices, key=lambda d: (not d.active, -d.created_at))
        return self.render(
            request,
            visitor,
            "account_devices.html",
            devices=[DeviceRow.of(device) for device in ordered],
            in_use=sum(device.active for device in devices),
            limit=limit,
        )

    async def sign_out(self, request: Request, visitor: Visitor, user: User) -> Response:
        await self.ui.form(request, visitor)
        devices = self.services.devices
        device = await devices.own(user, request.path_params["device_id"])
        await devices.revoke(device.id)
        return done(PAGE, "device")


class SubscriptionPage(AccountView):
    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        assert user.id is not None
        subscriptions = self.services.subscriptions
        current = await subscriptions.current(user.id)
        return self.render(
            request,
            visitor,
            "account_subscription.html",
            subscription=current,
            starts=when(current.starts_at) if current else None,
            expires=when(current.expires_at) if current else None,
            limit=subscriptions.device_limit(current),
            required=subscriptions.required,
        )

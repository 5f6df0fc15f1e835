"""Who may reach this instance, for an operator (``/webui/admin/access``): the remote and
intranet access switches, and where the security code is found.

The switches are the engine API's ``set_allow_remote_access`` and
``set_allow_intranet_access``: the same core call, persisted and in force at once for
every surface. Here they are audited too (``access.update``). A browser is refused a
change that would shut out the address class it is using now, since only this host
(loopback) could then turn it back on.

The security code itself is never shown: seed 003 puts it in the log, for whoever can
read the host's log; the page says where that is.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, refusal
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.access import AddressClass
from tidecast.core.audit import AuditAction, Record
from tidecast.core.errors import AccessDenied, InvalidInput
from tidecast.core.instance import ALLOW_INTRANET, ALLOW_REMOTE
from tidecast.core.users import User


@dataclass(frozen=True, slots=True)
class Switch:
    """One access switch as the page offers it: its form name, the core's key, who it is
    about, and the address class that turning it off shuts out."""

    name: str
    key: str
    label: str
    about: str
    shuts_out: AddressClass


SWITCHES = (
    Switch(
        "remote",
        ALLOW_REMOTE,
        "Remote access",
        "Callers from the internet (any address outside this host's networks).",
        AddressClass.INTERNET,
    ),
    Switch(
        "intranet",
        ALLOW_INTRANET,
        "Intranet access",
        "Callers on the same subnet as one of this host's network interfaces.",
        AddressClass.INTRANET,
    ),
)
_BY_NAME = {switch.name: switch for switch in SWITCHES}
CONNECTED_AS = {
    AddressClass.LOOPBACK: "this host (loopback)",
    AddressClass.INTRANET: "the intranet",
    AddressClass.INTERNET: "the internet",
}


def routes(area: AdminArea) -> list[BaseRoute]:
    page = AccessPage(area)
    operator = area.ui.operator
    return [
        Route("/webui/admin/access", operator(page.show), methods=["GET"]),
        Route("/webui/admin/access", operator(page.change), methods=["POST"]),
    ]


class AccessPage:
    def __init__(self, area: AdminArea) -> None:
        self._area = area
        self._switches = area.services.switches
        self._log_file = area.services.settings.log_file

    async def show(self, request: Request, visitor: Visitor, _me: User) -> Response:
        return self._render(request, visitor, {})

    async def change(self, request: Request, visitor: Visitor, me: User) -> Response:
        form = await self._area.ui.form(request, visitor)
        switch = _BY_NAME.get(form.get("switch", ""))
        if switch is None:
            raise InvalidInput("no such switch", field="switch")
        value = form.get("value") == "on"
        record = Record(target=switch.key, detail={"value": value})

        async def change() -> None:
            if not value and visitor.caller.address_class is switch.shuts_out:
                raise AccessDenied(
                    "you are connected this way: turning it off would shut this browser out; "
                    "change it from this host instead",
                    reason="would_lock_out",
                )
            await self._switches.set(switch.key, value)

        try:
            await self._area.audited(visitor, me, AuditAction.ACCESS_UPDATE, record, change)
        except Exception as exc:
            status, errors = refusal(exc, (), switch.name)
            return self._render(request, visitor, errors, status)
        return see_other("/webui/admin/access")

    def _render(
        self, request: Request, visitor: Visitor, errors: dict[str, str], status: int = 200
    ) -> Response:
        states = {
            ALLOW_REMOTE: self._switches.allow_remote,
            ALLOW_INTRANET: self._switches.allow_intranet,
        }
        return self._area.render(
            request,
            visitor,
            "admin_access.html",
            status=status,
            switches=[(switch, states[switch.key]) for switch in SWITCHES],
            connected_as=CONNECTED_AS[visitor.caller.address_class],
            log_file=str(self._log_file),
            errors=errors,
        )

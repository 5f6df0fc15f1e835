"""The web UI's admin pages, for operators only: accounts, plans, servers, access and the
audit log, each a module of its own under ``/webui/admin/``.

Every page is wrapped in ``ui.operator``: signed-out browsers are sent to sign in, other
accounts are refused (403). Every change is a CSRF-checked POST answered with a 303 (or,
refused, the page again with the error next to its field), calls the same core service as
the admin command API and is written to the audit log as it writes it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui import (
    admin_access,
    admin_audit,
    admin_plans,
    admin_servers,
    admin_user,
    admin_users,
)
from tidecast.api.webui.admin_area import AdminArea
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.users import User


def routes(ui: WebUI) -> list[BaseRoute]:
    area = AdminArea(ui)

    async def index(request: Request, visitor: Visitor, _me: User) -> Response:
        return see_other("/webui/admin/users")

    return [
        Route("/webui/admin", ui.operator(index), methods=["GET"]),
        Route("/webui/admin/", ui.operator(index), methods=["GET"]),
        *admin_users.routes(area),
        *admin_user.routes(area),
        *admin_plans.routes(area),
        *admin_servers.routes(area),
        *admin_access.routes(area),
        *admin_audit.routes(area),
    ]

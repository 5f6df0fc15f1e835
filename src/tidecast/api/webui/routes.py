"""The web UI's route table: every area's pages under ``/webui/`` and its static files.

``/webui/api/service`` is the engine API's exact path and is answered before this router
is reached.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tidecast.api.webui import account, admin, playlists, signin, watch
from tidecast.api.webui.ui import WebUI
from tidecast.core.services import Services

STATIC = Path(__file__).parent / "static"


def routes(services: Services) -> list[BaseRoute]:
    ui = WebUI(services)
    return [
        *signin.routes(ui),
        *watch.routes(ui),
        *playlists.routes(ui),
        *account.routes(ui),
        *admin.routes(ui),
        Mount("/webui/static", StaticFiles(directory=STATIC), name="webui-static"),
        Route("/webui/{rest:path}", ui.page(ui.missing), methods=["GET"]),
    ]

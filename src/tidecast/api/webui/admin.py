"""The web UI's admin pages."""

from __future__ import annotations

from starlette.routing import BaseRoute

from tidecast.api.webui.ui import WebUI


def routes(ui: WebUI) -> list[BaseRoute]:
    return []

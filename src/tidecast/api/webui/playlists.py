"""The web UI's playlist pages: their route table.

Everything is under ``/webui/playlist`` and for signed-in accounts only; each account
sees and changes its own playlist (see ``playlist_listing``). Every change is a POST
carrying the CSRF token and ends in a 303 to a page, so a reload never repeats it.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from tidecast.api.webui.playlist_external import ExternalPages
from tidecast.api.webui.playlist_forms import ItemForms
from tidecast.api.webui.playlist_imports import ImportPages
from tidecast.api.webui.playlist_items import ItemPages
from tidecast.api.webui.ui import WebUI


def routes(ui: WebUI) -> list[BaseRoute]:
    items, forms, imports, external = (
        ItemPages(ui),
        ItemForms(ui),
        ImportPages(ui),
        ExternalPages(ui),
    )
    on = ui.signed_in
    return [
        Route("/webui/playlist", on(items.browse), methods=["GET"]),
        Route("/webui/playlist/trash", on(items.trash), methods=["GET"]),
        Route("/webui/playlist/trash/empty", on(items.empty_trash), methods=["POST"]),
        Route("/webui/playlist/add", on(forms.add_form), methods=["GET"]),
        Route("/webui/playlist/add", on(forms.add), methods=["POST"]),
        Route("/webui/playlist/item/{item_id:int}/edit", on(forms.edit_form), methods=["GET"]),
        Route("/webui/playlist/item/{item_id:int}/edit", on(forms.edit), methods=["POST"]),
        Route("/webui/playlist/item/{item_id:int}/icon", on(items.icon), methods=["GET"]),
        Route("/webui/playlist/item/{item_id:int}/{action:str}", on(items.act), methods=["POST"]),
        Route("/webui/playlist/import", on(imports.form), methods=["GET"]),
        Route("/webui/playlist/import", on(imports.start), methods=["POST"]),
        Route("/webui/playlist/task/{task_id:int}", on(imports.task), methods=["GET"]),
        Route("/webui/playlist/task/{task_id:int}/status", on(imports.status), methods=["GET"]),
        Route("/webui/playlist/external", on(external.show), methods=["GET"]),
        Route("/webui/playlist/external", on(external.add), methods=["POST"]),
        Route(
            "/webui/playlist/external/{playlist_id:int}/update",
            on(external.update),
            methods=["POST"],
        ),
        Route(
            "/webui/playlist/external/{playlist_id:int}/remove",
            on(external.remove),
            methods=["POST"],
        ),
    ]

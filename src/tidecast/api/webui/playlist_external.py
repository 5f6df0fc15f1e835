"""External playlists in the web UI: the account's list, adding one, updating one now and
removing one (with the items it brought).

Every call names the account as the owner, so the core keeps the page to the account's
own playlists: another account's is "not found". An update started here runs as a task,
followed on the task page like an import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.forms import whole_number
from tidecast.api.webui.pages import see_other, status_of
from tidecast.api.webui.playlist_imports import task_path
from tidecast.api.webui.playlist_listing import NOTICES, owner_of, with_notice
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import InvalidInput
from tidecast.core.external_playlists import MAX_UPDATE_INTERVAL, ExternalPlaylist
from tidecast.core.services import Services
from tidecast.core.tasks import Progress
from tidecast.core.users import User

EXTERNAL_PATH = "/webui/playlist/external"
TYPES = {"broadcast": "Live channels", "content": "Videos"}
FORM_FIELDS = ("name", "url", "category", "type", "interval")
# Core errors name the service's parameters; the form calls the interval by its unit.
_FIELD_OF = {"update_interval": "interval"}


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time as a page shows it: ISO for ``<time datetime>``, words for people."""

    iso: str
    text: str


def moment(timestamp: int, now: int) -> Moment:
    at = datetime.fromtimestamp(timestamp, UTC)
    delta = timestamp - now
    minutes = abs(delta) // 60
    if minutes < 1:
        relative = "now"
    else:
        amount = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
        relative = f"in {amount}" if delta > 0 else f"{amount} ago"
    return Moment(at.isoformat(), f"{at:%Y-%m-%d %H:%M} UTC ({relative})")


def every(seconds: int) -> str:
    minutes = seconds // 60
    if minutes % 1440 == 0:
        return f"every {minutes // 1440} day(s)"
    if minutes % 60 == 0:
        return f"every {minutes // 60} hour(s)"
    return f"every {minutes} min" if minutes else f"every {seconds} s"


@dataclass(frozen=True, slots=True)
class ExternalView:
    id: int
    name: str
    category: str
    type: str
    url: str
    interval: str
    last_update: Moment | None
    next_update: Moment
    last_error: str | None
    item_count: int


def external_view(playlist: ExternalPlaylist, now: int) -> ExternalView:
    return ExternalView(
        id=playlist.id,
        name=playlist.name,
        category=playlist.category,
        type=TYPES.get(playlist.type, playlist.type),
        url=playlist.url,
        interval=every(playlist.update_interval),
        last_update=moment(playlist.last_update, now) if playlist.last_update else None,
        next_update=moment(playlist.next_update, now),
        last_error=playlist.last_error,
        item_count=playlist.item_count,
    )


class ExternalPages:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services: Services = ui.services
        # The form asks for minutes; the core's floor is in seconds.
        self._min_minutes = -(-self._services.settings.min_update_interval // 60)

    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        notice = NOTICES.get(request.query_params.get("notice", ""))
        form = dict.fromkeys(FORM_FIELDS, "")
        form.update(type="broadcast", interval=str(max(60, self._min_minutes)))
        return await self._render(request, visitor, user, form, {}, notice=notice)

    async def add(self, request: Request, visitor: Visitor, user: User) -> Response:
        fields = await self._ui.form(request, visitor)
        form = {name: fields.get(name, "").strip() for name in FORM_FIELDS}
        errors = self._check(form)
        if errors:
            return await self._render(request, visitor, user, form, errors, status=400)
        try:
            await self._services.external.add(
                owner_of(user),
                type=form["type"],
                category=form["category"],
                name=form["name"],
                url=form["url"],
                update_interval=int(form["interval"]) * 60,
                update_now=True,
                caller_is_local=visitor.caller.is_local,
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 500:
                raise
            field = _FIELD_OF.get(getattr(exc, "field", None) or "", getattr(exc, "field", None))
            if field in FORM_FIELDS:
                errors = {field: str(exc)}
                return await self._render(request, visitor, user, form, errors, status=status)
            return await self._render(request, visitor, user, form, {}, str(exc), status=status)
        return see_other(with_notice(EXTERNAL_PATH, "external-added"))

    async def update(self, request: Request, visitor: Visitor, user: User) -> Response:
        """Start fetching the playlist now, as a task; the browser follows it."""
        await self._ui.form(request, visitor)
        playlist_id: int = request.path_params["playlist_id"]
        owner, external = owner_of(user), self._services.external
        # Checked before the task starts, so another's playlist is a 404, not a failed task.
        await external.get(playlist_id, viewer=owner, owner=owner)

        async def work(progress: Progress) -> dict[str, Any]:
            progress(0)
            return (await external.update(playlist_id, owner=owner)).as_result()

        task_id = await self._services.tasks.start("external_playlist_update", owner, work)
        return see_other(task_path(task_id))

    async def remove(self, request: Request, visitor: Visitor, user: User) -> Response:
        await self._ui.form(request, visitor)
        await self._services.external.delete(
            request.path_params["playlist_id"], owner=owner_of(user)
        )
        return see_other(with_notice(EXTERNAL_PATH, "external-removed"))

    def _check(self, form: dict[str, str]) -> dict[str, str]:
        """What the form itself can tell is wrong; the core checks the rest (the URL's
        address, lengths) and its errors land next to their fields too."""
        errors: dict[str, str] = {}
        if not form["name"]:
            errors["name"] = "Give the playlist a name."
        if not form["url"]:
            errors["url"] = "Enter the playlist's http(s) URL."
        elif not form["url"].lower().startswith(("http://", "https://")):
            errors["url"] = "The URL must start with http:// or https://."
        if not form["category"]:
            errors["category"] = "Give its items a category, e.g. TV."
        if form["type"] not in TYPES:
            errors["type"] = "Choose what the playlist holds."
        largest = MAX_UPDATE_INTERVAL // 60
        try:
            minutes = whole_number(form["interval"], "interval", "The interval")
        except InvalidInput:
            minutes = None
        if minutes is None or not self._min_minutes <= minutes <= largest:
            errors["interval"] = (
                f"Enter a whole number of minutes from {self._min_minutes} to {largest}."
            )
        return errors

    async def _render(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        form: dict[str, str],
        errors: dict[str, str],
        form_error: str | None = None,
        *,
        notice: str | None = None,
        status: int = 200,
    ) -> Response:
        owner = owner_of(user)
        playlists = await self._services.external.get(None, viewer=owner, owner=owner)
        now = int(time.time())
        views = [external_view(p, now) for p in playlists]
        return self._ui.pages.render(
            request,
            visitor,
            "playlist_external.html",
            status=status,
            playlists=views,
            form=form,
            errors=errors,
            form_error=form_error,
            notice=notice,
            types=TYPES,
            min_minutes=self._min_minutes,
        )

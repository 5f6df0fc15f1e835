"""The playlist's list and trash pages, the buttons on their rows, and item icons.

Every button is a small form that POSTs with the CSRF token and the page to return to
(``back``), then is sent back there (303) with a notice. A refused action (a locked item,
another account's item) changes nothing and renders the page it came from with the
error at the top, so it works the same without JavaScript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.pages import see_other, status_of
from tidecast.api.webui.playlist_listing import (
    NOTICES,
    TRASH_PATH,
    ListQuery,
    favorites_viewer,
    list_page,
    owner_of,
    safe_back,
    trash_page,
    with_notice,
)
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import InvalidInput, NotFound
from tidecast.core.services import Services
from tidecast.core.users import Role, User

Action = Callable[[Services, User, int, bool], Awaitable[str]]
"""Does one thing to one item of the account's playlist; returns the notice to show."""


async def _favorite(services: Services, user: User, item_id: int, value: bool) -> str:
    viewer = favorites_viewer(user)
    await services.playlists.set_favorite([item_id], owner_of(user), viewer, value)
    return "favorite" if value else "unfavorite"


async def _lock(services: Services, user: User, item_id: int, value: bool) -> str:
    await services.playlists.set_flag([item_id], owner_of(user), "locked", value)
    return "locked" if value else "unlocked"


async def _enable(services: Services, user: User, item_id: int, value: bool) -> str:
    await services.playlists.set_flag([item_id], owner_of(user), "enabled", value)
    return "enabled" if value else "disabled"


async def _delete(services: Services, user: User, item_id: int, _value: bool) -> str:
    await services.playlists.delete_items([item_id], owner_of(user))
    return "trashed"


async def _restore(services: Services, user: User, item_id: int, _value: bool) -> str:
    await services.playlists.restore_item(item_id, owner_of(user))
    return "restored"


ACTIONS: dict[str, Action] = {
    "favorite": _favorite,
    "lock": _lock,
    "enable": _enable,
    "delete": _delete,
    "restore": _restore,
}
"""The buttons of a row, by the last segment of the URL they POST to."""


def _value(text: str | None) -> bool:
    if text in ("1", "0"):
        return text == "1"
    raise InvalidInput("value must be 1 or 0", field="value")


class ItemPages:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services = ui.services

    async def browse(self, request: Request, visitor: Visitor, user: User) -> Response:
        return await self._list(request, visitor, user, ListQuery.of(request.query_params))

    async def trash(self, request: Request, visitor: Visitor, user: User) -> Response:
        return await self._trash(request, visitor, user)

    async def act(self, request: Request, visitor: Visitor, user: User) -> Response:
        """POST /webui/playlist/item/{id}/{action}: one button of a row."""
        form = await self._ui.form(request, visitor)
        action = ACTIONS.get(request.path_params["action"])
        if action is None:
            raise NotFound("there is no such page")
        back = safe_back(form.get("back"))
        try:
            notice = await action(
                self._services, user, request.path_params["item_id"], _value(form.get("value", "1"))
            )
        except Exception as exc:
            status = status_of(exc)
            if status == 500:
                raise
            return await self._back(request, visitor, user, back, str(exc), status)
        return see_other(with_notice(back, notice))

    async def empty_trash(self, request: Request, visitor: Visitor, user: User) -> Response:
        await self._ui.form(request, visitor)
        await self._services.playlists.clear_trash(owner_of(user))
        return see_other(with_notice(TRASH_PATH, "emptied"))

    async def icon(self, request: Request, visitor: Visitor, user: User) -> Response:
        """An item's icon, for the account's own items only (another's is 404)."""
        item = await self._services.playlists.get_item(
            request.path_params["item_id"], owner_of(user)
        )
        data, mime = await self._services.icons.icon(
            item_id=item.id, caller_is_local=visitor.caller.is_local
        )
        return Response(
            data,
            media_type=mime,
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def _back(
        self, request: Request, visitor: Visitor, user: User, back: str, error: str, status: int
    ) -> Response:
        parts = urlsplit(back)
        if parts.path == TRASH_PATH:
            return await self._trash(request, visitor, user, error=error, status=status)
        query = ListQuery.of(QueryParams(parts.query))
        return await self._list(request, visitor, user, query, error=error, status=status)

    async def _list(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        query: ListQuery,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        listing = await list_page(self._services.playlists, user, query)
        return self._ui.pages.render(
            request,
            visitor,
            "playlist.html",
            status=status,
            query=query,
            listing=listing,
            back=query.url(page=query.page),
            notice=None if error else NOTICES.get(request.query_params.get("notice", "")),
            error=error,
            can_favorite=user.type != Role.GUEST,
        )

    async def _trash(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        items = await trash_page(self._services.playlists, user)
        return self._ui.pages.render(
            request,
            visitor,
            "playlist_trash.html",
            status=status,
            items=items,
            back=TRASH_PATH,
            notice=None if error else NOTICES.get(request.query_params.get("notice", "")),
            error=error,
        )

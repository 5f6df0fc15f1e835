"""The playlist as the web UI lists it: whose it is, the filters of the list page, and the
items as the templates show them.

A signed-in account's playlist is the one the core keeps under its login (the owner the
core renames with the account); its favorites are the account's own (viewer = user id),
as the engine API's favorites are those of the account signed in there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit

from starlette.datastructures import QueryParams

from tidecast.api.webui.forms import NUL, page_number, query_text
from tidecast.core.errors import AccessDenied
from tidecast.core.playlists import ItemFilter, PlaylistItem, PlaylistService
from tidecast.core.users import Role, User

LIST_PATH = "/webui/playlist"
TRASH_PATH = "/webui/playlist/trash"
PAGE_SIZE = 50
MAX_FILTER = 200
"""A longer search, category or tag is cut: no item title is searched by more."""

NOTICES = {
    "added": "The item was added.",
    "saved": "The item was saved.",
    "trashed": "The item was moved to the trash.",
    "restored": "The item was restored.",
    "emptied": "The trash was emptied.",
    "favorite": "Added to your favorites.",
    "unfavorite": "Removed from your favorites.",
    "locked": "The item is locked: it cannot be edited or deleted until unlocked.",
    "unlocked": "The item is unlocked.",
    "enabled": "The item is enabled.",
    "disabled": "The item is disabled.",
    "external-added": "The external playlist was added; its first update has started.",
    "external-removed": "The external playlist and its items were removed.",
}
"""What a page says after a POST redirected to it with ``?notice=<key>``."""


def owner_of(user: User) -> str:
    """Whose playlist a signed-in account sees and changes: its own, by login."""
    return user.login


def viewer_of(user: User) -> int:
    """Whose favorites: the account's (guests have none, as on the engine API)."""
    assert user.id is not None
    return user.id


def favorites_viewer(user: User) -> int:
    """The viewer whose favorites a POST may change; guests are refused."""
    if user.type == Role.GUEST:
        raise AccessDenied("guests have no favorites", reason="guests_no_favorites")
    return viewer_of(user)


def safe_back(target: str | None, default: str = LIST_PATH) -> str:
    """Where an item action returns to: a playlist page of this site only, whose filters
    the list page can read (none holding a NUL)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(LIST_PATH):
        return default
    if NUL in unquote_plus(parts.query):
        return default
    return target


def with_notice(target: str, notice: str) -> str:
    """``target`` with ``notice`` set (and any earlier notice dropped)."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in QueryParams(parts.query).multi_items() if k != "notice"]
    query.append(("notice", notice))
    return f"{parts.path}?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list page's filters and page number, as read from its query string."""

    search: str = ""
    category: str = ""
    tag: str = ""
    favorites: bool = False
    page: int = 1

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ListQuery:
        """The query of ``params``; InvalidInput when a filter holds a NUL."""
        return cls(
            search=query_text(params, "q", MAX_FILTER),
            category=query_text(params, "category", MAX_FILTER),
            tag=query_text(params, "tag", MAX_FILTER),
            favorites=params.get("favorites") == "1",
            page=page_number(params.get("page")),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.category or self.tag or self.favorites)

    def url(self, *, page: int = 1, category: str | None = None, tag: str | None = None) -> str:
        """The list page's URL with these filters; ``category`` and ``tag`` replace the
        query's own, and the page is the first unless told."""
        pairs = [
            ("q", self.search),
            ("category", self.category if category is None else category),
            ("tag", self.tag if tag is None else tag),
            ("favorites", "1" if self.favorites else ""),
            ("page", str(page) if page > 1 else ""),
        ]
        encoded = urlencode([(k, v) for k, v in pairs if v])
        return f"{LIST_PATH}?{encoded}" if encoded else LIST_PATH


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as a row of the list shows it."""

    id: int
    title: str
    reference: str
    kind: str
    category: str
    tags: tuple[str, ...]
    favorite: bool
    enabled: bool
    locked: bool
    has_icon: bool
    watch_url: str | None
    external: bool
    """Kept by an external playlist, which says what it plays."""


def reference_of(item: PlaylistItem) -> tuple[str, str]:
    """``(kind, reference)``: what the item plays, as a person would paste it."""
    for kind, value in (
        ("content id", item.content_id),
        ("magnet" if (item.url or "").startswith("magnet:") else "torrent URL", item.url),
        ("infohash", item.infohash),
        ("HLS", item.hls_manifest_url),
        ("video URL", item.video_url),
        ("DASH", item.dash_manifest_url),
    ):
        if value:
            return kind, value
    return "unknown", ""


def view_of(item: PlaylistItem) -> ItemView:
    assert item.id is not None
    kind, reference = reference_of(item)
    # The watch page plays everything but DASH; its form starts playback (a POST).
    playable = reference and kind != "DASH"
    return ItemView(
        id=item.id,
        title=item.display_title or item.title,
        reference=reference,
        kind=kind,
        category=item.category or "",
        tags=tuple(item.tags),
        favorite=item.is_favorite,
        enabled=item.enabled,
        locked=item.locked,
        has_icon=bool(item.logo_file or item.tvg_logo or item.poster),
        watch_url=f"/webui/watch?{urlencode({'content': reference})}" if playable else None,
        external=item.external_playlist_id is not None,
    )


@dataclass(frozen=True, slots=True)
class Listing:
    """A page of the list, with what the filters may choose from."""

    items: list[ItemView]
    total: int
    pages: int
    categories: list[str]
    tags: list[str]


async def list_page(playlists: PlaylistService, user: User, query: ListQuery) -> Listing:
    """The page ``query`` asks for of the account's playlist (the trash left out), with
    the categories and tags its filters may choose from."""
    facets = await playlists.facets(owner_of(user))
    flt = ItemFilter(
        owner=owner_of(user),
        viewer=viewer_of(user),
        category=query.category or None,
        tag=query.tag or None,
        search=query.search or None,
        favorites_only=query.favorites,
        offset=(query.page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    found = await playlists.page(flt)
    pages = max(1, -(-found.total_items // PAGE_SIZE))
    items = [view_of(i) for i in found.items]
    return Listing(items, found.total_items, pages, facets.categories, facets.tags)


async def trash_page(playlists: PlaylistService, user: User) -> list[ItemView]:
    """The account's trash, oldest first."""
    flt = ItemFilter(owner=owner_of(user), viewer=viewer_of(user), deleted=True)
    return [view_of(item) for item in (await playlists.page(flt)).items]

"""Adding and editing a playlist item: one form, checked on the server, with each error
next to its field. A form with an error changes nothing (an icon is stored only once
everything else checked out).

The form is multipart because it may carry an icon. An edit changes the title (as the
display title, so an external playlist's refresh keeps it), the category, the tags, the
icon and the content, except an external playlist's item's, which its playlist sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.forms import Upload, read_upload
from tidecast.api.webui.pages import see_other, status_of
from tidecast.api.webui.playlist_listing import (
    LIST_PATH,
    ItemView,
    owner_of,
    view_of,
    with_notice,
)
from tidecast.api.webui.sessions import CSRF_FIELD, Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.content_refs import ContentRef, parse_reference
from tidecast.core.errors import InvalidInput, UnsupportedContent
from tidecast.core.m3u import M3UEntry
from tidecast.core.m3u_import import entry_to_item
from tidecast.core.playlists import MAX_TEXT, ItemChanges, NewItem
from tidecast.core.services import Services
from tidecast.core.users import User

MAX_CONTENT = 8192
MAX_CATEGORY = 255
MAX_TAG = 64
MAX_TAGS = 32
# Where a core error's field lands on this form; a locator field is the content box.
_FIELD_OF = {"file": "logo", "title": "title", "category": "category", "tags": "tags"}


@dataclass(slots=True)
class ItemForm:
    """What the form holds, as typed (so a re-rendered form keeps it)."""

    title: str = ""
    content: str = ""
    category: str = ""
    tags: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> ItemForm:
        return cls(
            **{
                name: fields.get(name, "").strip()
                for name in ("title", "content", "category", "tags")
            }
        )


def parse_tags(text: str) -> list[str]:
    """Comma-separated tags, trimmed, without empties or repeats, in the order given."""
    tags: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if len(tag) > MAX_TAG:
            raise InvalidInput(f"A tag may have at most {MAX_TAG} characters.", field="tags")
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"An item may have at most {MAX_TAGS} tags.", field="tags")
    return tags


def check_common(form: ItemForm, errors: dict[str, str]) -> list[str]:
    """Check the title, category and tags into ``errors``; returns the tags."""
    if not form.title:
        errors["title"] = "Give the item a title."
    elif len(form.title) > MAX_TEXT:
        errors["title"] = f"A title may have at most {MAX_TEXT} characters."
    if len(form.category) > MAX_CATEGORY:
        errors["category"] = f"A category may have at most {MAX_CATEGORY} characters."
    try:
        return parse_tags(form.tags)
    except InvalidInput as exc:
        errors["tags"] = exc.message
        return []


def reference_of(content: str) -> ContentRef:
    """The content box's reference; errors name the box."""
    if not content:
        raise InvalidInput("Paste a magnet, infohash, content id or URL.", field="content")
    if len(content) > MAX_CONTENT:
        raise InvalidInput("That is too long to be a content reference.", field="content")
    try:
        ref = parse_reference(content)
    except UnsupportedContent:
        raise UnsupportedContent(
            "This is not a magnet, infohash, content id or http(s) URL.", field="content"
        ) from None
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="content") from None
    if ref.kind == "playlist":
        raise UnsupportedContent(
            "This is a playlist: import it, or add it as an external playlist.", field="content"
        )
    return ref


def new_item(ref: ContentRef, form: ItemForm, tags: list[str]) -> NewItem:
    # The import's own mapping, so an item added here is stored as an imported one is.
    entry = M3UEntry(0, form.title, ref, 0, "", "", "", form.category or None, {})
    item = entry_to_item(entry)
    item.is_live = -1  # the form does not say; analysing the content finds out
    item.tags = tags
    return item


class ItemForms:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services: Services = ui.services
        # The icon is the only file; the other fields fit in what a plain form may carry.
        self._limit = self._services.settings.image_max_bytes + 64 * 1024

    async def add_form(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = ItemForm(content=request.query_params.get("content", "")[:MAX_CONTENT])
        return await self._render(request, visitor, user, form, {}, None)

    async def edit_form(self, request: Request, visitor: Visitor, user: User) -> Response:
        item = await self._services.playlists.get_item(
            request.path_params["item_id"], owner_of(user)
        )
        view = view_of(item)
        form = ItemForm(view.title, view.reference, view.category, ", ".join(view.tags))
        return await self._render(request, visitor, user, form, {}, view)

    async def add(self, request: Request, visitor: Visitor, user: User) -> Response:
        fields, logo = await self._read(request, visitor)
        form = ItemForm.of(fields)
        errors: dict[str, str] = {}
        ref: ContentRef | None = None
        try:
            ref = reference_of(form.content)
        except (InvalidInput, UnsupportedContent) as exc:
            errors["content"] = exc.message
        if ref is not None and not form.title:
            form.title = await self._known_title(ref)
        tags = check_common(form, errors)
        if ref is None and not form.title:
            errors.pop("title", None)  # asked for once the content is good (it may name one)
        if errors or ref is None:
            return await self._render(request, visitor, user, form, errors, None)
        try:
            new = new_item(ref, form, tags)
            new.logo_file = await self._store_logo(logo)
            await self._services.playlists.add_item(owner_of(user), new)
        except Exception as exc:
            return await self._refused(request, visitor, user, form, None, exc)
        return see_other(with_notice(LIST_PATH, "added"))

    async def edit(self, request: Request, visitor: Visitor, user: User) -> Response:
        fields, logo = await self._read(request, visitor)
        item = await self._services.playlists.get_item(
            request.path_params["item_id"], owner_of(user)
        )
        view = view_of(item)
        form = ItemForm.of(fields)
        if "content" not in fields:  # not on the form of an external playlist's item
            form.content = view.reference
        errors: dict[str, str] = {}
        ref: ContentRef | None = None
        if form.content != view.reference:
            try:
                ref = reference_of(form.content)
            except (InvalidInput, UnsupportedContent) as exc:
                errors["content"] = exc.message
        tags = check_common(form, errors)
        if errors:
            return await self._render(request, visitor, user, form, errors, view)
        # Only what changed is sent: an unchanged title must not become a display title,
        # which an external playlist's refresh would then no longer update.
        changes = ItemChanges(
            title=form.title if form.title != view.title else None,
            category=form.category if form.category != view.category else None,
            tags=tags if tags != list(view.tags) else None,
        )
        try:
            changes.content = new_item(ref, form, tags) if ref is not None else None
            changes.logo_file = await self._store_logo(logo)
            await self._services.playlists.update_item(view.id, changes)
        except Exception as exc:
            return await self._refused(request, visitor, user, form, view, exc)
        return see_other(with_notice(LIST_PATH, "saved"))

    async def _read(
        self, request: Request, visitor: Visitor
    ) -> tuple[dict[str, str], Upload | None]:
        fields, files = await read_upload(request, self._limit)
        self._ui.sessions.check_csrf(visitor, fields.get(CSRF_FIELD))
        return fields, files.get("logo")

    async def _known_title(self, ref: ContentRef) -> str:
        """A magnet's name, else the name of a transport file tidecast remembers."""
        if ref.title:
            return ref.title.strip()
        if ref.kind in ("content_id", "infohash"):
            known = await self._services.content.known(
                content_id=ref.value if ref.kind == "content_id" else None,
                infohash=ref.infohash,
            )
            if known is not None:
                return known.name.strip()
        return ""

    async def _store_logo(self, logo: Upload | None) -> str | None:
        if logo is None:
            return None
        try:
            return await self._services.icons.store_upload(logo.data)
        except InvalidInput as exc:  # the store does not always name the field
            raise type(exc)(exc.message, field="file") from None

    async def _refused(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        form: ItemForm,
        view: ItemView | None,
        exc: Exception,
    ) -> Response:
        status = status_of(exc)
        if status == 500:
            raise exc
        field = getattr(exc, "field", None)
        name = _FIELD_OF.get(field or "", "content" if field else None)
        if name is None or (name == "content" and view is not None and view.external):
            return await self._render(request, visitor, user, form, {}, view, str(exc), status)
        return await self._render(
            request, visitor, user, form, {name: str(exc)}, view, None, status
        )

    async def _render(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        form: ItemForm,
        errors: dict[str, str],
        view: ItemView | None,
        form_error: str | None = None,
        status: int | None = None,
    ) -> Response:
        facets = await self._services.playlists.facets(owner_of(user))
        return self._ui.pages.render(
            request,
            visitor,
            "playlist_item.html",
            status=status or (400 if errors else 200),
            form=form,
            errors=errors,
            form_error=form_error,
            item=view,
            categories=facets.categories,
            known_tags=facets.tags,
        )

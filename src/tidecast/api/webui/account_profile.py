"""The profile page: display name, email, languages, and the avatar.

Changes go through :meth:`AccountService.edit_self`, which validates every field before
it writes any, so a refused form changes nothing. Avatars are validated and kept by the
account store's :class:`AvatarStore` (as ``/api/importFile`` keeps them) and shown from
``/avatars/<key>``, same-origin, as the page's CSP allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.account_page import ACCOUNT, AccountView, check_editable, done, editable
from tidecast.api.webui.account_page import place_error as place
from tidecast.api.webui.forms import read_upload
from tidecast.api.webui.sessions import CSRF_FIELD, Visitor
from tidecast.core.errors import Conflict, InvalidInput, PayloadTooLarge
from tidecast.core.users import User

PROFILE_FIELDS = ("nickname", "email", "language", "main_series_lang", "fallback_series_lang")
LABELS = {
    "nickname": "Display name",
    "email": "Email",
    "language": "Language",
    "main_series_lang": "Main language of series",
    "fallback_series_lang": "Fallback language of series",
}
"""The form's labels, for the core's messages that name a field."""
FORM_OVERHEAD = 16 * 1024
"""Multipart headers and the CSRF field on top of the avatar size limit."""


@dataclass(frozen=True, slots=True)
class Profile:
    """The profile form's values, as shown (empty strings for unset fields)."""

    nickname: str = ""
    email: str = ""
    language: str = ""
    main_series_lang: str = ""
    fallback_series_lang: str = ""

    @classmethod
    def of(cls, user: User) -> Profile:
        return cls(*((getattr(user, name) or "") for name in PROFILE_FIELDS))


class ProfilePage(AccountView):
    async def show(self, request: Request, visitor: Visitor, user: User) -> Response:
        return await self._page(request, visitor, user, Profile.of(user))

    async def save(self, request: Request, visitor: Visitor, user: User) -> Response:
        form = await self.ui.form(request, visitor)
        check_editable(user)
        values = Profile(*(form.get(name, "").strip() for name in PROFILE_FIELDS))
        # Empty means "not set" for every field but the name, which the core requires.
        changes: dict[str, object] = {
            name: getattr(values, name) or None for name in PROFILE_FIELDS[1:]
        }
        changes["nickname"] = values.nickname
        try:
            await self.services.accounts.edit_self(user, changes)
        except (InvalidInput, Conflict) as exc:
            errors, form_error = place(exc, {name: name for name in PROFILE_FIELDS}, LABELS)
            status = 409 if isinstance(exc, Conflict) else 400
            return await self._page(
                request, visitor, user, values, status, errors=errors, form_error=form_error
            )
        return done(ACCOUNT, "profile")

    async def upload_avatar(self, request: Request, visitor: Visitor, user: User) -> Response:
        avatars = self.services.avatars
        try:
            fields, files = await read_upload(request, avatars.max_bytes + FORM_OVERHEAD)
        except InvalidInput as exc:  # too large: refused before the CSRF field is even read
            return await self._avatar_refused(request, visitor, user, exc)
        self.ui.sessions.check_csrf(visitor, fields.get(CSRF_FIELD))
        check_editable(user)
        upload = files.get("avatar")
        try:
            if upload is None:
                raise InvalidInput("Choose an image file first.", field="file")
            stored = await avatars.store(upload.data)
            await self.services.accounts.edit_self(user, {"avatar_file": stored.key})
        except InvalidInput as exc:
            return await self._avatar_refused(request, visitor, user, exc)
        return done(ACCOUNT, "avatar")

    async def _avatar_refused(
        self, request: Request, visitor: Visitor, user: User, exc: InvalidInput
    ) -> Response:
        errors, _ = place(exc, {exc.field or "": "avatar"})
        status = 413 if isinstance(exc, PayloadTooLarge) else 400
        return await self._page(request, visitor, user, Profile.of(user), status, errors=errors)

    async def _page(
        self,
        request: Request,
        visitor: Visitor,
        user: User,
        values: Profile,
        status: int = 200,
        **context: object,
    ) -> Response:
        avatar = user.avatar_file if await self.services.avatars.has(user.avatar_file) else None
        return self.render(
            request,
            visitor,
            "account.html",
            status,
            profile=values,
            avatar=avatar,
            avatar_limit=self.services.avatars.max_bytes,
            editable=editable(user),
            **context,
        )

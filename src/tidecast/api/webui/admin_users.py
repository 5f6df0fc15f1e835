"""The operator's list of accounts, and creating one (``/webui/admin/users``).

The list is shown 50 accounts a page, by login, and searched with ``?q=``: part of the
login, the name or the email address, in any case. The account store searches and cuts
the page (``AccountService.search``), in the database.

Accounts are created through the account store as ``User.Create`` of the admin command
API does, with the operator as actor: its rules (unique login, nickname and email,
password strength, the reserved ``admin`` login) apply, and the action is audited as
``user.create``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidecast.api.webui.admin_area import AdminArea, pager, refusal, when
from tidecast.api.webui.forms import page_number, query_text
from tidecast.api.webui.pages import see_other
from tidecast.api.webui.sessions import Visitor
from tidecast.core.audit import AuditAction, Record
from tidecast.core.users import Role, User

ROLE_CHOICES = (("user", "User"), ("admin", "Operator"), ("guest", "Guest"))
"""The account types a form offers: the core's role name, and what the page calls it."""
ROLE_LABELS = {Role.OPERATOR: "Operator", Role.USER: "User", Role.GUEST: "Guest"}
CREATE_FIELDS = ("login", "password", "nickname", "email", "role")
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account as the list shows it."""

    id: int
    login: str
    nickname: str
    email: str
    role: str
    created: str
    last_login: str


def user_row(user: User) -> UserRow:
    assert user.id is not None
    return UserRow(
        id=user.id,
        login=user.login,
        nickname=user.nickname,
        email=user.email or "",
        role=ROLE_LABELS[Role(user.type)],
        created=when(user.created_at),
        last_login=when(user.last_login_at, "never"),
    )


def routes(area: AdminArea) -> list[BaseRoute]:
    page = UsersPage(area)
    ui = area.ui
    return [
        Route("/webui/admin/users", ui.operator(page.show), methods=["GET"]),
        Route("/webui/admin/users", ui.operator(page.create), methods=["POST"]),
    ]


class UsersPage:
    def __init__(self, area: AdminArea) -> None:
        self._area = area
        self._accounts = area.services.accounts

    async def show(self, request: Request, visitor: Visitor, me: User) -> Response:
        return await self._render(
            request, visitor, me, form={}, errors={}, created=request.query_params.get("created")
        )

    async def create(self, request: Request, visitor: Visitor, me: User) -> Response:
        form = await self._area.ui.form(request, visitor)
        login = form.get("login", "").strip()
        role = form.get("role", "user")
        record = Record(target=login.lower(), detail={"role": role})

        async def create() -> User:
            user = await self._accounts.create(
                login,
                form.get("password", ""),
                role=role,
                nickname=form.get("nickname", "").strip() or None,
                email=form.get("email", "").strip() or None,
                actor=me,
                address=str(visitor.caller.address) if visitor.caller.address else None,
            )
            record.target = user.login
            return user

        try:
            user = await self._area.audited(visitor, me, AuditAction.USER_CREATE, record, create)
        except Exception as exc:
            status, errors = refusal(exc, CREATE_FIELDS, "login")
            return await self._render(request, visitor, me, form=form, errors=errors, status=status)
        return see_other("/webui/admin/users?" + urlencode({"created": user.login}))

    async def _render(
        self,
        request: Request,
        visitor: Visitor,
        me: User,
        *,
        form: dict[str, str],
        errors: dict[str, str],
        created: str | None = None,
        status: int = 200,
    ) -> Response:
        words = query_text(request.query_params, "q", 255)
        number = page_number(request.query_params.get("page"))
        found = await self._accounts.search(
            words, viewer=me, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        return self._area.render(
            request,
            visitor,
            "admin_users.html",
            status=status,
            users=[user_row(user) for user in found.users],
            total=found.total,
            words=words,
            pager=pager("/webui/admin/users", {"q": words}, number, found.total, PAGE_SIZE),
            form={name: form.get(name, "") for name in CREATE_FIELDS if name != "password"},
            errors=errors,
            roles=ROLE_CHOICES,
            created=created,
        )

"""What every admin page shares: operator actions written to the audit log, core errors
shown next to a form's fields, and numbers, dates and times as a form or a page has them.

An operator action is audited as the admin command API (``/api.php``) audits it, through
the core's ``AuditLog.outcome``: the same action names (``user.create``,
``plan.update``…), target and detail, recorded once the action ran, whether it succeeded
or failed, so the log reads the same whichever surface was used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.forms import whole_number
from tidecast.api.webui.pages import status_of
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.audit import AuditAction, Record
from tidecast.core.errors import InvalidInput, TidecastError
from tidecast.core.users import User

T = TypeVar("T")

__all__ = [
    "AdminArea",
    "Pager",
    "day_of",
    "day_start",
    "pager",
    "path_id",
    "refusal",
    "sentence",
    "when",
    "whole_number",  # the forms' reader, shared with the pages outside the admin area
]


class AdminArea:
    """The web UI context plus what operator pages add to it."""

    def __init__(self, ui: WebUI) -> None:
        self.ui = ui
        self.services = ui.services

    def render(
        self, request: Request, visitor: Visitor, template: str, status: int = 200, **ctx: Any
    ) -> Response:
        return self.ui.pages.render(request, visitor, template, status=status, **ctx)

    async def audited(
        self,
        visitor: Visitor,
        actor: User,
        action: AuditAction,
        record: Record,
        run: Callable[[], Awaitable[T]],
    ) -> T:
        """``run()``, recorded in the audit log as ``action`` of ``actor``, failed or not
        (``record`` is what ``run`` fills in); its exception propagates."""
        address = visitor.caller.address
        async with self.services.audit.outcome(
            action,
            actor=actor.login,
            address=str(address) if address is not None else None,
            record=record,
        ):
            return await run()


def refusal(exc: Exception, fields: Collection[str], default: str) -> tuple[int, dict[str, str]]:
    """The status and ``{form field: message}`` for a refused form: the core error's own
    ``field`` when the form has it, ``default`` otherwise. An error that is no refusal
    (a 500: a bug, a database down) is raised again, never shown as a field's fault."""
    status = status_of(exc)
    if status == 500:
        raise exc
    named = exc.field if isinstance(exc, TidecastError) else None
    where = named if named is not None and named in fields else default
    return status, {where: sentence(str(exc))}


def sentence(message: str) -> str:
    """A core message as a sentence of the page: capital first, full stop last."""
    text = message.strip() or "That did not work"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def path_id(request: Request, name: str) -> int:
    """An id from the URL (``{name:int}``); :meth:`WebUI.page` already answered one past
    what any row can have as not found."""
    value: int = request.path_params[name]
    return value


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a list shown a page at a time is: page ``number`` of ``pages``, and the links
    to the pages before and after it (None at either end)."""

    number: int
    pages: int
    before: str | None
    after: str | None


def pager(path: str, query: dict[str, str], number: int, total: int, size: int) -> Pager:
    """Page ``number`` of ``total`` rows, ``size`` a page; the links keep ``query`` (the
    list's filters; empty ones are left out)."""
    pages = max(1, -(-total // size))
    kept = {name: value for name, value in query.items() if value}

    def link(to: int) -> str:
        return f"{path}?" + urlencode({**kept, "page": str(to)})

    return Pager(
        number=number,
        pages=pages,
        before=link(number - 1) if number > 1 else None,
        after=link(number + 1) if number < pages else None,
    )


def day_start(text: str, field_name: str, label: str) -> int:
    """A ``YYYY-MM-DD`` date field as the UNIX time of that day's 00:00 UTC."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date (YYYY-MM-DD)", field=field_name) from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def when(seconds: int | None, empty: str = "—") -> str:
    """A time as pages show it: ``2026-01-31 12:00 UTC``."""
    if seconds is None:
        return empty
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def day_of(seconds: int) -> str:
    """A time as a date input's value: ``2026-01-31`` (UTC)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")

"""What every admin page shares: operator actions written to the audit log, core errors
shown next to a form's fields, and numbers, dates and times as a form or a page has them.

An operator action is audited as the admin command API (``/api.php``) audits it: the same
action names (``user.create``, ``plan.update``…), target and detail, recorded once the
action ran, whether it succeeded (``{"result": "ok"}``) or failed (``{"result":
"failed", "error": [reason]}``), so the log reads the same whichever surface was used.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from tidecast.api.webui.pages import status_of
from tidecast.api.webui.sessions import Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import InvalidInput, NotFound, TidecastError
from tidecast.core.users import User

log = logging.getLogger("tidecast.api.webui")

T = TypeVar("T")
MAX_ID = 2**31 - 1
"""The largest integer a column holds on every database (PostgreSQL's ``integer``)."""


@dataclass(slots=True)
class Record:
    """One audit entry in the making; the action may fill in target and detail as it
    learns them (a new account's login, a grant's id). Never put a secret in ``detail``."""

    action: str
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


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
        self, visitor: Visitor, actor: User, record: Record, action: Callable[[], Awaitable[T]]
    ) -> T:
        """Run ``action`` and record it, failed or not; its exception propagates."""
        try:
            result = await action()
        except Exception as exc:
            reason = exc.reason if isinstance(exc, TidecastError) else None
            await self._write(visitor, actor, record, {"result": "failed", "error": [reason]})
            raise
        await self._write(visitor, actor, record, {"result": "ok"})
        return result

    async def _write(
        self, visitor: Visitor, actor: User, record: Record, outcome: dict[str, Any]
    ) -> None:
        address = visitor.caller.address
        try:
            await self.services.audit.record(
                record.action,
                actor=actor.login,
                target=record.target,
                detail={**record.detail, **outcome},
                address=str(address) if address is not None else None,
            )
        except TidecastError as exc:  # the action itself is done; losing its entry is logged
            log.error("audit log write failed for %s: %s", record.action, exc.message)


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


def whole_number(text: str, field_name: str, label: str) -> int:
    """A form's integer field, within what every database column holds; InvalidInput
    naming ``field_name`` otherwise."""
    value = text.strip()
    digits = value.removeprefix("-")
    # isdigit() alone admits digits int() refuses ("²"): ASCII only.
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
        raise InvalidInput(f"{label} must be a whole number", field=field_name)
    if abs(int(value)) > MAX_ID:
        raise InvalidInput(f"{label} is too large", field=field_name)
    return int(value)


def path_id(request: Request, name: str) -> int:
    """An id from the URL (``{name:int}``); one no row can have is simply not found."""
    value: int = request.path_params[name]
    if value > MAX_ID:
        raise NotFound("there is no such page")
    return value


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

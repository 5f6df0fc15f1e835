"""The audit log: who did what administrative action, to what, from where, and when.

Logins (successful and failed), two-factor changes, API keys, and changes to users,
plans, grants, devices, servers and access are recorded, under the names of
:class:`AuditAction`. ``detail`` is a small JSON object that never holds a secret: keys
that name one (passwords, tokens, keys, codes, secrets, sessions, captchas) are dropped
before anything is written, whoever passed them.

An operator's action is recorded through :meth:`AuditLog.outcome`, whichever surface it
came from (the admin command API, the web UI's admin pages), so the log reads the same:
``{"result": "ok"}`` or ``{"result": "failed", "error": [reason, …]}`` besides the
action's own detail.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tidecast.core.errors import TidecastError
from tidecast.storage import audit_repo
from tidecast.storage.database import Database

log = logging.getLogger(__name__)

SECRET_WORDS = ("password", "secret", "token", "key", "code", "session", "captcha")
"""A detail key holding one of these words is never stored."""
ANONYMOUS = "-"
"""The actor of an action nobody authenticated for (a failed login)."""
_TEXT_LIMIT = 255
_ADDRESS_LIMIT = 64


class AuditAction(StrEnum):
    """Every action the audit log records, by the name it is stored under."""

    ADMIN_LOGIN = "admin.login"
    ADMIN_LOGOUT = "admin.logout"
    ADMIN_UPDATE = "admin.update"
    ADMIN_2FA_ENABLE = "admin.2fa.enable"
    ADMIN_2FA_CONFIRM = "admin.2fa.confirm"
    ADMIN_2FA_DISABLE = "admin.2fa.disable"
    ADMIN_APIKEY_CREATE = "admin.apikey.create"
    ADMIN_APIKEY_DELETE = "admin.apikey.delete"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DELETE = "user.delete"
    DEVICE_REVOKE = "device.revoke"
    PLAN_CREATE = "plan.create"
    PLAN_UPDATE = "plan.update"
    PLAN_DELETE = "plan.delete"
    GRANT_CREATE = "grant.create"
    GRANT_REVOKE = "grant.revoke"
    SERVER_UPDATE = "server.update"
    SERVER_DELETE = "server.delete"
    SERVER_JOIN_TOKEN_CREATE = "server.join_token.create"  # noqa: S105 - a name, no token
    ACCESS_UPDATE = "access.update"


ACTIONS: tuple[str, ...] = tuple(action.value for action in AuditAction)
"""Every action name, as a filter offers them."""


@dataclass(slots=True)
class Record:
    """What an action is done to and what else the log records of it, filled in as the
    action learns them (a new account's login, a grant's id). Never put a secret in
    ``detail`` (a key that names one is dropped anyway)."""

    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


AuditEntry = audit_repo.AuditRow
"""One entry as the core hands it to the surfaces."""


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        action: str,
        *,
        actor: str,
        target: str = "",
        detail: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        """Append one entry. ``actor`` and ``target`` may be attacker-chosen text (a failed
        login's username): they are stored as data, cut to 255 characters."""
        async with self._db.write() as conn:
            await audit_repo.insert(
                conn,
                at=int(time.time()),
                actor=_clip(actor) or ANONYMOUS,
                action=action[:64],
                target=_clip(target),
                detail=scrub(detail or {}),
                address=address[:_ADDRESS_LIMIT] if address else None,
            )

    @asynccontextmanager
    async def outcome(
        self,
        action: AuditAction,
        *,
        actor: str,
        address: str | None,
        record: Record | None = None,
    ) -> AsyncIterator[Record]:
        """Record the block as ``action`` once it ran: ``{"result": "ok"}`` when it ends,
        ``{"result": "failed", "error": [reason, …]}`` when it raises (the exception goes
        on). ``record`` (a new one by default) is yielded for the block to fill in. An entry
        that cannot be written is logged, never raised: the action itself is done."""
        record = record if record is not None else Record()
        try:
            yield record
        except Exception as exc:
            await self._settle(action, actor, address, record, failed(exc))
            raise
        await self._settle(action, actor, address, record, {"result": "ok"})

    async def _settle(
        self,
        action: AuditAction,
        actor: str,
        address: str | None,
        record: Record,
        result: dict[str, Any],
    ) -> None:
        try:
            await self.record(
                action,
                actor=actor,
                target=record.target,
                detail={**record.detail, **result},
                address=address,
            )
        except TidecastError as exc:
            log.error("audit log write failed for %s: %s", action, exc.message)

    async def entries(
        self,
        *,
        offset: int = 0,
        limit: int = 25,
        action: str | None = None,
        actor: str | None = None,
    ) -> tuple[list[AuditEntry], int]:
        """Entries newest first (optionally only of one action, or of one actor: a login,
        or :data:`ANONYMOUS`), and how many there are."""
        async with self._db.read() as conn:
            rows, total = await audit_repo.page(
                conn, offset=max(offset, 0), limit=max(limit, 0), action=action, actor=actor
            )
        return rows, total


def failed(exc: BaseException) -> dict[str, Any]:
    """What the log records of a failure: a core error's ``reason``, or its class as a tag
    (``NotFound`` -> ``not_found``) when it has none, ``internal`` for anything else (a
    bug; its detail is logged where it is handled); one per error of a group."""
    return {"result": "failed", "error": _reasons(exc)}


def _reasons(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        return [reason for inner in exc.exceptions for reason in _reasons(inner)]
    if isinstance(exc, TidecastError):
        return [exc.reason or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()]
    return ["internal"]


def scrub(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` without keys that name a secret, and with text that storage can hold."""
    clean: dict[str, Any] = {}
    for key, value in detail.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            log.warning("audit detail %r dropped: it names a secret", key)
            continue
        clean[key] = _storable(value)
    return clean


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value][:100]
    return _clip(str(value))


def _clip(text: str) -> str:
    # NUL cannot be stored in PostgreSQL text; unpaired surrogates have no UTF-8 form.
    cleaned = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return cleaned[:_TEXT_LIMIT]

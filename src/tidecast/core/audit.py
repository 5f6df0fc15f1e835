"""The audit log: who did what administrative action, to what, from where, and when.

Logins (successful and failed), two-factor changes, API keys, and changes to users,
plans, grants, devices and servers are recorded. ``detail`` is a small JSON object that
never holds a secret: keys that name one (passwords, tokens, keys, codes, secrets,
sessions, captchas) are dropped before anything is written, whoever passed them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from tidecast.storage import audit_repo
from tidecast.storage.database import Database

log = logging.getLogger(__name__)

SECRET_WORDS = ("password", "secret", "token", "key", "code", "session", "captcha")
"""A detail key holding one of these words is never stored."""
ANONYMOUS = "-"
"""The actor of an action nobody authenticated for (a failed login)."""
_TEXT_LIMIT = 255
_ADDRESS_LIMIT = 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    address: str | None


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

    async def entries(
        self, *, offset: int = 0, limit: int = 25, action: str | None = None
    ) -> tuple[list[AuditEntry], int]:
        """Entries newest first (optionally of one action), and how many there are."""
        async with self._db.read() as conn:
            rows, total = await audit_repo.page(
                conn, offset=max(offset, 0), limit=max(limit, 0), action=action
            )
        entries = [
            AuditEntry(r.id, r.at, r.actor, r.action, r.target, dict(r.detail), r.address)
            for r in rows
        ]
        return entries, total


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

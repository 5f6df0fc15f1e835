"""Login throttling per account and per address, with lockouts that end by themselves.

Attempts on one account or from one address are handled one at a time (``guard``), so a
burst of concurrent guesses is counted like the same guesses in a row. Keys are stored as
SHA-256 digests: a failed login's identifier is attacker-chosen text.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from tidecast.core.errors import Conflict, TooManyAttempts
from tidecast.storage import users_repo
from tidecast.storage.database import Database
from tidecast.storage.users_repo import FailureRow


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lockout_seconds: int = 900
    guest_sign_ins: int = 5
    """Guest sign-ins from one address per window: one browser needs one an hour (a guest
    account stays its own for that long), and a burst would take over other guests."""


class LoginThrottle:
    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self._db = db
        self._policy = policy
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def keys(account: str, address: str | None) -> list[str]:
        digest = hashlib.sha256(account.lower().encode()).hexdigest()
        keys = [f"account:{digest}"]
        if address:
            keys.append(f"address:{address}")
        return keys

    @asynccontextmanager
    async def guard(self, account: str, address: str | None) -> AsyncIterator[None]:
        """Serialise attempts on this account and from this address (in this process)."""
        async with AsyncExitStack() as stack:
            for key in sorted(self.keys(account, address)):
                lock = self._locks.get(key)
                if lock is None:
                    if len(self._locks) > 10_000:
                        self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                    lock = self._locks[key] = asyncio.Lock()
                await stack.enter_async_context(lock)
            yield

    async def note_creation(self, address: str | None) -> None:
        """Count an account creation from ``address``; too many in a window lock it out."""
        key = f"create:{address}" if address else None
        await self._note(key, self._policy.address_failures, "accounts created")

    async def note_guest_sign_in(self, address: str | None) -> None:
        """Count a guest sign-in from ``address``; TooManyAttempts once it had its share."""
        key = f"guest:{address}" if address else None
        await self._note(key, self._policy.guest_sign_ins, "guest sign-ins")

    async def _note(self, key: str | None, limit: int, what: str) -> None:
        """Refuse while ``key`` is locked out, else count it (an attempt without an address,
        the host's own console or a test, is not counted)."""
        if key is None:
            return
        await self._check_keys([key], what)
        # Two first attempts racing to insert the key (PostgreSQL): the loser retries.
        for attempt in range(3):
            try:
                await self._count([key], limit)
                return
            except Conflict:
                if attempt == 2:
                    raise

    async def check(self, account: str, address: str | None) -> None:
        """Raise TooManyAttempts while the account or the address is locked out."""
        await self._check_keys(self.keys(account, address))

    async def _check_keys(self, keys: list[str], what: str = "failed logins") -> None:
        now = int(time.time())
        async with self._db.read() as conn:
            rows = await users_repo.failures_of(conn, keys)
        until = max((row.locked_until or 0 for row in rows), default=0)
        if until > now:
            raise TooManyAttempts(
                f"too many {what}: try again in {until - now} s",
                reason="too_many_attempts",
            )

    async def failed(self, account: str, address: str | None) -> None:
        # Two failures racing for a key nobody has yet both insert it (PostgreSQL); the
        # loser retries, then sees the winner's row.
        for attempt in range(3):
            try:
                await self._count(self.keys(account, address), None)
                return
            except Conflict:
                if attempt == 2:
                    raise

    async def _count(self, keys: list[str], limit_for_all: int | None) -> None:
        now = int(time.time())
        policy = self._policy
        async with self._db.write() as conn:
            await users_repo.purge_failures(conn, now - policy.window_seconds, now)
            rows = {r.key: r for r in await users_repo.failures_of(conn, keys)}
            for key in keys:
                if limit_for_all is not None:
                    limit = limit_for_all
                elif key.startswith("account:"):
                    limit = policy.account_failures
                else:
                    limit = policy.address_failures
                row = rows.get(key)
                # A window that has passed, or a lockout that has ended, starts afresh: the
                # next failure after a lockout must not lock again at once.
                if (
                    row is None
                    or now - row.first_failure_at > policy.window_seconds
                    or (row.locked_until is not None and row.locked_until <= now)
                ):
                    row = FailureRow(key, 0, now, None)
                failures = row.failures + 1
                locked = now + policy.lockout_seconds if failures >= limit else row.locked_until
                await users_repo.store_failure(
                    conn, FailureRow(key, failures, row.first_failure_at, locked)
                )

    async def succeeded(self, account: str) -> None:
        async with self._db.write() as conn:
            await users_repo.clear_failures(conn, self.keys(account, None)[0])

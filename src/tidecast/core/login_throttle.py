"""Login throttling per account and per address, with lockouts that end by themselves."""

from __future__ import annotations

import time
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


class LoginThrottle:
    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self._db = db
        self._policy = policy

    @staticmethod
    def keys(account: str, address: str | None) -> list[str]:
        keys = [f"account:{account.lower()}"]
        if address:
            keys.append(f"address:{address}")
        return keys

    async def check(self, account: str, address: str | None) -> None:
        """Raise TooManyAttempts while the account or the address is locked out."""
        now = int(time.time())
        async with self._db.read() as conn:
            rows = await users_repo.failures_of(conn, self.keys(account, address))
        until = max((row.locked_until or 0 for row in rows), default=0)
        if until > now:
            raise TooManyAttempts(
                f"too many failed logins: try again in {until - now} s",
                reason="too_many_attempts",
            )

    async def failed(self, account: str, address: str | None) -> None:
        # Two failures racing for a key nobody has yet both insert it (PostgreSQL); the
        # loser retries, then sees the winner's row.
        for attempt in range(3):
            try:
                await self._count_failure(account, address)
                return
            except Conflict:
                if attempt == 2:
                    raise

    async def _count_failure(self, account: str, address: str | None) -> None:
        now = int(time.time())
        policy = self._policy
        async with self._db.write() as conn:
            keys = self.keys(account, address)
            rows = {r.key: r for r in await users_repo.failures_of(conn, keys)}
            for key in keys:
                limit = (
                    policy.account_failures
                    if key.startswith("account:")
                    else policy.address_failures
                )
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

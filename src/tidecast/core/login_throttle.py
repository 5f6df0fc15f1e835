"""Login throttling per account and per address, with lockouts that end by themselves."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tidecast.core.errors import TooManyAttempts
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
        if any(row.locked_until is not None and row.locked_until > now for row in rows):
            raise TooManyAttempts(reason="too_many_attempts")

    async def failed(self, account: str, address: str | None) -> None:
        now = int(time.time())
        policy = self._policy
        async with self._db.write() as conn:
            keys = self.keys(account, address)
            rows = {r.key: r for r in await users_repo.failures_of(conn, keys)}
            for key in self.keys(account, address):
                limit = (
                    policy.account_failures
                    if key.startswith("account:")
                    else (policy.address_failures)
                )
                row = rows.get(key)
                if row is None or now - row.first_failure_at > policy.window_seconds:
                    row = FailureRow(key, 0, now, None)
                failures = row.failures + 1
                locked = now + policy.lockout_seconds if failures >= limit else row.locked_until
                await users_repo.store_failure(
                    conn, FailureRow(key, failures, row.first_failure_at, locked)
                )

    async def succeeded(self, account: str) -> None:
        async with self._db.write() as conn:
            await users_repo.clear_failures(conn, self.keys(account, None)[0])

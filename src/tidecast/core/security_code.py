"""The six-digit security code: made at every start, logged, replaced after each use.

It lets someone at the host's console (who can read the log) create an operator, reset a
local password, or promote the account they log in with.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time

log = logging.getLogger("tidecast.security")

FAILURES_BEFORE_LOCK = 5
LOCK_SECONDS = 60
GLOBAL_FAILURES_BEFORE_LOCK = 100
"""After every FAILURES_BEFORE_LOCK wrong codes from one address, that address is refused
for LOCK_SECONDS, doubled each time (up to 1024 times): six digits must not be guessable
by a remote caller (``resetUserPassword`` needs no account). Behind it, a slower limit
counts every address together, so many addresses cannot share out the guessing; one
address alone cannot lock the code for everybody. A restart (a new code) clears it all."""


class SecurityCode:
    def __init__(self) -> None:
        self._code = ""
        self._failures: dict[str | None, int] = {}
        self._locked_until: dict[str | None, float] = {}
        self._all_failures = 0
        self._all_locked_until = 0.0
        self.renew()

    def renew(self) -> None:
        self._code = f"{secrets.randbelow(1_000_000):06d}"
        log.warning("security code: %s", self._code)

    def matches(self, presented: object) -> bool:
        """Whether ``presented`` (string or number) is the current code; constant time."""
        if presented is None or isinstance(presented, bool):
            return False
        text = f"{presented:06d}" if isinstance(presented, int) else str(presented).strip()
        return hmac.compare_digest(text.encode(), self._code.encode())

    def consume(self, presented: object, address: str | None = None) -> bool:
        """Check and, on a match, replace the code so it works once; while ``address`` (or
        everyone, after very many failures) is locked out, nothing matches."""
        now = time.monotonic()
        if presented in (None, ""):
            return False
        if now < self._locked_until.get(address, 0.0) or now < self._all_locked_until:
            return False
        if self.matches(presented):
            self._failures.pop(address, None)
            self.renew()
            return True
        failures = self._failures[address] = self._failures.get(address, 0) + 1
        if failures % FAILURES_BEFORE_LOCK == 0:
            seconds = LOCK_SECONDS * min(2 ** (failures // FAILURES_BEFORE_LOCK - 1), 1024)
            self._locked_until[address] = now + seconds
            log.warning(
                "security code: %d wrong attempts from one address, refused for %d s",
                failures,
                seconds,
            )
        self._all_failures += 1
        if self._all_failures % GLOBAL_FAILURES_BEFORE_LOCK == 0:
            self._all_locked_until = now + LOCK_SECONDS
            log.warning(
                "security code: %d wrong attempts in all, refused for %d s",
                self._all_failures,
                LOCK_SECONDS,
            )
        if len(self._failures) > 10_000:
            self._failures.clear()
        return False

    def peek(self) -> str:
        """The current code, for the operator's console (CLI, tests); never sent to clients."""
        return self._code

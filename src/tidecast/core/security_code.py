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
"""After every FAILURES_BEFORE_LOCK wrong codes, the code refuses everything for
LOCK_SECONDS, doubled each time (up to 1024 times): six digits must not be guessable by a
remote caller (``resetUserPassword`` needs no account). A restart (a new code) clears it."""


class SecurityCode:
    def __init__(self) -> None:
        self._code = ""
        self._failures = 0
        self._locked_until = 0.0
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

    def consume(self, presented: object) -> bool:
        """Check and, on a match, replace the code so it works once; while locked after
        repeated failures, nothing matches."""
        now = time.monotonic()
        if presented in (None, "") or now < self._locked_until:
            return False
        if self.matches(presented):
            self._failures = 0
            self.renew()
            return True
        self._failures += 1
        if self._failures % FAILURES_BEFORE_LOCK == 0:
            seconds = LOCK_SECONDS * min(2 ** (self._failures // FAILURES_BEFORE_LOCK - 1), 1024)
            self._locked_until = now + seconds
            log.warning(
                "security code: %d wrong attempts, refused for %d s", self._failures, seconds
            )
        return False

    def peek(self) -> str:
        """The current code, for the operator's console (CLI, tests); never sent to clients."""
        return self._code

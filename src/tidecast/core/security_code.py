"""The six-digit security code: made at every start, logged, replaced after each use.

It lets someone at the host's console (who can read the log) create an operator, reset a
local password, or promote the account they log in with.
"""

from __future__ import annotations

import hmac
import logging
import secrets

log = logging.getLogger("tidecast.security")


class SecurityCode:
    def __init__(self) -> None:
        self._code = ""
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
        """Check and, on a match, replace the code so it works once."""
        if self.matches(presented):
            self.renew()
            return True
        return False

    def peek(self) -> str:
        """The current code, for the operator's console (CLI, tests); never sent to clients."""
        return self._code

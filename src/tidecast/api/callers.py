"""Who is calling, for every surface: the TCP peer, or the client a trusted proxy names.

Only a configured trusted proxy may speak for someone else (``X-Forwarded-For``); the core
classifies the address (loopback, intranet, internet) and memoises it.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from tidecast.core.access import Caller
from tidecast.core.services import Services


def caller_of(connection: HTTPConnection, services: Services) -> Caller:
    client = connection.scope.get("client")
    peer = client[0] if client else None
    forwarded = (
        connection.headers.get("x-forwarded-for") if services.settings.trusted_proxies else None
    )
    return services.caller(peer, forwarded)


def address_of(connection: HTTPConnection, services: Services) -> str | None:
    """The caller's address as text (None when unknown), for throttles and the audit log."""
    address = caller_of(connection, services).address
    return str(address) if address is not None else None

"""Who is calling, for every surface: the TCP peer, or the client a trusted proxy names.

Only a configured trusted proxy may speak for someone else (``X-Forwarded-For``, and
``X-Forwarded-Proto`` for the scheme the client used); the core classifies the address
(loopback, intranet, internet) and memoises it.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from tidecast.core.access import Caller, parse_address, parse_networks
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


def reached_over_https(connection: HTTPConnection, services: Services) -> bool:
    """Whether the client reached this instance over https: served so directly, told so
    by a trusted proxy (the last ``X-Forwarded-Proto`` value, the one the proxy next to
    us set), or the instance's ``public_url`` is https."""
    settings = services.settings
    if connection.url.scheme == "https" or settings.public_url.startswith("https://"):
        return True
    proto = connection.headers.get("x-forwarded-proto")
    if not proto or not settings.trusted_proxies:
        return False
    client = connection.scope.get("client")
    peer = parse_address(client[0] if client else None)
    if peer is None:
        return False
    trusted = parse_networks(settings.trusted_proxies)
    if not any(peer.version == network.version and peer in network for network in trusted):
        return False
    return proto.rsplit(",", 1)[-1].strip().lower() == "https"

"""The address guard of every fetch tidecast makes on a caller's behalf.

Only ``http`` and ``https``; a caller that is not local (not a loopback client of
tidecast) may only reach public addresses, checked on every resolved address before any
connection. DNS rebinding: for non-local callers the connection pool's network backend
resolves the name itself, refuses unless every address is public, and connects to exactly
those addresses (TLS still verifies the certificate against the host name). Local and
non-local fetches use separate pools, so a connection to a private address opened for a
local caller is never reused for a non-local one. Failures become core errors here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

import httpcore
import httpx

from tidecast.core.errors import ContentUnavailable, FetchRefused

__all__ = [
    "CALLER_IS_LOCAL",
    "MAX_REDIRECTS",
    "GuardedTransport",
    "check_hop",
    "check_url_allowed",
    "httpx_errors",
    "is_public_address",
    "parse_url",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
"""Redirects followed before a fetch gives up."""

_ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PRIVATE_REFUSAL = "refusing to fetch a private or loopback address"
CALLER_IS_LOCAL = "tidecast.caller_is_local"
"""Request extension telling the transport which connection pool may serve it."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def is_public_address(ip: IPAddress) -> bool:
    """True if ``ip`` is globally routable unicast: safe for a remote caller to reach.

    An IPv6 address that embeds an IPv4 one (IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4)
    is judged by the IPv4 address, since that is where the packets end up.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    # is_global alone lets multicast through, and its private list has changed across
    # Python patch releases, so the other properties are checked explicitly as well.
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


async def check_url_allowed(url: str, *, caller_is_local: bool) -> None:
    """Raise :class:`FetchRefused` unless ``url`` may be fetched for this caller.

    Refuses malformed URLs, schemes other than http/https, URLs without a host and, for a
    non-local caller, hosts that resolve to any non-public address. Resolution uses the
    running loop's ``getaddrinfo``; a name that does not resolve is
    :class:`ContentUnavailable`. Local callers are not resolved here.
    """
    await check_hop(parse_url(url), caller_is_local=caller_is_local)


def parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        # The URL itself may hold credentials, so neither it nor the parser's message
        # (which quotes it) goes into the error.
        raise FetchRefused("refusing to fetch a malformed URL") from None
    _check_scheme_and_host(parsed)
    return parsed


def _check_scheme_and_host(url: httpx.URL) -> None:
    if url.scheme not in _ALLOWED_SCHEMES:
        what = f"{url.scheme}: URLs" if url.scheme else "a URL without a scheme"
        raise FetchRefused(f"refusing to fetch {what}; only http and https are allowed")
    if not url.raw_host:
        raise FetchRefused("refusing to fetch a URL without a host")


async def check_hop(url: httpx.URL, *, caller_is_local: bool) -> None:
    _check_scheme_and_host(url)
    if caller_is_local:
        return
    port = url.port or _DEFAULT_PORTS[url.scheme]
    addresses = await _resolve(url.raw_host.decode("ascii"), port)
    if not all(is_public_address(address) for address in addresses):
        raise FetchRefused(_PRIVATE_REFUSAL)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` names, in resolver order; a literal IP needs no lookup."""
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(host)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ContentUnavailable(f"cannot resolve {host}") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise ContentUnavailable(f"cannot resolve {host}")
    return addresses


class _PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Connects only to public addresses, and only to the ones it has just checked."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        if not all(is_public_address(address) for address in addresses):
            raise FetchRefused(_PRIVATE_REFUSAL)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # _resolve never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("refusing to connect to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# Most specific first: the first match wins.
_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPCORE_ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc)) from exc
        raise


class ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport over two httpcore pools: public-only, and unrestricted for locals.

    A request goes to the unrestricted pool only if its ``tidecast.caller_is_local``
    extension is True; anything else fails closed to the public-only pool.
    """

    def __init__(self) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)

        def pool(backend: httpcore.AsyncNetworkBackend) -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=5.0,
                network_backend=backend,
            )

        self._public_only = pool(_PublicOnlyBackend())
        self._unrestricted = pool(httpcore.AnyIOBackend())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        caller_is_local = extensions.pop(CALLER_IS_LOCAL, False) is True
        pool = self._unrestricted if caller_is_local else self._public_only
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=extensions,
        )
        with httpx_errors():
            core_response = await pool.handle_async_request(core_request)
        assert isinstance(core_response.stream, AsyncIterable)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        try:
            await self._public_only.aclose()
        finally:
            await self._unrestricted.aclose()

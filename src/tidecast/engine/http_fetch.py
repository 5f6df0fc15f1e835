"""Fetching user-given URLs: the one way tidecast reaches an address a caller named.

The address rules live in :mod:`tidecast.engine.address_guard`.

Contract of every fetch:

* Only ``http`` and ``https``. Anything else is :class:`FetchRefused`, naming the scheme.
* A caller that is not local (not a loopback client of tidecast) may only reach public
  addresses: every address the host resolves to must pass :func:`is_public_address`, or
  the fetch is :class:`FetchRefused` before any connection is made. Local callers may
  fetch anything, loopback included: they could reach it themselves anyway.
* Redirects are followed by hand, at most :data:`MAX_REDIRECTS`, and every hop is checked
  like the first. Basic credentials are sent only to the origin they were given for.
* One deadline covers the whole fetch (resolution, redirects, body), on top of httpx's
  per-operation timeouts; running out is :class:`ContentUnavailable`.
  :meth:`Fetcher.stream`, which relays a body that may last for hours, applies it up to
  the final answer's headers, and reads the body under the per-read timeout alone.
* A declared ``Content-Length`` over the limit is refused before reading, and the body is
  cut as soon as it passes the limit: :class:`PayloadTooLarge` (not for
  :meth:`Fetcher.stream`, which has no limit: its bytes are passed on, not kept).
* A final status outside 2xx, and any connection or protocol failure, is
  :class:`ContentUnavailable` (except for :meth:`Fetcher.request_json`, which hands API
  error answers back to its caller and follows no redirect). Messages name the host
  only: never the path, the query or credentials, which IPTV URLs often carry.

DNS rebinding: a check on the resolved addresses followed by a connection that resolves
again would let a name answer "public" to the check and "127.0.0.1" to the connection. So
for non-local callers the check is repeated where it matters: the connection pool's
network backend resolves the name itself, refuses unless every address is public, and
connects to exactly those addresses. TLS still verifies the certificate against the host
name, because only the TCP connect is pinned. Local and non-local fetches use separate
connection pools, so a connection a local caller opened to a private address is never
reused for a non-local one.

Not covered: ``httpx`` logs each request URL (query string included) at INFO on the
``httpx`` logger; applications that log INFO should raise that logger to WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tidecast.core.errors import ContentUnavailable, PayloadTooLarge
from tidecast.engine.address_guard import (
    CALLER_IS_LOCAL,
    MAX_REDIRECTS,
    GuardedTransport,
    check_hop,
    check_url_allowed,
    is_public_address,
    parse_url,
)

__all__ = [
    "MAX_REDIRECTS",
    "RELAYED_HEADERS",
    "FetchResult",
    "Fetcher",
    "Upstream",
    "check_url_allowed",
    "is_public_address",
]

logger = logging.getLogger(__name__)

Writer = Callable[[bytes], Awaitable[None]]

RELAYED_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "content-encoding",
    "accept-ranges",
    "last-modified",
    "etag",
)
"""The upstream headers :meth:`Fetcher.stream` hands on (lower-case); no others, so
cookies and the like never reach whoever the body is relayed to."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch.

    ``url`` is the final URL after redirects, without credentials; ``content_type`` is
    lower-cased without parameters ("" when absent); ``body`` is empty when the body was
    written to a file.
    """

    url: str
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Upstream:
    """An upstream's answer to :meth:`Fetcher.stream`, its body still to be read.

    ``url`` is the final URL after redirects, without credentials; ``headers`` holds the
    :data:`RELAYED_HEADERS` the upstream sent, by lower-case name; ``body`` yields the
    bytes as they arrive, exactly as sent (no content decoding), once.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    body: AsyncIterator[bytes]


@dataclass(slots=True)
class _Hop:
    """Where a fetch has got to: the URL to request and the host last requested."""

    url: httpx.URL
    host: str = field(init=False)
    sent_auth: bool = False

    def __post_init__(self) -> None:
        self.host = self.url.host


def _first_hop(url: str, auth: tuple[str, str] | None) -> tuple[_Hop, tuple[str, str] | None]:
    """The first hop of a fetch, and its credentials: ``auth``, else those in the URL."""
    current = parse_url(url)
    if auth is None and (current.username or current.password):
        auth = (current.username, current.password)
    return _Hop(current.copy_with(userinfo=b"")), auth


class Fetcher:
    """Fetches user-given URLs under the rules in this module's docstring.

    ``timeout`` (seconds) bounds a whole fetch; ``max_bytes`` is the default body limit.
    One shared httpx client is created on first use and belongs to that event loop; use
    the Fetcher only from it, and :meth:`aclose` it when done.
    """

    def __init__(self, *, timeout: float, max_bytes: int, user_agent: str = "tidecast/0.1") -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._user_agent = user_agent
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def fetch(
        self,
        url: str,
        *,
        caller_is_local: bool,
        max_bytes: int | None = None,
        auth: tuple[str, str] | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """Fetch ``url`` into memory; ``max_bytes`` overrides the Fetcher's limit.

        ``auth`` is HTTP Basic (user, password); without it, credentials in the URL are
        used. Raises FetchRefused, ContentUnavailable or PayloadTooLarge.
        """
        body = bytearray()

        async def collect(chunk: bytes) -> None:
            body.extend(chunk)

        result = await self._download(
            url,
            caller_is_local=caller_is_local,
            max_bytes=max_bytes,
            auth=auth,
            accept=accept,
            write=collect,
        )
        return FetchResult(result.url, result.status, result.content_type, bytes(body))

    async def fetch_to_file(
        self,
        url: str,
        path: Path,
        *,
        caller_is_local: bool,
        max_bytes: int | None = None,
        auth: tuple[str, str] | None = None,
    ) -> FetchResult:
        """Stream ``url`` to ``path`` in constant memory; the result's body is ``b""``.

        The body goes to a temporary file beside ``path``, renamed over it only on success:
        a failed fetch leaves neither a partial file nor a changed ``path``. Raises as
        :meth:`fetch` does.
        """
        parse_url(url)  # a URL refused outright should not touch the disk
        fd, temp_name = await asyncio.to_thread(
            tempfile.mkstemp, dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
        handle = os.fdopen(fd, "wb")

        async def write(chunk: bytes) -> None:
            await asyncio.to_thread(handle.write, chunk)

        try:
            result = await self._download(
                url,
                caller_is_local=caller_is_local,
                max_bytes=max_bytes,
                auth=auth,
                accept=None,
                write=write,
            )
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, temp_name, path)
        except BaseException:
            # Synchronous on purpose: this also runs on cancellation, where awaiting a
            # thread could itself be cancelled and leave the temporary file behind.
            handle.close()
            Path(temp_name).unlink(missing_ok=True)
            raise
        return result

    async def aclose(self) -> None:
        """Close the shared client; a later fetch opens a new one. Safe to call twice."""
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    def _shared_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=GuardedTransport(),
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(self._timeout),
                headers={"User-Agent": self._user_agent},
            )
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a Fetcher can only be used from the event loop that first used it")
        return self._client

    async def _download(
        self,
        url: str,
        *,
        caller_is_local: bool,
        max_bytes: int | None,
        auth: tuple[str, str] | None,
        accept: str | None,
        write: Writer,
    ) -> FetchResult:
        limit = self._max_bytes if max_bytes is None else max_bytes
        if limit <= 0:
            raise ValueError("max_bytes must be positive")
        hop, auth = _first_hop(url, auth)
        # Identity keeps Content-Length meaningful and avoids inflating compressed bodies.
        headers = {"Accept-Encoding": "identity"}
        if accept is not None:
            headers["Accept"] = accept
        client = self._shared_client()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._follow(
                    client, hop, caller_is_local=caller_is_local, auth=auth, headers=headers
                )
                try:
                    _check_status(response, hop.host, sent_auth=hop.sent_auth)
                    await _read_body(response, hop.host, limit, write)
                    return FetchResult(
                        url=str(hop.url),
                        status=response.status_code,
                        content_type=_content_type(response),
                        body=b"",
                    )
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.HTTPError) as exc:
            raise _failure(exc, hop.host, self._timeout) from None

    @contextlib.asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        caller_is_local: bool,
        headers: Mapping[str, str] | None = None,
        allow_statuses: Collection[int] = (),
    ) -> AsyncIterator[Upstream]:
        """Open ``url`` and yield its answer with the body still to be read, for relaying.

        The address rules, redirects and credentials are those of :meth:`fetch`.
        ``headers`` (``Range``, ``If-Range``, …) go with every hop, so they must be fit
        for any host a redirect names; ``Accept-Encoding`` is always ``identity``. The
        deadline covers reaching the final answer (resolution, redirects, headers); the
        body is then read under httpx's per-read timeout only, since a relayed stream may
        run for hours, and without a size limit. A final status outside 2xx and
        ``allow_statuses`` is ContentUnavailable. Leaving the block closes the
        connection, read to the end or not. Raises FetchRefused or ContentUnavailable,
        before the block and while reading the body.
        """
        hop, auth = _first_hop(url, None)
        sent = {**(headers or {}), "Accept-Encoding": "identity"}
        client = self._shared_client()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._follow(
                    client, hop, caller_is_local=caller_is_local, auth=auth, headers=sent
                )
        except (TimeoutError, httpx.HTTPError) as exc:
            raise _failure(exc, hop.host, self._timeout) from None
        try:
            if response.status_code not in allow_statuses:
                _check_status(response, hop.host, sent_auth=hop.sent_auth)
            yield Upstream(
                url=str(hop.url),
                status=response.status_code,
                headers={
                    name: response.headers[name]
                    for name in RELAYED_HEADERS
                    if name in response.headers
                },
                body=_raw_body(response, hop.host, self._timeout),
            )
        finally:
            await response.aclose()

    async def _follow(
        self,
        client: httpx.AsyncClient,
        hop: _Hop,
        *,
        caller_is_local: bool,
        auth: tuple[str, str] | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """GET ``hop.url``, following redirects by hand; the final response is left open.

        ``hop`` follows the redirects, so that a failure can name the host it met.
        """
        credentials_origin = _origin(hop.url)
        for index in range(MAX_REDIRECTS + 1):
            hop.host = hop.url.host
            await check_hop(hop.url, caller_is_local=caller_is_local)
            logger.debug("fetching from %s (hop %d)", hop.host, index)
            request = client.build_request(
                "GET",
                hop.url,
                headers=headers,
                extensions={CALLER_IS_LOCAL: caller_is_local},
            )
            send_auth = auth if auth and _origin(hop.url) == credentials_origin else None
            hop.sent_auth = send_auth is not None
            response = await client.send(
                request,
                stream=True,
                auth=httpx.BasicAuth(*send_auth) if send_auth else None,
            )
            if response.next_request is None:
                return response
            await response.aclose()
            # Userinfo in a Location is dropped: credentials come from our caller, never
            # from the upstream.
            hop.url = response.next_request.url.copy_with(userinfo=b"")
        raise ContentUnavailable(f"{hop.host} redirected more than {MAX_REDIRECTS} times")

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        caller_is_local: bool,
        max_bytes: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request to a JSON API and return ``(status, the JSON object answered)``.

        ``json`` (when not None) is sent as an ``application/json`` body. Every status is
        returned with its body, since an API's error answers are for the caller to read;
        a body that is not a JSON object is ContentUnavailable. Redirects are not
        followed (a redirected POST would carry its body, often a password, to another
        place): a redirect is ContentUnavailable. The address rules, the deadline and the
        body limit are those of :meth:`fetch`; credentials in the URL are dropped (send
        them in ``headers``). Raises FetchRefused, ContentUnavailable or PayloadTooLarge.
        """
        method = method.upper()
        if method not in _JSON_METHODS:
            raise ValueError(f"unsupported method {method}")
        limit = self._max_bytes if max_bytes is None else max_bytes
        if limit <= 0:
            raise ValueError("max_bytes must be positive")
        target = parse_url(url).copy_with(userinfo=b"")
        host = target.host
        content = None if json is None else orjson.dumps(json)
        sent = {"Accept": "application/json", **(headers or {}), "Accept-Encoding": "identity"}
        if content is not None:
            sent["Content-Type"] = "application/json"
        body = bytearray()

        async def collect(chunk: bytes) -> None:
            body.extend(chunk)

        client = self._shared_client()
        try:
            async with asyncio.timeout(self._timeout):
                await check_hop(target, caller_is_local=caller_is_local)
                logger.debug("%s to %s", method, host)
                request = client.build_request(
                    method,
                    target,
                    headers=sent,
                    content=content,
                    extensions={CALLER_IS_LOCAL: caller_is_local},
                )
                response = await client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        raise ContentUnavailable(
                            f"{host} answered with a redirect, which API requests do not follow"
                        )
                    await _read_body(response, host, limit, collect)
                    status = response.status_code
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.HTTPError) as exc:
            raise _failure(exc, host, self._timeout) from None
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise ContentUnavailable(f"{host} answered HTTP {status} without a JSON object")
        return status, answer


_JSON_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _failure(exc: Exception, host: str, timeout: float) -> ContentUnavailable:
    """The core error for a transport failure or the deadline running out."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return ContentUnavailable(f"timed out fetching {host} after {timeout:g} s")
    if isinstance(exc, httpx.ConnectError):
        return ContentUnavailable(f"cannot connect to {host}: {exc}")
    if isinstance(exc, httpx.ProtocolError):
        return ContentUnavailable(f"{host} sent an invalid HTTP response")
    return ContentUnavailable(f"fetching from {host} failed")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _check_status(response: httpx.Response, host: str, *, sent_auth: bool) -> None:
    if response.is_success:
        return
    message = f"{host} answered HTTP {response.status_code}"
    if response.status_code == 401:
        message += " (credentials rejected)" if sent_auth else " (credentials required)"
    raise ContentUnavailable(message)


async def _read_body(response: httpx.Response, host: str, limit: int, write: Writer) -> None:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{host} declared {declared} bytes, over the {limit}-byte limit")
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"response from {host} exceeds the {limit}-byte limit")
        await write(chunk)


async def _raw_body(
    response: httpx.Response, host: str, read_timeout: float
) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        raise _failure(exc, host, read_timeout) from None


def _content_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower()

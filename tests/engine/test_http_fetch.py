"""Tests of tidecast.engine.http_fetch against a real HTTP server on 127.0.0.1.

Every connection these tests make goes to loopback: the autouse ``loopback_only`` guard
fails any test that tries to connect elsewhere, and the address policy for public
addresses is tested as a pure function.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import logging
import socket
import threading
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest

from tidecast.core.errors import ContentUnavailable, FetchRefused, PayloadTooLarge
from tidecast.engine import address_guard
from tidecast.engine.http_fetch import (
    MAX_REDIRECTS,
    RELAYED_HEADERS,
    Fetcher,
    FetchResult,
    check_url_allowed,
    is_public_address,
)

SMALL = b"hello tidecast"
BIG = bytes(range(256)) * 800  # 204,800 bytes
USER, PASSWORD = "viewer", "s3cret-Pa55word"
STREAM_CAP = 20 * 1024 * 1024  # "forever-ish": endless responses stop here


# --- a small HTTP/1.1 server on 127.0.0.1, in its own thread and event loop ---------------


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


@dataclass
class TestServer:
    """An HTTP server on 127.0.0.1 that answers one request per connection."""

    __test__ = False

    port: int = 0
    other_port: int = 0
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reset(self) -> None:
        self.connections = 0
        self.requests.clear()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            path = request_line.split(" ")[1]
            headers = {}
            for line in header_lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            self.requests.append(Seen(path, headers))
            await self.respond(path, headers, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up, which many tests make it do on purpose
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def respond(self, path: str, headers: dict[str, str], w: asyncio.StreamWriter) -> None:
        if path == "/small":
            await send(w, 200, SMALL, content_type="Text/Plain; charset=UTF-8")
        elif path == "/big":
            await send(w, 200, BIG, content_type="application/octet-stream")
        elif path == "/big-declared":
            # Declares a huge body, then streams: the client must refuse from the header.
            await send_head(w, 200, {"Content-Length": str(10**12)})
            await stream_forever(w)
        elif path == "/no-length":
            await send_head(w, 200, {})  # body ends at close: no Content-Length at all
            await stream_forever(w)
        elif path == "/chunked":
            await send_head(w, 200, {"Transfer-Encoding": "chunked"})
            await stream_forever(w, chunked=True)
        elif path == "/short-body":
            # Declares more than it sends, then hangs up.
            await send_head(w, 200, {"Content-Length": "1000"})
            w.write(b"only ten!!")
            await w.drain()
        elif path == "/slow":
            await asyncio.sleep(30)
        elif path == "/trickle":
            # A byte every 50 ms: no single read times out, only the overall deadline can.
            await send_head(w, 200, {"Content-Length": "100000"})
            for _ in range(100000):
                w.write(b"x")
                await w.drain()
                await asyncio.sleep(0.05)
        elif path == "/ranged":
            await send_ranged(w, headers.get("range"))
        elif path == "/redirect/ranged":
            await send(w, 302, b"", location="/ranged")
        elif path == "/redirect/ok":
            await send(w, 302, b"", location="/small")
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            if left:
                await send(w, 302, b"", location=f"/chain/{left - 1}")
            else:
                await send(w, 200, SMALL)
        elif path == "/redirect/other-port":
            await send(w, 301, b"", location=f"http://127.0.0.1:{self.other_port}/small")
        elif path == "/redirect/file":
            await send(w, 302, b"", location="file:///etc/passwd")
        elif path == "/redirect/private":
            await send(w, 307, b"", location=f"http://127.0.0.2:{self.port}/small")
        elif path == "/redirect/auth-same-origin":
            await send(w, 302, b"", location="/auth")
        elif path == "/redirect/auth-other-port":
            await send(w, 302, b"", location=f"http://127.0.0.1:{self.other_port}/small")
        elif path.startswith("/status/"):
            await send(w, int(path.rsplit("/", 1)[1]), b"nope")
        elif path == "/auth":
            expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if headers.get("authorization") == f"Basic {expected}":
                await send(w, 200, b"welcome")
            else:
                await send(w, 401, b"who are you", www_authenticate='Basic realm="tv"')
        else:
            await send(w, 404, b"not here")


async def send_head(w: asyncio.StreamWriter, status: int, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status} Whatever", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    w.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await w.drain()


async def send(
    w: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    content_type: str = "text/plain",
    location: str | None = None,
    www_authenticate: str | None = None,
) -> None:
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    if location is not None:
        headers["Location"] = location
    if www_authenticate is not None:
        headers["WWW-Authenticate"] = www_authenticate
    await send_head(w, status, headers)
    w.write(body)
    await w.drain()


async def send_ranged(w: asyncio.StreamWriter, wanted: str | None) -> None:
    """BIG, or the one ``bytes=a-b`` range asked for, with headers a relay must not pass on."""
    headers = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "ETag": '"big-1"',
        "Set-Cookie": "session=upstream-secret",
        "X-Upstream": "internal",
    }
    if wanted is None:
        await send_head(w, 200, {**headers, "Content-Length": str(len(BIG))})
        w.write(BIG)
    else:
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        start, end = int(first), int(last) + 1
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(BIG)}"
        await send_head(w, 206, {**headers, "Content-Length": str(end - start)})
        w.write(BIG[start:end])
    await w.drain()


async def stream_forever(w: asyncio.StreamWriter, *, chunked: bool = False) -> None:
    piece = b"z" * 65536
    for _ in range(STREAM_CAP // len(piece)):
        w.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        await w.drain()


class ServerThread:
    """Runs servers in a private event loop, so a blocked test loop cannot stall them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.thread.start()

    def start(self, app: TestServer) -> None:
        async def serve() -> int:
            async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                task = asyncio.current_task()
                assert task is not None
                self.tasks.add(task)
                try:
                    await app.handle(r, w)
                finally:
                    self.tasks.discard(task)

            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.servers.append(server)
            port: int = server.sockets[0].getsockname()[1]
            return port

        app.port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(5)

    def stop(self) -> None:
        async def shutdown() -> None:
            for server in self.servers:
                server.close()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for server in self.servers:
                await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[TestServer, TestServer]]:
    runner = ServerThread()
    main, other = TestServer(), TestServer()
    try:
        runner.start(main)
        runner.start(other)
        main.other_port, other.other_port = other.port, main.port
        yield main, other
    finally:
        runner.stop()


@pytest.fixture
def server(servers: tuple[TestServer, TestServer]) -> TestServer:
    for each in servers:
        each.reset()
    return servers[0]


@pytest.fixture
def other(servers: tuple[TestServer, TestServer]) -> TestServer:
    return servers[1]


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(timeout=3.0, max_bytes=1024 * 1024)
    try:
        yield f
    finally:
        await f.aclose()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail, without connecting, any attempt to reach a non-loopback address."""
    real = httpcore.AnyIOBackend.connect_tcp

    async def guarded(self: httpcore.AnyIOBackend, host: str, port: int, **kw: Any) -> Any:
        if not is_loopback(host):
            pytest.fail(f"test tried to connect to {host}")
        return await real(self, host, port, **kw)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", guarded)


# --- fetching as a local caller -------------------------------------------------------------


async def test_local_caller_fetches_small_body(server: TestServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("/small"), caller_is_local=True, accept="text/*")
    assert result == FetchResult(server.url("/small"), 200, "text/plain", SMALL)
    seen = server.requests[0]
    assert seen.headers["user-agent"] == "tidecast/0.1"
    assert seen.headers["accept"] == "text/*"
    assert seen.headers["accept-encoding"] == "identity"


async def test_localhost_name_works_for_local_caller(server: TestServer, fetcher: Fetcher) -> None:
    url = f"http://localhost:{server.port}/small"
    assert (await fetcher.fetch(url, caller_is_local=True)).body == SMALL


async def test_big_body_within_limit(server: TestServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("/big"), caller_is_local=True, max_bytes=len(BIG))
    assert result.body == BIG
    assert result.content_type == "application/octet-stream"


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/small",
        "http://localhost:{port}/small",
        "http://[::1]:{port}/small",
        "http://[::ffff:127.0.0.1]:{port}/small",
        "http://2130706433:{port}/small",  # 127.0.0.1 in decimal, as getaddrinfo reads it
        "http://0.0.0.0:{port}/small",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "http://[fd00::1]/",
    ],
)
async def test_non_local_caller_refused_for_private_addresses(
    server: TestServer, fetcher: Fetcher, url: str
) -> None:
    url = url.format(port=server.port)
    with pytest.raises(FetchRefused, match=r"^refusing to fetch a private or loopback address$"):
        await fetcher.fetch(url, caller_is_local=False)
    with pytest.raises(FetchRefused):
        await check_url_allowed(url, caller_is_local=False)
    assert server.connections == 0


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("ftp://127.0.0.1/pub/x", "ftp"),
        ("gopher://127.0.0.1:70/1", "gopher"),
        ("javascript:alert(1)", "javascript"),
    ],
)
@pytest.mark.parametrize("caller_is_local", [True, False])
async def test_only_http_and_https(
    fetcher: Fetcher, url: str, scheme: str, caller_is_local: bool
) -> None:
    with pytest.raises(FetchRefused, match=f"^refusing to fetch {scheme}: URLs"):
        await fetcher.fetch(url, caller_is_local=caller_is_local)
    with pytest.raises(FetchRefused, match=scheme):
        await check_url_allowed(url, caller_is_local=caller_is_local)


@pytest.mark.parametrize("url", ["example.com/x", "http:///nohost", "http://[::1/"])
async def test_malformed_urls_refused(url: str) -> None:
    with pytest.raises(FetchRefused):
        await check_url_allowed(url, caller_is_local=True)


@pytest.mark.parametrize(
    "url", ["http://8.8.8.8/", "https://[2606:4700:4700::1111]:8443/x", "http://1.1.1.1/"]
)
async def test_public_literal_addresses_allowed_without_connecting(url: str) -> None:
    await check_url_allowed(url, caller_is_local=False)  # a pure check: nothing is fetched


async def test_local_caller_may_name_private_addresses() -> None:
    await check_url_allowed("http://10.0.0.1/x", caller_is_local=True)


# --- sizes --------------------------------------------------------------------------------


async def test_declared_length_over_limit_refused_before_reading(
    server: TestServer, fetcher: Fetcher
) -> None:
    started = time.monotonic()
    with pytest.raises(PayloadTooLarge, match="declared 1000000000000 bytes, over the 1000-byte"):
        await fetcher.fetch(server.url("/big-declared"), caller_is_local=True, max_bytes=1000)
    assert time.monotonic() - started < 2


async def test_big_body_over_limit(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(PayloadTooLarge, match=f"{len(BIG) - 1}-byte limit"):
        await fetcher.fetch(server.url("/big"), caller_is_local=True, max_bytes=len(BIG) - 1)


@pytest.mark.parametrize("path", ["/no-length", "/chunked"])
async def test_endless_body_cut_at_limit(server: TestServer, fetcher: Fetcher, path: str) -> None:
    with pytest.raises(PayloadTooLarge, match="exceeds the 100000-byte limit"):
        await fetcher.fetch(server.url(path), caller_is_local=True, max_bytes=100_000)


async def test_default_limit_comes_from_the_fetcher(server: TestServer) -> None:
    f = Fetcher(timeout=3.0, max_bytes=10)
    try:
        with pytest.raises(PayloadTooLarge, match="10-byte limit"):
            await f.fetch(server.url("/small"), caller_is_local=True)
    finally:
        await f.aclose()


async def test_body_shorter_than_declared_is_unavailable(
    server: TestServer, fetcher: Fetcher
) -> None:
    with pytest.raises(ContentUnavailable, match=r"127\.0\.0\.1"):
        await fetcher.fetch(server.url("/short-body"), caller_is_local=True)


# --- timeouts, statuses, connection errors -------------------------------------------------


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
async def test_whole_fetch_is_timed_out(server: TestServer, path: str) -> None:
    f = Fetcher(timeout=0.5, max_bytes=1024 * 1024)
    started = time.monotonic()
    try:
        with pytest.raises(
            ContentUnavailable, match=r"^timed out fetching 127\.0\.0\.1 after 0\.5 s$"
        ):
            await f.fetch(server.url(path), caller_is_local=True)
    finally:
        await f.aclose()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [404, 500])
async def test_error_status(server: TestServer, fetcher: Fetcher, status: int) -> None:
    with pytest.raises(ContentUnavailable, match=rf"^127\.0\.0\.1 answered HTTP {status}$"):
        await fetcher.fetch(server.url(f"/status/{status}"), caller_is_local=True)


async def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, with no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ContentUnavailable, match=r"^cannot connect to 127\.0\.0\.1"):
        await fetcher.fetch(f"http://127.0.0.1:{port}/", caller_is_local=True)


# --- redirects ----------------------------------------------------------------------------


async def test_redirect_followed(server: TestServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("/redirect/ok"), caller_is_local=True)
    assert (result.url, result.status, result.body) == (server.url("/small"), 200, SMALL)


async def test_redirect_limit(server: TestServer, fetcher: Fetcher) -> None:
    ok = await fetcher.fetch(server.url(f"/chain/{MAX_REDIRECTS}"), caller_is_local=True)
    assert ok.url == server.url("/chain/0")
    server.reset()
    with pytest.raises(ContentUnavailable, match=f"redirected more than {MAX_REDIRECTS} times"):
        await fetcher.fetch(server.url(f"/chain/{MAX_REDIRECTS + 1}"), caller_is_local=True)
    assert len(server.requests) == MAX_REDIRECTS + 1


async def test_redirect_to_other_loopback_port(
    server: TestServer, other: TestServer, fetcher: Fetcher
) -> None:
    result = await fetcher.fetch(server.url("/redirect/other-port"), caller_is_local=True)
    assert result.url == other.url("/small")
    assert result.body == SMALL


async def test_redirect_to_other_scheme_refused(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(FetchRefused, match="file"):
        await fetcher.fetch(server.url("/redirect/file"), caller_is_local=True)


def pretend_only_127_0_0_1_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a non-local fetch reach the loopback test server; 127.0.0.2 stays private."""
    monkeypatch.setattr(
        address_guard, "is_public_address", lambda ip: ip == ipaddress.ip_address("127.0.0.1")
    )


async def test_each_redirect_hop_is_checked(
    server: TestServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    pretend_only_127_0_0_1_is_public(monkeypatch)
    assert (await fetcher.fetch(server.url("/small"), caller_is_local=False)).body == SMALL
    server.reset()
    with pytest.raises(FetchRefused, match="private or loopback"):
        await fetcher.fetch(server.url("/redirect/private"), caller_is_local=False)
    assert [seen.path for seen in server.requests] == ["/redirect/private"]


async def test_dns_rebinding_is_caught_at_connect(
    server: TestServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name answers "public" to the check, then "private" when the connection resolves it.
    pretend_only_127_0_0_1_is_public(monkeypatch)
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.2"])

    async def rebinding_getaddrinfo(host: str, port: int, **kw: Any) -> list[Any]:
        assert host == "rebind.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", rebinding_getaddrinfo)
    with pytest.raises(FetchRefused, match="private or loopback"):
        await fetcher.fetch(f"http://rebind.test:{server.port}/small", caller_is_local=False)
    assert server.connections == 0


async def test_unresolvable_name_is_unavailable(
    fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_such_name(host: str, port: int, **kw: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_name)
    with pytest.raises(ContentUnavailable, match=r"^cannot resolve nowhere\.test$"):
        await fetcher.fetch("http://nowhere.test/", caller_is_local=False)


# --- credentials --------------------------------------------------------------------------


def assert_no_secret(text: str) -> None:
    assert PASSWORD not in text
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text


async def test_basic_auth(server: TestServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("/auth"), caller_is_local=True, auth=(USER, PASSWORD))
    assert result.body == b"welcome"


async def test_wrong_password_is_a_clear_error_without_the_password(
    server: TestServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ContentUnavailable) as caught:
        await fetcher.fetch(
            server.url("/auth"), caller_is_local=True, auth=(USER, "wrong" + PASSWORD)
        )
    assert caught.value.message == "127.0.0.1 answered HTTP 401 (credentials rejected)"
    assert_no_secret("".join(traceback.format_exception(caught.value)))
    assert_no_secret(caplog.text)


async def test_no_credentials_is_a_clear_error(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(ContentUnavailable, match=r"HTTP 401 \(credentials required\)"):
        await fetcher.fetch(server.url("/auth"), caller_is_local=True)


async def test_credentials_in_url_are_used_and_not_echoed(
    server: TestServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.port}/auth"
    result = await fetcher.fetch(url, caller_is_local=True)
    assert (result.url, result.body) == (server.url("/auth"), b"welcome")
    with pytest.raises(ContentUnavailable) as caught:
        await fetcher.fetch(url.replace(PASSWORD, PASSWORD + "x"), caller_is_local=True)
    assert_no_secret("".join(traceback.format_exception(caught.value)))
    assert_no_secret(caplog.text)


async def test_credentials_follow_same_origin_redirects_only(
    server: TestServer, other: TestServer, fetcher: Fetcher
) -> None:
    result = await fetcher.fetch(
        server.url("/redirect/auth-same-origin"), caller_is_local=True, auth=(USER, PASSWORD)
    )
    assert result.body == b"welcome"
    await fetcher.fetch(
        server.url("/redirect/auth-other-port"), caller_is_local=True, auth=(USER, PASSWORD)
    )
    assert "authorization" in server.requests[-1].headers
    assert "authorization" not in other.requests[-1].headers


# --- fetch_to_file -------------------------------------------------------------------------


async def test_fetch_to_file_writes_exact_bytes(
    server: TestServer, fetcher: Fetcher, tmp_path: Path
) -> None:
    target = tmp_path / "big.bin"
    result = await fetcher.fetch_to_file(server.url("/big"), target, caller_is_local=True)
    assert result == FetchResult(server.url("/big"), 200, "application/octet-stream", b"")
    assert target.read_bytes() == BIG
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]


async def test_fetch_to_file_failure_leaves_nothing(
    server: TestServer, fetcher: Fetcher, tmp_path: Path
) -> None:
    target = tmp_path / "endless.bin"
    target.write_bytes(b"previous")
    with pytest.raises(PayloadTooLarge):
        await fetcher.fetch_to_file(
            server.url("/chunked"), target, caller_is_local=True, max_bytes=300_000
        )
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["endless.bin"]


# --- stream: relaying an upstream's answer ------------------------------------------------


async def test_stream_sends_headers_and_hands_on_only_describing_ones(
    server: TestServer, fetcher: Fetcher
) -> None:
    async with fetcher.stream(
        server.url("/ranged"), caller_is_local=True, headers={"Range": "bytes=1000-1999"}
    ) as upstream:
        body = b"".join([chunk async for chunk in upstream.body])
    assert (upstream.url, upstream.status) == (server.url("/ranged"), 206)
    assert body == BIG[1000:2000]
    assert dict(upstream.headers) == {
        "content-type": "application/octet-stream",
        "content-length": "1000",
        "content-range": f"bytes 1000-1999/{len(BIG)}",
        "accept-ranges": "bytes",
        "etag": '"big-1"',
    }
    assert set(upstream.headers) <= set(RELAYED_HEADERS)
    seen = server.requests[0].headers
    assert seen["range"] == "bytes=1000-1999"
    assert seen["accept-encoding"] == "identity"


async def test_stream_is_not_limited_in_size(server: TestServer) -> None:
    f = Fetcher(timeout=3.0, max_bytes=10)
    try:
        async with f.stream(server.url("/ranged"), caller_is_local=True) as upstream:
            assert upstream.status == 200
            assert b"".join([chunk async for chunk in upstream.body]) == BIG
    finally:
        await f.aclose()


async def test_stream_follows_redirects_with_its_headers(
    server: TestServer, fetcher: Fetcher
) -> None:
    async with fetcher.stream(
        server.url("/redirect/ranged"), caller_is_local=True, headers={"Range": "bytes=0-9"}
    ) as upstream:
        assert upstream.url == server.url("/ranged")
        assert b"".join([chunk async for chunk in upstream.body]) == BIG[:10]
    assert [seen.headers.get("range") for seen in server.requests] == ["bytes=0-9"] * 2


async def test_stream_keeps_the_address_rules(
    server: TestServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FetchRefused, match="private or loopback"):
        async with fetcher.stream(server.url("/ranged"), caller_is_local=False):
            pytest.fail("a refused stream must not open")
    assert server.connections == 0
    pretend_only_127_0_0_1_is_public(monkeypatch)
    with pytest.raises(FetchRefused, match="private or loopback"):
        async with fetcher.stream(server.url("/redirect/private"), caller_is_local=False):
            pytest.fail("a refused stream must not open")
    assert [seen.path for seen in server.requests] == ["/redirect/private"]
    with pytest.raises(FetchRefused, match="file"):
        async with fetcher.stream(server.url("/redirect/file"), caller_is_local=True):
            pytest.fail("a refused stream must not open")


async def test_stream_uses_credentials_from_the_url(server: TestServer, fetcher: Fetcher) -> None:
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.port}/auth"
    async with fetcher.stream(url, caller_is_local=True) as upstream:
        assert upstream.url == server.url("/auth")
        assert b"".join([chunk async for chunk in upstream.body]) == b"welcome"


async def test_stream_error_statuses_unless_allowed(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(ContentUnavailable, match=r"^127\.0\.0\.1 answered HTTP 416$"):
        async with fetcher.stream(server.url("/status/416"), caller_is_local=True):
            pytest.fail("an error status must not open")
    async with fetcher.stream(
        server.url("/status/416"), caller_is_local=True, allow_statuses=(416,)
    ) as upstream:
        assert upstream.status == 416
        assert b"".join([chunk async for chunk in upstream.body]) == b"nope"


async def test_stream_deadline_covers_the_opening_only(server: TestServer) -> None:
    f = Fetcher(timeout=0.3, max_bytes=1024)
    try:
        started = time.monotonic()
        with pytest.raises(ContentUnavailable, match=r"^timed out fetching 127\.0\.0\.1"):
            async with f.stream(server.url("/slow"), caller_is_local=True):
                pytest.fail("a timed-out stream must not open")
        assert time.monotonic() - started < 2
        # A byte every 50 ms: no read waits long, so the body outlives the deadline.
        started = time.monotonic()
        async with f.stream(server.url("/trickle"), caller_is_local=True) as upstream:
            received = 0
            async for chunk in upstream.body:
                received += len(chunk)
                if time.monotonic() - started > 0.6:
                    break
        assert received >= 10
    finally:
        await f.aclose()


async def test_stream_body_failure_is_unavailable(server: TestServer, fetcher: Fetcher) -> None:
    async with fetcher.stream(server.url("/short-body"), caller_is_local=True) as upstream:
        with pytest.raises(ContentUnavailable, match=r"127\.0\.0\.1"):
            async for _chunk in upstream.body:
                pass


async def test_leaving_a_stream_early_closes_it(server: TestServer, fetcher: Fetcher) -> None:
    started = time.monotonic()
    async with fetcher.stream(server.url("/chunked"), caller_is_local=True) as upstream:
        assert await anext(upstream.body)
    assert time.monotonic() - started < 2
    # The client is still good for the next request.
    assert (await fetcher.fetch(server.url("/small"), caller_is_local=True)).body == SMALL


# --- the client's lifecycle ----------------------------------------------------------------


async def test_aclose_is_idempotent_and_client_reopens(server: TestServer) -> None:
    f = Fetcher(timeout=3.0, max_bytes=1024)
    await f.aclose()
    assert (await f.fetch(server.url("/small"), caller_is_local=True)).body == SMALL
    await f.aclose()
    await f.aclose()
    assert (await f.fetch(server.url("/small"), caller_is_local=True)).body == SMALL
    await f.aclose()


def test_fetcher_belongs_to_one_event_loop(server: TestServer) -> None:
    f = Fetcher(timeout=3.0, max_bytes=1024)

    async def fetch_and_keep_open() -> bytes:
        return (await f.fetch(server.url("/small"), caller_is_local=True)).body

    async def fetch_and_close() -> None:
        try:
            await f.fetch(server.url("/small"), caller_is_local=True)
        finally:
            await f.aclose()

    assert asyncio.run(fetch_and_keep_open()) == SMALL
    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(fetch_and_close())


async def test_fetch_to_file_refused_url_touches_nothing(fetcher: Fetcher, tmp_path: Path) -> None:
    with pytest.raises(FetchRefused):
        await fetcher.fetch_to_file("ftp://127.0.0.1/x", tmp_path / "x", caller_is_local=True)
    assert list(tmp_path.iterdir()) == []


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Fetcher(timeout=0, max_bytes=1)
    with pytest.raises(ValueError, match="max_bytes"):
        Fetcher(timeout=1, max_bytes=0)


# --- the address policy, as a pure function ------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),  # IPv4-mapped: judged by the IPv4 address
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("0.1.2.3", False),
        ("192.0.2.1", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("224.0.0.1", False),  # multicast
        ("239.255.255.250", False),
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fec0::1", False),  # deprecated site-local
        ("ff02::1", False),
        ("ff0e::1", False),  # global-scope multicast is still multicast
        ("2001:db8::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("::7f00:1", False),  # deprecated IPv4-compatible
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public

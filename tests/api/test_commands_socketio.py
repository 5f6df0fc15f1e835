"""The user commands over a real Socket.IO connection to a real server on loopback.

The server is uvicorn running ``create_app`` in a thread (its own event loop, with the
app's lifespan); the client is python-socketio's AsyncClient, speaking websocket as the
original frontend does, and long-polling too.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import socketio
import uvicorn

from tidecast.app import create_app
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(services: Services) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(services.settings, services),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tidecast-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "server stopped during startup"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "server did not stop"


@pytest.fixture
def server(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, Services]]:
    # Built here, started by the app's lifespan on the server's own loop.
    services = build_services(make_settings())
    with serving(services) as base:
        yield base, services


@pytest.fixture
async def sio(server: tuple[str, Services]) -> AsyncIterator[socketio.AsyncClient]:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server[0], transports=["websocket"], wait_timeout=10)
    yield client
    await client.disconnect()


async def call(
    client: socketio.AsyncClient,
    cmd: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body or {}}
    if token is not None:
        payload["authorization"] = token
    answer = await client.call(cmd, payload, timeout=10)
    assert isinstance(answer, dict)
    return answer


async def test_login_and_my_account_over_socketio(sio: socketio.AsyncClient) -> None:
    created = await call(sio, "createUser", {"login": "alice", "password": PASSWORD})
    assert created == {"err": False, "data": {"code": 200, "message": {"code": "USER_CREATED"}}}
    login = await call(sio, "login", {"username": "alice", "password": PASSWORD})
    assert login["err"] is False
    assert login["data"]["username"] == "alice" and login["data"]["role"] == "user"
    account = await call(sio, "getMyAccount", token=login["data"]["token"])
    assert account["err"] is False
    assert account["data"]["login"] == "alice" and account["data"]["type"] == 1
    assert "password_hash" not in account["data"]


async def test_errors_over_socketio(sio: socketio.AsyncClient) -> None:
    assert await call(sio, "getMyAccount") == {"err": True, "data": {"code": 401}}
    assert await call(sio, "getMyAccount", token="forged") == {
        "err": True,
        "data": {"code": 401, "message": {"code": "USER_UNKNOWN"}},
    }
    assert await call(sio, "login", {"username": "nobody", "password": PASSWORD}) == {
        "err": True,
        "data": {"code": 401, "message": {"code": "LOG_ERROR"}},
    }
    assert await call(sio, "createUser", {"login": "bob", "password": "short"}) == {
        "err": True,
        "data": {"code": 411, "message": {"code": "PASSWORD_TOO_SHORT"}},
    }
    # No payload at all, or one that is not an object.
    assert await sio.call("getUsers", timeout=10) == {"err": True, "data": {"code": 401}}
    answer = await sio.call("login", "alice", timeout=10)
    assert answer["data"] == {
        "code": 400,
        "message": {"body": ["Expected object, received string"]},
    }


async def test_unknown_command_over_socketio(sio: socketio.AsyncClient) -> None:
    assert await call(sio, "noSuchCommand") == {
        "err": True,
        "data": {"code": 404, "message": {"code": "UNKNOWN_COMMAND"}},
    }


async def test_security_code_over_socketio(
    server: tuple[str, Services], sio: socketio.AsyncClient
) -> None:
    code = server[1].accounts.security_code.peek()
    body = {"login": "root", "password": PASSWORD, "role": "admin", "securityCode": code}
    assert (await call(sio, "createUser", body))["err"] is False
    login = await call(sio, "login", {"username": "root", "password": PASSWORD})
    assert login["data"]["role"] == "admin"


class Concurrency:
    """Counts password checks running at once on the server (its own loop)."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.running = 0
        self.peak = 0
        real = services.accounts.authenticate

        async def slow(identifier: str, password: str, *, address: str | None) -> Any:
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                await asyncio.sleep(0.1)
                return await real(identifier, password, address=address)
            finally:
                self.running -= 1

        monkeypatch.setattr(services.accounts, "authenticate", slow)


LOGIN = {"body": {"username": "nobody", "password": PASSWORD}}


async def test_a_connection_is_served_one_event_at_a_time(
    server: tuple[str, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many events one socket sends at once, one command (one password hash)
    runs at a time for it; other connections are served alongside."""
    concurrency = Concurrency(server[1], monkeypatch)
    clients = [socketio.AsyncClient(reconnection=False) for _ in range(2)]
    for client in clients:
        await client.connect(server[0], transports=["websocket"], wait_timeout=10)
    try:
        answers = await asyncio.gather(
            *(clients[0].call("login", LOGIN, timeout=10) for _ in range(4))
        )
        assert all(answer["err"] is True for answer in answers)
        assert concurrency.peak == 1

        concurrency.peak = 0
        await asyncio.gather(*(client.call("login", LOGIN, timeout=10) for client in clients))
        assert concurrency.peak == 2
    finally:
        for client in clients:
            await client.disconnect()


async def test_long_polling_requests_side_by_side_wait_their_turn(
    server: tuple[str, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    concurrency = Concurrency(server[1], monkeypatch)
    async with httpx.AsyncClient(base_url=server[0], timeout=10) as http:
        handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        params = {"EIO": "4", "transport": "polling", "sid": json.loads(handshake.text[1:])["sid"]}
        assert (await http.post("/socket.io/", params=params, content="40")).text == "OK"
        assert (await http.get("/socket.io/", params=params)).text.startswith("40")
        posts = await asyncio.gather(
            *(
                http.post(
                    "/socket.io/", params=params, content=f"42{n}" + json.dumps(["login", LOGIN])
                )
                for n in range(3)
            )
        )
        assert [post.text for post in posts] == ["OK"] * 3
    assert concurrency.peak == 1


async def test_long_polling_and_http_share_the_server(server: tuple[str, Services]) -> None:
    """Long-polling, spoken packet by packet (a polling client would wait out the ping
    interval to disconnect): handshake, namespace connect, then an event with ack id 1."""
    async with httpx.AsyncClient(base_url=server[0], timeout=10) as http:
        handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert handshake.status_code == 200 and handshake.text.startswith("0{")
        sid = json.loads(handshake.text[1:])["sid"]
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        assert (await http.post("/socket.io/", params=params, content="40")).text == "OK"
        assert (await http.get("/socket.io/", params=params)).text.startswith("40")
        event = '421["noSuchCommand",{"body":{}}]'
        assert (await http.post("/socket.io/", params=params, content=event)).text == "OK"
        ack = (await http.get("/socket.io/", params=params)).text
        assert ack.startswith("431")
        assert json.loads(ack[3:]) == [
            {"err": True, "data": {"code": 404, "message": {"code": "UNKNOWN_COMMAND"}}}
        ]

        answer = await http.post("/api/command", json={"cmd": "checkAuth", "body": {}})
        assert answer.status_code == 401 and answer.json() == {"err": True, "data": {"code": 401}}
        version = await http.get("/webui/api/service", params={"method": "get_version"})
        assert version.json()["error"] is None

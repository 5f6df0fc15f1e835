"""Online accounts against a home instance on 127.0.0.1 that answers seed 003's commands
(``POST /api/command``, ``{err, data}``) as tidecast's command surface does; the real
two-instance flow is in ``tests/e2e/test_online_accounts.py``. Also the Fetcher's JSON
requests, which carry every call to a home."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tidecast.core.accounts import AccountPolicy, AccountService
from tidecast.core.anime_lists import AnimeLists
from tidecast.core.credentials import COMMAND_KIND, TokenService
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    ContentUnavailable,
    FeatureClosed,
    FetchRefused,
    InvalidInput,
    PayloadTooLarge,
    TidecastError,
)
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.online_accounts import OnlineAccounts
from tidecast.core.playlists import PlaylistService
from tidecast.core.security_code import SecurityCode
from tidecast.core.users import User
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage.database import Database

from support.origin import Origin

PASSWORD = "correct horse battery"


@dataclass
class FakeHome:
    """The accounts of a home instance, as its command surface shows them."""

    base: str = ""
    instance: str = ""
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    refuse: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    anime: tuple[list[int], list[str]] = ([], [])

    def reset(self) -> None:
        self.accounts.clear()
        self.tokens.clear()
        self.calls.clear()
        self.refuse.clear()
        self.anime = ([], [])

    def commands(self) -> list[str]:
        return [cmd for cmd, _, _ in self.calls]

    def answer(self, cmd: str, body: dict[str, Any], token: str | None) -> tuple[int, Any]:
        if cmd in self.refuse:
            status, code = self.refuse[cmd]
            return status, {"code": status, "message": {"code": code}} if code else {"code": status}
        if cmd == "createUser":
            if len(body.get("password", "")) < 8:
                return 411, {"code": 411, "message": {"code": "PASSWORD_TOO_SHORT"}}
            if body["login"] in self.accounts:
                return 409, {"code": 409, "message": {"code": "USER_ALREADY_EXISTS"}}
            self.accounts[body["login"]] = {
                "password": body["password"],
                "nickname": body.get("nickname", body["login"]),
                "email": body.get("email"),
                "anime_list_ids": [],
                "anime_list_titles": [],
            }
            return 200, {"code": 200, "message": {"code": "USER_CREATED"}}
        if cmd == "login":
            account = self.accounts.get(body.get("username", ""))
            if account is None or account["password"] != body.get("password"):
                return 401, {"code": 401, "message": {"code": "LOG_ERROR"}}
            token = secrets.token_urlsafe(16)
            self.tokens[token] = body["username"]
            return 200, {"token": token, "username": body["username"], "role": "user"}
        if token is None:
            return 401, {"code": 401}
        name = self.tokens.get(token)
        if name is None or name not in self.accounts:
            return 401, {"code": 401, "message": {"code": "USER_UNKNOWN"}}
        account = self.accounts[name]
        if cmd == "editMyAccount":
            account.update(body)
            if "password" in body:
                self.tokens = {t: n for t, n in self.tokens.items() if n != name}
            return 200, {"code": 200, "message": {"code": "USER_EDITED"}}
        if cmd == "deleteMyAccount":
            del self.accounts[name]
            return 200, {"code": 200, "message": {"code": "USER_DELETED"}}
        if cmd == "refreshAnimeList":
            if account.get("anime_list_to_fetch"):
                account["anime_list_ids"], account["anime_list_titles"] = self.anime
            return 200, None
        if cmd == "getMyAccount":
            shown = {key: value for key, value in account.items() if key != "password"}
            return 200, {"login": name, "type": 1, **shown}
        if cmd == "checkAuth":
            return 200, {"username": name, "role": "user", "onlineAvailable": False}
        return 404, {"code": 404, "message": {"code": "UNKNOWN_COMMAND"}}


@contextmanager
def running_home() -> Iterator[FakeHome]:
    home = FakeHome()

    async def command(request: Request) -> Response:
        payload = json.loads(await request.body())
        inner = payload.get("body") or {}
        body, token = inner.get("body") or {}, inner.get("authorization")
        home.calls.append((payload["cmd"], body, token))
        status, data = home.answer(payload["cmd"], body, token)
        if status == 200:
            return JSONResponse({"err": False, "data": data})
        return JSONResponse({"err": True, "data": data}, status_code=status)

    app = Starlette(routes=[Route("/api/command", command, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    home.instance = f"127.0.0.1:{sock.getsockname()[1]}"
    home.base = f"http://{home.instance}"
    config = uvicorn.Config(app, log_level="error", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "home stand-in did not start"
        time.sleep(0.01)
    try:
        yield home
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def home_server() -> Iterator[FakeHome]:
    with running_home() as home:
        yield home


@pytest.fixture
def home(home_server: FakeHome) -> FakeHome:
    home_server.reset()
    return home_server


@dataclass
class World:
    accounts: AccountService
    tokens: TokenService
    online: OnlineAccounts


def build_world(db: Database, fetcher: Fetcher, *, enabled: bool = True) -> World:
    tokens = TokenService(db, 3600)
    accounts = AccountService(
        db, tokens, SecurityCode(), LoginThrottle(db, ThrottlePolicy()), AccountPolicy()
    )
    nowhere = "http://127.0.0.1:9/"
    lists = AnimeLists(
        accounts, PlaylistService(db), fetcher, anilist_url=nowhere, kitsu_url=nowhere
    )
    online = OnlineAccounts(accounts, tokens, fetcher, lists, scheme="http", enabled=enabled)
    return World(accounts, tokens, online)


@pytest.fixture
def world(db: Database, fetcher: Fetcher) -> World:
    return build_world(db, fetcher)


@pytest.fixture
async def alice(world: World) -> User:
    user = await world.accounts.create("alice", PASSWORD, trusted=True)
    return await world.accounts.edit_self(
        user, {"main_series_lang": "fre", "anime_list_to_fetch": "anilist"}
    )


async def owner_of(world: World, token: str) -> str:
    info = await world.tokens.verify(token, {COMMAND_KIND})
    return (await world.accounts.get_by_id(int(info.owner))).login


# -- converting to online ------------------------------------------------------------------


async def test_convert_to_online_creates_the_account_at_home(
    world: World, home: FakeHome, alice: User
) -> None:
    old = await world.tokens.issue(COMMAND_KIND, str(alice.id))

    session, online_token = await world.online.convert_to_online(
        alice, home.instance, PASSWORD, caller_is_local=True
    )

    assert session.user.login == f"alice@{home.instance}"
    assert await owner_of(world, session.token) == f"alice@{home.instance}"
    with pytest.raises(AuthenticationRequired):
        await world.tokens.verify(old, {COMMAND_KIND})
    assert home.tokens[online_token] == "alice"
    assert home.accounts["alice"]["password"] == PASSWORD
    assert home.accounts["alice"]["main_series_lang"] == "fre"  # the profile went home
    assert home.accounts["alice"]["anime_list_to_fetch"] == "anilist"
    assert home.commands() == ["createUser", "login", "editMyAccount"]
    assert (await world.accounts.get(f"alice@{home.instance}")).id == alice.id


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({"password": "wrong password!"}, InvalidInput, "wrong_password"),
        ({"instance": "evil.example/path"}, InvalidInput, None),
        ({"instance": ""}, InvalidInput, None),
        ({"instance": "a@b"}, InvalidInput, None),
    ],
)
async def test_convert_to_online_refusals_leave_home_alone(
    world: World,
    home: FakeHome,
    alice: User,
    change: dict[str, str],
    error: type[TidecastError],
    reason: str | None,
) -> None:
    arguments = {"instance": home.instance, "password": PASSWORD} | change
    with pytest.raises(error) as caught:
        await world.online.convert_to_online(alice, **arguments, caller_is_local=True)
    assert caught.value.reason == reason
    assert home.calls == []
    assert (await world.accounts.get("alice")).login == "alice"


async def test_who_cannot_convert(
    world: World, home: FakeHome, db: Database, fetcher: Fetcher
) -> None:
    admin = await world.accounts.create("admin", PASSWORD, role="admin", trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.convert_to_online(admin, home.instance, PASSWORD, caller_is_local=True)
    assert caught.value.reason == "admin_convert"
    online = await world.accounts.create("bob@elsewhere.example", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput):
        await world.online.convert_to_online(online, home.instance, PASSWORD, caller_is_local=True)
    guest = (await world.accounts.login_guest("visitor")).user
    with pytest.raises(AccessDenied):
        await world.online.convert_to_online(guest, home.instance, "", caller_is_local=True)
    closed = build_world(db, fetcher, enabled=False)
    user = await world.accounts.create("carol", PASSWORD, trusted=True)
    with pytest.raises(FeatureClosed):
        await closed.online.convert_to_online(user, home.instance, PASSWORD, caller_is_local=True)
    assert home.calls == []


async def test_convert_to_online_when_the_name_is_taken(
    world: World, home: FakeHome, alice: User
) -> None:
    home.accounts["alice"] = {"password": "someone else's"}
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    assert caught.value.reason == "user_exists_online"
    assert home.instance in caught.value.message
    assert (await world.accounts.get("alice")).login == "alice"

    await world.accounts.create(
        f"alice@{home.instance}", PASSWORD, trusted=True, nickname="another alice"
    )
    home.calls.clear()
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    assert caught.value.reason == "user_exists"
    assert home.calls == []


async def test_a_failed_conversion_removes_the_account_it_created(
    world: World, home: FakeHome, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rename_fails(user: User, new_login: str) -> User:
        raise Conflict("raced", reason="user_exists")

    monkeypatch.setattr(world.accounts, "rename", rename_fails)
    with pytest.raises(Conflict):
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    assert home.commands() == ["createUser", "login", "deleteMyAccount"]
    assert home.accounts == {}


async def test_home_refusals_become_clear_errors(world: World, home: FakeHome, alice: User) -> None:
    home.refuse["createUser"] = (403, "USER_CREATE_ERROR")
    with pytest.raises(AccessDenied) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    assert caught.value.message == (
        f"{home.instance} refused to create the account (USER_CREATE_ERROR)"
    )
    home.refuse["createUser"] = (404, "UNKNOWN_COMMAND")
    with pytest.raises(ContentUnavailable, match="is it a tidecast instance"):
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    home.refuse["createUser"] = (500, None)
    with pytest.raises(ContentUnavailable, match=r"failed to create the account \(HTTP 500\)"):
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=True)
    assert (await world.accounts.get("alice")).login == "alice"


async def test_remote_callers_cannot_reach_private_homes(
    world: World, home: FakeHome, alice: User
) -> None:
    with pytest.raises(FetchRefused):
        await world.online.convert_to_online(alice, home.instance, PASSWORD, caller_is_local=False)
    assert home.calls == []
    assert (await world.accounts.get("alice")).login == "alice"


async def test_an_unreachable_home(world: World, alice: User) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ContentUnavailable, match=r"cannot connect to 127\.0\.0\.1"):
        await world.online.convert_to_online(
            alice, f"127.0.0.1:{port}", PASSWORD, caller_is_local=True
        )
    assert (await world.accounts.get("alice")).login == "alice"


# -- online accounts at work ---------------------------------------------------------------


@pytest.fixture
async def converted(world: World, home: FakeHome, alice: User) -> tuple[User, str]:
    session, online_token = await world.online.convert_to_online(
        alice, home.instance, PASSWORD, caller_is_local=True
    )
    home.calls.clear()
    return session.user, online_token


async def test_edits_are_pushed_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    returned = await world.online.push_edit(
        user,
        {"bio": "hello", "avatar_file": "me.png", "type": 0, "anime_list_user": "Axel"},
        token,
        caller_is_local=True,
    )
    assert returned == token
    assert home.calls == [("editMyAccount", {"bio": "hello", "anime_list_user": "Axel"}, token)]

    home.calls.clear()
    assert await world.online.push_edit(user, {"avatar_file": "x.png"}, token, caller_is_local=True)
    assert home.calls == []

    with pytest.raises(InvalidInput):
        await world.online.push_edit(user, {"main_series_lang": "xx"}, token, caller_is_local=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.push_edit(user, {"password": "short"}, token, caller_is_local=True)
    assert caught.value.reason == "password_too_short"
    assert home.calls == []


async def test_a_password_change_brings_a_new_online_token(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    fresh = await world.online.push_edit(
        user, {"password": "a brand new password"}, token, caller_is_local=True
    )
    assert fresh != token
    assert home.tokens == {fresh: "alice"}
    assert home.accounts["alice"]["password"] == "a brand new password"


async def test_a_refused_online_token(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, _ = converted
    with pytest.raises(AuthenticationRequired) as caught:
        await world.online.push_edit(user, {"bio": "x"}, "forged", caller_is_local=True)
    assert caught.value.reason == "invalid_online_token"
    with pytest.raises(AuthenticationRequired) as caught:
        await world.online.push_edit(user, {"bio": "x"}, "", caller_is_local=True)
    assert caught.value.reason == "online_token_missing"
    local = await world.accounts.create("dave", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.push_edit(local, {"bio": "x"}, "t", caller_is_local=True)
    assert caught.value.reason == "not_online"


async def test_refresh_pulls_the_list_from_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    home.anime = ([21, 9253], ["One Piece", "Steins;Gate"])

    refreshed = await world.online.refresh_anime_list(user, token, caller_is_local=True)

    assert home.commands() == ["refreshAnimeList", "getMyAccount"]
    assert refreshed.anime_list_ids == [21, 9253]
    assert refreshed.anime_list_titles == ["One Piece", "Steins;Gate"]
    stored = await world.accounts.get(user.login)
    assert stored.anime_list_titles == ["One Piece", "Steins;Gate"]
    assert stored.anime_list_last_modified_at is not None

    with pytest.raises(AuthenticationRequired):
        await world.online.refresh_anime_list(user, None, caller_is_local=True)
    home.refuse["refreshAnimeList"] = (500, "REFRESH_ANIME_LIST_ERROR")
    with pytest.raises(ContentUnavailable, match="REFRESH_ANIME_LIST_ERROR"):
        await world.online.refresh_anime_list(user, token, caller_is_local=True)


async def test_refresh_of_a_local_account_fetches_itself(world: World, home: FakeHome) -> None:
    local = await world.accounts.create("erin", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.refresh_anime_list(local, None, caller_is_local=True)
    assert caught.value.reason == "no_anime_list"
    assert home.calls == []


async def test_online_tokens_are_checked_at_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    assert await world.online.check_online_token(user, token, caller_is_local=True)
    assert not await world.online.check_online_token(user, "forged", caller_is_local=True)
    assert not await world.online.check_online_token(user, "", caller_is_local=True)
    home.accounts["mallory"] = {"password": "x" * 8}
    home.tokens["mallorys"] = "mallory"
    assert not await world.online.check_online_token(user, "mallorys", caller_is_local=True)
    # The home was named by whoever made the account: non-local rules by default.
    with pytest.raises(FetchRefused):
        await world.online.check_online_token(user, token)


# -- converting back -----------------------------------------------------------------------


async def test_convert_to_local_deletes_the_home_account(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    home.accounts["alice"]["password"] = "changed at home!"  # the home's password decides

    session = await world.online.convert_to_local(
        user, "changed at home!", token, caller_is_local=True
    )

    assert session.user.login == "alice"
    assert await owner_of(world, session.token) == "alice"
    assert "alice" not in home.accounts
    assert home.commands() == ["login", "deleteMyAccount"]
    assert (await world.accounts.authenticate("alice", "changed at home!", address=None)).id == (
        user.id
    )


async def test_convert_to_local_refusals(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    with pytest.raises(InvalidInput) as caught:
        await world.online.convert_to_local(user, "wrong password!", token, caller_is_local=True)
    assert caught.value.reason == "wrong_password"
    assert "alice" in home.accounts
    home.refuse["deleteMyAccount"] = (500, "USER_DELETE_ERROR")
    with pytest.raises(ContentUnavailable, match="USER_DELETE_ERROR"):
        await world.online.convert_to_local(user, PASSWORD, token, caller_is_local=True)
    assert (await world.accounts.get(user.login)).id == user.id
    del home.refuse["deleteMyAccount"]
    await world.accounts.create("alice", PASSWORD, trusted=True, nickname="another alice")
    home.calls.clear()
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_local(user, PASSWORD, token, caller_is_local=True)
    assert caught.value.reason == "user_exists_locally"
    assert home.calls == []
    local = await world.accounts.get("alice")
    with pytest.raises(InvalidInput):
        await world.online.convert_to_local(local, PASSWORD, token, caller_is_local=True)


async def test_secrets_never_reach_messages_or_logs(
    world: World, home: FakeHome, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session, token = await world.online.convert_to_online(
        alice, home.instance, PASSWORD, caller_is_local=True
    )
    user = session.user
    messages: list[str] = []
    home.refuse["editMyAccount"] = (500, None)
    for attempt in (
        world.online.push_edit(user, {"password": "new secret 123"}, token, caller_is_local=True),
        world.online.convert_to_local(user, "not the password", token, caller_is_local=True),
    ):
        with pytest.raises(TidecastError) as caught:
            await attempt
        messages.append(caught.value.message)
    text = "\n".join(messages) + caplog.text
    for secret in (PASSWORD, token, session.token, "new secret 123", "not the password"):
        assert secret not in text


# -- the Fetcher's JSON requests -----------------------------------------------------------


@pytest.fixture
async def api_fetcher() -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(timeout=5, max_bytes=1024)
    yield fetcher
    await fetcher.aclose()


async def test_request_json_returns_error_answers(api_fetcher: Fetcher, home: FakeHome) -> None:
    status, answer = await api_fetcher.request_json(
        "POST",
        f"{home.base}/api/command",
        json={"cmd": "getMyAccount", "body": {}},
        caller_is_local=True,
    )
    assert status == 401
    assert answer == {"err": True, "data": {"code": 401}}


async def test_request_json_guards(api_fetcher: Fetcher, origin: Origin) -> None:
    origin.routes["/page"] = (b"<html></html>", "text/html")
    origin.routes["/big"] = (b'{"a": "' + b"x" * 2000 + b'"}', "application/json")
    origin.routes["/list"] = (b"[1, 2]", "application/json")
    with pytest.raises(FetchRefused):
        await api_fetcher.request_json("GET", origin.url("/big"), caller_is_local=False)
    with pytest.raises(ContentUnavailable, match="without a JSON object"):
        await api_fetcher.request_json("GET", origin.url("/page"), caller_is_local=True)
    with pytest.raises(ContentUnavailable, match="without a JSON object"):
        await api_fetcher.request_json("GET", origin.url("/list"), caller_is_local=True)
    with pytest.raises(PayloadTooLarge):
        await api_fetcher.request_json("GET", origin.url("/big"), caller_is_local=True)
    with pytest.raises(FetchRefused):
        await api_fetcher.request_json("POST", "file:///etc/passwd", json={}, caller_is_local=True)
    with pytest.raises(ValueError, match="unsupported method"):
        await api_fetcher.request_json("TRACE", origin.url("/big"), caller_is_local=True)


async def test_request_json_does_not_follow_redirects(api_fetcher: Fetcher) -> None:
    hits: list[str] = []

    async def redirect(request: Request) -> Response:
        hits.append(request.url.path)
        if request.url.path == "/start":
            return Response(status_code=307, headers={"Location": "/elsewhere"})
        return JSONResponse({"reached": True})

    app = Starlette(routes=[Route("/{path:path}", redirect, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with pytest.raises(ContentUnavailable, match="redirect"):
            await api_fetcher.request_json(
                "POST",
                f"http://127.0.0.1:{sock.getsockname()[1]}/start",
                json={"password": PASSWORD},
                caller_is_local=True,
            )
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert hits == ["/start"]

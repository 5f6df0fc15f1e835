"""Online accounts against a home instance on 127.0.0.1 that answers seed 003's commands
(``POST /api/command``, ``{err, data}``) as tidecast's command surface does; the real
two-instance flow is in ``tests/e2e/test_online_accounts.py``. Also the Fetcher's JSON
requests, which carry every call to a home."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

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
    NotFound,
    PayloadTooLarge,
    TidecastError,
)
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.online_accounts import OnlineAccounts
from tidecast.core.playlists import PlaylistService
from tidecast.core.security_code import SecurityCode
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import User
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage.database import Database

from support.fake_home import FakeHome, running_home
from support.origin import Origin

PASSWORD = "correct horse battery"


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


def build_world(
    db: Database,
    fetcher: Fetcher,
    *,
    enabled: bool = True,
    allow_private_homes: bool = True,
    allow_user_creation: bool = True,
) -> World:
    tokens = TokenService(db, 3600)
    throttle = LoginThrottle(db, ThrottlePolicy())
    two_factor = TwoFactor(db, InstanceSecret(b"k" * 32), throttle, issuer="tidecast")
    accounts = AccountService(db, tokens, SecurityCode(), throttle, AccountPolicy(), two_factor)
    nowhere = "http://127.0.0.1:9/"
    lists = AnimeLists(
        accounts, PlaylistService(db), fetcher, anilist_url=nowhere, kitsu_url=nowhere
    )
    # The stand-in home is on loopback: only an operator's setting lets a home be there.
    online = OnlineAccounts(
        accounts,
        tokens,
        fetcher,
        lists,
        scheme="http",
        enabled=enabled,
        allow_private_homes=allow_private_homes,
        allow_user_creation=allow_user_creation,
    )
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


# -- creating online accounts --------------------------------------------------------------


async def test_register_creates_the_account_at_home_and_logs_in(
    world: World, home: FakeHome
) -> None:
    login = f"Bob@{home.instance}"
    await world.online.register(login, PASSWORD, nickname="Bobby", email="bob@example.org")

    assert home.commands() == ["createUser", "login"]
    assert home.calls[0][1] == {
        "login": "bob",
        "password": PASSWORD,
        "nickname": "Bobby",
        "email": "bob@example.org",
    }
    assert home.accounts["bob"]["password"] == PASSWORD
    with pytest.raises(NotFound):  # storing it here is the caller's next step
        await world.accounts.get(login)


async def test_register_takes_a_home_account_whose_password_it_knows(
    world: World, home: FakeHome
) -> None:
    """An earlier attempt may have created the account at home and failed here: a retry
    with the same password goes through; someone else's account does not."""
    home.accounts["bob"] = {"password": PASSWORD}
    await world.online.register(f"bob@{home.instance}", PASSWORD)
    assert home.commands() == ["createUser", "login"]

    home.accounts["carol"] = {"password": "someone else's password"}
    with pytest.raises(Conflict) as caught:
        await world.online.register(f"carol@{home.instance}", PASSWORD)
    assert caught.value.reason == "user_exists_online"
    assert home.accounts["carol"] == {"password": "someone else's password"}


async def test_register_refusals_never_reach_home(
    world: World, home: FakeHome, db: Database, fetcher: Fetcher
) -> None:
    online = f"bob@{home.instance}"
    refusals: list[tuple[str, str, dict[str, str], str | None]] = [
        ("bob", PASSWORD, {}, None),
        ("b o b@" + home.instance, PASSWORD, {}, "login_invalid"),
        (online, "short", {}, "password_too_short"),
        (online, PASSWORD, {"email": "not an address"}, None),
        (online, PASSWORD, {"nickname": " "}, None),
    ]
    for login, password, extra, reason in refusals:
        with pytest.raises(InvalidInput) as caught:
            await world.online.register(login, password, **extra)
        assert caught.value.reason == reason, login
    await world.accounts.create(online, PASSWORD, trusted=True)
    with pytest.raises(Conflict) as conflict:
        await world.online.register(online.upper(), PASSWORD)
    assert conflict.value.reason == "user_exists"

    closed = build_world(db, fetcher, enabled=False)
    with pytest.raises(FeatureClosed) as closing:
        await closed.online.register(f"carol@{home.instance}", PASSWORD)
    assert closing.value.reason == "online_disabled"
    no_sign_up = build_world(db, fetcher, allow_user_creation=False)
    with pytest.raises(FeatureClosed) as closing:
        await no_sign_up.online.register(f"carol@{home.instance}", PASSWORD)
    assert closing.value.reason == "creation_disabled"
    assert home.calls == []
    root = await world.accounts.create("root", PASSWORD, role="admin", trusted=True)
    await no_sign_up.online.register(f"carol@{home.instance}", PASSWORD, actor=root)
    assert home.commands() == ["createUser", "login"]


async def test_register_when_the_home_refuses(world: World, home: FakeHome) -> None:
    home.refuse["createUser"] = (403, "USER_CREATION_DISABLED")
    with pytest.raises(AccessDenied, match=r"refused to create the account"):
        await world.online.register(f"bob@{home.instance}", PASSWORD)
    assert home.commands() == ["createUser"]
    home.refuse.clear()
    home.refuse["login"] = (401, "LOG_ERROR")
    with pytest.raises(InvalidInput) as caught:
        await world.online.register(f"bob@{home.instance}", PASSWORD)
    assert caught.value.reason == "wrong_password"


# -- converting to online ------------------------------------------------------------------


async def test_convert_to_online_creates_the_account_at_home(
    world: World, home: FakeHome, alice: User
) -> None:
    old = await world.tokens.issue(COMMAND_KIND, str(alice.id))

    session, online_token = await world.online.convert_to_online(alice, home.instance, PASSWORD)

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
        await world.online.convert_to_online(alice, **arguments)
    assert caught.value.reason == reason
    assert home.calls == []
    assert (await world.accounts.get("alice")).login == "alice"


async def test_who_cannot_convert(
    world: World, home: FakeHome, db: Database, fetcher: Fetcher
) -> None:
    admin = await world.accounts.create("admin", PASSWORD, role="admin", trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.convert_to_online(admin, home.instance, PASSWORD)
    assert caught.value.reason == "admin_convert"
    online = await world.accounts.create("bob@elsewhere.example", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput):
        await world.online.convert_to_online(online, home.instance, PASSWORD)
    guest = (await world.accounts.login_guest("visitor")).user
    with pytest.raises(AccessDenied):
        await world.online.convert_to_online(guest, home.instance, "")
    closed = build_world(db, fetcher, enabled=False)
    user = await world.accounts.create("carol", PASSWORD, trusted=True)
    with pytest.raises(FeatureClosed):
        await closed.online.convert_to_online(user, home.instance, PASSWORD)
    assert home.calls == []


async def test_convert_to_online_when_the_name_is_taken(
    world: World, home: FakeHome, alice: User
) -> None:
    home.accounts["alice"] = {"password": "someone else's"}
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    assert caught.value.reason == "user_exists_online"
    assert home.instance in caught.value.message
    assert (await world.accounts.get("alice")).login == "alice"

    await world.accounts.create(
        f"alice@{home.instance}", PASSWORD, trusted=True, nickname="another alice"
    )
    home.calls.clear()
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    assert caught.value.reason == "user_exists"
    assert home.calls == []


async def test_a_failed_conversion_removes_the_account_it_created(
    world: World, home: FakeHome, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rename_fails(user: User, new_login: str) -> User:
        raise Conflict("raced", reason="user_exists")

    monkeypatch.setattr(world.accounts, "rename", rename_fails)
    with pytest.raises(Conflict):
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    assert home.commands() == ["createUser", "login", "deleteMyAccount"]
    assert home.accounts == {}


async def test_home_refusals_become_clear_errors(world: World, home: FakeHome, alice: User) -> None:
    home.refuse["createUser"] = (403, "USER_CREATE_ERROR")
    with pytest.raises(AccessDenied) as caught:
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    assert caught.value.message == (
        f"{home.instance} refused to create the account (USER_CREATE_ERROR)"
    )
    home.refuse["createUser"] = (404, "UNKNOWN_COMMAND")
    with pytest.raises(ContentUnavailable, match="is it a tidecast instance"):
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    home.refuse["createUser"] = (500, None)
    with pytest.raises(ContentUnavailable, match=r"failed to create the account \(HTTP 500\)"):
        await world.online.convert_to_online(alice, home.instance, PASSWORD)
    assert (await world.accounts.get("alice")).login == "alice"


async def test_private_homes_need_the_operators_setting(
    world: World, home: FakeHome, alice: User, db: Database, fetcher: Fetcher
) -> None:
    """Whoever calls, a loopback or private home is refused by default: the address was
    named by whoever created the account, so a local caller's rights never apply."""
    guarded = build_world(db, fetcher, allow_private_homes=False)
    with pytest.raises(FetchRefused):
        await guarded.online.convert_to_online(alice, home.instance, PASSWORD)
    with pytest.raises(FetchRefused):
        await guarded.online.register(f"bob@{home.instance}", PASSWORD)
    session, token = await world.online.convert_to_online(alice, home.instance, PASSWORD)
    home.calls.clear()
    user = session.user
    with pytest.raises(FetchRefused):
        await guarded.online.check_online_token(user, token)
    with pytest.raises(FetchRefused):
        await guarded.online.push_edit(user, {"bio": "x"}, token)
    with pytest.raises(FetchRefused):
        await guarded.online.refresh_anime_list(user, token)
    with pytest.raises(FetchRefused):
        await guarded.online.convert_to_local(user, PASSWORD, token)
    assert await guarded.online.login_at_home(user, PASSWORD) is None
    assert home.calls == []
    assert "bob" not in home.accounts


async def test_an_unreachable_home(world: World, alice: User) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ContentUnavailable, match=r"cannot connect to 127\.0\.0\.1"):
        await world.online.convert_to_online(alice, f"127.0.0.1:{port}", PASSWORD)
    assert (await world.accounts.get("alice")).login == "alice"


# -- online accounts at work ---------------------------------------------------------------


@pytest.fixture
async def converted(world: World, home: FakeHome, alice: User) -> tuple[User, str]:
    session, online_token = await world.online.convert_to_online(alice, home.instance, PASSWORD)
    home.calls.clear()
    return session.user, online_token


async def test_edits_are_pushed_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    # What a client echoes (its unchanged type) and what stays local (the avatar) stay here.
    returned = await world.online.push_edit(
        user, {"bio": "hello", "avatar_file": "me.png", "type": 1, "anime_list_user": "Axel"}, token
    )
    assert returned == token
    assert home.calls == [("editMyAccount", {"bio": "hello", "anime_list_user": "Axel"}, token)]

    home.calls.clear()
    assert await world.online.push_edit(user, {"avatar_file": "x.png"}, token)
    assert home.calls == []

    with pytest.raises(InvalidInput):
        await world.online.push_edit(user, {"main_series_lang": "xx"}, token)
    with pytest.raises(InvalidInput) as caught:
        await world.online.push_edit(user, {"password": "short"}, token)
    assert caught.value.reason == "password_too_short"
    assert home.calls == []


async def test_edits_the_local_account_would_refuse_never_go_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    """The caller stores an edit here once the home took it: what would be refused here
    must be refused before the home sees it."""
    user, token = converted
    with pytest.raises(AccessDenied) as caught:
        await world.online.push_edit(user, {"bio": "x", "type": 0}, token)
    assert caught.value.reason == "cannot_change_type"
    with pytest.raises(InvalidInput) as invalid:
        await world.online.push_edit(user, {"bio": "x", "shoe_size": 44}, token)
    assert invalid.value.field == "shoe_size"
    root = await world.accounts.create("root", PASSWORD, role="admin", trusted=True)
    guest = await world.accounts.edit(user.login, {"type": 2}, actor=root)
    with pytest.raises(AccessDenied) as caught:
        await world.online.push_edit(guest, {"bio": "x"}, token)
    assert caught.value.reason == "guests_cannot_edit"
    assert home.calls == []


async def test_a_password_change_brings_a_new_online_token(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    fresh = await world.online.push_edit(user, {"password": "a brand new password"}, token)
    assert fresh != token
    assert home.tokens == {fresh: "alice"}
    assert home.accounts["alice"]["password"] == "a brand new password"


async def test_a_refused_online_token(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, _ = converted
    with pytest.raises(AuthenticationRequired) as caught:
        await world.online.push_edit(user, {"bio": "x"}, "forged")
    assert caught.value.reason == "invalid_online_token"
    with pytest.raises(AuthenticationRequired) as caught:
        await world.online.push_edit(user, {"bio": "x"}, "")
    assert caught.value.reason == "online_token_missing"
    local = await world.accounts.create("dave", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.push_edit(local, {"bio": "x"}, "t")
    assert caught.value.reason == "not_online"


async def test_refresh_pulls_the_list_from_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    home.anime = ([21, 9253], ["One Piece", "Steins;Gate"])

    refreshed = await world.online.refresh_anime_list(user, token)

    assert home.commands() == ["refreshAnimeList", "getMyAccount"]
    assert refreshed.anime_list_ids == [21, 9253]
    assert refreshed.anime_list_titles == ["One Piece", "Steins;Gate"]
    stored = await world.accounts.get(user.login)
    assert stored.anime_list_titles == ["One Piece", "Steins;Gate"]
    assert stored.anime_list_last_modified_at is not None

    with pytest.raises(AuthenticationRequired):
        await world.online.refresh_anime_list(user, None)
    home.refuse["refreshAnimeList"] = (500, "REFRESH_ANIME_LIST_ERROR")
    with pytest.raises(ContentUnavailable, match="REFRESH_ANIME_LIST_ERROR"):
        await world.online.refresh_anime_list(user, token)


async def test_refresh_of_a_local_account_fetches_itself(world: World, home: FakeHome) -> None:
    local = await world.accounts.create("erin", PASSWORD, trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await world.online.refresh_anime_list(local, None)
    assert caught.value.reason == "no_anime_list"
    assert home.calls == []


async def test_online_tokens_are_checked_at_home(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    assert await world.online.check_online_token(user, token)
    assert not await world.online.check_online_token(user, "forged")
    assert not await world.online.check_online_token(user, "")
    home.accounts["mallory"] = {"password": "x" * 8}
    home.tokens["mallorys"] = "mallory"
    assert not await world.online.check_online_token(user, "mallorys")


# -- converting back -----------------------------------------------------------------------


async def test_convert_to_local_deletes_the_home_account(
    world: World, home: FakeHome, converted: tuple[User, str]
) -> None:
    user, token = converted
    home.accounts["alice"]["password"] = "changed at home!"  # the home's password decides

    session = await world.online.convert_to_local(user, "changed at home!", token)

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
        await world.online.convert_to_local(user, "wrong password!", token)
    assert caught.value.reason == "wrong_password"
    assert "alice" in home.accounts
    home.refuse["deleteMyAccount"] = (500, "USER_DELETE_ERROR")
    with pytest.raises(ContentUnavailable, match="USER_DELETE_ERROR"):
        await world.online.convert_to_local(user, PASSWORD, token)
    assert (await world.accounts.get(user.login)).id == user.id
    del home.refuse["deleteMyAccount"]
    await world.accounts.create("alice", PASSWORD, trusted=True, nickname="another alice")
    home.calls.clear()
    with pytest.raises(Conflict) as caught:
        await world.online.convert_to_local(user, PASSWORD, token)
    assert caught.value.reason == "user_exists_locally"
    assert home.calls == []
    local = await world.accounts.get("alice")
    with pytest.raises(InvalidInput):
        await world.online.convert_to_local(local, PASSWORD, token)


@pytest.mark.parametrize("answer", ["TWO_FACTOR_REQUIRED", "TWO_FACTOR_INVALID"])
async def test_a_home_asking_for_a_two_factor_code_says_so(
    world: World, home: FakeHome, converted: tuple[User, str], answer: str
) -> None:
    """The home's login wants a code this instance cannot give: a clear refusal, not a
    wrong password, and a local login goes on without the online token."""
    user, token = converted
    home.refuse["login"] = (401, answer)
    with pytest.raises(AccessDenied) as caught:
        await world.online.convert_to_local(user, PASSWORD, token)
    assert caught.value.reason == "online_two_factor"
    assert "two-factor" in caught.value.message and PASSWORD not in caught.value.message
    assert home.commands() == ["login"]
    assert await world.online.login_at_home(user, PASSWORD) is None


async def test_secrets_never_reach_messages_or_logs(
    world: World, home: FakeHome, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session, token = await world.online.convert_to_online(alice, home.instance, PASSWORD)
    user = session.user
    messages: list[str] = []
    home.refuse["editMyAccount"] = (500, None)
    for attempt in (
        world.online.push_edit(user, {"password": "new secret 123"}, token),
        world.online.convert_to_local(user, "not the password", token),
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

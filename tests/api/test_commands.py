"""The user command surface (seed 003) over ``POST /api/command``, and avatars.

Every command with its success shape and its documented errors, the role and frontend
mode gates, security code flows, and the avatar upload. The same commands over a real
Socket.IO connection are in ``test_commands_socketio.py``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tidecast.api.commands.table import COMMANDS
from tidecast.app import create_app
from tidecast.core.playlists import NO_OWNER, NewItem
from tidecast.core.services import Services, build_services
from tidecast.core.users import Role
from tidecast.settings import Settings

from support.fake_home import FakeHome, running_home

PASSWORD = "correct horse battery"

LIST_FIELDS = {
    "type",
    "login",
    "nickname",
    "avatar_file",
    "last_login_at",
    "flag_temporary",
    "flag_public",
    "flag_logged_in",
    "flag_online",
}
FULL_FIELDS = LIST_FIELDS | {
    "bio",
    "url",
    "email",
    "main_series_lang",
    "fallback_series_lang",
    "flag_tutorial_done",
    "flag_sendstats",
    "location",
    "language",
    "flag_parentsonly",
    "flag_displayfavorites",
    "social_networks",
    "banner",
    "anime_list_to_fetch",
    "anime_list_user",
    "anime_list_last_modified_at",
    "anime_list_ids",
}


class Api:
    """A client of one instance's command surface."""

    def __init__(self, client: httpx.AsyncClient, services: Services) -> None:
        self.client = client
        self.services = services

    async def call(
        self,
        cmd: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        online: str | None = None,
    ) -> httpx.Response:
        payload: dict[str, Any] = {"body": body or {}}
        if token is not None:
            payload["authorization"] = token
        if online is not None:
            payload["onlineAuthorization"] = online
        # ASCII-escaped JSON, so that text with lone surrogates can be sent as clients may.
        return await self.client.post(
            "/api/command",
            content=json.dumps({"cmd": cmd, "body": payload}),
            headers={"content-type": "application/json"},
        )

    async def ok(self, cmd: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = await self.call(cmd, body, **kw)
        envelope = response.json()
        assert response.status_code == 200, envelope
        assert envelope["err"] is False, envelope
        assert list(envelope) == ["err", "data"]
        return envelope["data"]

    async def fails(
        self,
        cmd: str,
        body: dict[str, Any] | None,
        status: int,
        code: str | None,
        **kw: Any,
    ) -> dict[str, Any]:
        response = await self.call(cmd, body, **kw)
        envelope = response.json()
        assert envelope["err"] is True, envelope
        assert response.status_code == status == envelope["data"]["code"], envelope
        if code is not None:
            assert envelope["data"]["message"]["code"] == code, envelope
        return dict(envelope["data"])

    async def account(self, login: str, *, role: str = "user", **fields: Any) -> str:
        """Create an account (as the host's console would) and return a login token."""
        await self.services.accounts.create(login, PASSWORD, role=role, trusted=True)
        if fields:
            user = await self.services.accounts.get(login)
            await self.services.accounts.edit_self(user, fields)
        return str(await self.login(login))

    async def login(self, login: str, password: str = PASSWORD) -> str:
        data = await self.ok("login", {"username": login, "password": password})
        return str(data["token"])

    async def guest(self) -> str:
        return str((await self.ok("loginGuest"))["token"])


@pytest.fixture
def api(client: httpx.AsyncClient, services: Services) -> Api:
    return Api(client, services)


Start = Callable[..., Awaitable[Api]]


@pytest.fixture
async def instance(make_settings: Callable[..., Settings]) -> AsyncIterator[Start]:
    """Start one instance with settings overridden (frontend mode, policies…)."""
    running: list[tuple[Services, httpx.AsyncClient]] = []

    async def start(**overrides: Any) -> Api:
        services = build_services(make_settings(**overrides))
        await services.start()
        transport = httpx.ASGITransport(
            app=create_app(services.settings, services), client=("127.0.0.1", 51000)
        )
        client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:6878")
        running.append((services, client))
        return Api(client, services)

    yield start
    for services, client in running:
        await client.aclose()
        await services.stop()


@pytest.fixture(scope="module")
def home_server() -> Iterator[FakeHome]:
    with running_home() as home:
        yield home


@pytest.fixture
def home(home_server: FakeHome) -> FakeHome:
    home_server.reset()
    return home_server


HOME_SETTINGS = {"online_scheme": "http", "online_allow_private_homes": True}
"""An instance whose online accounts may live at the stand-in home on loopback."""


def png(color: str = "red", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


# -- the envelope ----------------------------------------------------------------------------


async def test_unknown_command_is_404(api: Api) -> None:
    data = await api.fails("noSuchCommand", {}, 404, "UNKNOWN_COMMAND")
    assert data == {"code": 404, "message": {"code": "UNKNOWN_COMMAND"}}
    response = await api.client.post("/api/command", json={"body": {}})
    assert response.status_code == 404
    assert response.json()["data"]["message"]["code"] == "UNKNOWN_COMMAND"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"cmd": "getUsers"}', "text/plain"),
    ],
)
async def test_malformed_requests_answer_400_in_the_envelope(
    api: Api, content: bytes, content_type: str
) -> None:
    response = await api.client.post(
        "/api/command", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["err"] is True
    assert body["data"]["code"] == 400
    assert body["data"]["message"]["code"] == "INVALID_DATA"
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "content",
    [
        # Past Python's limit on integer digits: ValueError, not JSONDecodeError.
        b'{"cmd": "login", "body": {"body": {"username": ' + b"9" * 5000 + b"}}}",
        # Past the parser's nesting depth: RecursionError.
        b'{"cmd": "login", "body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["huge-integer", "deep-nesting"],
)
async def test_json_the_parser_cannot_take_is_400(api: Api, content: bytes) -> None:
    response = await api.client.post(
        "/api/command", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["data"]["message"]["code"] == "INVALID_DATA"


@pytest.mark.parametrize(
    ("cmd", "body", "field"),
    [
        ("login", {"username": "ali\x00ce", "password": PASSWORD}, "username"),
        ("createUser", {"login": "bob", "password": "pass\x00word!"}, "password"),
        ("createUser", {"login": "bob", "password": PASSWORD, "nickname": "\ud800"}, "nickname"),
        ("editMyAccount", {"bio": "hello\x00"}, "bio"),
        ("editMyAccount", {"social_networks": {"x": ["a", {"b": "\x00"}]}}, "social_networks"),
        ("editMyAccount", {"sh\x00oe": 1}, "sh\x00oe"),
    ],
)
async def test_text_a_database_cannot_store_is_400(
    api: Api, cmd: str, body: dict[str, Any], field: str
) -> None:
    """PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 form: refused
    with the field's name before anything reaches the core, on either database."""
    token = await api.account("alice")
    message = (await api.fails(cmd, body, 400, None, token=token))["message"]
    # Edits answer USER_EDIT_ERROR with the field in data; the others, zod's shape.
    assert list(message["data"] if "code" in message else message) == [field]
    assert (await api.services.accounts.get("alice")).bio is None
    assert [u.login for u in await api.services.accounts.all()] == ["alice"]


async def test_payload_and_body_must_be_objects(api: Api) -> None:
    response = await api.client.post("/api/command", json={"cmd": "login", "body": [1]})
    assert response.status_code == 400
    assert response.json()["data"] == {
        "code": 400,
        "message": {"body": ["Expected object, received array"]},
    }
    response = await api.client.post(
        "/api/command", json={"cmd": "login", "body": {"body": "username"}}
    )
    assert response.json()["data"]["message"] == {"body": ["Expected object, received string"]}


async def test_only_post(api: Api) -> None:
    response = await api.client.get("/api/command")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["data"]["message"]["code"] == "METHOD_NOT_ALLOWED"


async def test_oversized_body_is_413(api: Api) -> None:
    big = {"cmd": "login", "body": {"body": {"username": "x" * (2 * 1024 * 1024)}}}
    response = await api.client.post("/api/command", json=big)
    assert response.status_code == 413
    assert response.json()["err"] is True


async def test_missing_token_is_a_bare_401_and_a_bad_one_user_unknown(api: Api) -> None:
    assert await api.fails("getMyAccount", {}, 401, None) == {"code": 401}
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token="forged")
    token = await api.account("alice")
    assert (await api.ok("getMyAccount", token=f"Bearer {token}"))["login"] == "alice"


async def test_field_validation_errors_are_zod_shaped(api: Api) -> None:
    data = await api.fails("login", {"password": PASSWORD}, 400, None)
    assert data == {"code": 400, "message": {"username": ["Required"]}}
    data = await api.fails("login", {"username": 5, "password": PASSWORD}, 400, None)
    assert data["message"] == {"username": ["Expected string, received number"]}


# -- createUser ------------------------------------------------------------------------------


async def test_create_user_then_log_in(api: Api) -> None:
    data = await api.ok("createUser", {"login": "Alice", "password": PASSWORD})
    assert data == {"code": 200, "message": {"code": "USER_CREATED"}}
    login = await api.ok("login", {"username": "ALICE ", "password": PASSWORD})
    assert set(login) == {"token", "username", "role"}
    assert login["username"] == "alice" and login["role"] == "user"
    account = await api.ok("getMyAccount", token=login["token"])
    assert account["type"] == 1 and account["nickname"] == "alice"


async def test_create_user_errors(api: Api) -> None:
    await api.fails("createUser", {"login": "bob", "password": "short"}, 411, "PASSWORD_TOO_SHORT")
    await api.fails("createUser", {"login": "bob", "password": ""}, 411, "PASSWORD_TOO_SHORT")
    data = await api.fails("createUser", {"login": "bob"}, 400, None)
    assert data["message"] == {"password": ["Required"]}
    await api.fails(
        "createUser", {"login": "b o b", "password": PASSWORD}, 400, "USER_LOGIN_INVALID"
    )
    await api.ok("createUser", {"login": "bob", "password": PASSWORD, "nickname": "Bobby"})
    await api.fails(
        "createUser", {"login": "BOB", "password": PASSWORD}, 409, "USER_ALREADY_EXISTS"
    )
    await api.fails(
        "createUser",
        {"login": "robert", "password": PASSWORD, "nickname": "bobby"},
        409,
        "NICKNAME_ALREADY_IN_USE",
    )
    data = await api.fails(
        "createUser", {"login": "eve", "password": PASSWORD, "role": "guest"}, 400, None
    )
    assert data["message"] == {"role": ["role must be user or admin"]}


async def test_create_admin_needs_operator_or_security_code(api: Api) -> None:
    code = api.services.accounts.security_code.peek()
    await api.fails(
        "createUser",
        {"login": "root", "password": PASSWORD, "role": "admin"},
        403,
        "UNAUTHORIZED",
    )
    user_token = await api.account("alice")
    await api.fails(
        "createUser",
        {"login": "root", "password": PASSWORD, "role": "admin", "securityCode": "000000x"},
        403,
        "UNAUTHORIZED",
        token=user_token,
    )
    assert api.services.accounts.security_code.peek() == code
    await api.ok(
        "createUser",
        {"login": "root", "password": PASSWORD, "role": "admin", "securityCode": int(code)},
    )
    assert api.services.accounts.security_code.peek() != code  # used once
    root = await api.login("root")
    assert (await api.ok("checkAuth", token=root))["role"] == "admin"
    await api.ok(
        "createUser", {"login": "root2", "password": PASSWORD, "role": "admin"}, token=root
    )
    assert (await api.services.accounts.get("root2")).type == Role.OPERATOR


async def test_create_online_accounts_at_their_home_first(instance: Start, home: FakeHome) -> None:
    api = await instance(**HOME_SETTINGS)
    login = f"axel@{home.instance}"
    created = await api.ok("createUser", {"login": login, "password": PASSWORD, "nickname": "Axel"})
    assert created == {"code": 200, "message": {"code": "USER_CREATED"}}
    assert home.commands() == ["createUser", "login"]
    assert home.accounts["axel"]["password"] == PASSWORD
    user = await api.services.accounts.get(login)
    assert (user.type, user.nickname) == (Role.USER, "Axel")
    # The password hash is kept here too: the account logs in while its home is down.
    home.refuse["login"] = (503, None)
    answer = await api.ok("login", {"username": login, "password": PASSWORD})
    assert answer["username"] == login and "onlineToken" not in answer


async def test_create_online_account_refusals(instance: Start, home: FakeHome) -> None:
    api = await instance(**HOME_SETTINGS)
    login = f"axel@{home.instance}"
    data = await api.fails(
        "createUser",
        {"login": login, "password": PASSWORD, "role": "admin"},
        403,
        "USER_CREATE_ERROR",
    )
    assert data["message"]["data"] == "Admin accounts are not allowed to be created online"
    await api.fails("createUser", {"login": login, "password": "short"}, 411, None)
    assert home.calls == []

    # A home that refuses: nothing is stored here.
    home.refuse["createUser"] = (403, "USER_CREATION_DISABLED")
    data = await api.fails(
        "createUser", {"login": login, "password": PASSWORD}, 403, "USER_CREATE_ERROR"
    )
    assert "USER_CREATION_DISABLED" in data["message"]["data"]
    home.refuse.clear()
    home.accounts["axel"] = {"password": "somebody else's"}
    await api.fails(
        "createUser", {"login": login, "password": PASSWORD}, 409, "USER_ALREADY_EXISTS_ONLINE"
    )
    assert [u.login for u in await api.services.accounts.all()] == []

    closed = await instance(online_accounts=False, **HOME_SETTINGS)
    data = await closed.fails(
        "createUser", {"login": "bob@" + home.instance, "password": PASSWORD}, 403, None
    )
    assert data["message"]["data"] == "Creating online accounts is not allowed on this instance"
    no_sign_up = await instance(allow_user_creation=False, **HOME_SETTINGS)
    await no_sign_up.fails(
        "createUser",
        {"login": "bob@" + home.instance, "password": PASSWORD},
        403,
        "USER_CREATION_DISABLED",
    )
    assert "bob" not in home.accounts


async def test_homes_on_private_addresses_are_refused_by_default(api: Api, home: FakeHome) -> None:
    """The caller is on loopback, yet a home on loopback is refused: the instance named
    is the caller's choice, so only the operator's setting may allow private homes."""
    assert api.services.settings.online_allow_private_homes is False
    login = f"axel@{home.instance}"
    await api.fails("createUser", {"login": login, "password": PASSWORD}, 403, None)
    token = await api.account("alice")
    await api.fails(
        "convertMyLocalUserToOnline",
        {"instance": home.instance, "password": PASSWORD},
        403,
        "USER_CONVERT_ERROR",
        token=token,
    )
    assert home.calls == []
    assert [u.login for u in await api.services.accounts.all()] == ["alice"]


async def test_create_user_disabled_by_policy(instance: Start) -> None:
    api = await instance(allow_user_creation=False)
    await api.fails(
        "createUser", {"login": "bob", "password": PASSWORD}, 403, "USER_CREATION_DISABLED"
    )
    root = await api.account("root", role="admin")
    await api.ok("createUser", {"login": "bob", "password": PASSWORD}, token=root)


# -- getUsers / getUser ----------------------------------------------------------------------


async def test_get_users_projection_and_visibility(api: Api) -> None:
    root = await api.account("root", role="admin")
    alice = await api.account("alice")
    await api.account("hidden", flag_public=False)
    listed = await api.ok("getUsers", token=root)
    assert [u["login"] for u in listed] == ["alice", "hidden", "root"]
    for user in listed:
        assert set(user) == LIST_FIELDS
        assert isinstance(user["last_login_at"], str)
        assert user["flag_logged_in"] is user["flag_online"] is True
    assert [u["login"] for u in await api.ok("getUsers", token=alice)] == ["alice", "root"]
    guest = await api.guest()
    assert "hidden" not in [u["login"] for u in await api.ok("getUsers", token=guest)]


async def test_get_user(api: Api) -> None:
    root = await api.account("root", role="admin")
    alice = await api.account("alice", email="alice@example.org", bio="hi")
    await api.account("hidden", flag_public=False, email="h@example.org")
    mine = await api.ok("getUser", {"username": "ALICE"}, token=alice)
    assert set(mine) == FULL_FIELDS | {"anime_list_titles"}
    assert mine["email"] == "alice@example.org" and mine["bio"] == "hi"
    seen = await api.ok("getUser", {"username": "alice"}, token=await api.account("bob"))
    assert set(seen) == FULL_FIELDS and seen["email"] is None
    await api.fails("getUser", {"username": "hidden"}, 404, "USER_VIEW_ERROR", token=alice)
    assert (await api.ok("getUser", {"username": "hidden"}, token=root))["email"]
    await api.fails("getUser", {"username": "nobody"}, 404, "USER_VIEW_ERROR", token=alice)
    await api.fails("getUser", {"username": "no body"}, 404, "USER_VIEW_ERROR", token=alice)
    data = await api.fails("getUser", {}, 400, None, token=alice)
    assert data["message"] == {"username": ["Required"]}
    await api.fails("getUser", {"username": "alice"}, 401, None)


# -- deleteUser / editUser -------------------------------------------------------------------


async def test_delete_user(api: Api) -> None:
    root = await api.account("admin", role="admin")
    await api.account("root2", role="admin")
    alice = await api.account("alice")
    guest = await api.guest()
    await api.fails("deleteUser", {"username": "alice"}, 403, "ADMIN_PLEASE", token=alice)
    await api.fails("deleteUser", {"username": "alice"}, 403, "ADMIN_PLEASE", token=guest)
    data = await api.ok("deleteUser", {"username": "alice"}, token=root)
    assert data == {"code": 200, "message": {"code": "USER_DELETED"}}
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token=alice)
    await api.fails("deleteUser", {"username": "alice"}, 404, "USER_NOT_EXISTS", token=root)
    await api.fails("deleteUser", {"username": "a l"}, 404, "USER_NOT_EXISTS", token=root)
    await api.fails(
        "deleteUser", {"username": "admin"}, 406, "USER_DELETE_ADMIN_DAMEDESU", token=root
    )


async def test_edit_user(api: Api) -> None:
    root = await api.account("root", role="admin")
    alice = await api.account("alice")
    await api.account("bob")
    data = await api.ok("editUser", {"login": "alice", "type": 0, "bio": "x"}, token=root)
    assert data == {"code": 200, "message": {"code": "USER_EDITED"}}
    assert (await api.ok("getMyAccount", token=alice))["type"] == 0
    await api.fails("editUser", {"login": "nobody", "type": 1}, 404, "USER_NOT_EXISTS", token=root)
    data = await api.fails(
        "editUser", {"login": "alice", "nickname": "bob"}, 409, "USER_EDIT_ERROR", token=root
    )
    assert data["message"]["data"] == {"nickname": ["nickname already in use"]}
    data = await api.fails(
        "editUser",
        {"login": "alice", "main_series_lang": "klingon"},
        400,
        "USER_EDIT_ERROR",
        token=root,
    )
    assert list(data["message"]["data"]) == ["main_series_lang"]
    await api.fails(
        "editUser", {"login": "alice", "shoe_size": 44}, 400, "USER_EDIT_ERROR", token=root
    )
    await api.fails(
        "editUser", {"login": "alice", "password": "short"}, 400, "PASSWORD_TOO_SHORT", token=root
    )
    await api.fails(
        "editUser", {"login": "alice"}, 403, "ADMIN_PLEASE", token=await api.login("bob")
    )
    await api.ok("editUser", {"login": "alice", "password": "a new password"}, token=root)
    await api.login("alice", "a new password")
    # A client sends back the whole profile it read: the read-only keys are ignored.
    profile = await api.ok("getUser", {"username": "bob"}, token=root)
    await api.ok("editUser", {**profile, "bio": "edited"}, token=root)
    assert (await api.services.accounts.get("bob")).bio == "edited"
    await api.ok("editUser", {"old_login": "bob", "login": "bob", "bio": "again"}, token=root)
    await api.fails(
        "editUser", {"old_login": "bob", "login": "robert"}, 400, "USER_EDIT_ERROR", token=root
    )


async def test_edit_online_user_takes_only_type_and_tutorial_flag(api: Api) -> None:
    root = await api.account("root", role="admin")
    await api.services.accounts.create("axel@kara.moe", PASSWORD, trusted=True)
    await api.ok(
        "editUser", {"login": "axel@kara.moe", "type": 2, "flag_tutorial_done": True}, token=root
    )
    assert (await api.services.accounts.get("axel@kara.moe")).type == 2
    await api.fails(
        "editUser", {"login": "axel@kara.moe", "bio": "no"}, 400, "USER_EDIT_ERROR", token=root
    )


# -- resetUserPassword -----------------------------------------------------------------------


async def test_reset_user_password(instance: Start) -> None:
    api = await instance(frontend_mode="closed")
    await api.account("alice")
    code = api.services.accounts.security_code.peek()
    wrong = "999999" if code != "999999" else "000000"
    await api.fails(
        "resetUserPassword",
        {"username": "alice", "password": "brand new pass", "securityCode": wrong},
        403,
        "USER_RESETPASSWORD_WRONGSECURITYCODE",
    )
    data = await api.ok(
        "resetUserPassword",
        {"username": "alice", "password": "brand new pass", "securityCode": code},
    )
    assert data == {"code": 200, "message": {"code": "USER_RESETPASSWORD_SUCCESS"}}
    await api.login("alice", "brand new pass")
    code = api.services.accounts.security_code.peek()  # the code works once
    await api.fails(
        "resetUserPassword",
        {"username": "nobody", "password": "brand new pass", "securityCode": code},
        404,
        "USER_NOT_EXISTS",
    )
    await api.fails(
        "resetUserPassword",
        {"username": "alice", "password": "short", "securityCode": code},
        400,
        "PASSWORD_TOO_SHORT",
    )


async def test_the_security_code_cannot_be_guessed(api: Api) -> None:
    await api.account("alice")
    code = api.services.accounts.security_code.peek()
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]
    body = {"username": "alice", "password": "brand new pass"}
    for guess in wrong:
        await api.fails(
            "resetUserPassword",
            {**body, "securityCode": guess},
            403,
            "USER_RESETPASSWORD_WRONGSECURITYCODE",
        )
    # Locked after five wrong guesses: now even the right code is refused for a while.
    await api.fails(
        "resetUserPassword",
        {**body, "securityCode": code},
        403,
        "USER_RESETPASSWORD_WRONGSECURITYCODE",
    )
    assert api.services.accounts.security_code.peek() == code


@pytest.mark.parametrize("cmd", ["resetUserPassword", "createUser"])
async def test_security_code_guesses_lock_out_their_address_only(
    api: Api, client_from: Callable[[str], httpx.AsyncClient], cmd: str
) -> None:
    await api.account("alice")
    code = api.services.accounts.security_code.peek()
    guesser = Api(client_from("198.51.100.7"), api.services)
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]
    if cmd == "resetUserPassword":
        body: dict[str, Any] = {"username": "alice", "password": "brand new pass"}
        refusal = "USER_RESETPASSWORD_WRONGSECURITYCODE"
    else:
        body = {"login": "root", "password": PASSWORD, "role": "admin"}
        refusal = "UNAUTHORIZED"
    for guess in wrong:
        await guesser.fails(cmd, {**body, "securityCode": guess}, 403, refusal)
    await guesser.fails(cmd, {**body, "securityCode": code}, 403, refusal)
    # The host's own operator, on another address, is not locked out by the guesser.
    await api.ok(cmd, {**body, "securityCode": code})


async def test_reset_online_password_is_the_seeds_200_error(api: Api) -> None:
    await api.services.accounts.create("axel@kara.moe", PASSWORD, trusted=True)
    data = await api.fails(
        "resetUserPassword",
        {"username": "axel@kara.moe", "password": "brand new pass", "securityCode": "1"},
        200,
        "USER_RESETPASSWORD_ERROR",
    )
    assert data == {"code": 200, "message": {"code": "USER_RESETPASSWORD_ERROR"}}


# -- my account ------------------------------------------------------------------------------


async def test_get_my_account(api: Api) -> None:
    token = await api.account("alice", email="alice@example.org")
    account = await api.ok("getMyAccount", token=token)
    assert set(account) == FULL_FIELDS | {"anime_list_titles"}
    assert account["email"] == "alice@example.org"
    assert account["avatar_file"] == "blank.png" and account["banner"] == "default.jpg"
    guest = await api.ok("getMyAccount", token=await api.guest())
    assert guest["type"] == 2 and guest["flag_temporary"] is True


@pytest.mark.parametrize("name", ["deleteMyUser", "deleteMyAccount"])
async def test_delete_my_account(api: Api, name: str) -> None:
    token = await api.account("alice")
    data = await api.ok(name, token=token)
    assert data == {"code": 200, "message": {"code": "USER_DELETED"}}
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token=token)
    await api.fails(name, {}, 403, "NOT_GUEST", token=await api.guest())


async def test_edit_my_account(api: Api) -> None:
    token = await api.account("alice")
    await api.account("bob")
    changes = {
        "nickname": "Alice A.",
        "bio": "hello",
        "main_series_lang": "fre",
        "fallback_series_lang": "eng",
        "flag_public": False,
        "social_networks": {"anilist": "alice"},
        "type": 1,
    }
    data = await api.ok("editMyAccount", changes, token=token)
    assert data == {"code": 200, "message": {"code": "USER_EDITED"}}
    account = await api.ok("getMyAccount", token=token)
    assert account["nickname"] == "Alice A." and account["main_series_lang"] == "fre"
    assert account["flag_public"] is False and account["social_networks"] == {"anilist": "alice"}
    await api.fails("editMyAccount", {"type": 0}, 403, "USER_CANNOT_CHANGE_TYPE", token=token)
    await api.fails("editMyAccount", {"nickname": "bob"}, 409, "USER_EDIT_ERROR", token=token)
    await api.fails("editMyAccount", {"password": "short"}, 400, "PASSWORD_TOO_SHORT", token=token)
    await api.fails(
        "editMyAccount", {"main_series_lang": "xx"}, 400, "USER_EDIT_ERROR", token=token
    )
    await api.fails(
        "editMyAccount", {"bio": "x"}, 403, "GUESTS_CANNOT_EDIT", token=await api.guest()
    )


async def test_changing_my_password_keeps_me_logged_in(api: Api) -> None:
    token = await api.account("alice")
    other_session = await api.login("alice")
    data = await api.ok("editMyAccount", {"password": "another password"}, token=token)
    fresh = data["message"]["data"]["token"]
    assert data == {"code": 200, "message": {"code": "USER_EDITED", "data": {"token": fresh}}}
    # The other sessions end (the old password may have leaked); the caller's goes on.
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token=token)
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token=other_session)
    assert (await api.ok("getMyAccount", token=fresh))["login"] == "alice"
    await api.login("alice", "another password")
    # An edit without a new password answers no token.
    assert await api.ok("editMyAccount", {"bio": "x"}, token=fresh) == {
        "code": 200,
        "message": {"code": "USER_EDITED"},
    }


async def test_edit_online_account_needs_and_answers_the_online_token(api: Api) -> None:
    await api.services.accounts.create("axel@kara.moe", PASSWORD, trusted=True)
    token = await api.login("axel@kara.moe")
    await api.fails("editMyAccount", {"bio": "x"}, 403, "INVALID_ONLINE_TOKEN", token=token)
    key = await upload_avatar(api, token)
    # Only the avatar changes, which stays local: nothing goes home, the token comes back.
    data = await api.ok("editMyAccount", {"avatar": {"path": key}}, token=token, online="ONLINE")
    assert data == {
        "code": 200,
        "message": {"code": "USER_EDITED", "data": {"onlineAuthorization": "ONLINE"}},
    }


async def online_account(api: Api, home: FakeHome, login: str = "axel") -> tuple[str, str]:
    """An online account at the stand-in home: (local token, online token)."""
    await api.ok("createUser", {"login": f"{login}@{home.instance}", "password": PASSWORD})
    answer = await api.ok("login", {"username": f"{login}@{home.instance}", "password": PASSWORD})
    home.calls.clear()
    return answer["token"], answer["onlineToken"]


async def test_an_online_edit_goes_home_first(instance: Start, home: FakeHome) -> None:
    api = await instance(**HOME_SETTINGS)
    token, online = await online_account(api, home)
    login = f"axel@{home.instance}"

    home.refuse["editMyAccount"] = (500, "USER_EDIT_ERROR")
    await api.fails(
        "editMyAccount", {"bio": "hello"}, 500, "USER_EDIT_ERROR", token=token, online=online
    )
    await api.fails(
        "editMyAccount",
        {"bio": "x", "type": 0},
        403,
        "USER_CANNOT_CHANGE_TYPE",
        token=token,
        online=online,
    )
    home.refuse.clear()
    await api.fails(
        "editMyAccount", {"bio": "hello"}, 403, "INVALID_ONLINE_TOKEN", token=token, online="forged"
    )
    # Refused at home (or before): nothing changed here.
    assert (await api.services.accounts.get(login)).bio is None
    assert home.commands() == ["editMyAccount", "editMyAccount"]

    home.calls.clear()
    data = await api.ok("editMyAccount", {"bio": "hello"}, token=token, online=online)
    assert data["message"] == {"code": "USER_EDITED", "data": {"onlineAuthorization": online}}
    assert home.accounts["axel"]["bio"] == "hello"
    assert (await api.services.accounts.get(login)).bio == "hello"


async def test_an_online_password_change_answers_both_tokens(
    instance: Start, home: FakeHome
) -> None:
    api = await instance(**HOME_SETTINGS)
    token, online = await online_account(api, home)
    data = await api.ok(
        "editMyAccount", {"password": "a brand new password"}, token=token, online=online
    )
    answer = data["message"]["data"]
    assert set(answer) == {"token", "onlineAuthorization"}
    assert answer["onlineAuthorization"] != online
    assert home.tokens == {answer["onlineAuthorization"]: "axel"}
    assert home.accounts["axel"]["password"] == "a brand new password"
    await api.fails("getMyAccount", {}, 401, "USER_UNKNOWN", token=token)
    assert (await api.ok("getMyAccount", token=answer["token"]))["login"].startswith("axel@")
    await api.login(f"axel@{home.instance}", "a brand new password")


async def test_back_to_local_when_the_name_is_taken_here(api: Api) -> None:
    await api.services.accounts.create("axel@kara.moe", PASSWORD, trusted=True)
    await api.services.accounts.create("axel", PASSWORD, trusted=True, nickname="the other")
    token = await api.login("axel@kara.moe")
    await api.fails(
        "convertMyOnlineUserToLocal",
        {"password": PASSWORD},
        409,
        "USER_ALREADY_EXISTS_LOCALLY",
        token=token,
        online="ONLINE",
    )


# -- login / loginGuest / checkAuth ----------------------------------------------------------


async def test_login_errors(instance: Start) -> None:
    api = await instance(login_account_failures=2)
    await api.account("alice")
    await api.fails("login", {"username": "alice", "password": "wrong pass"}, 401, "LOG_ERROR")
    await api.fails("login", {"username": "nobody", "password": PASSWORD}, 401, "LOG_ERROR")
    await api.fails("login", {"username": "alice", "password": "wrong again"}, 401, "LOG_ERROR")
    data = await api.fails(
        "login", {"username": "alice", "password": PASSWORD}, 429, "TOO_MANY_ATTEMPTS"
    )
    assert "try again" in data["message"]["data"]


async def test_login_with_security_code_promotes(api: Api) -> None:
    await api.account("alice")
    code = api.services.accounts.security_code.peek()
    wrong = "999999" if code != "999999" else "000000"
    await api.fails(
        "login",
        {"username": "alice", "password": PASSWORD, "securityCode": wrong},
        403,
        "WRONG_SECURITY_CODE",
    )
    data = await api.ok(
        "login", {"username": "alice", "password": PASSWORD, "securityCode": int(code)}
    )
    assert data["role"] == "admin"
    assert (await api.ok("getMyAccount", token=data["token"]))["type"] == 0
    assert api.services.accounts.security_code.peek() != code


async def test_login_guest(instance: Start) -> None:
    api = await instance()
    data = await api.ok("loginGuest", {"name": "Visitor"})
    assert data["role"] == "guest" and data["username"] == "visitor"
    assert set(data) == {"token", "username", "role"}
    assert (await api.ok("checkAuth", token=data["token"]))["role"] == "guest"
    assert (await api.ok("loginGuest"))["username"].startswith("guest-")

    refused = await instance(allow_guest_login=False)
    await refused.fails("loginGuest", {}, 403, "GUESTS_NOT_ALLOWED")


async def test_no_free_guest_is_the_seeds_500(instance: Start) -> None:
    api = await instance(allow_custom_guests=False)
    await api.fails("loginGuest", {}, 500, "NO_MORE_GUESTS_AVAILABLE")
    await api.services.accounts.create("guest1", None, role="guest", trusted=True)
    assert (await api.ok("loginGuest"))["username"] == "guest1"
    await api.fails("loginGuest", {}, 500, "NO_MORE_GUESTS_AVAILABLE")  # guest1 is busy


async def test_check_auth(api: Api) -> None:
    token = await api.account("alice")
    data = await api.ok("checkAuth", token=token)
    assert data == {"username": "alice", "role": "user", "onlineAvailable": False}
    assert await api.fails("checkAuth", {}, 401, None) == {"code": 401}


# -- gates -----------------------------------------------------------------------------------

SEED_BADGES = {
    # command: (authentication, least role, least frontend mode)
    "getUsers": ("required", Role.GUEST, "restricted"),
    "createUser": ("optional", Role.GUEST, "restricted"),
    "getUser": ("required", Role.GUEST, "restricted"),
    "deleteUser": ("required", Role.OPERATOR, "closed"),
    "editUser": ("required", Role.OPERATOR, "closed"),
    "resetUserPassword": ("optional", Role.GUEST, "closed"),
    "getMyAccount": ("required", Role.GUEST, "closed"),
    "deleteMyUser": ("required", Role.USER, "closed"),
    "deleteMyAccount": ("required", Role.USER, "closed"),
    "editMyAccount": ("required", Role.GUEST, "closed"),
    "convertMyLocalUserToOnline": ("required", Role.USER, "closed"),
    "convertMyOnlineUserToLocal": ("required", Role.USER, "closed"),
    "refreshAnimeList": ("required", Role.USER, "closed"),
    "getAnimeList": ("required", Role.USER, "closed"),
    "login": ("none", Role.GUEST, "closed"),
    "loginGuest": ("none", Role.GUEST, "closed"),
    "checkAuth": ("required", Role.GUEST, "closed"),
}


def test_the_table_declares_the_seeds_badges() -> None:
    declared = {name: (c.access, c.role, c.mode) for name, c in COMMANDS.items()}
    assert declared == SEED_BADGES


async def test_role_gates(api: Api) -> None:
    user = await api.account("alice")
    guest = await api.guest()
    for name, command in COMMANDS.items():
        if command.access != "required":
            continue
        assert await api.fails(name, {}, 401, None) == {"code": 401}, name
        if command.role == Role.OPERATOR:
            await api.fails(name, {}, 403, "ADMIN_PLEASE", token=user)
            await api.fails(name, {}, 403, "ADMIN_PLEASE", token=guest)
        elif command.role == Role.USER:
            await api.fails(name, {}, 403, "NOT_GUEST", token=guest)


@pytest.mark.parametrize("mode", ["closed", "restricted", "open"])
async def test_mode_gates(instance: Start, mode: str) -> None:
    api = await instance(frontend_mode=mode)
    root = await api.account("root", role="admin")
    user = await api.account("alice")
    for name, command in COMMANDS.items():
        token = None if command.access == "none" else user
        response = await api.call(name, {}, token=token)
        closed = mode == "closed" and command.mode == "restricted"
        assert (response.status_code == 503) is closed, (name, response.json())
        if closed:
            assert response.json()["data"] == {
                "code": 503,
                "message": {"code": "WEBAPPMODE_CLOSED_API_MESSAGE"},
            }
            # Operators always pass the mode gate.
            assert (await api.call(name, {}, token=root)).status_code != 503, name
    if mode == "closed":
        await api.fails("createUser", {"login": "bob", "password": PASSWORD}, 503, None)
        await api.ok("createUser", {"login": "bob", "password": PASSWORD}, token=root)


# -- online accounts and anime lists (local paths; the two-instance flows are in the
# -- online accounts' own tests) ------------------------------------------------------------


async def test_convert_errors_that_need_no_home(api: Api) -> None:
    admin = await api.account("admin", role="admin")
    alice = await api.account("alice")
    await api.fails(
        "convertMyLocalUserToOnline",
        {"instance": "kara.moe", "password": PASSWORD},
        500,
        "ADMIN_CONVERT_ERROR",
        token=admin,
    )
    data = await api.fails(
        "convertMyLocalUserToOnline",
        {"instance": "kara.moe", "password": "not my password"},
        400,
        None,
        token=alice,
    )
    assert list(data["message"]) == ["password"]
    data = await api.fails(
        "convertMyLocalUserToOnline", {"password": PASSWORD}, 400, None, token=alice
    )
    assert data["message"] == {"instance": ["Required"]}
    await api.fails(
        "convertMyOnlineUserToLocal",
        {"password": PASSWORD},
        400,
        "USER_DELETE_ERROR_ONLINE",
        token=alice,
    )


async def test_refresh_anime_list_without_a_list(api: Api) -> None:
    token = await api.account("alice")
    data = await api.fails("refreshAnimeList", {}, 400, "REFRESH_ANIME_LIST_ERROR", token=token)
    assert "anime_list_to_fetch" in data["message"]["data"]
    await api.ok("editMyAccount", {"anime_list_to_fetch": "myanimelist"}, token=token)
    assert await api.ok("refreshAnimeList", token=token) is None


async def test_get_anime_list(api: Api) -> None:
    token = await api.account("alice")
    empty = await api.ok("getAnimeList", token=token)
    assert empty == {"content": [], "infos": {"count": 0, "from": 0, "to": 0}}
    playlists = api.services.playlists
    for title in ("Cowboy Bebop - Session 1", "Cowboy Bebop - Session 2", "Other Show"):
        await playlists.add_item(
            NO_OWNER, NewItem(title=title, video_url=f"http://example.org/{len(title)}{title[-1]}")
        )
    alice = await api.services.accounts.get("alice")
    await api.services.accounts.set_anime_list(alice, [1], ["Cowboy Bebop"])
    page = await api.ok("getAnimeList", {"from": 1, "size": 5, "direction": "desc"}, token=token)
    assert page["infos"] == {"count": 2, "from": 1, "to": 2}
    assert [item["title"] for item in page["content"]] == ["Cowboy Bebop - Session 1"]
    item = page["content"][0]
    assert item["video_url"].startswith("http://example.org/") and "created_at" in item
    data = await api.fails("getAnimeList", {"size": -1}, 400, None, token=token)
    assert list(data["message"]) == ["size"]


# -- avatars ---------------------------------------------------------------------------------


async def upload_avatar(api: Api, token: str, data: bytes | None = None) -> str:
    response = await api.client.post(
        "/api/importFile",
        files={"file": ("me.png", data or png(), "image/png")},
        headers={"authorization": token},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["path"])


async def test_import_file_and_use_it_as_avatar(api: Api) -> None:
    token = await api.account("alice")
    image = png("blue")
    response = await api.client.post(
        "/api/importFile",
        files={"file": ("me.png", image, "application/octet-stream")},
        headers={"authorization": token},
    )
    assert response.status_code == 200
    stored = response.json()
    assert stored["fieldname"] == "file" and stored["originalname"] == "me.png"
    assert stored["mimetype"] == "image/png" and stored["size"] == len(image)
    assert stored["path"] == stored["filename"]
    assert stored["path"].endswith(".png") and "/" not in stored["path"]
    served = await api.client.get(f"/avatars/{stored['path']}")
    assert served.status_code == 200 and served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"

    await api.ok("editMyAccount", {"avatar": {"path": stored["path"]}}, token=token)
    assert (await api.ok("getMyAccount", token=token))["avatar_file"] == stored["path"]
    root = await api.account("root", role="admin")
    other = await upload_avatar(api, token, png("green"))
    await api.ok("editUser", {"login": "alice", "avatar": other}, token=root)
    assert (await api.ok("getMyAccount", token=token))["avatar_file"] == other
    await api.fails(
        "editMyAccount", {"avatar": {"path": "../secret_key"}}, 400, "USER_EDIT_ERROR", token=token
    )
    await api.fails(
        "editMyAccount",
        {"avatar": {"path": "0" * 64 + ".png"}},
        400,
        "USER_EDIT_ERROR",
        token=token,
    )
    # avatar_file is read-only: a client cannot point it at an arbitrary name.
    await api.ok("editMyAccount", {"avatar_file": "../../etc/passwd"}, token=token)
    assert (await api.ok("getMyAccount", token=token))["avatar_file"] == other


async def test_import_file_errors(api: Api) -> None:
    token = await api.account("alice")
    # Guests cannot keep an avatar (they cannot edit): they upload nothing either.
    response = await api.client.post(
        "/api/importFile",
        files={"file": ("a.png", png())},
        headers={"authorization": await api.guest()},
    )
    assert response.status_code == 403
    assert response.json()["data"] == {"code": 403, "message": {"code": "NOT_GUEST"}}
    assert not any((api.services.settings.data_dir / "avatars").glob("*.png"))
    response = await api.client.post("/api/importFile", files={"file": ("a.png", png())})
    assert response.status_code == 401 and response.json() == {"err": True, "data": {"code": 401}}
    response = await api.client.post(
        "/api/importFile",
        files={"file": ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")},
        headers={"authorization": token},
    )
    assert response.status_code == 400
    assert response.json()["data"]["message"]["code"] == "IMPORT_FILE_ERROR"
    response = await api.client.post(
        "/api/importFile",
        data={"other": "x"},
        files={"nope": ("a.png", png())},
        headers={"authorization": token},
    )
    assert response.json()["data"] == {"code": 400, "message": {"file": ["Required"]}}
    big = png(size=(2000, 2000)) + b"\0" * (api.services.settings.image_max_bytes + 1)
    response = await api.client.post(
        "/api/importFile", files={"file": ("a.png", big)}, headers={"authorization": token}
    )
    assert response.status_code == 413
    assert response.json()["err"] is True


@pytest.mark.parametrize(
    "path",
    ["/avatars/blank.png", "/avatars/..%2Fsecret_key", "/avatars/" + "a" * 64 + ".png"],
)
async def test_only_stored_avatars_are_served(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 404


# -- secrets ---------------------------------------------------------------------------------


async def test_passwords_and_tokens_stay_out_of_answers_and_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "a very secret password"
    await api.ok("createUser", {"login": "alice", "password": secret})
    token = await api.login("alice", secret)
    answers = [
        await api.call("getUsers", token=token),
        await api.call("getMyAccount", token=token),
        await api.call("getUser", {"username": "alice"}, token=token),
        await api.call("checkAuth", token=token),
        await api.call("editMyAccount", {"password": "short"}, token=token),
        await api.call("login", {"username": "alice", "password": secret + "!"}),
        await api.call("noSuchCommand", {"password": secret}, token=token),
    ]
    for response in answers:
        assert secret not in response.text
        assert token not in response.text
        assert "password_hash" not in response.text and "argon2" not in response.text
    assert secret not in caplog.text
    assert token not in caplog.text


MAL_EXPORT = b"""<?xml version="1.0" encoding="UTF-8" ?>
<myanimelist>
  <myinfo><user_name>axel</user_name><user_export_type>1</user_export_type></myinfo>
  <anime><series_animedb_id>9253</series_animedb_id><series_title>Steins;Gate</series_title>
    <my_status>Completed</my_status></anime>
</myanimelist>
"""


async def test_import_a_myanimelist_export(api: Api) -> None:
    from tidecast.core.playlists import NO_OWNER, NewItem

    token = await api.account("mal")
    item = await api.services.playlists.add_item(
        NO_OWNER, NewItem(title="Steins;Gate 01", video_url="http://media.invalid/sg.mp4")
    )
    await api.services.playlists.add_item(
        NO_OWNER, NewItem(title="Weather", video_url="http://media.invalid/w.mp4")
    )
    response = await api.client.post(
        "/api/importAnimeList",
        headers={"authorization": token},
        files={"file": ("animelist.xml", MAL_EXPORT, "application/xml")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"]["code"] == "ANIME_LIST_IMPORTED"
    assert (await api.ok("getMyAccount", token=token))["anime_list_ids"] == [9253]
    listed = await api.ok("getAnimeList", {"from": 0, "size": 10}, token=token)
    assert [i["id"] for i in listed["content"]] == [item]
    refused = await api.client.post(
        "/api/importAnimeList",
        headers={"authorization": token},
        files={"file": ("x.xml", b"<!DOCTYPE x [<!ENTITY a 'b'>]><myanimelist/>", "text/xml")},
    )
    assert refused.json()["err"] is True
    anonymous = await api.client.post(
        "/api/importAnimeList", files={"file": ("animelist.xml", MAL_EXPORT, "text/xml")}
    )
    assert anonymous.status_code == 401

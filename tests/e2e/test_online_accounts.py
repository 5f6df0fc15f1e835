"""Online accounts between two real tidecast processes on loopback.

Instance A holds the account; instance B is its home. They talk through each other's
``POST /api/command``, and B fetches the anime list from an AniList stand-in on
127.0.0.1 (``support/anime_services.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.anime_services import Anime, AnimeServices, running_anime_services
from support.server_process import engine_env, serving

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


@contextmanager
def instance(data_dir: Path, services: AnimeServices) -> Iterator[str]:
    """An instance whose online homes may be on loopback, using the anime stand-in."""
    env = engine_env(
        TIDECAST_ONLINE_SCHEME="http",
        # Both instances are on loopback: homes there are refused unless allowed.
        TIDECAST_ONLINE_ALLOW_PRIVATE_HOMES="true",
        TIDECAST_ANILIST_API_URL=services.anilist_url,
        TIDECAST_KITSU_API_URL=services.kitsu_url,
    )
    output = data_dir.parent / f"{data_dir.name}-output.txt"
    with serving(data_dir, env=env, output=output) as base:
        yield base
    assert PASSWORD not in output.read_text()


def command(
    base: str,
    cmd: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    online_token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"body": body or {}}
    if token is not None:
        payload["authorization"] = token
    if online_token is not None:
        payload["onlineAuthorization"] = online_token
    answer = httpx.post(f"{base}/api/command", json={"cmd": cmd, "body": payload}, timeout=30)
    return answer.status_code, answer.json()


def ok(base: str, cmd: str, body: dict[str, Any] | None = None, **tokens: str) -> Any:
    status, answer = command(base, cmd, body, **tokens)
    assert status == 200 and answer["err"] is False, (cmd, status, answer)
    return answer["data"]


def add_item(base: str, title: str) -> int:
    token = httpx.get(f"{base}/server/api?method=get_api_access_token").json()["result"]["token"]
    answer = httpx.get(
        f"{base}/server/api",
        params={
            "method": "playlist_add_item",
            "token": token,
            "title": title,
            "video_url": f"http://media.invalid/{len(title)}.mp4",
        },
    ).json()
    assert answer["error"] is None, answer
    return int(answer["result"])


def test_an_account_goes_online_at_another_instance_and_comes_back(tmp_path: Path) -> None:
    with (
        running_anime_services() as anime,
        instance(tmp_path / "a", anime) as a,
        instance(tmp_path / "b", anime) as b,
    ):
        anime.anilist_users["AxelAni"] = [
            Anime(21, "One Piece", "One Piece"),
            Anime(9253, "Steins;Gate"),
        ]
        home = b.removeprefix("http://")
        ok(a, "createUser", {"login": "alice", "password": PASSWORD})
        local_token = ok(a, "login", {"username": "alice", "password": PASSWORD})["token"]
        piece = add_item(a, "One Piece 1071 [1080p]")
        add_item(a, "Evening news")

        # Local -> online: the account appears at B, and both tokens come back.
        converted = ok(
            a,
            "convertMyLocalUserToOnline",
            {"instance": home, "password": PASSWORD},
            token=local_token,
        )
        assert converted["message"]["code"] == "USER_CONVERTED"
        token = converted["message"]["data"]["token"]
        online_token = converted["message"]["data"]["onlineToken"]
        assert token and online_token and token != local_token
        assert command(a, "getMyAccount", token=local_token)[0] == 401  # revoked by the rename
        assert ok(a, "getMyAccount", token=token)["login"] == f"alice@{home}"
        at_home = ok(b, "login", {"username": "alice", "password": PASSWORD})["token"]
        assert ok(b, "getMyAccount", token=at_home)["login"] == "alice"

        # Logging in to an online account also logs in at its home.
        relogin = ok(a, "login", {"username": f"alice@{home}", "password": PASSWORD})
        assert relogin["onlineToken"]
        checked = ok(a, "checkAuth", token=relogin["token"], online_token=relogin["onlineToken"])
        assert checked == {"username": f"alice@{home}", "role": "user", "onlineAvailable": True}

        # An edit goes home with onlineAuthorization.
        edited = ok(
            a,
            "editMyAccount",
            {"bio": "hello", "anime_list_to_fetch": "anilist", "anime_list_user": "AxelAni"},
            token=token,
            online_token=online_token,
        )
        assert edited["message"]["code"] == "USER_EDITED"
        online_token = edited["message"]["data"]["onlineAuthorization"]
        profile = ok(b, "getMyAccount", token=at_home)
        assert (profile["bio"], profile["anime_list_user"]) == ("hello", "AxelAni")

        # refreshAnimeList: B fetches from AniList, A copies B's list.
        ok(a, "refreshAnimeList", token=token, online_token=online_token)
        assert any(service == "anilist" for service, *_ in anime.requests)
        assert ok(b, "getMyAccount", token=at_home)["anime_list_ids"] == [21, 9253]
        assert ok(a, "getMyAccount", token=token)["anime_list_ids"] == [21, 9253]

        listed = ok(a, "getAnimeList", {"from": 0, "size": 10}, token=token)
        assert [item["id"] for item in listed["content"]] == [piece]
        assert listed["infos"]["count"] == 1

        # A new password goes home too, and the caller stays logged in at A.
        changed = ok(
            a,
            "editMyAccount",
            {"password": "a brand new password"},
            token=token,
            online_token=online_token,
        )["message"]["data"]
        assert command(a, "getMyAccount", token=token)[0] == 401
        token, online_token = changed["token"], changed["onlineAuthorization"]
        assert ok(a, "getMyAccount", token=token)["login"] == f"alice@{home}"
        assert ok(b, "login", {"username": "alice", "password": "a brand new password"})

        # Online -> local: deleted at B, a local account again at A.
        back = ok(
            a,
            "convertMyOnlineUserToLocal",
            {"password": "a brand new password"},
            token=token,
            online_token=online_token,
        )
        assert back["message"]["code"] == "USER_DELETED_ONLINE"
        assert ok(a, "getMyAccount", token=back["message"]["data"]["token"])["login"] == "alice"
        status, refused = command(
            b, "login", {"username": "alice", "password": "a brand new password"}
        )
        assert status == 401 and refused["err"] is True
        relogin = ok(a, "login", {"username": "alice", "password": "a brand new password"})
        assert relogin["username"] == "alice"


def test_an_online_account_is_created_at_its_home_first(tmp_path: Path) -> None:
    with (
        running_anime_services() as anime,
        instance(tmp_path / "a", anime) as a,
        instance(tmp_path / "b", anime) as b,
    ):
        home = b.removeprefix("http://")
        created = ok(a, "createUser", {"login": f"bob@{home}", "password": PASSWORD})
        assert created["message"]["code"] == "USER_CREATED"
        at_home = ok(b, "login", {"username": "bob", "password": PASSWORD})
        assert ok(b, "getMyAccount", token=at_home["token"])["login"] == "bob"
        here = ok(a, "login", {"username": f"bob@{home}", "password": PASSWORD})
        checked = ok(a, "checkAuth", token=here["token"], online_token=here["onlineToken"])
        assert checked["onlineAvailable"] is True

        # The home already has carol, with another password: nothing is created at A.
        ok(b, "createUser", {"login": "carol", "password": "carol's own password"})
        status, refused = command(a, "createUser", {"login": f"carol@{home}", "password": PASSWORD})
        assert (status, refused["data"]["message"]["code"]) == (409, "USER_ALREADY_EXISTS_ONLINE")
        status, _ = command(a, "login", {"username": f"carol@{home}", "password": PASSWORD})
        assert status == 401

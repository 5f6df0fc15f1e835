"""A stand-in home instance on 127.0.0.1: ``POST /api/command`` answering seed 003's
account commands (``createUser``, ``login``, ``editMyAccount``, ``deleteMyAccount``,
``refreshAnimeList``, ``getMyAccount``, ``checkAuth``) in tidecast's ``{err, data}``
envelope, with every call recorded and any command made to refuse."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.origin import serving_app


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
    with serving_app(app) as base:
        home.base = base
        home.instance = base.removeprefix("http://")
        yield home

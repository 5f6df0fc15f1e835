"""AniList and Kitsu as they document themselves, served on 127.0.0.1 for tests.

- AniList (``{base}/anilist``): a GraphQL endpoint taking ``POST`` ``application/json``
  ``{query, variables}``. ``MediaListCollection(userName, type, chunk, perChunk)`` answers
  ``{"data": {"MediaListCollection": {"hasNextChunk", "lists": [{"name", "status",
  "entries": [{"mediaId", "status", "media": {"id", "title": {...}}}]}]}}}``, entries
  chunked over the whole collection, ``perChunk`` at most 500. An unknown user is HTTP 404
  with ``{"errors": [{"message": "User not found", "status": 404}], "data":
  {"MediaListCollection": null}}``; a GET or a body without ``query`` is HTTP 400.
- Kitsu (``{base}/kitsu/api/edge``): JSON:API over GET. ``/users?filter[name]=`` lists
  matching users; ``/library-entries?filter[userId]=&filter[kind]=anime&include=anime``
  pages with ``page[limit]`` (at most 500) and ``page[offset]``, the anime in ``included``,
  ``meta.count`` and ``links.next``.

``fail_with`` makes both answer that HTTP status instead (429 or 500), and every request
is recorded in ``requests`` as ``(service, method, path with query, JSON body or None)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.origin import serving_app

JSON_API = "application/vnd.api+json"
STATUSES = ("CURRENT", "COMPLETED", "PLANNING")


@dataclass
class Anime:
    id: int
    romaji: str
    english: str | None = None
    native: str | None = None


@dataclass
class AnimeServices:
    base: str = ""
    anilist_users: dict[str, list[Anime]] = field(default_factory=dict)
    kitsu_users: dict[str, tuple[int, list[Anime]]] = field(default_factory=dict)
    fail_with: int | None = None
    requests: list[tuple[str, str, str, Any]] = field(default_factory=list)

    @property
    def anilist_url(self) -> str:
        return f"{self.base}/anilist"

    @property
    def kitsu_url(self) -> str:
        return f"{self.base}/kitsu/api/edge"


def _media(anime: Anime) -> dict[str, Any]:
    return {
        "id": anime.id,
        "title": {"romaji": anime.romaji, "english": anime.english, "native": anime.native},
    }


def _anilist_error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "status": status}], "data": None}, status_code=status
    )


async def _anilist(state: AnimeServices, request: Request) -> Response:
    body: Any = None
    if request.method == "POST":
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
    state.requests.append(("anilist", request.method, request.url.path, body))
    if state.fail_with is not None:
        return _anilist_error(state.fail_with, "Too Many Requests.")
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        return _anilist_error(400, "Must provide query string.")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _anilist_error(400, "Must provide query string.")
    if "MediaListCollection" not in body["query"]:
        return _anilist_error(400, "Unsupported query in this stand-in.")
    variables = body.get("variables") or {}
    if variables.get("type") != "ANIME":
        return _anilist_error(400, "Stand-in serves anime lists only.")
    per_chunk = variables.get("perChunk") or 500
    chunk = variables.get("chunk") or 1
    if not 1 <= per_chunk <= 500:
        return _anilist_error(400, "perChunk must be between 1 and 500")
    entries = state.anilist_users.get(variables.get("userName") or "")
    if entries is None:
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": "User not found",
                        "status": 404,
                        "locations": [{"line": 3, "column": 3}],
                    }
                ],
                "data": {"MediaListCollection": None},
            },
            status_code=404,
        )
    start = (chunk - 1) * per_chunk
    part = entries[start : start + per_chunk]
    lists: dict[str, list[dict[str, Any]]] = {}
    for index, anime in enumerate(part):
        status = STATUSES[(start + index) % len(STATUSES)]
        lists.setdefault(status, []).append(
            {"mediaId": anime.id, "status": status, "media": _media(anime)}
        )
    return JSONResponse(
        {
            "data": {
                "MediaListCollection": {
                    "hasNextChunk": start + per_chunk < len(entries),
                    "lists": [
                        {"name": status.title(), "status": status, "entries": items}
                        for status, items in lists.items()
                    ],
                }
            }
        }
    )


def _kitsu_error(status: int, title: str) -> Response:
    body = {"errors": [{"title": title, "status": str(status), "code": str(status)}]}
    return Response(json.dumps(body), status_code=status, media_type=JSON_API)


def _kitsu_answer(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), media_type=JSON_API)


async def _kitsu(state: AnimeServices, request: Request) -> Response:
    resource = request.path_params["resource"]
    query = request.url.query
    state.requests.append(("kitsu", request.method, f"{resource}?{query}", None))
    if state.fail_with is not None:
        return _kitsu_error(state.fail_with, "Too Many Requests")
    params = request.query_params
    if resource == "users":
        name = params.get("filter[name]")
        found = [
            {"id": str(user_id), "type": "users", "attributes": {"name": user}}
            for user, (user_id, _) in state.kitsu_users.items()
            if user == name
        ]
        return _kitsu_answer({"data": found, "meta": {"count": len(found)}, "links": {}})
    if resource != "library-entries":
        return _kitsu_error(404, "Route Not Found")
    limit = int(params.get("page[limit]", "10"))
    offset = int(params.get("page[offset]", "0"))
    if limit > 500:
        return _kitsu_error(400, "Limit too large")
    owned = [
        entries
        for user_id, entries in state.kitsu_users.values()
        if str(user_id) == params.get("filter[userId]")
    ]
    entries = owned[0] if owned and params.get("filter[kind]") == "anime" else []
    page = entries[offset : offset + limit]
    body: dict[str, Any] = {
        "data": [
            {
                "id": str(10_000 + anime.id),
                "type": "libraryEntries",
                "attributes": {"status": "current", "progress": 1},
                "relationships": {"anime": {"data": {"type": "anime", "id": str(anime.id)}}},
            }
            for anime in page
        ],
        "meta": {"count": len(entries)},
        "links": {},
    }
    if offset + limit < len(entries):
        following = dict(params) | {"page[offset]": str(offset + limit)}
        body["links"]["next"] = f"{state.kitsu_url}/library-entries?{urlencode(following)}"
    if "anime" in params.get("include", "").split(","):
        body["included"] = [
            {
                "id": str(anime.id),
                "type": "anime",
                "attributes": {
                    "canonicalTitle": anime.romaji,
                    "titles": {
                        key: value
                        for key, value in (("en", anime.english), ("ja_jp", anime.native))
                        if value
                    },
                },
            }
            for anime in page
        ]
    return _kitsu_answer(body)


@contextmanager
def running_anime_services() -> Iterator[AnimeServices]:
    state = AnimeServices()

    async def anilist(request: Request) -> Response:
        return await _anilist(state, request)

    async def kitsu(request: Request) -> Response:
        return await _kitsu(state, request)

    app = Starlette(
        routes=[
            Route("/anilist", anilist, methods=["GET", "POST"]),
            Route("/kitsu/api/edge/{resource}", kitsu),
        ]
    )
    with serving_app(app) as base:
        state.base = base
        yield state

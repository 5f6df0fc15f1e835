"""Anime lists: which series a user follows, and the playlist items of those series.

A list comes from one of three sources (``anime_list_to_fetch``):

- ``myanimelist``: the XML export a user downloads from MyAnimeList and uploads here
  (plain or gzipped). It is parsed with defusedxml and any DTD is refused, so entity
  expansion ("billion laughs") and external entities never happen.
- ``anilist``: the GraphQL ``MediaListCollection`` of the user name, type ``ANIME``, read
  in chunks of 500 entries as AniList documents it.
- ``kitsu``: the JSON:API ``users?filter[name]=`` lookup, then the user's
  ``library-entries`` of kind anime with ``include=anime``, 500 a page.

Only the home instance of an account fetches its list; an instance holding an online
account copies the list from the home (see :mod:`tidecast.core.online_accounts`). The
services' addresses are the operator's settings, not a caller's, so they are reached as a
local caller's addresses would be; paging URLs are built here, never taken from answers.

Matching compares normalised titles (NFKC, case-folded, apostrophes dropped, every other
run of punctuation and space made one space). An item matches when its title, display
title or ``tvg_name`` is a series title, or contains one as a run of whole words; titles
shorter than :data:`MIN_CONTAINED_CHARS` match only whole titles ("K", "Air").
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tidecast.core.accounts import AccountService
from tidecast.core.errors import (
    AccessDenied,
    ContentUnavailable,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
)
from tidecast.core.playlists import NO_OWNER, ItemFilter, PlaylistItem, PlaylistService
from tidecast.core.users import ANIME_LIST_SOURCES, Role, User, is_online
from tidecast.engine.http_fetch import Fetcher

MAX_EXPORT_BYTES = 32 * 1024 * 1024
"""Largest MyAnimeList export accepted, compressed or not."""
MAX_ENTRIES = 50_000
MAX_TITLES = 150_000
MAX_TITLE_CHARS = 500
MAX_PAGES = 40
PAGE_SIZE = 500
MAX_PAGE_SIZE = 10_000
API_MAX_BYTES = 16 * 1024 * 1024
MIN_CONTAINED_CHARS = 4
MATCHER_CACHE_SIZE = 64
"""Users whose title matcher is kept between ``getAnimeList`` calls."""
ORDERS = ("title", "id")

ANILIST_QUERY = """
query ($userName: String, $type: MediaType, $chunk: Int, $perChunk: Int) {
  MediaListCollection(userName: $userName, type: $type, chunk: $chunk, perChunk: $perChunk) {
    hasNextChunk
    lists { entries { media { id title { romaji english native } } } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class AnimeList:
    user_name: str | None
    ids: list[int]
    titles: list[str]


class AnimeLists:
    def __init__(
        self,
        accounts: AccountService,
        playlists: PlaylistService,
        fetcher: Fetcher,
        *,
        anilist_url: str,
        kitsu_url: str,
    ) -> None:
        self._accounts = accounts
        self._playlists = playlists
        self._fetcher = fetcher
        self._anilist_url = anilist_url
        self._kitsu_url = kitsu_url.rstrip("/")
        self._matchers: dict[int, tuple[int | None, list[str], TitleMatcher]] = {}

    async def link(
        self,
        user: User,
        source: str,
        *,
        user_name: str | None = None,
        mal_xml: bytes | None = None,
    ) -> User:
        """Link a list to the account. A MyAnimeList export is read and stored at once;
        an AniList or Kitsu name is stored (the previous list cleared) for :meth:`fetch`.

        For an online account the link is only local: push it home with
        ``OnlineAccounts.push_edit``.
        """
        if user.type == Role.GUEST:
            raise AccessDenied("guests cannot have anime lists", reason="guests_cannot_edit")
        if source not in ANIME_LIST_SOURCES:
            raise InvalidInput(
                f"source must be one of {', '.join(ANIME_LIST_SOURCES)}",
                field="anime_list_to_fetch",
            )
        if source == "myanimelist":
            if not mal_xml:
                raise MissingParameter("a MyAnimeList export file is required", field="file")
            # Inflating and parsing up to MAX_EXPORT_BYTES of XML takes a while: not on the loop.
            export = await asyncio.to_thread(parse_mal_export, mal_xml)
            name = _check_user_name(user_name) if user_name else export.user_name
            user = await self._accounts.edit_self(
                user, {"anime_list_to_fetch": source, "anime_list_user": name}
            )
            return await self._accounts.set_anime_list(user, export.ids, export.titles)
        if not user_name:
            raise MissingParameter(f"a {source} user name is required", field="anime_list_user")
        name = _check_user_name(user_name)
        changed = (user.anime_list_to_fetch, user.anime_list_user) != (source, name)
        user = await self._accounts.edit_self(
            user, {"anime_list_to_fetch": source, "anime_list_user": name}
        )
        return await self._accounts.set_anime_list(user, [], []) if changed else user

    async def fetch(self, user: User) -> User:
        """Fetch the linked AniList or Kitsu list and store it; an uploaded export stays.

        Only for accounts this instance is home to.
        """
        if is_online(user.login):
            raise InvalidInput(
                "the anime list of an online account is fetched by its home instance",
                reason="not_home",
            )
        source = user.anime_list_to_fetch
        if source is None:
            raise InvalidInput(
                "no anime list is linked: set anime_list_to_fetch and anime_list_user",
                field="anime_list_to_fetch",
                reason="no_anime_list",
            )
        if source == "myanimelist":
            return user
        if not user.anime_list_user:
            raise InvalidInput(
                f"no {source} user name is set", field="anime_list_user", reason="no_anime_list"
            )
        if source == "anilist":
            found = await self._anilist(user.anime_list_user)
        else:
            found = await self._kitsu(user.anime_list_user)
        return await self._accounts.set_anime_list(user, found.ids, found.titles)

    async def matching_items(
        self,
        user: User,
        *,
        q: str | None,
        from_: int,
        size: int,
        order: str | None,
        direction: str | None,
    ) -> tuple[list[PlaylistItem], int]:
        """A page of the shared playlist's and the user's items whose series are on the
        user's list, and how many there are in all. Guests get nothing."""
        if not _is_int(from_) or from_ < 0:
            raise InvalidInput("from must be a whole number, 0 or more", field="from")
        if not _is_int(size) or not 0 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"size must be a whole number from 0 to {MAX_PAGE_SIZE}", field="size"
            )
        order = order or "title"
        if not isinstance(order, str) or order not in ORDERS:
            raise InvalidInput(f"order must be one of {', '.join(ORDERS)}", field="order")
        direction = direction or "asc"
        if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
            raise InvalidInput("direction must be asc or desc", field="direction")
        if user.type == Role.GUEST or not user.anime_list_titles:
            return [], 0
        matcher = self._matcher(user)
        matched: list[PlaylistItem] = []
        assert user.id is not None
        for owner in dict.fromkeys((NO_OWNER, user.login)):
            search = q.strip() if isinstance(q, str) and q.strip() else None
            page = await self._playlists.page(
                ItemFilter(owner=owner, viewer=user.id, search=search)
            )
            matched.extend(
                item
                for item in page.items
                if matcher.matches_any((item.title, item.display_title, item.tvg_name))
            )
        if order == "title":
            matched.sort(key=lambda item: ((item.display_title or item.title).casefold(), item.id))
        else:
            matched.sort(key=lambda item: item.id or 0)
        if direction.lower() == "desc":
            matched.reverse()
        return matched[from_ : from_ + size], len(matched)

    def _matcher(self, user: User) -> TitleMatcher:
        """The user's list as a matcher, built once per version of the list.

        A version is the list's ``anime_list_last_modified_at``; as that counts whole
        seconds, the titles are compared too (cheap next to normalising them all).
        """
        assert user.id is not None
        version = user.anime_list_last_modified_at
        cached = self._matchers.pop(user.id, None)
        if cached is not None and cached[0] == version and cached[1] == user.anime_list_titles:
            matcher = cached[2]
        else:
            matcher = TitleMatcher(user.anime_list_titles)
        while len(self._matchers) >= MATCHER_CACHE_SIZE:
            del self._matchers[next(iter(self._matchers))]  # the least recently used
        self._matchers[user.id] = (version, user.anime_list_titles, matcher)
        return matcher

    # -- AniList ---------------------------------------------------------------------------

    async def _anilist(self, name: str) -> AnimeList:
        ids: list[int] = []
        titles: list[str] = []
        for chunk in range(1, MAX_PAGES + 1):
            status, answer = await self._fetcher.request_json(
                "POST",
                self._anilist_url,
                json={
                    "query": ANILIST_QUERY,
                    "variables": {
                        "userName": name,
                        "type": "ANIME",
                        "chunk": chunk,
                        "perChunk": PAGE_SIZE,
                    },
                },
                caller_is_local=True,
                max_bytes=API_MAX_BYTES,
            )
            collection = _anilist_collection(status, answer, name)
            for group in _dicts(collection.get("lists")):
                for entry in _dicts(group.get("entries")):
                    media = entry.get("media")
                    if isinstance(media, dict):
                        title = media.get("title")
                        names = title.values() if isinstance(title, dict) else ()
                        _add(ids, titles, media.get("id"), names)
            if collection.get("hasNextChunk") is not True:
                break
        return AnimeList(name, *clean_anime_list(ids, titles))

    # -- Kitsu -----------------------------------------------------------------------------

    async def _kitsu(self, name: str) -> AnimeList:
        users = await self._kitsu_get("users", {"filter[name]": name, "fields[users]": "name"})
        found = next(iter(_dicts(users.get("data"))), None)
        if found is None or not isinstance(found.get("id"), str | int):
            raise NotFound(f"Kitsu has no user named {name}", reason="anime_list_user_not_found")
        ids: list[int] = []
        titles: list[str] = []
        for page in range(MAX_PAGES):
            answer = await self._kitsu_get(
                "library-entries",
                {
                    "filter[userId]": str(found["id"]),
                    "filter[kind]": "anime",
                    "include": "anime",
                    "fields[anime]": "canonicalTitle,titles",
                    "page[limit]": str(PAGE_SIZE),
                    "page[offset]": str(page * PAGE_SIZE),
                },
            )
            for anime in _dicts(answer.get("included")):
                if anime.get("type") != "anime":
                    continue
                attributes = anime.get("attributes")
                attributes = attributes if isinstance(attributes, dict) else {}
                localized = attributes.get("titles")
                names = [attributes.get("canonicalTitle")]
                names += list(localized.values()) if isinstance(localized, dict) else []
                _add(ids, titles, _int(anime.get("id")), names)
            entries = answer.get("data")
            if not isinstance(entries, list) or len(entries) < PAGE_SIZE:
                break
        return AnimeList(name, *clean_anime_list(ids, titles))

    async def _kitsu_get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        status, answer = await self._fetcher.request_json(
            "GET",
            f"{self._kitsu_url}/{path}?{urlencode(params)}",
            headers={"Accept": "application/vnd.api+json"},
            caller_is_local=True,
            max_bytes=API_MAX_BYTES,
        )
        if status == 429:
            raise ContentUnavailable("Kitsu is limiting requests; try again later")
        if status != 200:
            errors = list(_dicts(answer.get("errors")))
            said = _text(errors[0].get("title") or errors[0].get("detail")) if errors else ""
            raise ContentUnavailable(f"Kitsu answered HTTP {status}{': ' + said if said else ''}")
        return answer


# -- MyAnimeList exports -------------------------------------------------------------------


def parse_mal_export(data: bytes) -> AnimeList:
    """The ids and titles of a MyAnimeList anime list export (XML, or XML in gzip)."""
    if len(data) > MAX_EXPORT_BYTES:
        raise PayloadTooLarge(f"the export is over {MAX_EXPORT_BYTES} bytes", field="file")
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise InvalidInput(
            "the file declares a DTD or entities, which MyAnimeList exports never do",
            field="file",
            reason="unsafe_xml",
        ) from None
    except ParseError:
        raise InvalidInput("the file is not well-formed XML", field="file") from None
    if root.tag != "myanimelist":
        raise InvalidInput("the file is not a MyAnimeList export", field="file")
    entries = root.findall("anime")
    if root.findtext("myinfo/user_export_type") == "2" or (
        not entries and root.find("manga") is not None
    ):
        raise InvalidInput(
            "this is a manga list export: export the anime list instead", field="file"
        )
    ids: list[int] = []
    titles: list[str] = []
    for entry in entries:
        _add(ids, titles, entry.findtext("series_animedb_id"), [entry.findtext("series_title")])
    name = _text(root.findtext("myinfo/user_name"))[:255] or None
    return AnimeList(name, *clean_anime_list(ids, titles))


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_EXPORT_BYTES + 1)
    except zlib.error:
        raise InvalidInput("the file is not valid gzip", field="file") from None
    if len(out) > MAX_EXPORT_BYTES:
        raise PayloadTooLarge(f"the export inflates past {MAX_EXPORT_BYTES} bytes", field="file")
    if not inflater.eof:
        raise InvalidInput("the gzip file is cut short", field="file")
    return out


# -- matching ------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_SEPARATORS = re.compile(r"[\W_]+")


def normalize_title(text: str) -> str:
    """Case- and punctuation-blind form of a title: ``"Re:Zero"`` -> ``"re zero"``."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_SEPARATORS.sub(" ", text).split())


class TitleMatcher:
    """Tells whether a text names one of a list's series (see the module docstring)."""

    def __init__(self, titles: Iterable[str]) -> None:
        self._whole: set[str] = set()
        self._by_first_word: dict[str, set[tuple[str, ...]]] = {}
        for title in titles:
            normal = normalize_title(title)
            if not normal:
                continue
            self._whole.add(normal)
            if len(normal) >= MIN_CONTAINED_CHARS:
                words = tuple(normal.split())
                self._by_first_word.setdefault(words[0], set()).add(words)

    def matches(self, text: str | None) -> bool:
        if not text:
            return False
        normal = normalize_title(text)
        if normal in self._whole:
            return True
        words = normal.split()
        for start, word in enumerate(words):
            for candidate in self._by_first_word.get(word, ()):
                if tuple(words[start : start + len(candidate)]) == candidate:
                    return True
        return False

    def matches_any(self, texts: Iterable[str | None]) -> bool:
        return any(self.matches(text) for text in texts)


# -- helpers -------------------------------------------------------------------------------


def clean_anime_list(ids: Any, titles: Any) -> tuple[list[int], list[str]]:
    """Ids and titles as stored: integers and non-empty text, de-duplicated, bounded.

    Used for lists that come from elsewhere (a home instance, a service), so anything
    malformed is dropped rather than trusted.
    """
    numbers = (_int(value) for value in _list(ids))
    clean_ids = list(dict.fromkeys(n for n in numbers if n is not None))
    clean_titles = list(dict.fromkeys(t for t in (_text(t) for t in _list(titles)) if t))
    if len(clean_ids) > MAX_ENTRIES or len(clean_titles) > MAX_TITLES:
        raise ContentUnavailable("the anime list is too long to keep")
    return clean_ids, clean_titles


def _add(ids: list[int], titles: list[str], item_id: Any, names: Iterable[Any]) -> None:
    number = _int(item_id)
    if number is not None:
        ids.append(number)
    titles.extend(text for text in (_text(name) for name in names) if text)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**53 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 16:
        return int(value.strip())
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:MAX_TITLE_CHARS]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return (item for item in _list(value) if isinstance(item, dict))


def _check_user_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not clean or len(clean) > 100 or not clean.isprintable():
        raise InvalidInput("the user name must have 1 to 100 characters", field="anime_list_user")
    return clean


def _anilist_collection(status: int, answer: dict[str, Any], name: str) -> dict[str, Any]:
    errors = list(_dicts(answer.get("errors")))
    if status == 404 or any(error.get("status") == 404 for error in errors):
        raise NotFound(f"AniList has no user named {name}", reason="anime_list_user_not_found")
    if status == 429:
        raise ContentUnavailable("AniList is limiting requests; try again later")
    data = answer.get("data")
    collection = data.get("MediaListCollection") if isinstance(data, dict) else None
    if status != 200 or errors or not isinstance(collection, dict):
        said = _text(errors[0].get("message"))[:200] if errors else ""
        raise ContentUnavailable(f"AniList answered HTTP {status}{': ' + said if said else ''}")
    return collection

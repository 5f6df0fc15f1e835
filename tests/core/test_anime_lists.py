"""Anime lists: MyAnimeList exports, AniList and Kitsu through their documented APIs (a
stand-in on 127.0.0.1), and the playlist items whose series are on a user's list."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Iterator

import pytest

from tidecast.core import anime_lists
from tidecast.core.accounts import AccountPolicy, AccountService
from tidecast.core.anime_lists import (
    AnimeList,
    AnimeLists,
    TitleMatcher,
    clean_anime_list,
    normalize_title,
    parse_mal_export,
)
from tidecast.core.credentials import TokenService
from tidecast.core.errors import (
    AccessDenied,
    ContentUnavailable,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
)
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.playlists import NO_OWNER, NewItem, PlaylistService
from tidecast.core.security_code import SecurityCode
from tidecast.core.two_factor import TwoFactor
from tidecast.core.users import User
from tidecast.engine.http_fetch import Fetcher
from tidecast.storage.database import Database

from support.anime_services import Anime, AnimeServices, running_anime_services

MAL_EXPORT = b"""<?xml version="1.0" encoding="UTF-8" ?>
<!-- Created by XML Export feature at MyAnimeList.net -->
<myanimelist>
  <myinfo>
    <user_id>123</user_id>
    <user_name>axel</user_name>
    <user_export_type>1</user_export_type>
    <user_total_anime>3</user_total_anime>
  </myinfo>
  <anime>
    <series_animedb_id>21</series_animedb_id>
    <series_title><![CDATA[One Piece]]></series_title>
    <series_type>TV</series_type>
    <my_status>Watching</my_status>
  </anime>
  <anime>
    <series_animedb_id>9253</series_animedb_id>
    <series_title><![CDATA[Steins;Gate]]></series_title>
    <my_status>Completed</my_status>
  </anime>
  <anime>
    <series_animedb_id>31240</series_animedb_id>
    <series_title>Re:Zero kara Hajimeru Isekai Seikatsu</series_title>
  </anime>
</myanimelist>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<myanimelist><anime><series_animedb_id>1</series_animedb_id>
<series_title>&lol4;</series_title></anime></myanimelist>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE myanimelist [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<myanimelist><anime><series_animedb_id>1</series_animedb_id>
<series_title>&secret;</series_title></anime></myanimelist>
"""


@pytest.fixture(scope="module")
def services_standin() -> Iterator[AnimeServices]:
    with running_anime_services() as state:
        yield state


@pytest.fixture
def standin(services_standin: AnimeServices) -> AnimeServices:
    services_standin.anilist_users.clear()
    services_standin.kitsu_users.clear()
    services_standin.requests.clear()
    services_standin.fail_with = None
    return services_standin


@pytest.fixture
def accounts(db: Database) -> AccountService:
    throttle = LoginThrottle(db, ThrottlePolicy())
    return AccountService(
        db,
        TokenService(db, 3600),
        SecurityCode(),
        throttle,
        AccountPolicy(),
        TwoFactor(db, InstanceSecret(b"k" * 32), throttle, issuer="tidecast"),
    )


@pytest.fixture
def playlists(db: Database) -> PlaylistService:
    return PlaylistService(db)


@pytest.fixture
def lists(
    accounts: AccountService, playlists: PlaylistService, fetcher: Fetcher, standin: AnimeServices
) -> AnimeLists:
    return AnimeLists(
        accounts,
        playlists,
        fetcher,
        anilist_url=standin.anilist_url,
        kitsu_url=standin.kitsu_url,
    )


@pytest.fixture
async def alice(accounts: AccountService) -> User:
    return await accounts.create("alice", "correct horse", trusted=True)


SERIES = [
    Anime(21, "One Piece", "One Piece", "ワンピース"),
    Anime(9253, "Steins;Gate", None, "シュタインズ・ゲート"),
    Anime(31240, "Re:Zero kara Hajimeru Isekai Seikatsu", "Re:ZERO -Starting Life-"),
]


# -- AniList -------------------------------------------------------------------------------


async def test_anilist_list_is_fetched_and_stored(
    lists: AnimeLists, accounts: AccountService, alice: User, standin: AnimeServices
) -> None:
    standin.anilist_users["AxelTerizaki"] = SERIES
    linked = await lists.link(alice, "anilist", user_name="AxelTerizaki")
    assert (linked.anime_list_to_fetch, linked.anime_list_user) == ("anilist", "AxelTerizaki")

    fetched = await lists.fetch(linked)

    assert fetched.anime_list_ids == [21, 9253, 31240]
    assert "One Piece" in fetched.anime_list_titles
    assert "Re:ZERO -Starting Life-" in fetched.anime_list_titles
    assert "シュタインズ・ゲート" in fetched.anime_list_titles
    assert fetched.anime_list_last_modified_at is not None
    stored = await accounts.get("alice")
    assert stored.anime_list_ids == fetched.anime_list_ids
    assert stored.anime_list_titles == fetched.anime_list_titles
    service, method, _, body = standin.requests[-1]
    assert (service, method) == ("anilist", "POST")
    assert "MediaListCollection" in body["query"]
    assert body["variables"] | {} == {
        "userName": "AxelTerizaki",
        "type": "ANIME",
        "chunk": 1,
        "perChunk": 500,
    }


async def test_anilist_collections_are_read_chunk_by_chunk(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    standin.anilist_users["big"] = [Anime(i, f"Series {i}") for i in range(1, 1201)]
    user = await lists.fetch(await lists.link(alice, "anilist", user_name="big"))
    assert sorted(user.anime_list_ids) == list(range(1, 1201))
    chunks = [body["variables"]["chunk"] for _, _, _, body in standin.requests]
    assert chunks == [1, 2, 3]


async def test_anilist_unknown_user_is_not_found(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    user = await lists.link(alice, "anilist", user_name="nobody")
    with pytest.raises(NotFound) as caught:
        await lists.fetch(user)
    assert caught.value.reason == "anime_list_user_not_found"
    assert "nobody" in caught.value.message


async def test_anilist_rate_limit_is_a_clear_error(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    user = await lists.link(alice, "anilist", user_name="someone")
    standin.fail_with = 429
    with pytest.raises(ContentUnavailable, match="AniList is limiting requests"):
        await lists.fetch(user)
    standin.fail_with = 500
    with pytest.raises(ContentUnavailable, match="AniList answered HTTP 500"):
        await lists.fetch(user)


# -- Kitsu ---------------------------------------------------------------------------------


async def test_kitsu_library_is_fetched_through_json_api(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    standin.kitsu_users["vikhyat"] = (42, SERIES)
    user = await lists.fetch(await lists.link(alice, "kitsu", user_name="vikhyat"))

    assert user.anime_list_ids == [21, 9253, 31240]
    assert {"One Piece", "Steins;Gate", "Re:ZERO -Starting Life-"} <= set(user.anime_list_titles)
    paths = [path for _, _, path, _ in standin.requests]
    assert paths[0].startswith("users?filter%5Bname%5D=vikhyat")
    assert "filter%5BuserId%5D=42" in paths[1] and "include=anime" in paths[1]
    assert "filter%5Bkind%5D=anime" in paths[1] and "page%5Blimit%5D=500" in paths[1]


async def test_kitsu_libraries_are_paged(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    standin.kitsu_users["many"] = (7, [Anime(i, f"Show {i}") for i in range(1, 1101)])
    user = await lists.fetch(await lists.link(alice, "kitsu", user_name="many"))
    assert user.anime_list_ids == list(range(1, 1101))
    offsets = [path.split("page%5Boffset%5D=")[1] for _, _, path, _ in standin.requests[1:]]
    assert offsets == ["0", "500", "1000"]


async def test_kitsu_unknown_user_and_failures(
    lists: AnimeLists, alice: User, standin: AnimeServices
) -> None:
    user = await lists.link(alice, "kitsu", user_name="ghost")
    with pytest.raises(NotFound, match="Kitsu has no user named ghost"):
        await lists.fetch(user)
    standin.fail_with = 429
    with pytest.raises(ContentUnavailable, match="Kitsu is limiting"):
        await lists.fetch(user)


# -- MyAnimeList exports -------------------------------------------------------------------


def test_mal_export_is_parsed() -> None:
    export = parse_mal_export(MAL_EXPORT)
    assert export.user_name == "axel"
    assert export.ids == [21, 9253, 31240]
    assert export.titles == ["One Piece", "Steins;Gate", "Re:Zero kara Hajimeru Isekai Seikatsu"]


def test_gzipped_mal_export_is_parsed() -> None:
    assert parse_mal_export(gzip.compress(MAL_EXPORT)).ids == [21, 9253, 31240]


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_mal_export_with_entities_is_refused(payload: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mal_export(payload)
    assert caught.value.reason == "unsafe_xml"
    assert caught.value.field == "file"


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<" + b" " * (40 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    with pytest.raises(PayloadTooLarge):
        parse_mal_export(bomb)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not xml at all", "not well-formed"),
        (b"<rss><channel/></rss>", "not a MyAnimeList export"),
        (
            b"<myanimelist><myinfo><user_export_type>2</user_export_type></myinfo>"
            b"<manga><manga_mangadb_id>2</manga_mangadb_id></manga></myanimelist>",
            "manga list export",
        ),
        (gzip.compress(MAL_EXPORT)[:-12], "cut short"),
    ],
)
def test_bad_mal_exports_are_explained(payload: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_mal_export(payload)


async def test_linking_a_mal_export_stores_the_list(
    lists: AnimeLists, accounts: AccountService, alice: User
) -> None:
    user = await lists.link(alice, "myanimelist", mal_xml=MAL_EXPORT)
    assert (user.anime_list_to_fetch, user.anime_list_user) == ("myanimelist", "axel")
    assert user.anime_list_ids == [21, 9253, 31240]
    assert (await accounts.get("alice")).anime_list_ids == [21, 9253, 31240]
    # Nothing to fetch for an uploaded list: it stays as it is.
    assert (await lists.fetch(user)).anime_list_ids == [21, 9253, 31240]


async def test_an_export_is_parsed_off_the_event_loop(
    lists: AnimeLists, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 32 MB export takes a while to inflate and parse: the loop keeps serving."""
    threads: list[int] = []

    def parse(data: bytes) -> AnimeList:
        threads.append(threading.get_ident())
        return parse_mal_export(data)

    monkeypatch.setattr(anime_lists, "parse_mal_export", parse)
    user = await lists.link(alice, "myanimelist", mal_xml=MAL_EXPORT)
    assert user.anime_list_ids == [21, 9253, 31240]
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_link_rules(lists: AnimeLists, accounts: AccountService, alice: User) -> None:
    with pytest.raises(InvalidInput):
        await lists.link(alice, "crunchyroll", user_name="x")
    with pytest.raises(MissingParameter):
        await lists.link(alice, "myanimelist")
    with pytest.raises(MissingParameter):
        await lists.link(alice, "anilist")
    with pytest.raises(InvalidInput):
        await lists.link(alice, "anilist", user_name="x" * 101)
    guest = (await accounts.login_guest("visitor")).user
    with pytest.raises(AccessDenied):
        await lists.link(guest, "anilist", user_name="x")


async def test_switching_source_clears_the_old_list(lists: AnimeLists, alice: User) -> None:
    user = await lists.link(alice, "myanimelist", mal_xml=MAL_EXPORT)
    user = await lists.link(user, "kitsu", user_name="someone")
    assert user.anime_list_ids == [] and user.anime_list_titles == []


async def test_fetch_needs_a_link_and_a_home(
    lists: AnimeLists, accounts: AccountService, alice: User
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await lists.fetch(alice)
    assert caught.value.reason == "no_anime_list"
    online = await accounts.create("bob@home.example", "correct horse", trusted=True)
    with pytest.raises(InvalidInput) as caught:
        await lists.fetch(online)
    assert caught.value.reason == "not_home"


# -- matching ------------------------------------------------------------------------------


def test_titles_are_normalised() -> None:
    assert normalize_title("Re:ZERO -Starting  Life-") == "re zero starting life"
    assert normalize_title("JoJo\u2019s Bizarre Adventure") == "jojos bizarre adventure"
    assert normalize_title(
        "\uff2f\uff4e\uff45\u3000\uff30\uff49\uff45\uff43\uff45"
    )  # full width == "one piece"
    assert normalize_title("Steins;Gate_0") == "steins gate 0"


def test_matcher_takes_whole_words_and_keeps_short_titles_whole() -> None:
    matcher = TitleMatcher(["One Piece", "K", "Air", "Steins;Gate"])
    assert matcher.matches("One Piece - Episode 1071 [1080p]")
    assert matcher.matches("[Sub] steins gate 01")
    assert matcher.matches("K")
    assert not matcher.matches("K-On! 01")
    assert not matcher.matches("Air Gear 03")
    assert not matcher.matches("Onepiece")
    assert not matcher.matches("One Pieces of eight")
    assert not matcher.matches(None)


def test_lists_from_elsewhere_are_cleaned() -> None:
    ids, titles = clean_anime_list([1, "2", True, -3, "x", 1, None], ["A", " A ", "", 5, "B"])
    assert ids == [1, 2]
    assert titles == ["A", "B"]
    assert clean_anime_list(None, {"a": 1}) == ([], [])


async def _add(playlists: PlaylistService, owner: str, title: str, **extra: str) -> int:
    return await playlists.add_item(
        owner, NewItem(title=title, video_url=f"http://media.invalid/{title}.mp4", **extra)
    )


async def test_matching_items_pages_and_orders(
    lists: AnimeLists, playlists: PlaylistService, alice: User
) -> None:
    user = await lists.link(alice, "myanimelist", mal_xml=MAL_EXPORT)
    piece = await _add(playlists, NO_OWNER, "One Piece 1071")
    gate = await _add(playlists, NO_OWNER, "channel 7", tvg_name="Steins Gate")
    zero = await _add(playlists, "alice", "re zero kara hajimeru isekai seikatsu - 03")
    await _add(playlists, NO_OWNER, "Unrelated news")
    await _add(playlists, "carol", "One Piece 1072")  # another user's playlist
    trashed = await _add(playlists, NO_OWNER, "One Piece 1000")
    await playlists.delete_items([trashed], NO_OWNER)

    items, total = await lists.matching_items(
        user, q=None, from_=0, size=10, order=None, direction=None
    )
    assert total == 3
    assert [item.id for item in items] == [gate, piece, zero]  # by title: channel, one, re

    items, total = await lists.matching_items(
        user, q=None, from_=1, size=1, order="id", direction="desc"
    )
    assert (total, [item.id for item in items]) == (3, [gate])  # ids: zero, gate, piece

    items, total = await lists.matching_items(
        user, q="PIECE", from_=0, size=10, order="title", direction="asc"
    )
    assert (total, [item.id for item in items]) == (1, [piece])


async def test_the_title_matcher_is_built_once_per_list(
    lists: AnimeLists,
    accounts: AccountService,
    playlists: PlaylistService,
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[list[str]] = []

    class CountingMatcher(TitleMatcher):
        def __init__(self, titles: Iterable[str]) -> None:
            built.append(list(titles))
            super().__init__(built[-1])

    monkeypatch.setattr(anime_lists, "TitleMatcher", CountingMatcher)
    piece = await _add(playlists, NO_OWNER, "One Piece 1071")
    gate = await _add(playlists, NO_OWNER, "Steins;Gate 01")
    page = {"q": None, "from_": 0, "size": 10, "order": "id", "direction": None}
    user = await accounts.set_anime_list(alice, [21], ["One Piece"])
    for _ in range(3):
        items, _total = await lists.matching_items(await accounts.get("alice"), **page)
        assert [item.id for item in items] == [piece]
    assert built == [["One Piece"]]

    # A new list is a new matcher, even within the same second as the old one.
    user = await accounts.set_anime_list(user, [9253], ["Steins;Gate"])
    items, _total = await lists.matching_items(user, **page)
    assert [item.id for item in items] == [gate]
    assert built == [["One Piece"], ["Steins;Gate"]]


async def test_matching_items_rules(
    lists: AnimeLists, accounts: AccountService, playlists: PlaylistService, alice: User
) -> None:
    await _add(playlists, NO_OWNER, "One Piece 1071")
    assert await lists.matching_items(
        alice, q=None, from_=0, size=10, order=None, direction=None
    ) == ([], 0)
    guest = (await accounts.login_guest("visitor")).user
    assert await lists.matching_items(
        guest, q=None, from_=0, size=10, order=None, direction=None
    ) == ([], 0)
    for bad in (
        {"from_": -1},
        {"size": -1},
        {"size": 10_001},
        {"order": "rating"},
        {"direction": "up"},
        {"from_": "3"},
        {"size": True},
        {"order": 5},
    ):
        arguments = {"q": None, "from_": 0, "size": 10, "order": None, "direction": None}
        with pytest.raises(InvalidInput):
            await lists.matching_items(alice, **(arguments | bad))  # type: ignore[arg-type]


def test_anilist_standin_refuses_what_anilist_refuses() -> None:
    """The stand-in is only useful if it is as strict as the service on what we send."""
    import httpx

    with running_anime_services() as state:
        assert httpx.get(state.anilist_url).status_code == 400
        answer = httpx.post(state.anilist_url, content=json.dumps({"variables": {}}))
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["message"] == "Must provide query string."

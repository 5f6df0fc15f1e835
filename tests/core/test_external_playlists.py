"""Tests of tidecast.core.external_playlists against a real HTTP server on 127.0.0.1.

The upstream is a stdlib HTTP server in a thread whose playlists the tests change between
requests; one path sits behind HTTP Basic auth. The services are the real ones on a real
database (SQLite, and PostgreSQL when the suite has it).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tidecast.core.errors import (
    ContentUnavailable,
    FetchRefused,
    InvalidInput,
    MissingParameter,
    NotFound,
)
from tidecast.core.external_playlists import ExternalPlaylist, ExternalPlaylistService
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.m3u_import import ImportService
from tidecast.core.playlists import ItemChanges, PlaylistService
from tidecast.core.tasks import TaskService
from tidecast.engine.http_fetch import Fetcher
from tidecast.settings import Settings
from tidecast.storage import external_repo
from tidecast.storage.database import Database
from tidecast.storage.playlist_repo import ItemFilter, ItemRow

T = TypeVar("T")

OWNER, OTHER = "alice", "bob"
LOGIN, PASSWORD = "viewer", "s3cret-Pa55word"
EPG = "http://epg.example/guide.xml"


def cid(n: int) -> str:
    return f"{n:040x}"


def m3u(*entries: tuple[str, int], logo: str = "", epg: str = EPG) -> bytes:
    """A playlist of ``(title, content number)`` entries."""
    lines = [f'#EXTM3U url-tvg="{epg}"']
    for title, n in entries:
        lines.append(f'#EXTINF:-1 tvg-logo="{logo}" group-title="News",{title}')
        lines.append(f"acestream://{cid(n)}")
    return ("\n".join(lines) + "\n").encode()


# --- the upstream: a threaded HTTP server whose answers the tests change ----------------


@dataclass
class Upstream:
    """Paths to ``(status, body)``; paths in ``protected`` need Basic LOGIN:PASSWORD."""

    port: int = 0
    pages: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        self.pages[path] = (status, body)
        return self.url(path)


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            upstream.hits[self.path] = upstream.hits.get(self.path, 0) + 1
            if self.path in upstream.protected and self.headers.get("Authorization") != expected:
                self._answer(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="x"'})
                return
            status, body = upstream.pages.get(self.path, (404, b"not found"))
            self._answer(status, body, {"Content-Type": "audio/x-mpegurl"})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    state = Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


# --- the services ---------------------------------------------------------------------


@dataclass
class Stack:
    db: Database
    fetcher: Fetcher
    tasks: TaskService
    imports: ImportService
    playlists: PlaylistService
    external: ExternalPlaylistService

    async def aclose(self) -> None:
        await self.external.stop()
        await self.tasks.stop()
        await self.fetcher.aclose()
        await self.db.dispose()

    async def items(self, playlist_id: int, owner: str = OWNER) -> dict[str, ItemRow]:
        page = await self.playlists.page(ItemFilter(owner=owner, external_playlist_id=playlist_id))
        return {item.title: item for item in page.items}

    async def one(self, playlist_id: int, viewer: str = OWNER) -> ExternalPlaylist:
        (playlist,) = await self.external.get(playlist_id, viewer=viewer)
        return playlist


async def build_stack(settings: Settings, database_url: str) -> Stack:
    db = Database(database_url)
    await db.migrate()
    fetcher = Fetcher(timeout=10, max_bytes=settings.fetch_max_bytes)
    tasks = TaskService(db)
    imports = ImportService(db, tasks, settings.data_dir / "tmp")
    secret = InstanceSecret(b"test instance secret")
    external = ExternalPlaylistService(db, fetcher, imports, tasks, secret, settings)
    return Stack(db, fetcher, tasks, imports, PlaylistService(db), external)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", min_update_interval=1, scheduler_tick_seconds=0.2)


@pytest.fixture
async def stack(settings: Settings, database_url: str) -> AsyncIterator[Stack]:
    built = await build_stack(settings, database_url)
    yield built
    await built.aclose()


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)


def updated_after(stack: Stack, playlist_id: int, after: int = -1) -> Callable[..., Any]:
    async def probe() -> ExternalPlaylist | None:
        playlist = await stack.one(playlist_id)
        done = playlist.last_update is not None and playlist.last_update > after
        return playlist if done else None

    return probe


async def add(stack: Stack, url: str, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "type": "content",
        "category": "tv",
        "name": "Test Playlist",
        "url": url,
        "update_interval": 86400,
        "caller_is_local": True,
    }
    values.update(overrides)
    return await stack.external.add(OWNER, **values)


# --- add, get, edit ---------------------------------------------------------------------


async def test_add_with_update_now_imports_in_the_background(
    stack: Stack, upstream: Upstream, settings: Settings
) -> None:
    url = upstream.serve("/list.m3u", m3u(("One", 1), ("Two", 2)))
    before = int(time.time())

    playlist_id = await add(stack, url)

    playlist = await eventually(updated_after(stack, playlist_id))
    assert playlist.last_error is None
    assert playlist.item_count == 2
    assert playlist.epg_sources == (EPG,)
    assert playlist.last_update is not None
    assert playlist.next_update == playlist.last_update + 86400
    assert playlist.updated_at >= before
    items = await stack.items(playlist_id)
    assert set(items) == {"One", "Two"}
    assert {item.external_playlist_id for item in items.values()} == {playlist_id}
    assert items["One"].content_id == cid(1)
    assert items["One"].category == "News"
    assert list((settings.data_dir / "tmp").iterdir()) == []


async def test_add_without_update_now_waits_for_its_interval(
    stack: Stack, upstream: Upstream
) -> None:
    url = upstream.serve("/list.m3u", m3u(("One", 1)))
    before = int(time.time())

    playlist_id = await add(stack, url, update_now=False, update_interval=3600)

    await asyncio.sleep(0.3)
    playlist = await stack.one(playlist_id)
    assert playlist.last_update is None
    assert before + 3600 <= playlist.next_update <= int(time.time()) + 3600
    assert upstream.hits.get("/list.m3u") is None
    assert await stack.items(playlist_id) == {}


async def test_get_shows_the_password_to_the_owner_only(stack: Stack, upstream: Upstream) -> None:
    upstream.protected.add("/private.m3u")
    url = upstream.serve("/private.m3u", m3u(("Secret", 7)))
    with_password = await add(
        stack, url, login=LOGIN, password=PASSWORD, update_now=False, name="With"
    )
    without = await add(stack, url, update_now=False, name="Without")

    assert (await stack.one(with_password)).password == PASSWORD
    assert (await stack.one(with_password)).login == LOGIN
    assert (await stack.one(with_password, viewer=OTHER)).password == "********"
    assert (await stack.one(without, viewer=OTHER)).password == ""
    everything = await stack.external.get(None, viewer=OTHER)
    assert [p.name for p in everything] == ["With", "Without"]
    assert all(PASSWORD not in repr(p) for p in everything)


async def test_basic_auth_is_sent_and_the_password_never_leaks(
    stack: Stack, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.protected.add("/private.m3u")
    url = upstream.serve("/private.m3u", m3u(("Secret", 7)))

    good = await add(stack, url, login=LOGIN, password=PASSWORD, update_now=False)
    summary = await stack.external.update(good)
    assert summary.imported == 1
    assert set(await stack.items(good)) == {"Secret"}

    bad = await add(stack, url, login=LOGIN, password="wrong-" + PASSWORD, update_now=False)
    with pytest.raises(ContentUnavailable) as failure:
        await stack.external.update(bad)
    assert "401" in failure.value.message
    playlist = await stack.one(bad)
    assert playlist.last_error is not None
    assert "401" in playlist.last_error
    assert PASSWORD not in playlist.last_error
    assert PASSWORD not in caplog.text


async def test_edit_changes_fields_and_reschedules(stack: Stack, upstream: Upstream) -> None:
    url = upstream.serve("/list.m3u", m3u(("One", 1)))
    playlist_id = await add(stack, url, login=LOGIN, password=PASSWORD, update_now=False)
    await stack.external.update(playlist_id)
    updated = await stack.one(playlist_id)
    assert updated.last_update is not None

    await stack.external.edit(
        playlist_id,
        category="movies",
        name="Renamed",
        update_interval=7200,
        login=None,
        password=None,
        caller_is_local=True,
    )
    edited = await stack.one(playlist_id)
    assert (edited.category, edited.name, edited.update_interval) == ("movies", "Renamed", 7200)
    assert (edited.login, edited.password) == (LOGIN, PASSWORD)
    assert edited.next_update == updated.last_update + 7200
    assert edited.url == url

    await stack.external.edit(
        playlist_id,
        category="movies",
        name="Renamed",
        update_interval=7200,
        login="",
        password="",
        caller_is_local=True,
    )
    cleared = await stack.one(playlist_id)
    assert (cleared.login, cleared.password) == ("", "")
    assert (await stack.one(playlist_id, viewer=OTHER)).password == ""


async def test_a_remote_edit_takes_away_access_to_private_addresses(
    stack: Stack, upstream: Upstream
) -> None:
    url = upstream.serve("/list.m3u", m3u(("One", 1)))
    playlist_id = await add(stack, url, update_now=False)
    await stack.external.edit(
        playlist_id,
        category="tv",
        name="Edited remotely",
        update_interval=3600,
        login=None,
        password=None,
        caller_is_local=False,
    )
    with pytest.raises(FetchRefused):
        await stack.external.update(playlist_id)
    assert (await stack.one(playlist_id)).last_error is not None


# --- updates --------------------------------------------------------------------------


async def test_update_reconciles_and_keeps_what_the_user_set(
    stack: Stack, upstream: Upstream
) -> None:
    url = upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2), ("C", 3), ("D", 4), logo="old"))
    playlist_id = await add(stack, url, update_now=False)
    first = await stack.external.update(playlist_id)
    assert (first.imported, first.updated, first.removed) == (4, 0, 0)
    items = await stack.items(playlist_id)
    a_id, c_id = items["A"].id, items["C"].id
    assert a_id is not None and c_id is not None
    await stack.playlists.set_favorite([a_id], OWNER, 0, True)
    await stack.playlists.update_item(a_id, ItemChanges(title="My A"))
    await stack.playlists.set_flag([c_id], OWNER, "locked", True)

    # Upstream: A and B stay (with a new logo), C and D vanish, E appears.
    upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2), ("E", 5), logo="new"))
    second = await stack.external.update(playlist_id)

    assert (second.imported, second.updated, second.removed) == (1, 2, 1)
    items = await stack.items(playlist_id)
    assert set(items) == {"A", "B", "C", "E"}
    assert items["A"].id == a_id
    assert items["A"].is_favorite is True
    assert items["A"].display_title == "My A"
    assert items["A"].tvg_logo == "new"
    assert items["C"].locked is True and items["C"].id == c_id
    assert (await stack.one(playlist_id)).item_count == 4


async def test_a_failing_upstream_records_the_error_and_keeps_the_items(
    stack: Stack, upstream: Upstream
) -> None:
    url = upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2)))
    playlist_id = await add(stack, url, update_now=False)
    await stack.external.update(playlist_id)
    good = await stack.one(playlist_id)

    upstream.serve("/list.m3u", b"gone", status=404)
    with pytest.raises(ContentUnavailable):
        await stack.external.update(playlist_id)

    failed = await stack.one(playlist_id)
    assert failed.last_error is not None and "404" in failed.last_error
    assert failed.last_update == good.last_update
    assert failed.item_count == 2
    assert failed.next_update > int(time.time())
    assert set(await stack.items(playlist_id)) == {"A", "B"}

    upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2)))
    await stack.external.update(playlist_id)
    assert (await stack.one(playlist_id)).last_error is None


async def test_delete_removes_the_playlist_and_its_items(stack: Stack, upstream: Upstream) -> None:
    url = upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2)))
    playlist_id = await add(stack, url, update_now=False)
    kept_id = await add(stack, upstream.serve("/other.m3u", m3u(("Z", 26))), update_now=False)
    await stack.external.update(playlist_id)
    await stack.external.update(kept_id)
    items = await stack.items(playlist_id)
    locked_id = items["A"].id
    assert locked_id is not None
    await stack.playlists.set_flag([locked_id], OWNER, "locked", True)

    await stack.external.delete(playlist_id)

    assert await stack.items(playlist_id) == {}
    everything = await stack.playlists.page(ItemFilter(owner=OWNER))
    assert [item.title for item in everything.items] == ["Z"]
    with pytest.raises(NotFound):
        await stack.external.get(playlist_id, viewer=OWNER)
    with pytest.raises(NotFound):
        await stack.external.delete(playlist_id)


async def test_update_all_runs_as_a_task_and_reports_each_playlist(
    stack: Stack, upstream: Upstream
) -> None:
    ok_id = await add(stack, upstream.serve("/a.m3u", m3u(("A", 1))), update_now=False)
    bad_id = await add(stack, upstream.url("/missing.m3u"), update_now=False)

    task_id = await stack.external.update_all(OWNER)
    await stack.tasks.wait(task_id)

    task = await stack.tasks.get(task_id)
    assert task.state == "done"
    assert task.kind == "external_playlist_update_all"
    outcomes = {outcome["id"]: outcome for outcome in task.result["playlists"]}
    assert outcomes[ok_id]["ok"] is True and outcomes[ok_id]["imported"] == 1
    assert outcomes[bad_id]["ok"] is False and "404" in outcomes[bad_id]["error"]
    assert (task.result["updated"], task.result["failed"]) == (1, 1)
    assert set(await stack.items(ok_id)) == {"A"}


async def test_updates_of_one_playlist_never_overlap(
    stack: Stack, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    playlist_id = await add(stack, upstream.serve("/a.m3u", m3u(("A", 1))), update_now=False)
    running = 0
    overlaps = 0
    original = stack.imports.import_file

    async def slow_import(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        try:
            await asyncio.sleep(0.1)
            return await original(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(stack.imports, "import_file", slow_import)
    first, second = await asyncio.gather(
        stack.external.update(playlist_id), stack.external.update(playlist_id)
    )
    assert overlaps == 0
    assert (first.imported, second.imported, second.updated) == (1, 0, 1)


async def test_epg_sources_reads_the_header(stack: Stack, upstream: Upstream) -> None:
    url = upstream.serve(
        "/epg.m3u", m3u(("A", 1), epg="http://one.example/a.xml,http://two.example/b.xml.gz")
    )
    sources = await stack.external.epg_sources(url, caller_is_local=True)
    assert sources == ["http://one.example/a.xml", "http://two.example/b.xml.gz"]
    with pytest.raises(FetchRefused):
        await stack.external.epg_sources(url, caller_is_local=False)


# --- the scheduler --------------------------------------------------------------------


async def test_the_scheduler_updates_due_playlists(stack: Stack, upstream: Upstream) -> None:
    url = upstream.serve("/list.m3u", m3u(("A", 1)))
    playlist_id = await add(stack, url, update_now=False, update_interval=1)
    await stack.external.start()

    first = await eventually(updated_after(stack, playlist_id))
    assert set(await stack.items(playlist_id)) == {"A"}

    upstream.serve("/list.m3u", m3u(("A", 1), ("B", 2)))
    assert first.last_update is not None
    await eventually(updated_after(stack, playlist_id, first.last_update))
    assert set(await stack.items(playlist_id)) == {"A", "B"}


async def test_the_scheduler_survives_a_failing_playlist(stack: Stack, upstream: Upstream) -> None:
    bad_id = await add(stack, upstream.url("/missing.m3u"), update_now=False, update_interval=1)
    good_id = await add(
        stack, upstream.serve("/a.m3u", m3u(("A", 1))), update_now=False, update_interval=1
    )
    await stack.external.start()

    await eventually(updated_after(stack, good_id))
    bad = await stack.one(bad_id)
    assert bad.last_error is not None and bad.last_update is None


async def test_the_scheduler_survives_an_unexpected_error(
    stack: Stack, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = upstream.serve("/a.m3u", m3u(("A", 1)))
    playlist_id = await add(stack, url, update_now=False, update_interval=1)
    original = external_repo.due_ids
    calls = 0

    async def broken_once(*args: Any) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return await original(*args)

    monkeypatch.setattr(external_repo, "due_ids", broken_once)
    await stack.external.start()

    await eventually(updated_after(stack, playlist_id))
    assert calls > 1


async def test_next_update_survives_a_restart(
    settings: Settings, database_url: str, upstream: Upstream
) -> None:
    url = upstream.serve("/list.m3u", m3u(("A", 1)))
    first = await build_stack(settings, database_url)
    try:
        fresh = await add(first, url, update_interval=3600)
        updated = await eventually(updated_after(first, fresh))
        pending = await add(first, url, update_now=False, update_interval=1, name="Pending")
    finally:
        await first.aclose()

    await asyncio.sleep(1.1)  # "pending" falls due while nothing runs
    second = await build_stack(settings, database_url)
    try:
        assert (await second.one(fresh)).next_update == updated.next_update
        await second.external.start()
        await eventually(updated_after(second, pending))
        assert (await second.one(fresh)).last_update == updated.last_update
        assert upstream.hits["/list.m3u"] >= 2
    finally:
        await second.aclose()


async def test_stop_is_prompt_and_idempotent(stack: Stack) -> None:
    await stack.external.start()
    await stack.external.start()
    started = time.monotonic()
    await stack.external.stop()
    await stack.external.stop()
    assert time.monotonic() - started < 1


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "field_name"),
    [
        ({"type": ""}, MissingParameter, "type"),
        ({"type": "radio"}, InvalidInput, "type"),
        ({"category": " "}, MissingParameter, "category"),
        ({"name": ""}, MissingParameter, "name"),
        ({"url": ""}, MissingParameter, "url"),
        ({"url": "ftp://example.com/list.m3u"}, FetchRefused, "url"),
        ({"url": "not a url"}, FetchRefused, "url"),
        ({"update_interval": 0}, InvalidInput, "update_interval"),
        ({"update_interval": "3600"}, InvalidInput, "update_interval"),
        ({"update_interval": True}, InvalidInput, "update_interval"),
    ],
)
async def test_add_validates_its_input(
    stack: Stack, overrides: dict[str, Any], error: type[Exception], field_name: str
) -> None:
    values = {"url": "http://127.0.0.1:9/list.m3u", **overrides}
    with pytest.raises(error) as failure:
        await add(stack, **values)
    assert getattr(failure.value, "field", None) == field_name
    assert await stack.external.get(None, viewer=OWNER) == []


async def test_add_enforces_the_minimum_interval(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", min_update_interval=60)
    built = await build_stack(settings, database_url)
    try:
        with pytest.raises(InvalidInput) as failure:
            await add(built, "http://127.0.0.1:9/list.m3u", update_interval=59)
        assert failure.value.field == "update_interval"
        assert await add(built, "http://127.0.0.1:9/list.m3u", update_interval=60, update_now=False)
    finally:
        await built.aclose()


async def test_a_remote_caller_cannot_add_a_loopback_url(stack: Stack) -> None:
    with pytest.raises(FetchRefused):
        await add(stack, "http://127.0.0.1:9/list.m3u", caller_is_local=False)


async def test_edit_validates_its_input(stack: Stack) -> None:
    playlist_id = await add(stack, "http://127.0.0.1:9/list.m3u", update_now=False)
    base: dict[str, Any] = {
        "category": "tv",
        "name": "N",
        "update_interval": 3600,
        "login": None,
        "password": None,
        "caller_is_local": True,
    }
    with pytest.raises(MissingParameter):
        await stack.external.edit(playlist_id, **{**base, "name": ""})
    with pytest.raises(InvalidInput):
        await stack.external.edit(playlist_id, **{**base, "update_interval": 0})
    with pytest.raises(NotFound):
        await stack.external.edit(playlist_id + 100, **base)


async def test_unknown_ids_are_not_found(stack: Stack) -> None:
    with pytest.raises(NotFound):
        await stack.external.get(42, viewer=OWNER)
    with pytest.raises(NotFound):
        await stack.external.update(42)
    with pytest.raises(NotFound):
        await stack.external.delete(42)


async def test_an_owner_reaches_only_its_own_playlists(stack: Stack, upstream: Upstream) -> None:
    url = upstream.serve("/list.m3u", m3u(("One", 1)))
    mine = await add(stack, url, update_now=False, name="Mine")
    theirs = await stack.external.add(
        OTHER,
        type="content",
        category="tv",
        name="Theirs",
        url=url,
        update_interval=86400,
        update_now=False,
        caller_is_local=True,
    )
    edit: dict[str, Any] = {
        "category": "hacked",
        "name": "Hacked",
        "update_interval": 3600,
        "login": None,
        "password": None,
        "caller_is_local": True,
    }

    listed = await stack.external.get(None, viewer=OWNER, owner=OWNER)
    assert [p.name for p in listed] == ["Mine"]
    assert [p.id for p in await stack.external.get(mine, viewer=OWNER, owner=OWNER)] == [mine]
    with pytest.raises(NotFound):
        await stack.external.get(theirs, viewer=OWNER, owner=OWNER)
    with pytest.raises(NotFound):
        await stack.external.edit(theirs, owner=OWNER, **edit)
    with pytest.raises(NotFound):
        await stack.external.update(theirs, owner=OWNER)
    with pytest.raises(NotFound):
        await stack.external.delete(theirs, owner=OWNER)
    untouched = await stack.one(theirs, viewer=OTHER)
    assert (untouched.name, untouched.last_update) == ("Theirs", None)
    assert upstream.hits.get("/list.m3u") is None

    # Their own calls, and calls naming no owner (the engine API's), reach it.
    await stack.external.edit(theirs, owner=OTHER, **{**edit, "name": "Renamed"})
    await stack.external.update(theirs, owner=OTHER)
    assert (await stack.one(theirs, viewer=OTHER)).name == "Renamed"
    await stack.external.update(mine)
    await stack.external.delete(theirs, owner=OTHER)
    await stack.external.delete(mine)
    assert await stack.external.get(None, viewer=OWNER) == []

"""The watch page's routes over the in-process app: starting by every kind of reference a
person pastes, stopping, and opening the session in a player on the host."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tidecast.core.instance import ALLOW_REMOTE
from tidecast.core.playback import UNKNOWN_SESSION
from tidecast.core.services import Services
from tidecast.engine.torrent_reader import read_transport_file
from tidecast.settings import Settings

from support.swarm import Seeder, Tracker
from support.torrents import make_torrent
from support.webui import PASSWORD, csrf_of, sign_in

ClientFactory = Callable[[str], httpx.AsyncClient]
DIRECT = "http://127.0.0.1:9/film.mp4"
"""A direct media URL: its session starts without fetching it, so no swarm is needed."""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The watch page keeps nothing in the database beyond web sessions: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tracker: Tracker) -> Settings:
    return make_settings(extra_trackers=(tracker.url,), players=("mpv",))


@pytest.fixture(autouse=True)
async def accounts(services: Services) -> None:
    await services.accounts.create("alice", PASSWORD, trusted=True)
    await services.accounts.create("bob", PASSWORD, trusted=True)


async def signed_in(client: httpx.AsyncClient, login: str = "alice") -> None:
    reply = await sign_in(client, login)
    assert reply.status_code == 303, reply.text


async def play(client: httpx.AsyncClient, content: str) -> str:
    """POST the content as the watch form does; the session (``<infohash>/<key>``) started."""
    page = await client.get("/webui/watch")
    reply = await client.post(
        "/webui/watch", data={"csrf_token": csrf_of(page.text), "content": content}
    )
    assert reply.status_code == 303, reply.text
    query = parse_qs(urlsplit(reply.headers["location"]).query)
    assert query["content"] == [content]
    return query["session"][0]


async def post_on_page(
    client: httpx.AsyncClient, session: str, action: str, **fields: str
) -> httpx.Response:
    """Submit one of the watch page's session forms, with the page's own CSRF token."""
    page = await client.get("/webui/watch", params={"session": session})
    data = {"csrf_token": csrf_of(page.text), "session": session, "content": "", **fields}
    return await client.post(action, data=data)


def seed_clip(tmp_path: Path, tracker: Tracker, seeder: Seeder) -> tuple[bytes, str]:
    """Seed a small torrent; its transport file and info-hash."""
    torrent, root = make_torrent(
        tmp_path / "seed", {"clip.mp4": os.urandom(300_000)}, trackers=[tracker.url]
    )
    seeder.seed(torrent, root.parent)
    return torrent, read_transport_file(torrent).infohash


async def test_a_bare_infohash_and_a_content_id_start_sessions_that_stop(
    client: httpx.AsyncClient, services: Services, tmp_path: Path, tracker: Tracker, seeder: Seeder
) -> None:
    torrent, infohash = seed_clip(tmp_path, tracker, seeder)
    await signed_in(client)

    # A bare info-hash is its base32 form: a bare 40-hex string is a content id (the SDK's rule).
    bare = base64.b32encode(bytes.fromhex(infohash)).decode()
    by_infohash = await play(client, bare)
    assert by_infohash.startswith(f"{infohash}/")
    page = await client.get("/webui/watch", params={"session": by_infohash})
    assert page.status_code == 200
    assert "Now playing" in page.text
    assert f'src="/ace/r/{by_infohash}"' in page.text

    # A content id names a transport file tidecast knows (imported, fetched or posted).
    content_id = (await services.content.remember(torrent)).content_id
    assert content_id == hashlib.sha1(torrent).hexdigest()
    session = await play(client, content_id)
    assert session.startswith(f"{infohash}/")

    stopped = await post_on_page(client, session, "/webui/watch/stop")
    assert stopped.status_code == 303
    assert "stopped=1" in stopped.headers["location"]
    page = await client.get(stopped.headers["location"])
    assert "Playback stopped." in page.text
    assert "Now playing" not in page.text
    gone = (await client.get(f"/ace/stat/{session}")).json()
    assert gone["error"] == UNKNOWN_SESSION


async def test_stop_needs_the_csrf_token_and_touches_only_the_accounts_own_session(
    client_from: ClientFactory, services: Services
) -> None:
    alice, bob = client_from("127.0.0.1"), client_from("127.0.0.1")
    await signed_in(alice)
    await signed_in(bob, "bob")
    session = await play(alice, DIRECT)
    infohash, _, key = session.partition("/")

    forged = await alice.post("/webui/watch/stop", data={"session": session})
    assert forged.status_code == 403
    # Bob knows the session's URL, but it is not his: he neither sees nor stops it.
    page = await bob.get("/webui/watch", params={"session": session})
    assert "Now playing" not in page.text
    assert "has ended" in page.text
    assert (await post_on_page(bob, session, "/webui/watch/stop")).status_code == 303
    assert services.playback.session(infohash, key).pid is not None

    assert (await post_on_page(alice, session, "/webui/watch/stop")).status_code == 303
    assert (await alice.get(f"/ace/stat/{session}")).json()["error"] == UNKNOWN_SESSION
    # Stopping again (a second tab, a reload) is no error.
    again = await post_on_page(alice, session, "/webui/watch/stop")
    assert again.status_code == 303


async def test_a_local_browser_opens_the_session_in_a_player_on_the_host(
    client: httpx.AsyncClient, fake_mpv: Path
) -> None:
    await signed_in(client)
    session = await play(client, DIRECT)
    page = await client.get("/webui/watch", params={"session": session})
    assert "Open in mpv" in page.text
    found = re.search(r'name="player_id" value="([0-9a-f]{40})"', page.text)
    assert found is not None

    opened = await post_on_page(client, session, "/webui/watch/player", player_id=found[1])
    assert opened.status_code == 303
    shown = await client.get(opened.headers["location"])
    assert "Opened in mpv on this computer." in shown.text
    for _ in range(100):
        if fake_mpv.exists() and fake_mpv.read_text().strip():
            break
        await asyncio.sleep(0.05)
    # The player reaches tidecast on loopback, on the socket the request came in on.
    assert fake_mpv.read_text().strip() == f"http://127.0.0.1:6878/ace/r/{session}"

    unknown = await post_on_page(client, session, "/webui/watch/player", player_id="f" * 40)
    assert unknown.status_code == 404
    assert re.search(r'id="player-error">unknown player f{40}<', unknown.text)


async def test_a_browser_elsewhere_may_not_open_a_player_on_the_host(
    client_from: ClientFactory, services: Services, fake_mpv: Path
) -> None:
    await services.switches.set(ALLOW_REMOTE, True)
    client = client_from("203.0.113.20")
    await signed_in(client)
    session = await play(client, DIRECT)
    page = await client.get("/webui/watch", params={"session": session})
    assert "Now playing" in page.text
    assert "Open in" not in page.text  # not even which players the host has
    player_id = services.players.available()[0].id
    refused = await post_on_page(client, session, "/webui/watch/player", player_id=player_id)
    assert refused.status_code == 403
    assert "only a browser on that host may open one" in refused.text
    await asyncio.sleep(0.2)
    assert not fake_mpv.exists()

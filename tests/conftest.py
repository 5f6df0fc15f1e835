"""Fixtures shared by the suite: databases (SQLite and a real PostgreSQL), an app, clients.

Storage and API tests take the ``database_url`` fixture, which runs them twice: on a
SQLite file and on a PostgreSQL server the suite starts itself (``support/postgres.py``).
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tidecast.app import create_app
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

from support.postgres import PostgresServer, postgres_available
from support.swarm import Seeder, Tracker

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    if not postgres_available():
        pytest.skip("PostgreSQL binaries not installed (CI installs them and never skips)")
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tidecast.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"t{next(_db_counter)}"
    yield server.create_database(name)
    server.drop_database(name)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            # Tests never probe the internet: the default target is replaced by loopback.
            "network_probe_target": f"127.0.0.1:{closed_port()}",
            "players": (),
            # The BitTorrent engine stays on loopback and finds peers only through the
            # tests' own trackers and peers.
            "torrent_listen_address": "127.0.0.1",
            "torrent_listen_port": 0,
            "dht": False,
            "lsd": False,
            "upnp": False,
            "metadata_timeout": 5.0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = build_services(settings)
    await services.start()
    yield services
    await services.stop()


ClientFactory = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def client_from(services: Services) -> AsyncIterator[ClientFactory]:
    """Clients of the in-process app whose TCP peer is the given address."""
    app = create_app(services.settings, services)
    clients: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 51000))
        client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:6878")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(client_from: ClientFactory) -> httpx.AsyncClient:
    """A loopback client, as VLC or a local add-on would be."""
    return client_from("127.0.0.1")


@pytest.fixture
def token(services: Services) -> str:
    return services.engine_token.reveal()


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    """A BitTorrent tracker on loopback."""
    tracker = Tracker().start()
    yield tracker
    tracker.stop()


@pytest.fixture
def seeder() -> Iterator[Seeder]:
    """A libtorrent seeder on loopback; seed torrents with ``seeder.seed(torrent, folder)``."""
    seeder = Seeder()
    yield seeder
    seeder.stop()

"""Tests for the suite's throwaway PostgreSQL server helper (real server, no mocks)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from support.postgres import APP_USER, PostgresServer, postgres_available

# postgres_available() raises under CI when binaries are missing, so this only
# ever skips on a developer machine without PostgreSQL.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL binaries not installed"),
]


def _async_url(url: str) -> str:
    assert url.startswith("postgresql://")
    return "postgresql+asyncpg://" + url.removeprefix("postgresql://")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    # pytest's tmp dirs are 0700; as root this exercises the relocation of the
    # data dir to a directory the postgres user can reach.
    pg = PostgresServer(tmp_path_factory.mktemp("pg"))
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


async def test_two_databases_roundtrip(server: PostgresServer) -> None:
    url_a = server.create_database("tc_alpha")
    url_b = server.create_database("tc_beta")
    assert url_a == f"postgresql://tidecast:secret-pw@127.0.0.1:{server.port}/tc_alpha"
    assert url_b == server.url_for("tc_beta")

    engine_a = create_async_engine(_async_url(url_a))
    engine_b = create_async_engine(_async_url(url_b))
    try:
        async with engine_a.begin() as conn:
            version = (await conn.execute(text("select version()"))).scalar_one()
            assert version.startswith("PostgreSQL ")
            owner = (
                await conn.execute(
                    text(
                        "select pg_get_userbyid(datdba) from pg_database "
                        "where datname = current_database()"
                    )
                )
            ).scalar_one()
            assert owner == APP_USER
            encoding = (await conn.execute(text("show server_encoding"))).scalar_one()
            assert encoding == "UTF8"
            await conn.execute(text("create table items (id serial primary key, name text)"))
            await conn.execute(
                text("insert into items (name) values (:a), (:b)"), {"a": "ebb", "b": "flow"}
            )
        async with engine_a.connect() as conn:
            rows = (await conn.execute(text("select id, name from items order by id"))).all()
            assert [tuple(r) for r in rows] == [(1, "ebb"), (2, "flow")]

        # The second database is independent of the first.
        async with engine_b.connect() as conn:
            db = (await conn.execute(text("select current_database()"))).scalar_one()
            assert db == "tc_beta"
            missing = (await conn.execute(text("select to_regclass('items')"))).scalar_one()
            assert missing is None
    finally:
        await engine_a.dispose()
        await engine_b.dispose()

    server.drop_database("tc_alpha")
    server.drop_database("tc_beta")
    server.drop_database("tc_beta")  # IF EXISTS: dropping twice is fine


async def test_wrong_password_is_rejected(server: PostgresServer) -> None:
    url = server.create_database("tc_auth")
    bad = url.replace(":secret-pw@", ":wrong-pw@")
    assert bad != url

    engine = create_async_engine(_async_url(bad))
    try:
        with pytest.raises(DBAPIError, match="password authentication failed"):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()

    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(bad)

    # The right password still works over TCP.
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("select current_user") == APP_USER
    finally:
        await conn.close()
    server.drop_database("tc_auth")


async def test_drop_database_disconnects_sessions(server: PostgresServer) -> None:
    url = server.create_database("tc_dropme")
    conn = await asyncpg.connect(url)
    try:
        server.drop_database("tc_dropme")
    finally:
        conn.terminate()
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(url)


def test_invalid_database_name_rejected(server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        server.create_database('x"; drop role tidecast; --')


def test_start_stop_closes_port(capsys: pytest.CaptureFixture[str]) -> None:
    # A mkdtemp() base made traversable: the data dir lives directly in base_dir.
    base = Path(tempfile.mkdtemp(prefix="tidecast-pgtest-"))
    base.chmod(0o755)
    pg = PostgresServer(base)
    try:
        t0 = time.perf_counter()
        pg.start()
        t_started = time.perf_counter()
        port = pg.port
        assert port is not None
        assert pg.running
        assert _port_open(port)
        assert pg.data_dir is not None
        pid_file = pg.data_dir / "postmaster.pid"
        assert pid_file.exists()
        assert (base / "server.log").exists()

        t1 = time.perf_counter()
        pg.stop()
        t_stopped = time.perf_counter()

        assert not pg.running
        assert not _port_open(port)
        assert not pid_file.exists()
        pg.stop()  # idempotent
        with pytest.raises(RuntimeError, match="not running"):
            pg.url_for("anything")
        with capsys.disabled():
            print(
                f"\n[postgres] start {t_started - t0:.2f}s, stop {t_stopped - t1:.2f}s "
                f"(pid {os.getpid()} test, port {port})"
            )
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)

"""The database handle: one async engine, chosen by URL, migrated with Alembic on start.

SQLite is the embedded default (WAL, a busy timeout, and every write transaction taken
with ``BEGIN IMMEDIATE`` behind one in-process lock, so concurrent writers queue instead
of failing). PostgreSQL is chosen by a ``postgresql://`` URL and needs none of that.

Driver exceptions never leave this module's context managers: they become core errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tidecast.core.errors import Conflict, StorageUnavailable, TidecastError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

Connection = AsyncConnection
"""The connection type repositories take; the core names it through this alias."""


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver tidecast uses for it."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database backend {backend!r} (use sqlite or postgresql)")


class Database:
    """Owner of the SQLAlchemy engine for one tidecast instance."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        # JSON columns (tags, extra, …) are decoded for every row read; orjson does it fastest.
        # hide_parameters: a driver error's text must never carry a statement's values
        # (password hashes, token digests, emails) into a log line.
        kwargs: dict[str, Any] = {"json_deserializer": orjson.loads, "hide_parameters": True}
        if self.is_sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        self._write_lock = asyncio.Lock()
        if self.is_sqlite:
            self._install_sqlite_hooks()

    def _install_sqlite_hooks(self) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver so BEGIN is ours to choose.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite's own lower() folds ASCII only; searches and the case-blind nickname
            # and email checks should fold "É" as PostgreSQL does under a UTF-8 locale.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: SyncConnection) -> None:
            immediate = conn.get_execution_options().get("tidecast_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (idempotent)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade_head)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a read transaction."""
        async with self._transaction(write=False) as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed on success, rolled back on error."""
        if self.is_sqlite:
            async with self._write_lock, self._transaction(write=True) as conn:
                yield conn
        else:
            async with self._transaction(write=True) as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                if write:
                    conn = await conn.execution_options(tidecast_write=True)
                async with conn.begin():
                    yield conn
        except TidecastError:
            raise
        except IntegrityError as exc:
            raise Conflict("conflicts with existing data") from exc
        except (DBAPIError, SQLAlchemyError) as exc:
            # Not log.exception: the statement's parameters (tokens, URLs) would be logged.
            log.error("database %s failed: %s", "write" if write else "read", type(exc).__name__)
            raise StorageUnavailable() from exc

    async def dispose(self) -> None:
        await self.engine.dispose()


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def alembic_config(connection: SyncConnection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade_head(connection: SyncConnection) -> None:
    command.upgrade(alembic_config(connection), "head")

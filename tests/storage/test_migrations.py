"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tidecast.core.errors import Conflict
from tidecast.storage.database import Database
from tidecast.storage.tables import metadata, transport_files


async def test_migrated_schema_matches_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        await db.migrate()  # applying again is a no-op

        def diff(sync_conn: Any) -> list[Any]:
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        def tables(sync_conn: Any) -> set[str]:
            return set(inspect(sync_conn).get_table_names())

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
            assert set(metadata.tables) <= await conn.run_sync(tables)
    finally:
        await db.dispose()


async def test_integrity_errors_become_conflicts(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        row = {
            "content_id": "a" * 40,
            "infohash": "b" * 40,
            "name": "n",
            "total_size": 1,
            "data": b"d",
            "created_at": 0,
        }
        async with db.write() as conn:
            await conn.execute(transport_files.insert().values(**row))
        try:
            async with db.write() as conn:
                await conn.execute(transport_files.insert().values(**row))
        except Conflict as exc:
            assert "conflicts" in exc.message
        else:
            raise AssertionError("a duplicate key must be a Conflict")
        async with db.read() as conn:
            count = len((await conn.execute(transport_files.select())).all())
        assert count == 1
    finally:
        await db.dispose()

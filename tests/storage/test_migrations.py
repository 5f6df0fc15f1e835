"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tidecast.core.errors import Conflict
from tidecast.storage.database import Database, alembic_config
from tidecast.storage.tables import audit_log, metadata, transport_files


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


async def test_the_audit_log_actor_index_is_added_to_a_filled_log(database_url: str) -> None:
    """0006 indexes ``audit_log.actor`` on a database at 0005 with entries in it, keeping
    them; it also steps back down."""
    db = Database(database_url)

    def to(revision: str, downgrade: bool = False) -> Any:
        def run(sync_conn: Any) -> None:
            step = command.downgrade if downgrade else command.upgrade
            step(alembic_config(sync_conn), revision)

        return run

    def actor_indexes(sync_conn: Any) -> list[list[str | None]]:
        indexes = inspect(sync_conn).get_indexes("audit_log")
        return [index["column_names"] for index in indexes if index["name"] == "ix_audit_log_actor"]

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(to("0005"))
            assert await conn.run_sync(actor_indexes) == []
            await conn.execute(
                audit_log.insert(),
                [
                    {"at": n, "actor": f"op{n % 3}", "action": "a", "target": "", "detail": {}}
                    for n in range(30)
                ],
            )
            await conn.run_sync(to("0006"))
            assert await conn.run_sync(actor_indexes) == [["actor"]]
        async with db.read() as conn:
            rows = (await conn.execute(audit_log.select().where(audit_log.c.actor == "op1"))).all()
        assert len(rows) == 10
        async with db.engine.begin() as conn:
            await conn.run_sync(to("0005", downgrade=True))
            assert await conn.run_sync(actor_indexes) == []
        await db.migrate()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(actor_indexes) == [["actor"]]
    finally:
        await db.dispose()

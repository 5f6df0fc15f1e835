"""Alembic environment: migrations run on the connection tidecast hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tidecast.storage.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic revision --autogenerate` by a developer, with -x url=...
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()

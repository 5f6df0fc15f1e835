"""Fixtures of the core tests: a migrated SQLite database, a fetcher, a loopback origin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tidecast.engine.http_fetch import Fetcher
from tidecast.storage.database import Database

from support.origin import Origin, running_origin


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin() as state:
        yield state


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/t.db")
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(timeout=10, max_bytes=64 * 1024 * 1024)
    yield fetcher
    await fetcher.aclose()

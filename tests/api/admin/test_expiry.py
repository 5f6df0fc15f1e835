"""Admin sessions end after ``admin_session_seconds``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tidecast.settings import Settings

from .conftest import AdminApi, codes


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(admin_session_seconds=1)


async def test_an_expired_session_is_99998(api: AdminApi, admin_key: str) -> None:
    session_id = (await api.ok("Admin.Login", AdminApiKey=admin_key))["SessionID"]
    opened = int(time.time())
    await api.ok("Users.Get", SessionID=session_id)
    # Expiry is stored in whole seconds: the session is past it once the clock passes
    # opened + 1.
    await asyncio.sleep(max(0.0, opened + 2 - time.time()) + 0.05)
    assert codes(await api.call("Users.Get", SessionID=session_id)) == [99998]
    # The API key itself does not expire.
    await api.ok("Users.Get", AdminAPIKey=admin_key)

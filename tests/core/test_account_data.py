"""What an account owns (playlist items, external playlists, tasks, favorites) and its
login: the core's own owner keys are no one's login, deleting an account deletes its data,
renaming moves it, a reused guest account starts empty, and guest sign-ins are throttled
per address.

Each test runs on SQLite and on PostgreSQL (the ``services`` fixture takes the
``database_url`` parameter).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

import tidecast.core.accounts as accounts_module
from tidecast.core.credentials import COMMAND_KIND
from tidecast.core.errors import (
    AuthenticationRequired,
    InvalidInput,
    TidecastError,
    TooManyAttempts,
)
from tidecast.core.playlists import NO_OWNER, ItemFilter, NewItem
from tidecast.core.services import Services, build_services
from tidecast.core.users import Role, User
from tidecast.settings import Settings
from tidecast.storage import external_repo, playlist_repo, tasks_repo, users_repo
from tidecast.storage.tables import tasks

PASSWORD = "correct horse battery"
IH = "0a4848271c91ce2d8965ce416267c25047dc8141"


async def refused(
    error: type[TidecastError], reason: str | None, action: Awaitable[object]
) -> TidecastError:
    with pytest.raises(error) as info:
        await action
    assert info.value.reason == reason, info.value
    return info.value


async def give(services: Services, owner: str, title: str) -> tuple[int, int, int]:
    """An item, an external playlist with an item of its own, and a task, all ``owner``'s:
    their ids."""
    item = await services.playlists.add_item(owner, NewItem(title=title, infohash=IH))
    now = int(time.time())
    async with services.db.write() as conn:
        playlist = await external_repo.insert(
            conn,
            {
                "owner": owner,
                "type": "m3u",
                "category": "",
                "name": f"{title} list",
                "url": "http://lists.invalid/list.m3u",
                "update_interval": 3600,
                "created_at": now,
                "updated_at": now,
                "next_update": now + 3600,
                "epg_sources": [],
            },
        )
        task = await tasks_repo.insert(conn, kind="playlist_import", owner=owner, now=now)
    imported = NewItem(title=f"{title} imported", video_url="http://media.invalid/a.mp4")
    row = imported.to_row(owner, now)
    row.external_playlist_id = playlist
    async with services.db.write() as conn:
        await playlist_repo.insert(conn, row)
    return item, playlist, task


async def owned(services: Services, owner: str) -> tuple[list[str], list[int], list[int]]:
    """Titles of ``owner``'s items (the trash too), its external playlists and tasks."""
    items = []
    for deleted in (False, True):
        page = await services.playlists.page(ItemFilter(owner=owner, deleted=deleted))
        items += [item.title for item in page.items]
    async with services.db.read() as conn:
        playlists = [row.id for row in await external_repo.list_all(conn, owner)]
        result = await conn.execute(select(tasks.c.id).where(tasks.c.owner == owner))
        task_ids = [int(task_id) for (task_id,) in result]
    return sorted(items), playlists, task_ids


async def user(services: Services, login: str) -> User:
    return await services.accounts.create(login, PASSWORD, trusted=True)


# -- the core's own owner keys --------------------------------------------------------------


@pytest.mark.parametrize("login", [NO_OWNER, "_NO_OWNER_", " _no_owner_ ", "_later_", "__"])
async def test_internal_keys_are_no_ones_login(services: Services, login: str) -> None:
    accounts = services.accounts
    await refused(InvalidInput, "login_invalid", accounts.create(login, PASSWORD))
    await refused(InvalidInput, "login_invalid", accounts.create(login, PASSWORD, trusted=True))
    await refused(InvalidInput, "login_invalid", accounts.login_guest(login))
    alice = await user(services, "alice")
    await refused(InvalidInput, "login_invalid", accounts.rename(alice, login))
    # Underscores elsewhere stay ordinary.
    assert (await user(services, "_alice")).login == "_alice"
    assert (await user(services, "bob_")).login == "bob_"


async def test_an_account_made_before_is_shut_out_and_leaves_the_instance_playlist(
    services: Services,
) -> None:
    """An account ``_no_owner_`` from before the login was refused cannot sign in, its
    tokens are refused, and deleting it leaves the instance's playlist alone."""
    accounts = services.accounts
    await give(services, NO_OWNER, "Instance")
    before = await owned(services, NO_OWNER)
    created = await user(services, "squatter")
    async with services.db.write() as conn:
        assert created.id is not None
        await users_repo.update_values(conn, created.id, {"login": NO_OWNER})
    squatter = await accounts.get(NO_OWNER)
    token = (await accounts.new_session(squatter)).token
    await refused(AuthenticationRequired, None, accounts.user_for_token(token, {COMMAND_KIND}))
    await refused(
        AuthenticationRequired, "bad_credentials", accounts.login(NO_OWNER, PASSWORD, address=None)
    )
    await accounts.delete(NO_OWNER, actor=None, trusted=True)
    assert await owned(services, NO_OWNER) == before


# -- deleting and renaming ----------------------------------------------------------------


async def test_deleting_an_account_deletes_what_it_owned(services: Services) -> None:
    accounts = services.accounts
    bob = await user(services, "bob")
    carol = await user(services, "carol")
    await give(services, "bob", "Bob")
    item, _, _ = await give(services, "bob", "Bob trashed")
    await services.playlists.delete_items([item], "bob")
    await services.playlists.set_flag(
        [(await give(services, "bob", "Bob locked"))[0]], "bob", "locked", True
    )
    await give(services, "carol", "Carol")
    await give(services, NO_OWNER, "Instance")
    others = (await owned(services, "carol"), await owned(services, NO_OWNER))
    assert bob.id is not None and carol.id is not None
    await services.playlists.set_favorite([item], "bob", carol.id, True)

    await accounts.delete("bob", actor=None, trusted=True)
    assert await owned(services, "bob") == ([], [], [])
    assert (await owned(services, "carol"), await owned(services, NO_OWNER)) == others
    # A new account with the login starts empty.
    await user(services, "bob")
    assert await owned(services, "bob") == ([], [], [])
    favorites = ItemFilter(owner="bob", viewer=carol.id, favorites_only=True, deleted=True)
    assert (await services.playlists.page(favorites)).items == []


async def test_deleting_oneself_deletes_what_one_owned(services: Services) -> None:
    dave = await user(services, "dave")
    await give(services, "dave", "Dave")
    await services.accounts.delete_self(dave)
    assert await owned(services, "dave") == ([], [], [])


async def test_renaming_moves_items_external_playlists_and_tasks(services: Services) -> None:
    erin = await user(services, "erin")
    await give(services, "erin", "Erin")
    mine = await owned(services, "erin")
    assert mine[0] and mine[1] and mine[2]
    await services.accounts.rename(erin, "erin2")
    assert await owned(services, "erin") == ([], [], [])
    assert await owned(services, "erin2") == mine


# -- guests ----------------------------------------------------------------------------------


async def test_a_reused_guest_account_starts_empty(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = services.accounts
    first = await accounts.login_guest(None)
    guest = first.user
    assert guest.id is not None
    await give(services, guest.login, "Guest A")
    shared = await services.playlists.add_item(NO_OWNER, NewItem(title="Shared", infohash=IH))
    await services.playlists.set_favorite([shared], None, guest.id, True)
    # Within the hour the account is the first guest's: the next visitor gets another.
    second = await accounts.login_guest(None)
    assert second.user.id != guest.id
    assert (await owned(services, guest.login))[0] == ["Guest A", "Guest A imported"]

    monkeypatch.setattr(accounts_module, "GUEST_BUSY_SECONDS", -10)
    async with services.db.write() as conn:
        assert second.user.id is not None
        await users_repo.update_values(conn, second.user.id, {"last_login_at": int(time.time())})
        await users_repo.update_values(conn, guest.id, {"last_login_at": 1})
    again = await accounts.login_guest(None)
    assert again.user.id == guest.id
    assert await owned(services, guest.login) == ([], [], [])
    favorites = ItemFilter(owner=NO_OWNER, viewer=guest.id, favorites_only=True)
    assert (await services.playlists.page(favorites)).items == []
    await refused(
        AuthenticationRequired, None, accounts.user_for_token(first.token, {COMMAND_KIND})
    )


async def test_guest_sign_ins_are_throttled_per_address(
    make_settings: Callable[..., Settings],
) -> None:
    services = build_services(make_settings(max_temporary_guests=100))
    await services.start()
    try:
        accounts = services.accounts
        for _ in range(5):
            session = await accounts.login_guest(None, address="203.0.113.7")
            assert session.user.type == Role.GUEST
        error = await refused(
            TooManyAttempts,
            "too_many_attempts",
            accounts.login_guest(None, address="203.0.113.7"),
        )
        assert error.message.startswith("too many guest sign-ins")
        # The address's lockout is its own: others, and the host's console, sign in.
        await accounts.login_guest(None, address="203.0.113.8")
        await accounts.login_guest(None)
        # Named guests count too; nothing was created for the refused attempts.
        await refused(
            TooManyAttempts,
            "too_many_attempts",
            accounts.login_guest("visitor", address="203.0.113.7"),
        )
        guests = [u for u in await accounts.all() if u.type == Role.GUEST]
        assert len(guests) == 7
    finally:
        await services.stop()

"""Searching and paging accounts (``AccountService.search``) in the database, without HTTP.

Each test runs on SQLite and on PostgreSQL (the ``services`` fixture takes the
``database_url`` parameter).
"""

from __future__ import annotations

import pytest

from tidecast.core.accounts import AccountService
from tidecast.core.services import Services
from tidecast.core.users import User
from tidecast.storage.users_repo import like_pattern

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(services: Services) -> AccountService:
    return services.accounts


async def add(
    accounts: AccountService, login: str, nickname: str | None = None, email: str | None = None
) -> User:
    return await accounts.create(
        login, None, role="guest", nickname=nickname, email=email, trusted=True
    )


async def found(
    accounts: AccountService, words: str, viewer: User | None, **paging: int
) -> tuple[list[str], int]:
    page = await accounts.search(words, viewer=viewer, **paging)
    return [user.login for user in page.users], page.total


async def test_words_are_part_of_a_login_name_or_email_in_any_case(
    accounts: AccountService,
) -> None:
    op = await accounts.create("op", PASSWORD, role="admin", trusted=True, nickname="Boss")
    await add(accounts, "carla", "Carla C.", "carla@Club.example")
    await add(accounts, "bert", "Bert", None)
    await add(accounts, "anna", "Anna from the CLUB", None)
    assert await found(accounts, "", op) == (["anna", "bert", "carla", "op"], 4)
    assert await found(accounts, "club", op) == (["anna", "carla"], 2)
    assert await found(accounts, "  ", op) == ([], 0)  # words are not trimmed here
    assert await found(accounts, "ERT", op) == (["bert"], 1)
    assert await found(accounts, "nobody", op) == ([], 0)
    only_logins = await accounts.search("club", viewer=op, fields=("login",))
    assert only_logins.users == [] and only_logins.total == 0
    by_email = await accounts.search("CLUB", viewer=op, fields=("email",))
    assert [user.login for user in by_email.users] == ["carla"]


async def test_letters_beyond_ascii_match_in_any_case(accounts: AccountService) -> None:
    op = await accounts.create("op", PASSWORD, role="admin", trusted=True)
    await add(accounts, "emile", "Émile Ørsted", None)
    assert await found(accounts, "émile", op) == (["emile"], 1)
    assert await found(accounts, "ØRSTED", op) == (["emile"], 1)


async def test_pages_are_cut_by_login_and_keep_the_total(accounts: AccountService) -> None:
    op = await accounts.create("op", PASSWORD, role="admin", trusted=True)
    for number in range(7):
        await add(accounts, f"user{number}", f"Person {number}")
    assert await found(accounts, "person", op, offset=0, limit=3) == (
        ["user0", "user1", "user2"],
        7,
    )
    assert await found(accounts, "person", op, offset=6, limit=3) == (["user6"], 7)
    assert await found(accounts, "person", op, offset=50, limit=3) == ([], 7)
    assert await found(accounts, "", op, offset=7) == (["user6"], 8)
    with pytest.raises(ValueError):
        await accounts.search("", viewer=op, fields=("password_hash",))


async def test_wildcards_are_plain_characters(accounts: AccountService) -> None:
    op = await accounts.create("op", PASSWORD, role="admin", trusted=True)
    await add(accounts, "a_b", "Under")
    await add(accounts, "axb", "Cross")
    await add(accounts, "hundred", "100% sure")
    await add(accounts, "thousand", "1000 sure")
    await add(accounts, "slash", "back\\slash")
    await add(accounts, "plain", "backslash")
    assert await found(accounts, "_", op) == (["a_b"], 1)
    assert await found(accounts, "a_b", op) == (["a_b"], 1)
    assert await found(accounts, "0%", op) == (["hundred"], 1)
    assert await found(accounts, "%", op) == (["hundred"], 1)
    assert await found(accounts, "k\\s", op) == (["slash"], 1)
    assert await found(accounts, "\\", op) == (["slash"], 1)
    assert like_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"


async def test_others_find_only_public_accounts_and_themselves(accounts: AccountService) -> None:
    op = await accounts.create("op", PASSWORD, role="admin", trusted=True, nickname="Team op")
    alice = await accounts.create("alice", PASSWORD, nickname="Team alice")
    hidden = await accounts.create("hidden", PASSWORD, nickname="Team hidden")
    hidden = await accounts.edit_self(hidden, {"flag_public": False})
    assert await found(accounts, "team", None) == (["alice", "op"], 2)
    assert await found(accounts, "team", alice) == (["alice", "op"], 2)
    assert await found(accounts, "team", hidden) == (["alice", "hidden", "op"], 3)
    assert await found(accounts, "team", op) == (["alice", "hidden", "op"], 3)
    assert await found(accounts, "hidden", alice) == ([], 0)

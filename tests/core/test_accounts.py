"""The account core without HTTP: create, edit, delete, passwords, logins, throttling, tokens.

Each test runs on SQLite and on PostgreSQL (the ``services`` and ``make_settings``
fixtures take the ``database_url`` parameter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import tidecast.core.accounts as accounts_module
from tidecast.core.accounts import AccountService
from tidecast.core.credentials import COMMAND_KIND, ENGINE_SESSION_KIND, ONLINE_KIND
from tidecast.core.errors import (
    AccessDenied,
    AuthenticationRequired,
    Conflict,
    FeatureClosed,
    InvalidInput,
    NotFound,
    TidecastError,
    TooManyAttempts,
)
from tidecast.core.playlists import ItemFilter, NewItem
from tidecast.core.security_code import SecurityCode
from tidecast.core.services import Services, build_services
from tidecast.core.users import Role, User
from tidecast.settings import Settings

PASSWORD = "correct horse battery"
IH = "0a4848271c91ce2d8965ce416267c25047dc8141"
ServicesFactory = Callable[..., Awaitable[Services]]


@pytest.fixture
async def make_services(make_settings: Callable[..., Settings]) -> AsyncIterator[ServicesFactory]:
    """Started services with settings overrides (one set per test: they share a database)."""
    started: list[Services] = []

    async def build(**overrides: Any) -> Services:
        services = build_services(make_settings(**overrides))
        await services.start()
        started.append(services)
        return services

    yield build
    for services in started:
        await services.stop()


@pytest.fixture
def accounts(services: Services) -> AccountService:
    return services.accounts


async def refused(
    error: type[TidecastError], reason: str | None, action: Awaitable[object]
) -> TidecastError:
    with pytest.raises(error) as info:
        await action
    assert info.value.reason == reason, info.value
    return info.value


async def add(accounts: AccountService, login: str, role: str = "user", **kw: Any) -> User:
    password = kw.pop("password", PASSWORD)
    return await accounts.create(login, password, role=role, trusted=True, **kw)


# -- creating ----------------------------------------------------------------------------


async def test_create_normalises_the_login_and_hashes_with_argon2id(
    accounts: AccountService,
) -> None:
    user = await accounts.create("  Alice.B-1_ ", PASSWORD)
    assert (user.login, user.nickname, user.type) == ("alice.b-1_", "alice.b-1_", Role.USER)
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert (await accounts.get("ALICE.B-1_")).id == user.id


@pytest.mark.parametrize(
    "login", ["", "   ", "bad login", "semi;colon", "é", "a" * 65, "bob@", "bob@bad host", 42]
)
async def test_create_refuses_invalid_logins(accounts: AccountService, login: Any) -> None:
    await refused(InvalidInput, "login_invalid", accounts.create(login, PASSWORD))


async def test_create_password_rules(accounts: AccountService) -> None:
    await refused(InvalidInput, "password_too_short", accounts.create("alice", "7 chars"))
    await refused(InvalidInput, "password_too_short", accounts.create("alice", None))
    await refused(InvalidInput, "password_too_short", accounts.create("alice", ""))
    await refused(InvalidInput, None, accounts.create("alice", "x" * 1025))
    await refused(InvalidInput, None, accounts.create("alice", 12345678))  # type: ignore[arg-type]
    assert (await accounts.create("alice", "8 chars!")).login == "alice"


async def test_create_uniqueness(accounts: AccountService) -> None:
    await add(accounts, "alice", nickname="Ally", email="Alice@Example.org")
    await refused(Conflict, "user_exists", add(accounts, "ALICE"))
    await refused(Conflict, "nickname_taken", add(accounts, "bob", nickname="ally"))
    await refused(Conflict, "email_taken", add(accounts, "bob", email="alice@EXAMPLE.org"))
    await refused(Conflict, "nickname_taken", add(accounts, "bob", nickname=" ALLY "))
    await refused(InvalidInput, None, add(accounts, "bob", email="not-an-address"))
    await refused(InvalidInput, None, add(accounts, "bob", nickname=" " * 3))
    bob = await add(accounts, "bob", email=" Bob@Example.org ")
    assert (bob.nickname, bob.email) == ("bob", "bob@example.org")


async def test_roles(accounts: AccountService) -> None:
    assert (await add(accounts, "op", role="operator")).type == Role.OPERATOR
    assert (await add(accounts, "adm", role="admin")).type == Role.OPERATOR
    assert (await add(accounts, "usr", role="user")).type == Role.USER
    assert (await add(accounts, "gst", role="guest")).type == Role.GUEST
    await refused(InvalidInput, None, add(accounts, "boss", role="superuser"))


async def test_an_operator_needs_an_operator_or_the_single_use_security_code(
    accounts: AccountService,
) -> None:
    await refused(AccessDenied, "unauthorized", accounts.create("op1", PASSWORD, role="admin"))
    await refused(
        AccessDenied,
        "unauthorized",
        accounts.create("op1", PASSWORD, role="admin", security_code="000000x"),
    )
    code = accounts.security_code.peek()
    # A creation that fails for another reason does not spend the code.
    await refused(
        InvalidInput,
        "password_too_short",
        accounts.create("op1", "short", role="admin", security_code=code),
    )
    assert accounts.security_code.peek() == code
    op1 = await accounts.create("op1", PASSWORD, role="admin", security_code=int(code))
    assert op1.type == Role.OPERATOR
    assert accounts.security_code.peek() != code
    await refused(
        AccessDenied,
        "unauthorized",
        accounts.create("op2", PASSWORD, role="admin", security_code=code),
    )
    op2 = await accounts.create("op2", PASSWORD, role="admin", actor=op1)
    assert op2.type == Role.OPERATOR
    user = await accounts.create("usr", PASSWORD)
    await refused(
        AccessDenied, "unauthorized", accounts.create("op3", PASSWORD, role="admin", actor=user)
    )


async def test_online_login_rules(accounts: AccountService) -> None:
    bob = await accounts.create("Bob@Other.Example:8443", PASSWORD)
    assert (bob.login, bob.nickname) == ("bob@other.example:8443", "bob")
    await refused(
        AccessDenied,
        "online_admin",
        accounts.create("carol@other.example", PASSWORD, role="admin", trusted=True),
    )


async def test_policies_close_creation_and_online_accounts(make_services: ServicesFactory) -> None:
    services = await make_services(allow_user_creation=False, online_accounts=False)
    accounts = services.accounts
    await refused(FeatureClosed, "creation_disabled", accounts.create("alice", PASSWORD))
    op = await add(accounts, "op", role="admin")  # the host's console may
    assert (await accounts.create("alice", PASSWORD, actor=op)).login == "alice"
    await refused(
        FeatureClosed, "online_disabled", accounts.create("bob@other.example", PASSWORD, actor=op)
    )


async def test_guests_have_no_password_and_cannot_log_in_with_one(
    accounts: AccountService,
) -> None:
    guest = await accounts.create("visitor", None, role="guest")
    assert guest.type == Role.GUEST and guest.password_hash is None
    for attempt in ("", PASSWORD):
        await refused(
            AuthenticationRequired,
            "bad_credentials",
            accounts.authenticate("visitor", attempt, address=None),
        )


# -- reading ------------------------------------------------------------------------------


async def test_visibility(accounts: AccountService) -> None:
    op = await add(accounts, "op", role="admin")
    alice = await add(accounts, "alice")
    hidden = await add(accounts, "hidden")
    hidden = await accounts.edit_self(hidden, {"flag_public": False})
    assert [u.login for u in await accounts.visible_to(None)] == ["alice", "op"]
    assert [u.login for u in await accounts.visible_to(alice)] == ["alice", "op"]
    assert [u.login for u in await accounts.visible_to(hidden)] == ["alice", "hidden", "op"]
    assert [u.login for u in await accounts.visible_to(op)] == ["alice", "hidden", "op"]
    assert [u.login for u in await accounts.all()] == ["alice", "hidden", "op"]
    assert not accounts.can_see(alice, hidden) and accounts.can_see(op, hidden)
    await refused(NotFound, "user_not_found", accounts.get("nobody"))


# -- editing ------------------------------------------------------------------------------


async def test_edit_self_rules(accounts: AccountService) -> None:
    alice = await add(accounts, "alice")
    guest = await accounts.create("visitor", None, role="guest")
    await refused(AccessDenied, "guests_cannot_edit", accounts.edit_self(guest, {"bio": "hi"}))
    await refused(AccessDenied, "cannot_change_type", accounts.edit_self(alice, {"type": 0}))
    # Neither the stored type's internal name nor unknown fields slip through.
    for field in ("__type", "password_hash", "login", "flag_temporary"):
        await refused(InvalidInput, None, accounts.edit_self(alice, {field: 0}))
    edited = await accounts.edit_self(
        alice,
        {
            "type": Role.USER,
            "nickname": "Ally",
            "bio": "hello",
            "main_series_lang": "FRE",
            "fallback_series_lang": "eng",
            "flag_public": False,
        },
    )
    assert (edited.type, edited.nickname, edited.main_series_lang) == (Role.USER, "Ally", "fre")
    stored = await accounts.get("alice")
    assert (stored.type, stored.bio, stored.flag_public) == (Role.USER, "hello", False)
    await refused(InvalidInput, None, accounts.edit_self(alice, {"main_series_lang": "xx"}))
    await refused(InvalidInput, None, accounts.edit_self(alice, {"flag_public": "yes"}))
    await refused(
        InvalidInput, "password_too_short", accounts.edit_self(alice, {"password": "short"})
    )
    await add(accounts, "bob")
    await refused(Conflict, "nickname_taken", accounts.edit_self(stored, {"nickname": "BOB"}))


async def test_operator_edits(accounts: AccountService) -> None:
    op = await add(accounts, "op", role="admin")
    alice = await add(accounts, "alice")
    await accounts.create("bob@other.example", PASSWORD)
    await refused(AccessDenied, "admin_please", accounts.edit("op", {"bio": "x"}, actor=alice))
    promoted = await accounts.edit("alice", {"type": 0, "bio": "now an operator"}, actor=op)
    assert promoted.type == Role.OPERATOR
    for bad in (5, True, "0"):
        await refused(InvalidInput, None, accounts.edit("alice", {"type": bad}, actor=op))
    # An online account is edited at home: only its type and tutorial flag here.
    await refused(
        InvalidInput, "online_edit", accounts.edit("bob@other.example", {"bio": "x"}, actor=op)
    )
    bob = await accounts.edit(
        "bob@other.example", {"type": 2, "flag_tutorial_done": True}, actor=op
    )
    assert (bob.type, bob.flag_tutorial_done) == (Role.GUEST, True)
    # Demoting operators stops at the last one.
    await accounts.edit("alice", {"type": 1}, actor=op)
    await refused(AccessDenied, "admin_undeletable", accounts.edit("op", {"type": 1}, actor=op))
    await refused(NotFound, "user_not_found", accounts.edit("nobody", {"bio": "x"}, actor=op))


# -- deleting -----------------------------------------------------------------------------


async def test_delete_rules(services: Services, accounts: AccountService) -> None:
    admin = await add(accounts, "admin", role="admin")
    op = await add(accounts, "op", role="admin")
    alice = await add(accounts, "alice")
    await refused(AccessDenied, "admin_please", accounts.delete("op", actor=alice))
    await refused(AuthenticationRequired, None, accounts.delete("alice", actor=None))
    await refused(AccessDenied, "admin_undeletable", accounts.delete("admin", actor=op))
    await refused(NotFound, "user_not_found", accounts.delete("nobody", actor=op))
    # Deleting an account ends its tokens and forgets its favorites.
    session = await accounts.login("alice", PASSWORD, address=None)
    item = await services.playlists.add_item("_no_owner_", NewItem(title="One", infohash=IH))
    assert alice.id is not None
    favorites = ItemFilter(owner="_no_owner_", viewer=alice.id, favorites_only=True)
    await services.playlists.set_favorite([item], None, alice.id, True)
    assert [i.id for i in (await services.playlists.page(favorites)).items] == [item]
    await accounts.delete("alice", actor=op)
    await refused(
        AuthenticationRequired, None, accounts.user_for_token(session.token, {COMMAND_KIND})
    )
    assert (await services.playlists.page(favorites)).items == []
    # The last operator stays, whichever way it is asked to go.
    await accounts.delete("op", actor=admin)
    admin_only = await accounts.get("admin")
    await refused(AccessDenied, "admin_undeletable", accounts.delete_self(admin_only))


async def test_the_last_operator_cannot_delete_itself(accounts: AccountService) -> None:
    root = await add(accounts, "root", role="admin")
    await refused(AccessDenied, "admin_undeletable", accounts.delete_self(root))
    await refused(AccessDenied, "admin_undeletable", accounts.delete("root", actor=root))
    other = await add(accounts, "other", role="admin")
    await accounts.delete_self(root)
    assert [u.login for u in await accounts.all()] == [other.login]


# -- passwords ----------------------------------------------------------------------------


async def test_reset_password_with_the_security_code(accounts: AccountService) -> None:
    await add(accounts, "alice")
    await accounts.create("bob@other.example", PASSWORD)
    old = await accounts.login("alice", PASSWORD, address=None)
    await refused(
        AccessDenied,
        "wrong_security_code",
        accounts.reset_password("alice", "new password", "999999x"),
    )
    code = accounts.security_code.peek()
    await refused(
        InvalidInput, "password_too_short", accounts.reset_password("alice", "short", code)
    )
    await refused(
        InvalidInput, "online_reset", accounts.reset_password("bob@other.example", PASSWORD, code)
    )
    assert accounts.security_code.peek() == code  # refusals before the code did not spend it
    # The code is checked before the account (no enumeration), so this spends it.
    await refused(NotFound, "user_not_found", accounts.reset_password("nobody", PASSWORD, code))
    assert accounts.security_code.peek() != code
    code = accounts.security_code.peek()
    await accounts.reset_password("alice", "new password", code)
    assert accounts.security_code.peek() != code
    await refused(AuthenticationRequired, None, accounts.user_for_token(old.token, {COMMAND_KIND}))
    await refused(
        AuthenticationRequired,
        "bad_credentials",
        accounts.authenticate("alice", PASSWORD, address=None),
    )
    assert (await accounts.authenticate("alice", "new password", address=None)).login == "alice"
    await refused(
        AccessDenied,
        "wrong_security_code",
        accounts.reset_password("alice", "third password", code),
    )


async def test_a_password_change_revokes_only_that_accounts_tokens(
    accounts: AccountService,
) -> None:
    alice = await add(accounts, "alice")
    await add(accounts, "bob")
    a1 = await accounts.login("alice", PASSWORD, address=None)
    a2 = await accounts.login("alice", PASSWORD, address=None, kind=ONLINE_KIND, device="phone")
    b = await accounts.login("bob", PASSWORD, address=None)
    await accounts.edit_self(alice, {"password": "brand new password"})
    for token, kind in ((a1.token, COMMAND_KIND), (a2.token, ONLINE_KIND)):
        await refused(AuthenticationRequired, None, accounts.user_for_token(token, {kind}))
    assert (await accounts.user_for_token(b.token, {COMMAND_KIND})).login == "bob"


# -- logging in ---------------------------------------------------------------------------


async def test_login_by_login_or_email(accounts: AccountService) -> None:
    await add(accounts, "alice", email="alice@example.org")
    by_login = await accounts.login(" ALICE ", PASSWORD, address="10.0.0.1")
    by_email = await accounts.login("Alice@Example.org", PASSWORD, address="10.0.0.1")
    assert by_login.user.id == by_email.user.id
    assert by_login.token != by_email.token
    assert by_login.user.last_login_at is not None
    assert (await accounts.get("alice")).last_login_at == by_email.user.last_login_at
    assert accounts.logged_in_recently(by_email.user)
    assert PASSWORD not in by_login.token
    for identifier, password in [
        ("alice", "wrong password"),
        ("nobody", PASSWORD),
        ("nobody@example.org", PASSWORD),
        ("", PASSWORD),
        ("alice", ""),
        ("alice", "x" * 5000),
    ]:
        await refused(
            AuthenticationRequired,
            "bad_credentials",
            accounts.login(identifier, password, address=None),
        )


async def test_login_with_the_security_code_promotes(accounts: AccountService) -> None:
    await add(accounts, "alice")
    await add(accounts, "bob")
    plain = await accounts.login("alice", PASSWORD, address=None, security_code="")
    assert plain.user.type == Role.USER
    await refused(
        AccessDenied,
        "wrong_security_code",
        accounts.login("alice", PASSWORD, address=None, security_code="123456x"),
    )
    assert (await accounts.get("alice")).type == Role.USER
    code = accounts.security_code.peek()
    promoted = await accounts.login("alice", PASSWORD, address=None, security_code=code)
    assert promoted.user.type == Role.OPERATOR
    assert (await accounts.get("alice")).type == Role.OPERATOR
    assert accounts.security_code.peek() != code
    await refused(
        AccessDenied,
        "wrong_security_code",
        accounts.login("bob", PASSWORD, address=None, security_code=code),
    )


async def test_throttling_per_account_and_per_address_ends_by_itself(
    make_services: ServicesFactory,
) -> None:
    services = await make_services(
        # Lockouts are counted in whole seconds: 2 s leaves at least 1 s of lockout to see.
        login_account_failures=2,
        login_address_failures=3,
        login_lockout_seconds=2,
    )
    accounts = services.accounts
    for login in ("alice", "bob", "carol", "dave"):
        await add(accounts, login, email=f"{login}@example.org")

    async def fails(login: str, address: str) -> None:
        await refused(
            AuthenticationRequired,
            "bad_credentials",
            accounts.authenticate(login, "wrong password", address=address),
        )

    # Per account, whichever identifier names it and wherever the attempts come from.
    await fails("alice", "10.0.0.1")
    await fails("alice@example.org", "10.0.0.2")
    error = await refused(
        TooManyAttempts,
        "too_many_attempts",
        accounts.authenticate("alice", PASSWORD, address="10.0.0.3"),
    )
    assert "try again in" in error.message
    assert (await accounts.authenticate("bob", PASSWORD, address="10.0.0.3")).login == "bob"
    # Per address, across accounts.
    await fails("bob", "10.9.9.9")
    await fails("carol", "10.9.9.9")
    await fails("nobody", "10.9.9.9")
    await refused(
        TooManyAttempts,
        "too_many_attempts",
        accounts.authenticate("dave", PASSWORD, address="10.9.9.9"),
    )
    assert (await accounts.authenticate("dave", PASSWORD, address="10.0.0.4")).login == "dave"
    # The lockouts end by themselves, and the count starts afresh afterwards.
    await asyncio.sleep(3.1)
    await fails("alice", "10.0.0.1")
    assert (await accounts.authenticate("alice", PASSWORD, address="10.0.0.1")).login == "alice"
    assert (await accounts.authenticate("dave", PASSWORD, address="10.9.9.9")).login == "dave"


async def test_tokens_expire_and_are_revoked(services: Services, accounts: AccountService) -> None:
    alice = await add(accounts, "alice")
    session = await accounts.login("alice", PASSWORD, address=None)
    info = await services.tokens.verify(session.token, {COMMAND_KIND})
    lifetime = services.settings.token_lifetime_seconds
    assert info.expires_at is not None
    assert abs(info.expires_at - (alice.created_at + lifetime)) < 60
    # The kind matters: a command token is no engine sign-in.
    await refused(
        AuthenticationRequired, None, accounts.user_for_token(session.token, {ENGINE_SESSION_KIND})
    )
    await refused(AuthenticationRequired, None, accounts.user_for_token(None, {COMMAND_KIND}))
    await refused(AuthenticationRequired, None, accounts.user_for_token("forged", {COMMAND_KIND}))
    # The account behind a token is remembered briefly, but never across a change.
    assert (await accounts.user_for_token(session.token, {COMMAND_KIND})).nickname == "alice"
    await accounts.edit_self(alice, {"nickname": "Ally"})
    assert (await accounts.user_for_token(session.token, {COMMAND_KIND})).nickname == "Ally"
    op = await add(accounts, "op", role="admin")
    await accounts.edit("alice", {"type": 0}, actor=op)
    assert (await accounts.user_for_token(session.token, {COMMAND_KIND})).type == Role.OPERATOR
    short = await services.tokens.issue(COMMAND_KIND, str(alice.id), lifetime=1)
    assert (await accounts.user_for_token(short, {COMMAND_KIND})).login == "alice"
    await asyncio.sleep(2.1)
    await refused(AuthenticationRequired, None, accounts.user_for_token(short, {COMMAND_KIND}))
    await accounts.logout(session.token)
    await refused(
        AuthenticationRequired, None, accounts.user_for_token(session.token, {COMMAND_KIND})
    )


async def test_guest_logins_and_reuse(
    accounts: AccountService, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await accounts.login_guest(None)
    assert first.user.type == Role.GUEST and first.user.flag_temporary
    assert first.user.login.startswith("guest-")
    assert (await accounts.user_for_token(first.token, {COMMAND_KIND})).id == first.user.id
    # A guest who logged in within the hour is busy: the next one gets another account.
    second = await accounts.login_guest("Visitor")
    assert second.user.login == "visitor" and second.user.id != first.user.id
    await refused(InvalidInput, None, accounts.login_guest("spy@other.example"))
    await refused(InvalidInput, "login_invalid", accounts.login_guest("two words"))
    # Once nobody has used a guest account for the hour, it is handed out again.
    monkeypatch.setattr(accounts_module, "GUEST_BUSY_SECONDS", -10)
    again = await accounts.login_guest(None)
    assert again.user.id in (first.user.id, second.user.id)
    assert again.token not in (first.token, second.token)


async def test_guest_policies(make_services: ServicesFactory) -> None:
    services = await make_services(allow_custom_guests=False)
    await refused(Conflict, "no_guest_free", services.accounts.login_guest(None))
    await services.accounts.create("lobby", None, role="guest", trusted=True)
    assert (await services.accounts.login_guest(None)).user.login == "lobby"
    await refused(Conflict, "no_guest_free", services.accounts.login_guest(None))


async def test_guest_logins_can_be_closed(make_services: ServicesFactory) -> None:
    services = await make_services(allow_guest_login=False)
    await refused(FeatureClosed, "guests_not_allowed", services.accounts.login_guest(None))


# -- the security code ---------------------------------------------------------------------


def test_security_code_is_logged_matched_and_renewed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tidecast.security"):
        code = SecurityCode()
    first = code.peek()
    assert len(first) == 6 and first.isdigit()
    assert f"security code: {first}" in caplog.text
    assert code.matches(first) and code.matches(f" {first} ") and code.matches(int(first))
    assert not code.matches(None) and not code.matches(True) and not code.matches("")
    assert code.consume(first)
    # Each use replaces the code (a new one may repeat the old by chance: 1 in a million).
    assert caplog.text.count("security code: ") == 2
    assert f"security code: {code.peek()}" in caplog.text
    assert not code.consume("not a code")


async def test_a_renamed_account_keeps_its_playlist(services: Services) -> None:
    from tidecast.core.playlists import ItemFilter, NewItem

    user = await services.accounts.create("mover", "long-enough-pw", trusted=True)
    await services.playlists.add_item(
        "mover", NewItem(title="Mine", video_url="http://media.invalid/m.mp4")
    )
    renamed = await services.accounts.rename(user, "mover@home.example")
    page = await services.playlists.page(ItemFilter(owner=renamed.login))
    assert [i.title for i in page.items] == ["Mine"]


async def test_the_admin_account_cannot_delete_itself(services: Services) -> None:
    from tidecast.core.errors import AccessDenied

    admin = await services.accounts.create("admin", "long-enough-pw", role="admin", trusted=True)
    await services.accounts.create("second", "long-enough-pw", role="admin", trusted=True)
    with pytest.raises(AccessDenied):
        await services.accounts.delete_self(admin)


async def test_concurrent_guesses_are_throttled_like_sequential_ones(
    services: Services,
) -> None:
    from tidecast.core.errors import AuthenticationRequired, TooManyAttempts

    await services.accounts.create("target", "right-password-1", trusted=True)

    async def guess(n: int) -> str:
        try:
            await services.accounts.authenticate("target", f"wrong-{n:04d}", address="198.51.100.9")
        except TooManyAttempts:
            return "locked"
        except AuthenticationRequired:
            return "wrong"
        return "in"

    outcomes = await asyncio.gather(*(guess(n) for n in range(12)))
    limit = services.settings.login_account_failures
    assert outcomes.count("wrong") == limit
    assert outcomes.count("locked") == 12 - limit
    with pytest.raises(TooManyAttempts):
        await services.accounts.authenticate("target", "right-password-1", address="198.51.100.9")


async def test_account_creation_is_throttled_per_address(
    make_settings: Callable[..., Settings],
) -> None:
    from tidecast.core.errors import TooManyAttempts

    services = build_services(make_settings(login_address_failures=3))
    await services.start()
    try:
        for n in range(3):
            await services.accounts.create(f"spam{n}", "long-enough-pw", address="203.0.113.5")
        with pytest.raises(TooManyAttempts):
            await services.accounts.create("spam9", "long-enough-pw", address="203.0.113.5")
        await services.accounts.create("other", "long-enough-pw", address="203.0.113.6")
    finally:
        await services.stop()


async def test_temporary_guests_are_capped_and_reuse_ends_old_tokens(
    make_settings: Callable[..., Settings],
) -> None:
    from tidecast.core.credentials import COMMAND_KIND
    from tidecast.core.errors import AuthenticationRequired, Conflict

    services = build_services(make_settings(max_temporary_guests=2))
    await services.start()
    try:
        await services.accounts.login_guest(None)
        await services.accounts.login_guest(None)
        with pytest.raises(Conflict):
            await services.accounts.login_guest(None)
        # A guest free again (long unused) is handed out afresh, without its old tokens.
        guest = await services.accounts.create("lobby", None, role="guest", trusted=True)
        first = await services.accounts.login_guest(None)
        assert first.user.login == guest.login
        async with services.db.write() as conn:
            from tidecast.storage import users_repo

            await users_repo.update_values(conn, first.user.id or 0, {"last_login_at": 1})
        second = await services.accounts.login_guest(None)
        assert second.user.login == guest.login
        with pytest.raises(AuthenticationRequired):
            await services.accounts.user_for_token(first.token, {COMMAND_KIND})
    finally:
        await services.stop()


async def test_admin_login_is_reserved_and_emails_cannot_be_shadowed(services: Services) -> None:
    from tidecast.core.errors import AccessDenied, Conflict

    with pytest.raises(AccessDenied):
        await services.accounts.create("admin", "long-enough-pw")
    await services.accounts.create("carol", "long-enough-pw", email="carol@mail.test")
    with pytest.raises(Conflict):
        await services.accounts.create("carol@mail.test", "long-enough-pw")
    # The host's console may create and remove it.
    await services.accounts.create("admin", "long-enough-pw", role="admin", trusted=True)
    await services.accounts.create("root", "long-enough-pw", role="admin", trusted=True)
    await services.accounts.delete("admin", actor=None, trusted=True)


async def test_the_security_code_is_throttled_per_address(services: Services) -> None:
    from tidecast.core.errors import AccessDenied

    code = services.accounts.security_code
    await services.accounts.create("resetme", "long-enough-pw", trusted=True)
    for _ in range(5):
        with pytest.raises(AccessDenied):
            await services.accounts.reset_password(
                "resetme", "new-password-1", "000000", address="203.0.113.7"
            )
    # That address is locked out; the operator's own console address is not.
    assert not code.consume(code.peek(), "203.0.113.7")
    await services.accounts.reset_password(
        "resetme", "new-password-2", code.peek(), address="127.0.0.1"
    )
    # The code is checked before the account: a wrong code tells nothing about who exists.
    with pytest.raises(AccessDenied):
        await services.accounts.reset_password("nobody", "new-password-3", "1", address="::1")


async def test_the_last_two_operators_cannot_both_leave(services: Services) -> None:
    from tidecast.core.errors import AccessDenied

    one = await services.accounts.create("op1", "long-enough-pw", role="admin", trusted=True)
    two = await services.accounts.create("op2", "long-enough-pw", role="admin", trusted=True)
    results = await asyncio.gather(
        services.accounts.delete_self(one),
        services.accounts.delete_self(two),
        return_exceptions=True,
    )
    assert sum(isinstance(r, AccessDenied) for r in results) == 1
    remaining = [u for u in await services.accounts.all() if u.type == 0]
    assert len(remaining) == 1

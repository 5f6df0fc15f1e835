"""``Admin.Update`` (seed 001): every documented error code, and what a change does."""

from __future__ import annotations

from typing import Any

from tidecast.core.services import Services
from tidecast.core.users import User

from .conftest import PASSWORD, AdminApi, codes


def fields(operator: User, **changes: Any) -> dict[str, Any]:
    values = {
        "AdminID": operator.id,
        "Name": "The Boss",
        "Username": "boss",
        "EmailAddress": "boss@example.org",
    }
    return {**values, **changes}


async def test_missing_fields_are_1_2_4_and_6(api: AdminApi, session: str) -> None:
    body = await api.call("Admin.Update", SessionID=session)
    assert codes(body) == [1, 2, 4, 6]
    assert body["ErrorText"] == [
        "Missing name",
        "Missing username",
        "Missing email address",
        "Invalid admin ID",
    ]
    partial = await api.call("Admin.Update", SessionID=session, Name="x", EmailAddress="a@b.cd")
    assert codes(partial) == [2, 6]


async def test_invalid_admin_id_is_6(
    api: AdminApi, session: str, operator: User, services: Services
) -> None:
    viewer = await services.accounts.create("viewer", PASSWORD, trusted=True)
    for admin_id in ("abc", "-1", "0", "99999", str(viewer.id)):
        body = await api.call(
            "Admin.Update", SessionID=session, **fields(operator, AdminID=admin_id)
        )
        assert codes(body) == [6], admin_id


async def test_another_operators_account_is_8(
    api: AdminApi, session: str, operator: User, services: Services
) -> None:
    other = await services.accounts.create("second", PASSWORD, role="admin", trusted=True)
    body = await api.call("Admin.Update", SessionID=session, **fields(operator, AdminID=other.id))
    assert codes(body) == [8]
    assert body["ErrorText"] == ["Admin account not owned by the logged-in admin"]
    assert (await services.accounts.get("second")).nickname == "second"


async def test_invalid_email_is_7(api: AdminApi, session: str, operator: User) -> None:
    for email in ("not-an-email", "a@b", "two@@example.org"):
        body = await api.call(
            "Admin.Update", SessionID=session, **fields(operator, EmailAddress=email)
        )
        assert codes(body) == [7], email
        assert body["ErrorText"] == ["Invalid email address format"]


async def test_update_with_an_api_key_changes_name_and_email(
    api: AdminApi, admin_key: str, operator: User, services: Services
) -> None:
    body = await api.ok(
        "Admin.Update", APIKey=admin_key, **fields(operator, EmailAddress="Chief@Example.org")
    )
    assert "SessionID" not in body  # nothing that ends sessions changed
    user = await services.accounts.get("boss")
    assert (user.nickname, user.email) == ("The Boss", "chief@example.org")
    await api.ok("Users.Get", APIKey=admin_key)  # the key still works


async def test_new_username_ends_old_sessions_and_answers_a_new_one(
    api: AdminApi, session: str, operator: User, services: Services
) -> None:
    body = await api.ok("Admin.Update", SessionID=session, **fields(operator, Username="chief"))
    assert codes(await api.call("Users.Get", SessionID=session)) == [99998]
    await api.ok("Users.Get", SessionID=body["SessionID"])
    assert (await services.accounts.get("chief")).id == operator.id


async def test_password_follows_the_account_rules(
    api: AdminApi, session: str, operator: User, services: Services
) -> None:
    short = await api.call("Admin.Update", SessionID=session, **fields(operator, Password="short"))
    assert codes(short) == [9] and "8" in short["ErrorText"][0]
    taken = await services.accounts.create("taken", PASSWORD, trusted=True)
    clash = await api.call(
        "Admin.Update", SessionID=session, **fields(operator, Username=taken.login)
    )
    assert codes(clash) == [11]
    await api.ok("Users.Get", SessionID=session)  # nothing failed half-way: still logged in
    body = await api.ok(
        "Admin.Update", SessionID=session, **fields(operator, Password="a new long password")
    )
    login = await api.ok("Admin.Login", Username="boss", Password="a new long password")
    assert login["AdminInfo"]["Name"] == "The Boss"
    await api.ok("Users.Get", SessionID=body["SessionID"])

"""Running tidecast through ``/api.php``: users, plans and grants, devices, servers."""

from __future__ import annotations

from tidecast.core.services import Services
from tidecast.core.users import User

from .conftest import PASSWORD, AdminApi, codes


async def test_users_get_pages_and_searches(
    api: AdminApi, session: str, operator: User, services: Services
) -> None:
    for name in ("anna", "bert", "carl"):
        await services.accounts.create(name, None, role="guest", email=f"{name}@club.example")
    page = await api.ok("Users.Get", SessionID=session, RecordsPerRequest=2, RecordsFrom=1)
    assert page["TotalUsers"] == 4
    assert [user["Username"] for user in page["Users"]] == ["bert", "boss"]
    assert set(page["Users"][0]) == {
        "UserID", "Username", "Name", "EmailAddress", "Role", "2FA_Enabled", "CreatedOn",
        "LastLoginOn",
    }  # fmt: skip
    found = await api.ok("Users.Get", SessionID=session, SearchKeyword="CLUB")
    assert [user["Username"] for user in found["Users"]] == ["anna", "bert", "carl"]
    only_names = await api.ok(
        "Users.Get", SessionID=session, SearchKeyword="club", SearchField="Username"
    )
    assert only_names["TotalUsers"] == 0
    for wildcard in ("%", "_", "b_rt"):  # LIKE wildcards are plain characters
        none = await api.ok("Users.Get", SessionID=session, SearchKeyword=wildcard)
        assert none["TotalUsers"] == 0 and none["Users"] == []
    paged = await api.ok(
        "Users.Get", SessionID=session, SearchKeyword="Club", RecordsPerRequest=1, RecordsFrom=2
    )
    assert [user["Username"] for user in paged["Users"]] == ["carl"]
    assert paged["TotalUsers"] == 3
    bad = await api.call("Users.Get", SessionID=session, SearchField="password_hash")
    assert codes(bad) == [100010]


async def test_user_create_get_update_delete(
    api: AdminApi, session: str, services: Services
) -> None:
    created = await api.ok(
        "User.Create", SessionID=session, Username="Dora", Password=PASSWORD, Name="Dora D."
    )
    user_id = created["UserID"]
    assert isinstance(user_id, int)
    again = await api.call("User.Create", SessionID=session, Username="dora", Password=PASSWORD)
    assert codes(again) == [12] and again["ErrorText"] == ["Username already exists"]
    info = (await api.ok("User.Get", SessionID=session, Username="dora"))["UserInformation"]
    assert info["UserID"] == str(user_id) and info["Role"] == "user"
    assert info["Name"] == "Dora D." and info["Subscription"] is None
    await api.ok(
        "User.Update", SessionID=session, UserID=user_id, Role="admin",
        EmailAddress="dora@club.example", Username="dora2",
    )  # fmt: skip
    info = (await api.ok("User.Get", SessionID=session, UserID=user_id))["UserInformation"]
    assert (info["Role"], info["EmailAddress"], info["Username"]) == (
        "admin", "dora@club.example", "dora2",
    )  # fmt: skip
    await api.ok("Users.Delete", SessionID=session, Users=f"{user_id}")
    assert codes(await api.call("User.Get", SessionID=session, UserID=user_id)) == [100012]
    assert codes(await api.call("Users.Delete", SessionID=session)) == [100011]
    assert codes(await api.call("Users.Delete", SessionID=session, Users="1,x")) == [100010]


async def test_the_last_operator_cannot_be_deleted(
    api: AdminApi, session: str, operator: User
) -> None:
    body = await api.call("Users.Delete", SessionID=session, Users=str(operator.id))
    assert codes(body) == [100016] and "operator" in body["ErrorText"][0]


async def test_plans_and_grants(api: AdminApi, session: str, services: Services) -> None:
    guest = await services.accounts.create("eve", None, role="guest")
    created = await api.ok(
        "Plan.Create", SessionID=session, Name="Gold", DeviceLimit=3, DurationDays=30,
        Color="#ffd700",
    )  # fmt: skip
    plan_id = created["PlanID"]
    dup = await api.call(
        "Plan.Create", SessionID=session, Name="Gold", DeviceLimit=1, DurationDays=1
    )
    assert codes(dup) == [100013]
    updated = await api.ok("Plan.Update", SessionID=session, PlanID=plan_id, DeviceLimit=4)
    assert updated["Plan"]["DeviceLimit"] == 4 and updated["Plan"]["DurationDays"] == 30
    plans = (await api.ok("Plans.Get", SessionID=session))["Plans"]
    assert [plan["Name"] for plan in plans] == ["Gold"]
    grant = await api.ok("Grant.Create", SessionID=session, UserID=guest.id, PlanID=plan_id, Days=7)
    info = (await api.ok("User.Get", SessionID=session, UserID=guest.id))["UserInformation"]
    assert info["Subscription"]["Plan"]["Name"] == "Gold"
    assert info["Subscription"]["DaysLeft"] in (6, 7)
    grants = (await api.ok("Grants.Get", SessionID=session, UserID=guest.id))["Grants"]
    assert [(g["GrantID"], g["Active"]) for g in grants] == [(str(grant["GrantID"]), "Yes")]
    await api.ok("Grant.Revoke", SessionID=session, GrantID=grant["GrantID"])
    grants = (await api.ok("Grants.Get", SessionID=session, UserID=guest.id))["Grants"]
    assert grants[0]["Active"] == "No" and grants[0]["RevokedOn"]
    assert codes(await api.call("Grant.Revoke", SessionID=session, GrantID=999)) == [100012]
    await api.ok("Plan.Delete", SessionID=session, PlanID=plan_id)
    assert (await api.ok("Plans.Get", SessionID=session))["Plans"] == []


async def test_devices_and_their_revocation(
    api: AdminApi, session: str, services: Services
) -> None:
    user = await services.accounts.create("finn", PASSWORD)
    _token, device = await services.devices.login(
        "finn", PASSWORD, client_id="phone-1", name="Finn's phone", address=None
    )
    devices = (await api.ok("Devices.Get", SessionID=session, UserID=user.id))["Devices"]
    assert [(d["DeviceID"], d["Name"], d["Active"]) for d in devices] == [
        (str(device.id), "Finn's phone", "Yes")
    ]
    await api.ok("Device.Revoke", SessionID=session, DeviceID=device.id)
    devices = (await api.ok("Devices.Get", SessionID=session, UserID=user.id))["Devices"]
    assert devices[0]["Active"] == "No"
    assert codes(await api.call("Device.Revoke", SessionID=session, DeviceID=999)) == [100012]


async def test_servers(api: AdminApi, session: str) -> None:
    servers = (await api.ok("Servers.Get", SessionID=session))["Servers"]
    (own,) = servers
    assert own["IsSelf"] == "Yes" and own["BaseURL"].startswith("http://127.0.0.1:6878")
    changed = await api.ok(
        "Server.Update", SessionID=session, ServerID=own["ServerID"], City="Lyon",
        CountryCode="fr", Enabled="false",
    )  # fmt: skip
    assert changed["Server"]["City"] == "Lyon" and changed["Server"]["Country"] == "France"
    assert changed["Server"]["Enabled"] == "No"
    self_delete = await api.call("Server.Delete", SessionID=session, ServerID=own["ServerID"])
    assert codes(self_delete) == [100013]
    missing = await api.call("Server.Update", SessionID=session, ServerID=999, City="x")
    assert codes(missing) == [100012]
    token = (await api.ok("Server.JoinToken.Create", SessionID=session))["JoinToken"]
    assert isinstance(token, str) and len(token) > 20

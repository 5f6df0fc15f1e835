"""The web UI's admin pages over the in-process app: who may see them, every form's
effect through the core services, refusals next to their field, the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tidecast.core.errors import AuthenticationRequired, NotFound
from tidecast.core.instance import ALLOW_REMOTE
from tidecast.core.services import Services
from tidecast.core.users import Role

from .test_pages import PASSWORD, csrf_of, sign_in

ROOT = "root"
GET_PAGES = (
    "/webui/admin",
    "/webui/admin/users",
    "/webui/admin/users/1",
    "/webui/admin/plans",
    "/webui/admin/servers",
    "/webui/admin/access",
    "/webui/admin/audit",
)
POSTS = (
    "/webui/admin/users",
    "/webui/admin/users/1/type",
    "/webui/admin/users/1/password",
    "/webui/admin/users/1/delete",
    "/webui/admin/users/1/grants",
    "/webui/admin/users/1/grants/1/revoke",
    "/webui/admin/users/1/devices/1/revoke",
    "/webui/admin/plans",
    "/webui/admin/plans/1",
    "/webui/admin/plans/1/delete",
    "/webui/admin/servers/join-token",
    "/webui/admin/servers/1/delete",
    "/webui/admin/access",
)


@pytest.fixture
async def accounts(services: Services) -> dict[str, int]:
    """An operator ``root`` and a user ``alice``: their ids."""
    root = await services.accounts.create(ROOT, PASSWORD, role="admin", trusted=True)
    alice = await services.accounts.create("alice", PASSWORD, trusted=True)
    assert root.id is not None and alice.id is not None
    return {ROOT: root.id, "alice": alice.id}


async def signed_in_as(client: httpx.AsyncClient, login: str) -> str:
    """Sign in; the CSRF token of the session's forms."""
    assert (await sign_in(client, login)).status_code == 303
    return csrf_of((await client.get("/webui/watch")).text)


async def post(client: httpx.AsyncClient, path: str, csrf: str, **fields: str) -> httpx.Response:
    return await client.post(path, data={"csrf_token": csrf, **fields})


def error_of(html: str, field: str) -> str:
    """The message shown next to ``field``, which must name it as its description."""
    found = re.search(rf'<p class="error[^"]*"[^>]*id="{field}-error">([^<]*)</p>', html)
    assert found is not None, html
    assert re.search(rf'aria-describedby="[^"]*{field}-error', html), html
    return found.group(1)


@pytest.mark.usefixtures("accounts")
async def test_only_operators_see_the_admin_pages(client: httpx.AsyncClient) -> None:
    for path in GET_PAGES:
        reply = await client.get(path)
        assert reply.status_code == 303, path
        assert reply.headers["location"].startswith("/webui/login?next=")
    csrf = await signed_in_as(client, "alice")
    assert 'href="/webui/admin"' not in (await client.get("/webui/watch")).text
    for path in GET_PAGES:
        reply = await client.get(path)
        assert reply.status_code == 403, path
        assert "only operators may use this page" in reply.text
    for path in POSTS:
        reply = await post(client, path, csrf, role="admin", login="mallory", password=PASSWORD)
        assert reply.status_code == 403, path


async def test_operators_see_the_admin_pages(
    client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    await signed_in_as(client, ROOT)
    assert 'href="/webui/admin"' in (await client.get("/webui/watch")).text
    index = await client.get("/webui/admin")
    assert index.status_code == 303
    assert index.headers["location"] == "/webui/admin/users"
    for path in GET_PAGES[1:]:
        reply = await client.get(path.replace("/users/1", f"/users/{accounts['alice']}"))
        assert reply.status_code == 200, path
        assert 'href="/webui/static/admin.css"' in reply.text
        assert 'aria-label="Admin"' in reply.text
    assert (await client.get("/webui/admin/users/999")).status_code == 404
    assert (await client.get("/webui/admin/plans/999")).status_code == 404


async def test_creating_a_user_and_a_duplicate_login(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    reply = await post(
        client,
        "/webui/admin/users",
        csrf,
        login="Bob",
        password=PASSWORD,
        email="bob@example.com",
        role="user",
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/admin/users?created=bob"
    bob = await services.accounts.authenticate("bob", PASSWORD, address=None)
    assert (bob.email, bob.type) == ("bob@example.com", Role.USER)
    listing = await client.get(reply.headers["location"])
    assert 'id="created"' in listing.text
    assert f'href="/webui/admin/users/{bob.id}">bob<' in listing.text

    duplicate = await post(
        client, "/webui/admin/users", csrf, login="bob", password=PASSWORD, email="b2@example.com"
    )
    assert duplicate.status_code == 409
    assert error_of(duplicate.text, "login") == "User bob already exists."
    assert 'value="b2@example.com"' in duplicate.text  # what was typed stays
    short = await post(client, "/webui/admin/users", csrf, login="carol", password="short")
    assert short.status_code == 400
    assert "at least 8 characters" in error_of(short.text, "password")
    with pytest.raises(NotFound):
        await services.accounts.get("carol")
    assert len(await services.accounts.all()) == 3

    operator = await post(
        client, "/webui/admin/users", csrf, login="dave", password=PASSWORD, role="admin"
    )
    assert operator.status_code == 303
    assert (await services.accounts.get("dave")).type == Role.OPERATOR


async def test_changing_a_type_and_never_the_last_operator(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    root_page = f"/webui/admin/users/{accounts[ROOT]}"
    refused = await post(client, root_page + "/type", csrf, role="user")
    assert refused.status_code == 403
    assert error_of(refused.text, "role") == "The last operator cannot be removed."
    assert (await services.accounts.get(ROOT)).type == Role.OPERATOR

    alice_page = f"/webui/admin/users/{accounts['alice']}"
    reply = await post(client, alice_page + "/type", csrf, role="admin")
    assert reply.status_code == 303
    assert reply.headers["location"] == alice_page + "?saved=role"
    assert (await services.accounts.get("alice")).type == Role.OPERATOR
    bad = await post(client, alice_page + "/type", csrf, role="emperor")
    assert bad.status_code == 400
    assert error_of(bad.text, "role") == "Choose a type."

    # With another operator, root may step down, and is then sent away from admin pages.
    demoted = await post(client, root_page + "/type", csrf, role="user")
    assert demoted.headers["location"] == "/webui/watch"
    assert (await services.accounts.get(ROOT)).type == Role.USER
    assert (await client.get("/webui/admin/users")).status_code == 403


async def test_resetting_a_password(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    path = f"/webui/admin/users/{accounts['alice']}/password"
    short = await post(client, path, csrf, password="short")
    assert short.status_code == 400
    assert "at least 8 characters" in error_of(short.text, "password")
    await services.accounts.authenticate("alice", PASSWORD, address=None)

    reply = await post(client, path, csrf, password="another-long-password")
    assert reply.status_code == 303
    await services.accounts.authenticate("alice", "another-long-password", address=None)
    with pytest.raises(AuthenticationRequired):
        await services.accounts.authenticate("alice", PASSWORD, address=None)


async def test_deleting_a_user_but_never_the_last_operator(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    alice = f"/webui/admin/users/{accounts['alice']}/delete"
    unconfirmed = await post(client, alice, csrf)
    assert unconfirmed.status_code == 400
    assert error_of(unconfirmed.text, "confirm") == "Tick the box to delete alice."
    await services.accounts.get("alice")

    last = await post(client, f"/webui/admin/users/{accounts[ROOT]}/delete", csrf, confirm="yes")
    assert last.status_code == 403
    assert error_of(last.text, "confirm") == "The last operator cannot be removed."
    await services.accounts.get(ROOT)

    reply = await post(client, alice, csrf, confirm="yes")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/admin/users"
    with pytest.raises(NotFound):
        await services.accounts.get("alice")


async def test_plans_are_created_edited_granted_revoked_and_deleted(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    plan = {"name": "Family", "color": "#112233", "device_limit": "3", "duration_days": "30"}
    assert (await post(client, "/webui/admin/plans", csrf, **plan)).status_code == 303
    (family,) = await services.subscriptions.plans()
    assert (family.name, family.device_limit, family.duration_days) == ("Family", 3, 30)
    assert family.server_ids == ()
    duplicate = await post(client, "/webui/admin/plans", csrf, **plan)
    assert duplicate.status_code == 409
    assert error_of(duplicate.text, "name") == "A plan with this name exists."
    for number in ("x", "²", "1.5"):
        nonsense = await post(
            client, "/webui/admin/plans", csrf, **{**plan, "device_limit": number}
        )
        assert nonsense.status_code == 400
        assert error_of(nonsense.text, "device_limit") == "Devices must be a whole number."
    assert len(await services.subscriptions.plans()) == 1

    own = services.servers.self_id
    edit = {**plan, "duration_days": "60", f"server_{own}": "on"}
    assert (await post(client, f"/webui/admin/plans/{family.id}", csrf, **edit)).status_code == 303
    family = await services.subscriptions.plan(family.id)
    assert (family.duration_days, family.server_ids) == (60, (own,))
    (updated,), _ = await services.audit.entries(action="plan.update")
    assert updated.detail == {"fields": ["duration_days", "server_ids"], "result": "ok"}
    edit_page = await client.get(f"/webui/admin/plans/{family.id}")
    assert f'id="server_{own}" name="server_{own}" value="on" checked' in edit_page.text
    assert 'value="60"' in edit_page.text

    grants = f"/webui/admin/users/{accounts['alice']}/grants"
    backwards = await post(
        client, grants, csrf, plan_id=str(family.id), starts="2030-01-10", expires="2030-01-01"
    )
    assert backwards.status_code == 400
    assert "a day after the start" in error_of(backwards.text, "expires")
    reply = await post(client, grants, csrf, plan_id=str(family.id))
    assert reply.status_code == 303
    current = await services.subscriptions.current(accounts["alice"])
    assert current is not None and current.plan.id == family.id
    assert current.expires_at - current.starts_at == 60 * 86_400
    page = await client.get(f"/webui/admin/users/{accounts['alice']}")
    assert "Current plan: <strong>Family</strong>" in page.text

    revoke = f"{grants}/{current.grant_id}/revoke"
    assert (await post(client, revoke, csrf)).status_code == 303
    assert await services.subscriptions.current(accounts["alice"]) is None

    dated = await post(
        client, grants, csrf, plan_id=str(family.id), starts="2030-01-01", expires="2030-01-08"
    )
    assert dated.status_code == 303
    latest = (await services.subscriptions.grants_of(accounts["alice"]))[-1]
    assert (latest.expires_at - latest.starts_at) // 86_400 == 7

    delete = f"/webui/admin/plans/{family.id}/delete"
    assert (await post(client, delete, csrf)).status_code == 400
    assert (await post(client, delete, csrf, confirm="yes")).status_code == 303
    assert await services.subscriptions.plans() == []


async def test_servers_join_tokens_and_removing_a_node(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    page = await post(client, "/webui/admin/servers/join-token", csrf)
    assert page.status_code == 200
    found = re.search(
        r"tidecast node join http://127\.0\.0\.1:6878 --token (join_[\w-]+) --url ", page.text
    )
    assert found is not None, page.text
    joined = await services.servers.register(
        found.group(1), base_url="https://node1.example", name="node1"
    )
    listing = await client.get("/webui/admin/servers")
    assert "node1" in listing.text
    assert "https://node1.example" in listing.text
    assert 'aria-label="Remove node node1"' in listing.text

    removed = await post(client, f"/webui/admin/servers/{joined.server_id}/delete", csrf)
    assert removed.status_code == 303
    assert [s.name for s in await services.servers.list() if not s.is_self] == []
    own = await post(client, f"/webui/admin/servers/{services.servers.self_id}/delete", csrf)
    assert own.status_code == 409
    assert "This instance cannot be removed." in own.text


async def test_access_switches(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    assert not services.switches.allow_remote
    reply = await post(client, "/webui/admin/access", csrf, switch="remote", value="on")
    assert reply.status_code == 303
    assert services.switches.allow_remote
    await post(client, "/webui/admin/access", csrf, switch="intranet", value="off")
    assert not services.switches.allow_intranet
    page = await client.get("/webui/admin/access")
    assert 'id="remote-state">on<' in page.text
    assert 'id="intranet-state">off<' in page.text
    assert "security code: " in page.text
    assert services.accounts.security_code.peek() not in page.text
    await services.switches.load()  # what was stored is what is in force
    assert services.switches.allow_remote and not services.switches.allow_intranet
    bad = await post(client, "/webui/admin/access", csrf, switch="everything", value="on")
    assert bad.status_code == 400


@pytest.mark.usefixtures("accounts")
async def test_a_browser_cannot_shut_itself_out(
    services: Services, client_from: Callable[[str], httpx.AsyncClient]
) -> None:
    await services.switches.set(ALLOW_REMOTE, True)
    remote = client_from("203.0.113.7")
    csrf = await signed_in_as(remote, ROOT)
    reply = await post(remote, "/webui/admin/access", csrf, switch="remote", value="off")
    assert reply.status_code == 403
    assert "would shut this browser out" in error_of(reply.text, "remote")
    assert 'id="connected-as">the internet<' in reply.text
    assert services.switches.allow_remote


async def test_actions_are_audited_and_listed(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    await post(client, "/webui/admin/users", csrf, login="bob", password=PASSWORD)
    await post(client, "/webui/admin/users", csrf, login="bob", password=PASSWORD)
    await post(client, "/webui/admin/access", csrf, switch="remote", value="on")
    entries, total = await services.audit.entries(action="user.create")
    assert total == 2
    failed, ok = entries  # newest first
    assert (ok.actor, ok.target, ok.detail) == (ROOT, "bob", {"role": "user", "result": "ok"})
    assert ok.address == "127.0.0.1"
    assert failed.detail == {"role": "user", "result": "failed", "error": ["user_exists"]}
    (switch,), _ = await services.audit.entries(action="access.update")
    assert (switch.target, switch.detail) == (
        "allow_remote_access",
        {"value": True, "result": "ok"},
    )

    page = await client.get("/webui/admin/audit")
    actions = re.findall(r'data-label="Action"><code>([\w.]+)</code>', page.text)
    assert actions == ["access.update", "user.create", "user.create"]
    assert page.text.count('<tr class="failed">') == 1
    only = await client.get("/webui/admin/audit", params={"action": "access.update"})
    assert re.findall(r'data-label="Action"><code>([\w.]+)</code>', only.text) == ["access.update"]


@pytest.mark.usefixtures("accounts")
async def test_the_audit_log_is_paged(services: Services, client: httpx.AsyncClient) -> None:
    for number in range(30):
        await services.audit.record("test.entry", actor="someone", target=f"t{number:02d}")
    await signed_in_as(client, ROOT)
    first = await client.get("/webui/admin/audit", params={"action": "test.entry"})
    assert "t29" in first.text and "t05" in first.text and "t04" not in first.text
    assert "Page 1 of 2" in first.text
    second = await client.get("/webui/admin/audit", params={"action": "test.entry", "page": "2"})
    assert "t04" in second.text and "t05" not in second.text
    assert "Page 2 of 2" in second.text
    for nonsense in ("x", "²", "-1", "9" * 30):
        reply = await client.get("/webui/admin/audit", params={"page": nonsense})
        assert "Page 1 of" in reply.text


async def test_forms_without_the_csrf_token_change_nothing(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    csrf = await signed_in_as(client, ROOT)
    for token in (None, csrf[:-1] + ("0" if csrf[-1] != "0" else "1")):
        data = {"login": "eve", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        reply = await client.post("/webui/admin/users", data=data)
        assert reply.status_code == 403
        assert "the form expired" in reply.text
        switched = await client.post(
            "/webui/admin/access", data={"switch": "remote", "value": "on"}
        )
        assert switched.status_code == 403
    with pytest.raises(NotFound):
        await services.accounts.get("eve")
    assert not services.switches.allow_remote
    _, total = await services.audit.entries(action="user.create")
    assert total == 0


async def test_ids_no_row_can_have_are_not_found(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    await services.subscriptions.create_plan(
        name="Solo", color="#000000", device_limit=1, duration_days=30, server_ids=[]
    )
    csrf = await signed_in_as(client, ROOT)
    big = "9" * 20  # past every database's integer column
    alice = f"/webui/admin/users/{accounts['alice']}"
    for path in (f"/webui/admin/users/{big}", f"/webui/admin/plans/{big}"):
        assert (await client.get(path)).status_code == 404
    for path in (f"/webui/admin/servers/{big}/delete", f"{alice}/grants/{big}/revoke"):
        assert (await post(client, path, csrf)).status_code == 404
    reply = await post(client, f"{alice}/grants", csrf, plan_id=big)
    assert reply.status_code == 400
    assert error_of(reply.text, "plan_id") == "The plan must be a whole number."
    reply = await post(client, f"{alice}/grants", csrf, plan_id=str(2**31))
    assert error_of(reply.text, "plan_id") == "The plan is too large."


async def test_the_audit_log_is_filtered_by_user(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    await services.audit.record("user.create", actor="olga", target="by-olga")
    await services.audit.record("admin.login", actor="-", target="by-nobody")
    csrf = await signed_in_as(client, ROOT)
    await post(client, "/webui/admin/access", csrf, switch="remote", value="on")
    page = await client.get("/webui/admin/audit", params={"actor": " olga "})
    assert re.findall(r'data-label="Target">([^<]*)<', page.text) == ["by-olga"]
    assert 'id="actor" name="actor" type="search" value="olga"' in page.text
    nobody = await client.get("/webui/admin/audit", params={"actor": "-"})
    assert re.findall(r'data-label="Target">([^<]*)<', nobody.text) == ["by-nobody"]
    both = await client.get("/webui/admin/audit", params={"actor": ROOT, "action": "user.create"})
    assert "No entries of <code>user.create</code> by <strong>root</strong>." in both.text
    for name in ("device.revoke", "access.update", "server.join_token.create"):
        assert f'<option value="{name}">' in page.text  # the core's action names


@pytest.mark.usefixtures("accounts")
async def test_the_audit_log_pages_keep_both_filters(
    services: Services, client: httpx.AsyncClient
) -> None:
    for number in range(30):
        await services.audit.record("test.entry", actor="someone", target=f"t{number:02d}")
    await signed_in_as(client, ROOT)
    first = await client.get(
        "/webui/admin/audit", params={"action": "test.entry", "actor": "someone"}
    )
    assert 'href="/webui/admin/audit?action=test.entry&amp;actor=someone&amp;page=2"' in first.text


async def test_users_are_searched_and_paged(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    for number in range(60):
        await services.accounts.create(
            f"user{number:02d}",
            "",
            role="guest",
            nickname=f"Person {number:02d}",
            email=f"p{number:02d}@Example.org" if number % 2 else None,
            trusted=True,
        )
    await signed_in_as(client, ROOT)

    def logins(html: str) -> list[str]:
        return re.findall(r'href="/webui/admin/users/\d+">([^<]+)<', html)

    first = await client.get("/webui/admin/users")
    assert len(logins(first.text)) == 50 and logins(first.text)[0] == "alice"
    assert '<span class="badge">62</span>' in first.text
    assert "Page 1 of 2" in first.text
    assert 'href="/webui/admin/users?page=2" rel="next"' in first.text
    second = await client.get("/webui/admin/users", params={"page": "2"})
    assert logins(second.text) == [f"user{number}" for number in range(48, 60)]

    by_login = await client.get("/webui/admin/users", params={"q": "USER1"})
    assert logins(by_login.text) == [f"user{number}" for number in range(10, 20)]
    assert "Page 1 of" not in by_login.text  # one page: no pager
    by_name = await client.get("/webui/admin/users", params={"q": "person 07"})
    assert logins(by_name.text) == ["user07"]
    by_email = await client.get("/webui/admin/users", params={"q": "p0", "page": "1"})
    assert logins(by_email.text) == ["user01", "user03", "user05", "user07", "user09"]
    many = [f"m{number:02d}" for number in range(55)]
    for login in many:
        await services.accounts.create(
            login, "", role="guest", nickname=f"Mass {login}", trusted=True
        )
    mass = await client.get("/webui/admin/users", params={"q": "mass"})
    assert len(logins(mass.text)) == 50
    assert 'href="/webui/admin/users?q=mass&amp;page=2" rel="next"' in mass.text
    wildcard = await client.get("/webui/admin/users", params={"q": "user_1"})
    assert logins(wildcard.text) == []  # "_" is a plain character, not any one
    none = await client.get("/webui/admin/users", params={"q": "nobody-like-this"})
    assert logins(none.text) == []
    assert "No accounts match <strong>nobody-like-this</strong>." in none.text


async def test_an_operator_signs_out_a_users_device(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    token, phone = await services.devices.login(
        "alice", PASSWORD, client_id="phone-1", name="Alice's phone", address=None
    )
    _, tv = await services.devices.login(
        "alice", PASSWORD, client_id="tv-1", name="Living room", address=None
    )
    csrf = await signed_in_as(client, ROOT)
    alice = f"/webui/admin/users/{accounts['alice']}"
    page = await client.get(alice)
    assert "Alice&#39;s phone" in page.text and "<code>tv-1</code>" in page.text
    assert 'aria-label="Sign out Living room"' in page.text

    reply = await post(client, f"{alice}/devices/{phone.id}/revoke", csrf)
    assert reply.status_code == 303
    assert reply.headers["location"] == f"{alice}#devices"
    assert not (await services.devices.get(phone.id)).active
    assert (await services.devices.get(tv.id)).active
    with pytest.raises(AuthenticationRequired):
        await services.devices.session(token)
    page = await client.get(alice)
    assert "Sign out Alice&#39;s phone" not in page.text and "signed out" in page.text

    # A device is revoked only under its own account's page; unknown ones are not found.
    root = f"/webui/admin/users/{accounts[ROOT]}"
    assert (await post(client, f"{root}/devices/{tv.id}/revoke", csrf)).status_code == 404
    assert (await post(client, f"{alice}/devices/999/revoke", csrf)).status_code == 404
    assert (await post(client, f"{alice}/devices/{'9' * 20}/revoke", csrf)).status_code == 404
    assert (await services.devices.get(tv.id)).active

    entries, total = await services.audit.entries(action="device.revoke")
    assert total == 3  # the two refused are recorded as the admin command API records them
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        (ROOT, "device:999", {"result": "failed", "error": ["device_not_found"]}),
        (ROOT, f"device:{tv.id}", {"result": "failed", "error": ["device_not_found"]}),
        (ROOT, f"device:{phone.id}", {"result": "ok"}),
    ]


async def test_a_grant_is_revoked_only_under_its_own_accounts_page(
    services: Services, client: httpx.AsyncClient, accounts: dict[str, int]
) -> None:
    plan = await services.subscriptions.create_plan(
        name="Solo", color="#000000", device_limit=1, duration_days=30, server_ids=[]
    )
    grant = await services.subscriptions.grant(
        user_id=accounts["alice"], plan_id=plan.id, starts_at=None, days=None, by=ROOT
    )
    csrf = await signed_in_as(client, ROOT)
    root = f"/webui/admin/users/{accounts[ROOT]}"
    for path in (f"{root}/grants/{grant.id}/revoke", f"{root}/grants/999/revoke"):
        reply = await post(client, path, csrf)
        assert reply.status_code == 404
        assert 'id="page-error">no such grant<' in reply.text
    assert await services.subscriptions.current(accounts["alice"]) is not None

    entries, total = await services.audit.entries(action="grant.revoke")
    assert total == 2
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        (ROOT, "grant:999", {"result": "failed", "error": ["grant_not_found"]}),
        (ROOT, f"grant:{grant.id}", {"result": "failed", "error": ["grant_not_found"]}),
    ]
    alice = f"/webui/admin/users/{accounts['alice']}"
    assert (await post(client, f"{alice}/grants/{grant.id}/revoke", csrf)).status_code == 303
    assert await services.subscriptions.current(accounts["alice"]) is None

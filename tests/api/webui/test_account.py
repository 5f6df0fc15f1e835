"""The account pages and the guest and two-factor sign-in, over the in-process app."""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pyotp
import pytest
from PIL import Image

from tidecast.app import create_app
from tidecast.core.credentials import WEB_KIND
from tidecast.core.errors import AuthenticationRequired
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

from support.webui import PASSWORD, csrf_of, sign_in

NEW_PASSWORD = "another-long-password"


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def secret_of(page: str) -> str:
    found = re.search(r'id="tfa-secret"[^>]*>([A-Z2-7]+)<', page)
    assert found is not None, page
    return found.group(1)


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The code of the current step (or a later one: a step is accepted once, and one
    step of drift either side)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((size, size), 64).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def alice(services: Services) -> None:
    await services.accounts.create("alice", PASSWORD, nickname="Alice", trusted=True)


@pytest.fixture
async def signed_in(alice: None, client: httpx.AsyncClient) -> httpx.AsyncClient:
    assert (await sign_in(client)).status_code == 303
    return client


async def enrol(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Turn two-factor on through the pages; the secret and the recovery codes."""
    token = await csrf(client, "/webui/account/two-factor")
    begun = await client.post("/webui/account/two-factor/begin", data={"csrf_token": token})
    assert begun.status_code == 303
    page = (await client.get("/webui/account/two-factor")).text
    secret = secret_of(page)
    confirmed = await client.post(
        "/webui/account/two-factor/confirm", data={"csrf_token": token, "code": code_for(secret)}
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", confirmed.text)
    assert len(codes) == 10
    return secret, codes


async def sign_out(client: httpx.AsyncClient) -> None:
    token = await csrf(client, "/webui/account")
    assert (await client.post("/webui/logout", data={"csrf_token": token})).status_code == 303


# -- guests ------------------------------------------------------------------------------


async def test_a_guest_signs_in_where_guests_are_allowed(
    services: Services, client: httpx.AsyncClient
) -> None:
    page = await client.get("/webui/login")
    assert "Continue as guest" in page.text
    reply = await client.post("/webui/login/guest", data={"csrf_token": csrf_of(page.text)})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/watch"
    assert reply.headers["set-cookie"].startswith("tidecast_session=")
    user = await services.accounts.user_for_token(client.cookies["tidecast_session"], {WEB_KIND})
    assert user.type == 2
    account = await client.get("/webui/account")
    assert account.status_code == 200
    assert "Guest accounts cannot be changed." in account.text
    assert 'action="/webui/account/profile"' not in account.text
    refused = await client.post(
        "/webui/account/profile", data={"csrf_token": csrf_of(account.text), "nickname": "x"}
    )
    assert refused.status_code == 403


async def test_guest_sign_ins_from_one_address_are_throttled(
    client_from: Callable[[str], httpx.AsyncClient],
) -> None:
    """One address cannot use up every guest account: past the limit the page says so."""
    statuses = []
    for _ in range(8):
        browser = client_from("127.0.0.9")  # a new browser each time, the same address
        page = await browser.get("/webui/login")
        reply = await browser.post("/webui/login/guest", data={"csrf_token": csrf_of(page.text)})
        statuses.append(reply.status_code)
        if reply.status_code != 303:
            assert reply.status_code == 429
            assert "too many guest sign-ins" in reply.text
            assert "tidecast_session" not in reply.headers.get("set-cookie", "")
    assert 303 in statuses and statuses[-1] == 429
    other = client_from("127.0.0.10")
    page = await other.get("/webui/login")
    reply = await other.post("/webui/login/guest", data={"csrf_token": csrf_of(page.text)})
    assert reply.status_code == 303


@pytest.fixture
async def closed_client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an instance that does not allow guests."""
    settings = make_settings(allow_guest_login=False, data_dir=make_settings().data_dir / "closed")
    services = build_services(settings)
    await services.start()
    transport = httpx.ASGITransport(app=create_app(settings, services), client=("127.0.0.1", 1))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client
    finally:
        await services.stop()


async def test_guests_are_refused_where_not_allowed(closed_client: httpx.AsyncClient) -> None:
    page = await closed_client.get("/webui/login")
    assert page.status_code == 200
    assert "Continue as guest" not in page.text
    assert "/webui/login/guest" not in page.text
    # The button is hidden, and the server refuses the POST all the same.
    reply = await closed_client.post("/webui/login/guest", data={"csrf_token": csrf_of(page.text)})
    assert reply.status_code == 403
    assert 'id="form-error">Guest sign-in is not allowed' in reply.text
    assert "tidecast_session" not in reply.headers.get("set-cookie", "")


# -- profile and avatar ------------------------------------------------------------------


async def test_the_profile_is_edited(services: Services, signed_in: httpx.AsyncClient) -> None:
    client = signed_in
    page = await client.get("/webui/account")
    assert page.status_code == 200
    assert 'aria-current="page">Profile' in page.text
    assert 'value="Alice"' in page.text
    reply = await client.post(
        "/webui/account/profile",
        data={
            "csrf_token": csrf_of(page.text),
            "nickname": "Alice L.",
            "email": "Alice@Example.com",
            "language": "fr",
            "main_series_lang": "fre",
            "fallback_series_lang": "ENG",
        },
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/account?done=profile"
    user = await services.accounts.get("alice")
    assert (user.nickname, user.email, user.language) == ("Alice L.", "alice@example.com", "fr")
    assert (user.main_series_lang, user.fallback_series_lang) == ("fre", "eng")
    shown = await client.get(reply.headers["location"])
    assert 'id="notice">Your profile is saved.' in shown.text
    assert 'value="alice@example.com"' in shown.text
    # Emptied optional fields are unset.
    cleared = await client.post(
        "/webui/account/profile",
        data={"csrf_token": csrf_of(page.text), "nickname": "Alice L.", "email": ""},
    )
    assert cleared.status_code == 303
    user = await services.accounts.get("alice")
    assert (user.email, user.language, user.main_series_lang) == (None, None, None)


async def test_bad_profile_input_shows_next_to_its_field_and_changes_nothing(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    await services.accounts.create("bob", PASSWORD, nickname="Bobby", trusted=True)
    token = await csrf(client, "/webui/account")
    cases = (
        ({"email": "not-an-address"}, "email", "Email is not a valid address.", 400),
        (
            {"main_series_lang": "klingon"},
            "main_series_lang",
            "Main language of series must be an ISO 639-2/B code",
            400,
        ),
        ({"nickname": ""}, "nickname", "Display name must have 1 to 64 characters.", 400),
        ({"nickname": "bobby"}, "nickname", "Display name already in use.", 409),
    )
    for changes, field, message, status in cases:
        data = {"csrf_token": token, "nickname": "Changed", "email": "new@example.com", **changes}
        reply = await client.post("/webui/account/profile", data=data)
        assert reply.status_code == status, reply.text
        assert f'id="{field}-error">' in reply.text
        assert message in html.unescape(reply.text)
        assert f'aria-describedby="{field}-hint {field}-error"' in reply.text
        # What was typed is shown again, to correct it.
        assert f'value="{html.escape(data[field])}"' in reply.text
    user = await services.accounts.get("alice")
    assert (user.nickname, user.email, user.main_series_lang) == ("Alice", None, None)


async def test_an_avatar_is_uploaded_and_shown(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    page = await client.get("/webui/account")
    assert 'id="avatar-none"' in page.text
    image = png()
    reply = await client.post(
        "/webui/account/avatar",
        data={"csrf_token": csrf_of(page.text)},
        files={"avatar": ("me.png", image, "image/png")},
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/account?done=avatar"
    key = (await services.accounts.get("alice")).avatar_file
    shown = await client.get("/webui/account")
    assert f'src="/avatars/{key}"' in shown.text
    served = await client.get(f"/avatars/{key}")
    assert served.status_code == 200
    assert served.content == image
    assert served.headers["content-type"] == "image/png"


async def test_a_bad_avatar_is_refused(services: Services, signed_in: httpx.AsyncClient) -> None:
    client = signed_in
    token = await csrf(client, "/webui/account")
    before = (await services.accounts.get("alice")).avatar_file
    for files, message in (
        ({"avatar": ("me.png", b"<svg onload=alert(1)>", "image/png")}, "Not an image"),
        ({"avatar": ("me.png", png(64)[:-500], "image/png")}, "corrupt or truncated"),
        ({}, "Choose an image file first."),
    ):
        reply = await client.post(
            "/webui/account/avatar", data={"csrf_token": token}, files=files or None
        )
        assert reply.status_code == 400, reply.text
        assert 'id="avatar-error"' in reply.text
        assert message in reply.text
    huge = b"\x89PNG" + b"\0" * (services.avatars.max_bytes + 1)
    reply = await client.post(
        "/webui/account/avatar",
        data={"csrf_token": token},
        files={"avatar": ("big.png", huge, "image/png")},
    )
    assert reply.status_code == 413
    assert 'id="avatar-error"' in reply.text
    assert (await services.accounts.get("alice")).avatar_file == before


# -- password ----------------------------------------------------------------------------


async def test_the_password_change_needs_the_current_one(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    page = await client.get("/webui/account/password")
    assert "signs out every other browser, app and device" in page.text
    token = csrf_of(page.text)
    other = await services.accounts.login("alice", PASSWORD, address=None)
    old_cookie = client.cookies["tidecast_session"]

    def form(current: str, new: str, again: str | None = None) -> dict[str, str]:
        return {
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm_password": new if again is None else again,
        }

    wrong = await client.post("/webui/account/password", data=form("not-it", NEW_PASSWORD))
    assert wrong.status_code == 401
    assert 'id="current_password-error">That is not your current password.' in wrong.text
    short = await client.post("/webui/account/password", data=form(PASSWORD, "short"))
    assert short.status_code == 400
    assert 'id="new_password-error">The new password must have at least 8' in short.text
    mismatch = await client.post(
        "/webui/account/password", data=form(PASSWORD, NEW_PASSWORD, "different-password")
    )
    assert mismatch.status_code == 400
    assert 'id="confirm_password-error">' in mismatch.text
    await services.accounts.authenticate("alice", PASSWORD, address=None)  # unchanged

    changed = await client.post("/webui/account/password", data=form(PASSWORD, NEW_PASSWORD))
    assert changed.status_code == 303
    assert changed.headers["location"] == "/webui/account/password?done=password"
    # This browser has a new session; every other token of the account ended.
    assert client.cookies["tidecast_session"] != old_cookie
    notice = await client.get(changed.headers["location"])
    assert notice.status_code == 200
    assert "Your password is changed." in notice.text
    for stale, kinds in ((other.token, {"command"}), (old_cookie, {WEB_KIND})):
        with pytest.raises(AuthenticationRequired):
            await services.accounts.user_for_token(stale, kinds)
    await sign_out(client)
    assert (await sign_in(client, password=PASSWORD)).status_code == 401
    assert (await sign_in(client, password=NEW_PASSWORD)).status_code == 303


# -- devices and subscription ------------------------------------------------------------


async def device_login(client: httpx.AsyncClient, device: str, name: str) -> str:
    reply = await client.post(
        "/api/login",
        json={"email": "alice", "password": PASSWORD, "device_id": device, "device_name": name},
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


async def test_devices_are_listed_and_signed_out(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    empty = await client.get("/webui/account/devices")
    assert 'id="no-devices"' in empty.text
    tv = await device_login(client, "tv-1", "Living-room TV")
    phone = await device_login(client, "phone-1", "Phone")
    page = await client.get("/webui/account/devices")
    assert "Living-room TV" in page.text and "Phone" in page.text
    assert f"2 in use of {services.settings.default_device_limit} allowed" in page.text
    alice = await services.accounts.get("alice")
    assert alice.id is not None
    devices = {d.name: d for d in await services.devices.of_user(alice.id)}
    bearer = {"Authorization": f"Bearer {tv}"}
    assert (await client.get("/api/user", headers=bearer)).status_code == 200

    reply = await client.post(
        f"/webui/account/devices/{devices['Living-room TV'].id}/sign-out",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/account/devices?done=device"
    assert (await client.get("/api/user", headers=bearer)).status_code == 401
    other = {"Authorization": f"Bearer {phone}"}
    assert (await client.get("/api/user", headers=other)).status_code == 200
    after = await client.get(reply.headers["location"])
    assert "The device is signed out." in after.text
    assert "1 in use" in after.text
    assert after.text.count("Sign out Phone") == 1
    assert "Sign out Living-room TV" not in after.text


async def test_another_accounts_device_cannot_be_signed_out(
    services: Services,
    signed_in: httpx.AsyncClient,
    client_from: Callable[[str], httpx.AsyncClient],
) -> None:
    await services.accounts.create("bob", PASSWORD, trusted=True)
    bob = client_from("127.0.0.2")
    reply = await bob.post(
        "/api/login",
        json={"email": "bob", "password": PASSWORD, "device_id": "b", "device_name": "Bob's"},
    )
    device_id = reply.json()["device_id"]
    token = await csrf(signed_in, "/webui/account/devices")
    for target in (device_id, "999", "x"):
        refused = await signed_in.post(
            f"/webui/account/devices/{target}/sign-out", data={"csrf_token": token}
        )
        assert refused.status_code in (400, 403), refused.text
    bearer = {"Authorization": f"Bearer {reply.json()['token']}"}
    assert (await bob.get("/api/user", headers=bearer)).status_code == 200


async def test_the_subscription_is_shown(services: Services, signed_in: httpx.AsyncClient) -> None:
    client = signed_in
    none = await client.get("/webui/account/subscription")
    assert 'id="no-subscription">You have no subscription.' in none.text
    plan = await services.subscriptions.create_plan(
        name="Gold", color="#d4a017", device_limit=3, duration_days=30, server_ids=[]
    )
    alice = await services.accounts.get("alice")
    assert alice.id is not None
    await services.subscriptions.grant(user_id=alice.id, plan_id=plan.id, days=10)
    page = await client.get("/webui/account/subscription")
    assert "Gold" in page.text
    assert 'fill="#d4a017"' in page.text
    assert 'id="days-left">10<' in page.text
    assert 'id="device-limit">up to 3<' in page.text
    devices = await client.get("/webui/account/devices")
    assert "0 in use of 3 allowed" in devices.text


# -- two-factor --------------------------------------------------------------------------


async def test_two_factor_enrolment_shows_a_qr_code_and_its_secret(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    page = await client.get("/webui/account/two-factor")
    assert 'id="tfa-state"><span class="badge">Off</span>' in page.text
    token = csrf_of(page.text)
    assert (
        await client.post("/webui/account/two-factor/begin", data={"csrf_token": token})
    ).status_code == 303
    pending = await client.get("/webui/account/two-factor")
    assert re.search(
        r'<img id="tfa-qr" src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="QR', pending.text
    )
    secret = secret_of(pending.text)
    wrong = await client.post(
        "/webui/account/two-factor/confirm", data={"csrf_token": token, "code": "000000"}
    )
    assert wrong.status_code == 400
    assert 'id="code-error">' in wrong.text
    assert secret_of(wrong.text) == secret  # still the same enrolment
    alice = await services.accounts.get("alice")
    assert alice.id is not None
    assert not await services.two_factor.is_enabled(alice.id)
    confirmed = await client.post(
        "/webui/account/two-factor/confirm",
        data={"csrf_token": token, "code": code_for(secret)},
    )
    assert confirmed.status_code == 200
    assert "These codes are shown only now." in confirmed.text
    assert confirmed.headers["cache-control"] == "no-store"
    assert await services.two_factor.is_enabled(alice.id)
    on = await client.get("/webui/account/two-factor")
    assert "tfa-secret" not in on.text and "recovery-codes" not in on.text
    assert '<span class="badge on">On</span>' in on.text


async def test_two_factor_sign_in_asks_for_the_code(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    secret, _ = await enrol(client)
    await sign_out(client)

    first = await sign_in(client)
    assert first.status_code == 303
    assert first.headers["location"] == "/webui/login/code?next=%2Fwebui%2Fwatch"
    assert "tidecast_session=" not in first.headers["set-cookie"]
    assert "tidecast_pending=" in first.headers["set-cookie"]
    assert (await client.get("/webui/account")).status_code == 303  # not signed in yet
    form = await client.get(first.headers["location"])
    assert form.status_code == 200
    assert "Enter your code" in form.text
    token = csrf_of(form.text)

    wrong = await client.post(
        "/webui/login/code", data={"csrf_token": token, "code": "123456", "next": "/webui/account"}
    )
    assert wrong.status_code == 401
    assert 'id="code-error">' in wrong.text
    assert "tidecast_session" not in wrong.headers.get("set-cookie", "")
    right = await client.post(
        "/webui/login/code",
        data={"csrf_token": token, "code": code_for(secret, 1), "next": "/webui/account"},
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/webui/account"
    assert right.headers["set-cookie"].startswith("tidecast_session=")
    assert "tidecast_pending" not in client.cookies
    assert (await client.get("/webui/account")).status_code == 200
    # The code just used is spent.
    await sign_out(client)
    await sign_in(client)
    token = await csrf(client, "/webui/login/code")
    replay = await client.post(
        "/webui/login/code", data={"csrf_token": token, "code": code_for(secret, 1)}
    )
    assert replay.status_code == 401


async def test_a_recovery_code_signs_in_once_and_turns_two_factor_off(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    _, codes = await enrol(client)
    await sign_out(client)
    await sign_in(client)
    token = await csrf(client, "/webui/login/code")
    bad = await client.post(
        "/webui/login/code", data={"csrf_token": token, "recovery_code": "aaaa-bbbb-cccc"}
    )
    assert bad.status_code == 401
    assert 'id="recovery_code-error">' in bad.text
    reply = await client.post(
        "/webui/login/code", data={"csrf_token": token, "recovery_code": codes[3].upper()}
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/account/two-factor?done=recovered"
    page = await client.get(reply.headers["location"])
    assert "two-factor authentication is now off" in page.text
    assert '<span class="badge">Off</span>' in page.text


async def test_the_pending_step_is_bound_to_its_browser(
    services: Services,
    signed_in: httpx.AsyncClient,
    client_from: Callable[[str], httpx.AsyncClient],
) -> None:
    client = signed_in
    secret, _ = await enrol(client)
    await sign_out(client)
    await sign_in(client)
    pending = client.cookies["tidecast_pending"]
    # Another browser holding only the pending cookie gets no further than the password.
    thief = client_from("127.0.0.1")
    thief.cookies.set("tidecast_pending", pending, path="/webui")
    assert (await thief.get("/webui/login/code")).headers["location"].startswith("/webui/login?")
    token = await csrf(thief, "/webui/login")
    stolen = await thief.post(
        "/webui/login/code", data={"csrf_token": token, "code": code_for(secret, 1)}
    )
    assert stolen.status_code == 401
    assert "took too long" in stolen.text
    assert "tidecast_session" not in thief.cookies
    # A forged cookie (another account id under the same signature) is refused as well.
    forged = "2" + pending[pending.index(".") :]
    client.cookies.set("tidecast_pending", forged, path="/webui")
    assert (await client.get("/webui/login/code")).status_code == 303


async def test_wrong_codes_are_throttled(services: Services, signed_in: httpx.AsyncClient) -> None:
    client = signed_in
    secret, _ = await enrol(client)
    await sign_out(client)
    await sign_in(client)
    token = await csrf(client, "/webui/login/code")
    for _ in range(services.settings.login_account_failures):
        wrong = await client.post("/webui/login/code", data={"csrf_token": token, "code": "000000"})
        assert wrong.status_code == 401
    locked = await client.post(
        "/webui/login/code", data={"csrf_token": token, "code": code_for(secret, 1)}
    )
    assert locked.status_code == 429
    assert 'id="form-error"' in locked.text
    assert "tidecast_session" not in client.cookies


async def test_two_factor_is_turned_off_with_a_code_or_the_password(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    alice = await services.accounts.get("alice")
    assert alice.id is not None
    secret, _ = await enrol(client)
    token = await csrf(client, "/webui/account/two-factor")
    wrong = await client.post(
        "/webui/account/two-factor/disable", data={"csrf_token": token, "password": "not-it"}
    )
    assert wrong.status_code == 401
    assert 'id="password-error">That is not your password.' in wrong.text
    empty = await client.post("/webui/account/two-factor/disable", data={"csrf_token": token})
    assert empty.status_code == 400
    assert await services.two_factor.is_enabled(alice.id)
    off = await client.post(
        "/webui/account/two-factor/disable", data={"csrf_token": token, "code": code_for(secret, 1)}
    )
    assert off.status_code == 303
    assert off.headers["location"] == "/webui/account/two-factor?done=two-factor-off"
    assert not await services.two_factor.is_enabled(alice.id)
    await enrol(client)
    by_password = await client.post(
        "/webui/account/two-factor/disable", data={"csrf_token": token, "password": PASSWORD}
    )
    assert by_password.status_code == 303
    assert not await services.two_factor.is_enabled(alice.id)


# -- CSRF --------------------------------------------------------------------------------


async def test_account_posts_without_the_csrf_token_change_nothing(
    services: Services, signed_in: httpx.AsyncClient
) -> None:
    client = signed_in
    alice = await services.accounts.get("alice")
    assert alice.id is not None
    await device_login(client, "tv-1", "TV")
    device = (await services.devices.of_user(alice.id))[0]
    posts = (
        ("/webui/account/profile", {"nickname": "Mallory"}),
        (
            "/webui/account/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        ),
        ("/webui/account/two-factor/begin", {}),
        (f"/webui/account/devices/{device.id}/sign-out", {}),
    )
    for path, data in posts:
        for token in (None, "0" * 64):
            sent = {**data, **({"csrf_token": token} if token else {})}
            reply = await client.post(path, data=sent)
            assert reply.status_code == 403, (path, reply.text)
            assert "the form expired" in reply.text
    avatar = await client.post(
        "/webui/account/avatar",
        data={"csrf_token": "0" * 64},
        files={"avatar": ("me.png", png(), "image/png")},
    )
    assert avatar.status_code == 403
    after = await services.accounts.get("alice")
    assert (after.nickname, after.avatar_file) == ("Alice", alice.avatar_file)
    await services.accounts.authenticate("alice", PASSWORD, address=None)
    assert await services.two_factor.enrolment(after) is None
    assert (await services.devices.get(device.id)).active

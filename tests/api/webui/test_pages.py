"""The web UI over the in-process app: cookies, CSRF, validation, the engine's exact path."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx
import pytest

from tidecast.app import create_app
from tidecast.core.errors import Conflict
from tidecast.core.instance import ALLOW_REMOTE
from tidecast.core.services import Services, build_services
from tidecast.settings import Settings

from support.webui import PASSWORD, csrf_of, sign_in


@pytest.fixture
async def alice(services: Services) -> None:
    await services.accounts.create("alice", PASSWORD, trusted=True)


async def test_the_engine_path_under_webui_still_answers(client: httpx.AsyncClient) -> None:
    reply = await client.get("/webui/api/service", params={"method": "get_version"})
    assert reply.status_code == 200
    assert reply.json()["result"]["version"]


async def test_signed_out_pages_send_the_browser_to_sign_in(client: httpx.AsyncClient) -> None:
    reply = await client.get("/webui/watch?content=x")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/login?next=%2Fwebui%2Fwatch%3Fcontent%3Dx"
    page = await client.get("/webui/login")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert "tidecast_presession=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.usefixtures("alice")
async def test_sign_in_sets_a_web_session_cookie(client: httpx.AsyncClient) -> None:
    reply = await sign_in(client)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/watch"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("tidecast_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/webui" in cookie
    page = await client.get("/webui/watch")
    assert page.status_code == 200
    assert "Signed in as" in page.text


@pytest.mark.usefixtures("alice")
async def test_the_session_cookie_is_secure_over_https(services: Services) -> None:
    from tidecast.app import create_app

    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as client:
        reply = await sign_in(client)
    assert reply.status_code == 303
    assert "Secure" in reply.headers["set-cookie"]


@pytest.mark.usefixtures("alice")
async def test_errors_show_next_to_their_field(client: httpx.AsyncClient) -> None:
    page = await client.get("/webui/login")
    token = csrf_of(page.text)
    empty = await client.post("/webui/login", data={"csrf_token": token, "login": "alice"})
    assert empty.status_code == 400
    assert 'id="password-error">Enter your password.' in empty.text
    assert 'aria-describedby="password-error"' in empty.text
    wrong = await client.post(
        "/webui/login", data={"csrf_token": token, "login": "alice", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert 'id="password-error">Wrong login or password.' in wrong.text
    assert 'value="alice"' in wrong.text


@pytest.mark.usefixtures("alice")
async def test_posts_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await client.get("/webui/login")
    refused = await client.post("/webui/login", data={"login": "alice", "password": PASSWORD})
    assert refused.status_code == 403
    assert "tidecast_session" not in refused.headers.get("set-cookie", "")
    await sign_in(client)
    page = await client.get("/webui/watch")
    csrf = csrf_of(page.text)
    for token in (None, "0" * 64, csrf[:-1] + ("0" if csrf[-1] != "0" else "1")):
        data = {"content": "0a4848271c91ce2d8965ce416267c25047dc8141"}
        if token:
            data["csrf_token"] = token
        reply = await client.post("/webui/watch", data=data)
        assert reply.status_code == 403
        assert "the form expired" in reply.text
    # The pre-session token is no longer good once signed in.
    logout = await client.post("/webui/logout", data={"csrf_token": "x"})
    assert logout.status_code == 403


@pytest.mark.usefixtures("alice")
async def test_sign_out_ends_the_session(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    page = await client.get("/webui/watch")
    token = client.cookies["tidecast_session"]
    reply = await client.post("/webui/logout", data={"csrf_token": csrf_of(page.text)})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/webui/login"
    client.cookies.set("tidecast_session", token, path="/webui")
    assert (await client.get("/webui/watch")).status_code == 303


@pytest.mark.usefixtures("alice")
async def test_the_watch_form_validates_on_the_server(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    token = csrf_of((await client.get("/webui/watch")).text)
    for content, message in (
        ("", "Paste a magnet"),
        ("ftp://example.com/x", "unknown protocol"),
        ("acestream://xyz", "40 hexadecimal digits"),
    ):
        reply = await client.post("/webui/watch", data={"csrf_token": token, "content": content})
        assert reply.status_code == 400, reply.text
        assert 'id="content-error"' in reply.text
        assert message in reply.text


@pytest.mark.usefixtures("alice")
async def test_the_login_throttle_applies(services: Services, client: httpx.AsyncClient) -> None:
    token = csrf_of((await client.get("/webui/login")).text)
    limit = services.settings.login_account_failures
    for _ in range(limit):
        await client.post(
            "/webui/login", data={"csrf_token": token, "login": "alice", "password": "nope"}
        )
    reply = await client.post(
        "/webui/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD}
    )
    assert reply.status_code == 429
    assert 'id="form-error"' in reply.text


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    for name in ("webui.css", "watch.js"):
        reply = await client.get(f"/webui/static/{name}")
        assert reply.status_code == 200


async def test_cookies_are_secure_behind_a_trusted_tls_proxy(
    make_settings: Callable[..., Settings],
) -> None:
    """TLS ends at a reverse proxy, so tidecast sees http: the proxy's word (only a trusted
    proxy's) or an https public URL makes every cookie Secure."""

    async def presession_cookie(
        peer: str, headers: dict[str, str], **overrides: object
    ) -> tuple[str, str]:
        settings = make_settings(**overrides)
        services = build_services(settings)
        await services.start()
        try:
            with contextlib.suppress(Conflict):  # each case opens the same database
                await services.accounts.create("alice", PASSWORD, trusted=True)
            await services.switches.set(ALLOW_REMOTE, True)  # the peers are not loopback
            transport = httpx.ASGITransport(
                app=create_app(settings, services), client=(peer, 51000)
            )
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tv.example.org", headers=headers
            ) as client:
                page = await client.get("/webui/login")
                token = csrf_of(page.text)
                # The cookie is sent back as a browser on https would, Secure or not.
                presession = client.cookies["tidecast_presession"]
                reply = await client.post(
                    "/webui/login",
                    data={"csrf_token": token, "login": "alice", "password": PASSWORD},
                    headers={"cookie": f"tidecast_presession={presession}"},
                )
                assert reply.status_code == 303
                return page.headers["set-cookie"], reply.headers["set-cookie"]
        finally:
            await services.stop()

    https = {"x-forwarded-proto": "https"}
    proxy = {"trusted_proxies": ("10.0.0.0/8",)}
    for peer, headers, overrides, secure in (
        ("10.0.0.5", https, proxy, True),
        ("10.0.0.5", {"x-forwarded-proto": "http, https"}, proxy, True),
        ("10.0.0.5", {"x-forwarded-proto": "https, http"}, proxy, False),
        ("10.0.0.5", {}, proxy, False),
        ("192.0.2.7", https, proxy, False),  # not the trusted proxy: its word counts for nothing
        ("10.0.0.5", https, {}, False),  # no proxy is trusted
        ("192.0.2.7", {}, {"public_url": "https://tv.example.org"}, True),
    ):
        cookies = await presession_cookie(peer, headers, **overrides)
        assert cookies[0].startswith("tidecast_presession=")
        assert cookies[1].startswith("tidecast_session=")
        for cookie in cookies:
            assert ("; Secure" in cookie) is secure, (peer, headers, overrides, cookie)

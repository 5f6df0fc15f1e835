"""The web UI's route table as a whole: unknown pages, static files, and what every page
refuses the same way (unreadable forms, NUL characters, ids no row can have)."""

from __future__ import annotations

import logging

import httpx
import pytest

from tidecast.core.playlists import ItemFilter, NewItem
from tidecast.core.services import Services
from tidecast.core.users import User

from support.webui import PASSWORD, csrf_of, sign_in


async def test_an_unknown_page_is_a_web_ui_404_page(client: httpx.AsyncClient) -> None:
    reply = await client.get("/webui/no/such/page")
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("text/html")
    assert "there is no such page" in reply.text
    assert 'href="/webui/static/webui.css"' in reply.text


async def test_static_files_are_served_and_missing_ones_are_404(
    client: httpx.AsyncClient,
) -> None:
    css = await client.get("/webui/static/webui.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/webui/static/nothing.js")).status_code == 404
    assert (await client.get("/webui/static/../routes.py")).status_code == 404


# -- what every page refuses the same way -------------------------------------------------

BIG_IDS = (str(2**31), str(2**40), "9" * 23)
"""Ids no row can have: past PostgreSQL's integer, past SQLite's, past both."""


def refused_page(reply: httpx.Response, status: int, message: str) -> None:
    """``reply`` is the web UI's error page with ``status``, saying ``message``."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("text/html")
    assert 'href="/webui/static/webui.css"' in reply.text
    assert 'id="page-error">' in reply.text
    assert message in reply.text


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.fixture
async def alice(services: Services) -> User:
    return await services.accounts.create("alice", PASSWORD, nickname="Alice", trusted=True)


async def signed_in(client: httpx.AsyncClient) -> str:
    """Sign alice in; the CSRF token of her session's forms."""
    assert (await sign_in(client)).status_code == 303
    return csrf_of((await client.get("/webui/watch")).text)


@pytest.mark.usefixtures("alice")
async def test_a_form_that_cannot_be_read_is_a_400_page(
    client: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    token = csrf_of((await client.get("/webui/login")).text)
    sign_in_form = {"csrf_token": token, "login": "alice", "password": PASSWORD}
    unreadable = "the form could not be read"
    many = {**sign_in_form, **{f"k{n}": "v" for n in range(70)}}
    for reply, message in (
        # a file where the form takes none
        (
            await client.post("/webui/login", data=sign_in_form, files={"f": ("a.txt", b"x")}),
            unreadable,
        ),
        (await client.post("/webui/login", data=many), unreadable),
        (await client.post("/webui/login", data=many, files={"x": ("", b"")}), unreadable),
        (
            await client.post(
                "/webui/login", content=b"abc", headers={"content-type": "multipart/form-data"}
            ),
            unreadable,
        ),
    ):
        refused_page(reply, 400, message)
        assert "tidecast_session" not in reply.headers.get("set-cookie", "")
    # A length no number of bytes has is refused before anything is read.
    huge = {"content-type": "application/x-www-form-urlencoded", "content-length": "9" * 5000}
    reply = await client.post("/webui/login", content=b"login=alice", headers=huge)
    refused_page(reply, 413, "the form is too large")
    assert "tidecast_session" not in client.cookies

    csrf = await signed_in(client)
    files = [("file", (f"a{n}.m3u", b"#EXTM3U\n")) for n in range(5)]
    reply = await client.post("/webui/playlist/import", data={"csrf_token": csrf}, files=files)
    refused_page(reply, 400, unreadable)
    reply = await client.post(
        "/webui/account/profile",
        data={"csrf_token": csrf, "nickname": "Changed"},
        files={"f": ("a.txt", b"x")},
    )
    refused_page(reply, 400, unreadable)
    assert (await services.accounts.get("alice")).nickname == "Alice"
    assert (await services.playlists.page(ItemFilter(owner="alice"))).total_items == 0
    no_errors_logged(caplog)


async def test_a_nul_in_a_field_or_a_filter_is_a_400_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await services.accounts.create("root", PASSWORD, role="admin", nickname="Root", trusted=True)
    nul = "the text must not contain a NUL character"
    token = csrf_of((await client.get("/webui/login")).text)
    for login in ("ro\x00ot", "a\x00@b"):
        reply = await client.post(
            "/webui/login", data={"csrf_token": token, "login": login, "password": PASSWORD}
        )
        refused_page(reply, 400, nul)
    assert "tidecast_session" not in client.cookies

    assert (await sign_in(client, "root")).status_code == 303
    for path, name in (
        ("/webui/playlist", "q"),
        ("/webui/playlist", "category"),
        ("/webui/playlist", "tag"),
        ("/webui/admin/users", "q"),
        ("/webui/admin/audit", "actor"),
        ("/webui/admin/audit", "action"),
    ):
        refused_page(await client.get(path, params={name: "a\x00"}), 400, nul)

    csrf = csrf_of((await client.get("/webui/watch")).text)
    empty_logo = {"logo": ("", b"", "application/octet-stream")}
    ih = "0a4848271c91ce2d8965ce416267c25047dc8141"
    for path, fields, files in (
        ("/webui/playlist/add", {"content": ih, "title": "a\x00b"}, empty_logo),
        ("/webui/playlist/add", {"content": ih, "title": "T", "tags": "x\x00"}, empty_logo),
        ("/webui/account/profile", {"nickname": "a\x00b"}, None),
        ("/webui/admin/users", {"login": "zed", "password": PASSWORD, "nickname": "a\x00"}, None),
        (
            "/webui/playlist/external",
            {
                "name": "a\x00",
                "url": "http://127.0.0.1:9/x.m3u",
                "category": "TV",
                "type": "broadcast",
                "interval": "60",
            },
            None,
        ),
        (
            "/webui/admin/plans",
            {"name": "a\x00", "color": "#000000", "device_limit": "0", "duration_days": "30"},
            None,
        ),
        ("/webui/watch/stop", {"session": "\x00/\x00"}, None),
    ):
        reply = await client.post(path, data={"csrf_token": csrf, **fields}, files=files)
        refused_page(reply, 400, nul)

    assert (await services.playlists.page(ItemFilter(owner="root"))).total_items == 0
    assert (await services.accounts.get("root")).nickname == "Root"
    assert (await services.accounts.search("zed", viewer=None)).total == 0
    assert await services.external.get(None, viewer="root") == []
    assert await services.subscriptions.plans() == []
    no_errors_logged(caplog)


async def test_ids_no_row_can_have_are_404_pages(
    client: httpx.AsyncClient, services: Services, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = await signed_in(client)
    kept = await services.playlists.add_item(
        "alice", NewItem(title="Kept", infohash="0a4848271c91ce2d8965ce416267c25047dc8141")
    )
    for big in BIG_IDS:
        for path in (
            f"/webui/playlist/item/{big}/edit",
            f"/webui/playlist/item/{big}/icon",
            f"/webui/playlist/task/{big}",
            f"/webui/playlist/task/{big}/status",
        ):
            refused_page(await client.get(path), 404, "there is no such page")
        for path in (
            f"/webui/playlist/item/{big}/lock",
            f"/webui/playlist/item/{big}/delete",
            f"/webui/playlist/item/{big}/edit",
            f"/webui/playlist/external/{big}/update",
            f"/webui/playlist/external/{big}/remove",
        ):
            reply = await client.post(path, data={"csrf_token": csrf, "value": "1"})
            refused_page(reply, 404, "there is no such page")
    item = await services.playlists.get_item(kept, "alice")
    assert not (item.locked or item.is_deleted)
    no_errors_logged(caplog)

"""The web UI's route table as a whole: unknown pages, static files."""

from __future__ import annotations

import httpx


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

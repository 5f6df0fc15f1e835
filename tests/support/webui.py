"""Driving the web UI's forms from an HTTP client, as a browser would."""

from __future__ import annotations

import re

import httpx

PASSWORD = "a-long-password"
"""The password of the accounts the web UI tests create."""


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found is not None, html
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, login: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    """Fill in and submit the sign-in form; the form's answer (303 when signed in)."""
    page = await client.get("/webui/login")
    return await client.post(
        "/webui/login",
        data={"csrf_token": csrf_of(page.text), "login": login, "password": password},
    )

"""The engine service API: envelopes, access rules, token, status, players."""

from __future__ import annotations

import json
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tidecast.core.services import Services
from tidecast.settings import Settings

ClientFactory = Callable[[str], httpx.AsyncClient]

# Addresses of each class the policy knows. The intranet address is computed from the
# host's real interfaces by the `intranet_address` fixture.
INTERNET = "203.0.113.7"


@pytest.fixture
def intranet_address(services: Services) -> str:
    for network in services.switches.networks():
        if network.version == 4 and network.num_addresses > 2:
            return str(network.network_address + 1)
    pytest.skip("this host has no non-loopback IPv4 interface")


async def test_get_version_envelope_on_webui_service(client: httpx.AsyncClient) -> None:
    response = await client.get("/webui/api/service", params={"method": "get_version"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["result", "error"]
    assert body["error"] is None
    assert isinstance(body["result"]["code"], int) and body["result"]["code"] > 0
    assert body["result"]["platform"] == "linux"
    assert body["result"]["version"]
    # Python's default separators, as the original engine writes them.
    assert response.text.startswith('{"result": {"code": ')


async def test_get_version_jsonp(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/webui/api/service", params={"method": "get_version", "format": "jsonp", "callback": "cb"}
    )
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.text.startswith("cb(") and response.text.endswith(");")
    assert json.loads(response.text[3:-2])["result"]["version"]


async def test_jsonp_callback_is_never_echoed_unsafely(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/webui/api/service",
        params={"method": "get_version", "format": "jsonp", "callback": "alert(1)//"},
    )
    assert "alert" not in response.text
    assert response.json()["result"]["version"]


async def test_unknown_method_string_and_object_errors(client: httpx.AsyncClient) -> None:
    plain = (await client.get("/server/api", params={"method": "nope"})).json()
    assert plain == {"result": None, "error": "unknown method"}
    v3 = (await client.get("/server/api", params={"method": "nope", "api_version": 3})).json()
    assert v3 == {"result": None, "error": {"message": "unknown method", "code": 0}}


async def test_unknown_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/server/api", params={"method": "get_status", "foo": "bar", ".mp4": ""})
    ).json()
    assert body["error"] is None


async def test_get_status(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/server/api", params={"method": "get_status", "api_version": 3})
    ).json()
    assert body["result"]["playlist_loaded"] is True
    assert body["result"]["version"]["code"] > 0


async def test_service_api_alias(client: httpx.AsyncClient) -> None:
    body = (await client.get("/service/api", params={"method": "get_status"})).json()
    assert body["result"]["playlist_loaded"] is True


async def test_token_only_for_loopback_and_without_cors(
    client: httpx.AsyncClient, client_from: ClientFactory, intranet_address: str, token: str
) -> None:
    response = await client.get("/server/api", params={"method": "get_api_access_token"})
    assert response.json()["result"] == {"token": token}
    assert len(token) == 64
    assert "access-control-allow-origin" not in response.headers
    lan = await client_from(intranet_address).get(
        "/server/api", params={"method": "get_api_access_token"}
    )
    assert lan.json()["result"] is None
    assert "access denied" in lan.json()["error"]
    assert token not in lan.text


async def test_token_refused_to_web_pages(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(
        "/server/api",
        params={"method": "get_api_access_token"},
        headers={"Origin": "http://evil.example"},
    )
    assert token not in response.text
    assert response.json()["error"].startswith("access denied")


async def test_public_methods_carry_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/server/api", params={"method": "get_status"})
    assert response.headers["access-control-allow-origin"] == "*"


async def test_private_method_needs_valid_token(client: httpx.AsyncClient, token: str) -> None:
    missing = (await client.get("/server/api", params={"method": "playlist_get"})).json()
    assert missing == {"result": None, "error": "missing token"}
    wrong = (
        await client.get("/server/api", params={"method": "playlist_get", "token": "0" * 64})
    ).json()
    assert wrong == {"result": None, "error": "invalid token"}
    ok = (await client.get("/server/api", params={"method": "playlist_get", "token": token})).json()
    assert ok["error"] is None


async def test_access_policy_for_every_address_class(
    client: httpx.AsyncClient, client_from: ClientFactory, intranet_address: str, token: str
) -> None:
    def status(c: httpx.AsyncClient) -> object:
        return c.get("/server/api", params={"method": "get_status"})

    lan = client_from(intranet_address)
    internet = client_from(INTERNET)
    ipv6_loopback = client_from("::1")
    assert (await status(client)).json()["error"] is None  # type: ignore[attr-defined]
    assert (await status(ipv6_loopback)).json()["error"] is None  # type: ignore[attr-defined]
    assert (await status(lan)).json()["error"] is None  # type: ignore[attr-defined]
    assert (await status(internet)).json()["error"] == "access denied"  # type: ignore[attr-defined]

    async def switch(method: str, value: int) -> dict[str, object]:
        r = await client.get(
            "/server/api", params={"method": method, "value": value, "token": token}
        )
        return r.json()  # type: ignore[no-any-return]

    assert (await switch("set_allow_remote_access", 1))["result"] == "ok"
    assert (await status(internet)).json()["error"] is None  # type: ignore[attr-defined]
    assert (await switch("set_allow_intranet_access", 0))["result"] == "ok"
    assert (await status(lan)).json()["error"] == "access denied"  # type: ignore[attr-defined]
    assert (await status(client)).json()["error"] is None  # type: ignore[attr-defined]
    # Remote callers may never flip the switches, even with the token.
    flipped = await internet.get(
        "/server/api", params={"method": "set_allow_remote_access", "value": 0, "token": token}
    )
    assert flipped.json()["error"].startswith("access denied")


async def test_switches_persist_across_restart(
    client: httpx.AsyncClient, token: str, settings: Settings
) -> None:
    await client.get(
        "/server/api", params={"method": "set_allow_remote_access", "value": "true", "token": token}
    )
    await client.get(
        "/server/api",
        params={"method": "set_allow_intranet_access", "value": "false", "token": token},
    )
    from tidecast.core.services import build_services

    again = build_services(settings)
    await again.start()
    try:
        assert again.switches.allow_remote is True
        assert again.switches.allow_intranet is False
        assert again.engine_token.reveal() == token
    finally:
        await again.stop()


async def test_switch_rejects_non_boolean(client: httpx.AsyncClient, token: str) -> None:
    body = (
        await client.get(
            "/server/api",
            params={"method": "set_allow_remote_access", "value": "maybe", "token": token},
        )
    ).json()
    assert body["result"] is None
    assert "boolean" in body["error"]


async def test_forwarded_for_needs_trusted_proxy(
    make_settings: Callable[..., Settings],
) -> None:
    from tidecast.core.services import build_services

    services = build_services(make_settings(trusted_proxies=("10.9.0.0/16",)))
    await services.start()
    try:
        via_proxy = services.caller("10.9.0.5", f"{INTERNET}, 10.9.0.6")
        assert str(via_proxy.address) == INTERNET
        not_trusted = services.caller("10.8.0.5", "127.0.0.1")
        assert str(not_trusted.address) == "10.8.0.5"
    finally:
        await services.stop()


async def test_network_connection_status_probes_for_real(
    make_settings: Callable[..., Settings],
) -> None:
    from tidecast.core.services import build_services

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    up = build_services(make_settings(network_probe_target=f"127.0.0.1:{port}"))
    await up.start()
    try:
        assert await up.probe.connected() is True
    finally:
        await up.stop()
        stop.set()
        thread.join()
        listener.close()
        for conn in accepted:
            conn.close()
    assert accepted, "the probe must really connect"


async def test_network_connection_status_down(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/server/api", params={"method": "get_network_connection_status"})
    ).json()
    assert body == {"result": {"connected": False}, "error": None}


def _fake_player(directory: Path, name: str, record: Path) -> Path:
    script = directory / name
    script.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


async def test_players_found_on_path_and_launched(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidecast.app import create_app
    from tidecast.core.services import build_services

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "played.txt"
    _fake_player(bin_dir, "mpv", record)
    monkeypatch.setenv("PATH", f"{bin_dir}")
    services = build_services(make_settings(players=("vlc", "mpv")))
    await services.start()
    app = create_app(services.settings, services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:6878") as c:
        players = (
            await c.get(
                "/server/api", params={"method": "get_available_players", "content_id": "x"}
            )
        ).json()["result"]["players"]
        assert [(p["name"], p["type"]) for p in players] == [("mpv", "proxy")]
        infohash = "0a4848271c91ce2d8965ce416267c25047dc8141"
        opened = (
            await c.get(
                "/server/api",
                params={
                    "method": "open_in_player",
                    "player_id": players[0]["id"],
                    "infohash": infohash,
                },
                # The player runs here: the caller's Host must not steer it elsewhere.
                headers={"Host": "attacker.example"},
            )
        ).json()
        assert opened == {"result": "ok", "error": None}
        unknown = (
            await c.get(
                "/server/api",
                params={"method": "open_in_player", "player_id": "f" * 40, "infohash": infohash},
            )
        ).json()
        assert unknown["error"].startswith("unknown player")
    import asyncio

    for _ in range(50):
        if record.exists() and record.read_text().strip():
            break
        await asyncio.sleep(0.05)
    assert record.read_text().strip() == (
        f"http://127.0.0.1:6878/ace/getstream?infohash={infohash}"
    )
    await services.stop()


async def test_token_never_in_jsonp(client: httpx.AsyncClient, token: str) -> None:
    # A <script src=…> tag sends no Origin header; JSONP would hand the token to any page.
    response = await client.get(
        "/server/api",
        params={"method": "get_api_access_token", "format": "jsonp", "callback": "steal"},
    )
    assert token not in response.text
    assert "access denied" in response.text


async def test_token_refused_under_a_dns_name(client: httpx.AsyncClient, token: str) -> None:
    # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    rebound = await client.get(
        "/server/api",
        params={"method": "get_api_access_token"},
        headers={"Host": "evil.example:6878"},
    )
    assert token not in rebound.text
    for host in ("localhost:6878", "127.0.0.1:6878", "[::1]:6878"):
        ok = await client.get(
            "/server/api", params={"method": "get_api_access_token"}, headers={"Host": host}
        )
        assert ok.json()["result"] == {"token": token}, host


@pytest.mark.parametrize(
    "params",
    [
        {"method": "get_status", "api_version": "²"},
        {"method": "get_status", "api_version": "9" * 5000},
        {"method": "get_channel_icon", "id": "9" * 30},
        {"method": "get_channel_icon", "id": "-99999999999"},
        {"method": "playlist_get", "limit": "1e9"},
        {"method": "playlist_delete_items", "ids": "[1,"},
        {"method": "playlist_delete_items", "ids": "[true]"},
        {"method": "playlist_item_set_favorite", "id": "\uff11", "value": 1},  # fullwidth 1
    ],
)
async def test_bad_numbers_get_an_envelope_error(
    client: httpx.AsyncClient, token: str, params: dict[str, str]
) -> None:
    response = await client.get("/server/api", params={**params, "token": token})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["result", "error"]
    if params.get("method") != "get_status":
        assert body["result"] is None and body["error"]


async def test_malformed_bodies_get_an_envelope_error(
    client: httpx.AsyncClient, token: str
) -> None:
    multipart = await client.post(
        "/server/api",
        params={"method": "playlist_import", "token": token},
        content=b"--x\r\nnot really multipart",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert multipart.status_code == 200
    assert multipart.json()["error"].startswith("malformed form data")
    bad_json = await client.post(
        "/server/api",
        params={"method": "get_media_files"},
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.json() == {"result": None, "error": "request body is not valid JSON"}
    for hostile in (b'{"a": ' + b"9" * 5000 + b"}", b"[" * 200_000):
        refused = await client.post(
            "/server/api",
            params={"method": "get_media_files"},
            content=hostile,
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 200
        assert refused.json()["error"] == "request body is not valid JSON"


async def test_uploads_are_not_read_with_a_wrong_token(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await client.post(
        "/server/api",
        params={"method": "playlist_import", "token": "f" * 64},
        files={"file": ("l.m3u", b"#EXTM3U\n", "audio/x-mpegurl")},
    )
    assert response.json()["error"] == "invalid token"
    spool = services.settings.data_dir / "tmp"
    assert not spool.exists() or not any(spool.iterdir())

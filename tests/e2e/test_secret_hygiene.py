"""Passwords and tokens never appear in a response, a log line or the database in clear.

Accounts are created with the CLI, logged in through the core and signed in (and
refused, and locked out) through the engine API of a real server process logging at
debug level. Then every response body, the server's output, DATA_DIR/logs and every byte
of the SQLite files are searched for each password and each issued token. The database
must hold argon2id hashes and token SHA-256s instead, and the search checks that too.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tidecast.core.credentials import COMMAND_KIND
from tidecast.core.instance_secret import hash_token
from tidecast.core.services import build_services
from tidecast.settings import Settings

from support.server_process import serving

pytestmark = pytest.mark.e2e

PASSWORDS = {
    "alice": "Alice-pw-7f3a91c2",
    "bob": "Bob-pw-5e8d2b40",
    "root": "Root-pw-c4a6e19d",
}
NEW_ALICE = "Alice-new-0b2e77aa"
CAROL = ("Carol-pw-6a1f0d93", "Carol-new-e02c5b71")
WRONG = ["Wrong-pw-91d0c3f5", "Wrong-pw-2a7be604", "Wrong-pw-e55c1d38", "Wrong-pw-77f0aa12"]


def cli(env: dict[str, str], data: Path, *args: str, stdin: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tidecast", *args, "--data-dir", str(data), "--password-stdin"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    assert stdin.strip() not in done.stdout + done.stderr


class Recorder:
    """An engine API client that keeps every response body it sees."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.bodies: list[tuple[str, bytes]] = []
        token_reply = self.get("get_api_access_token")
        self.token: str = token_reply["result"]["token"]

    def get(self, method: str, **params: Any) -> Any:
        response = httpx.get(
            self.base + "/server/api", params={"method": method, **params}, timeout=30
        )
        self.bodies.append((method, response.content))
        return response.json()

    def call(self, method: str, **params: Any) -> Any:
        return self.get(method, token=self.token, api_version=3, **params)

    def command(self, cmd: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
        payload: dict[str, Any] = {"body": body or {}}
        if token:
            payload["authorization"] = token
        response = httpx.post(
            self.base + "/api/command", json={"cmd": cmd, "body": payload}, timeout=30
        )
        self.bodies.append((cmd, response.content))
        return response.json()

    def post(self, method: str, **form: str) -> Any:
        response = httpx.post(
            self.base + f"/server/api?method={method}&api_version=3",
            data={"token": self.token, **form},
            timeout=30,
        )
        self.bodies.append((method, response.content))
        return response.json()


async def core_logins(settings: Settings) -> list[str]:
    """Log in through the core, as the user commands do: tokens handed to clients."""
    services = build_services(settings)
    await services.db.migrate()
    try:
        tokens = [
            (await services.accounts.login(login, password, address="127.0.0.1")).token
            for login, password in (("bob", PASSWORDS["bob"]), ("alice", NEW_ALICE))
        ]
        tokens.append((await services.accounts.login_guest(None)).token)
        assert (await services.accounts.user_for_token(tokens[0], {COMMAND_KIND})).login == "bob"
        return tokens
    finally:
        await services.fetcher.aclose()
        await services.db.dispose()


def test_no_password_or_token_in_responses_logs_or_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = dict(os.environ, TIDECAST_NETWORK_PROBE_TARGET="127.0.0.1:9")
    env.pop("TIDECAST_DATABASE_URL", None)
    cli(env, data, "user", "add", "alice", "--email", "alice@example.org", stdin=PASSWORDS["alice"])
    cli(env, data, "user", "add", "bob", stdin=PASSWORDS["bob"])
    cli(env, data, "user", "add", "root", "--role", "admin", stdin=PASSWORDS["root"])
    google_token = "ya29.google-token-3d9f0e1c"
    output = tmp_path / "server-output.txt"
    auth_error = {"message": "auth_error", "code": 0}

    debug = ("--log-level", "debug", "--login-account-failures", "3")
    with serving(data, *debug, env=env, output=output) as base:
        r = Recorder(base)
        assert (
            r.call("sign_in", email="alice@example.org", password=PASSWORDS["alice"])["result"]
            == "ok"
        )
        assert r.call("check_auth")["result"]["login"] == "alice"
        assert r.call("sign_out")["result"] == "ok"
        assert r.call("sign_in", email="alice@example.org", password=WRONG[0])["error"] == (
            auth_error
        )
        assert r.call("sign_in", email="nobody@example.org", password=WRONG[1])["error"] == (
            auth_error
        )
        assert r.post("sign_in", login="bob", password=PASSWORDS["bob"])["result"] == "ok"
        assert r.post("sign_in", login="bob", password=WRONG[1])["error"] == auth_error
        assert r.call("check_auth")["result"]["token"] == "bob"
        assert "Google" in r.call("sign_in", google_token=google_token)["error"]["message"]
        assert "missing" in r.call("sign_in", password=PASSWORDS["root"])["error"]["message"]
        for wrong in WRONG[:3]:
            assert r.call("sign_in", login="root", password=wrong)["error"] == auth_error
        locked = r.call("sign_in", login="root", password=PASSWORDS["root"])["error"]["message"]
        assert locked.startswith("too many failed logins")

        cli(env, data, "user", "passwd", "alice", stdin=NEW_ALICE)
        assert r.call("sign_in", login="alice", password=NEW_ALICE)["result"] == "ok"
        assert r.call("sign_in", login="alice", password=PASSWORDS["alice"])["error"] == (
            auth_error
        )

        # The user commands: create, log in, fail, change the password.
        created = r.command("createUser", {"login": "carol", "password": CAROL[0]})
        assert created["data"]["message"]["code"] == "USER_CREATED"
        carol_token = r.command("login", {"username": "carol", "password": CAROL[0]})["data"][
            "token"
        ]
        assert r.command("login", {"username": "carol", "password": WRONG[2]})["err"] is True
        edited = r.command("editMyAccount", {"password": CAROL[1]}, token=carol_token)
        assert edited["data"]["message"]["code"] == "USER_EDITED"
        assert r.command("getMyAccount", token=carol_token)["err"] is True  # revoked
        # …and the account signs in through the engine API too.
        assert r.call("sign_in", login="carol", password=CAROL[1])["result"] == "ok"

        settings = Settings(data_dir=data, network_probe_target="127.0.0.1:9", players=())
        issued = asyncio.run(core_logins(settings))
        # A client's command token is no engine API token, and it is not echoed back.
        for token in issued:
            assert r.get("check_auth", token=token)["error"] == "invalid token"
        assert r.get("sign_out", token=WRONG[3])["error"] == "invalid token"

    secrets = [*PASSWORDS.values(), NEW_ALICE, *CAROL, *WRONG, google_token, *issued]
    engine_token = r.token

    for method, body in r.bodies:
        for secret in secrets:
            assert secret.encode() not in body, (method, secret)
        if method != "login":
            assert carol_token.encode() not in body, method
        if method != "get_api_access_token":
            assert engine_token.encode() not in body, method

    logs = sorted((data / "logs").iterdir())
    assert logs, "the server writes DATA_DIR/logs"
    texts = [path.read_bytes() for path in [*logs, output]]
    assert any(b"security code: " in text for text in texts)  # the one secret meant for logs
    for text in texts:
        for secret in [*secrets, engine_token, carol_token]:
            assert secret.encode() not in text, secret
        assert b"$argon2id$" not in text  # not even the hashes

    stored = b"".join(path.read_bytes() for path in sorted(data.glob("tidecast.db*")))
    for secret in [*secrets, engine_token, carol_token]:
        assert secret.encode() not in stored, secret
    assert stored.count(b"$argon2id$") >= len(PASSWORDS)
    for token in [*issued, engine_token]:
        assert hash_token(token).encode() in stored

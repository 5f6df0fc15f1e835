"""`tidecast user add|list|passwd|remove` against a data directory, then a real server.

The commands run as the operator runs them (`python -m tidecast …` processes, settings
from flags and TIDECAST_* variables); a `tidecast serve` process on the same database
then signs those accounts in through the engine API.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from tidecast.cli import main

from support.server_process import serving

pytestmark = pytest.mark.e2e


def tidecast(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidecast", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        # No controlling terminal: a password prompt reads stdin instead of /dev/tty.
        start_new_session=True,
    )


class Engine:
    def __init__(self, base: str) -> None:
        self.base = base
        reply = httpx.get(base + "/server/api?method=get_api_access_token").json()
        self.token = reply["result"]["token"]

    def call(self, method: str, **params: Any) -> Any:
        query = {"method": method, "token": self.token, "api_version": 3, **params}
        return httpx.get(self.base + "/server/api", params=query, timeout=30).json()


def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def user_rows(listing: str) -> dict[str, list[str]]:
    lines = listing.splitlines()
    assert lines[0].split() == ["LOGIN", "NICKNAME", "ROLE", "LAST", "LOGIN"]
    return {line.split()[0]: line.split(maxsplit=3)[1:] for line in lines[1:]}


def test_cli_manages_users_and_the_server_signs_them_in(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "data"
    d = ["--data-dir", str(data)]
    env = dict(
        os.environ,
        TIDECAST_DATABASE_URL=database_url,
        TIDECAST_NETWORK_PROBE_TARGET="127.0.0.1:9",
    )

    added = tidecast(
        env,
        "user",
        "add",
        "Alice",
        "--email",
        "alice@example.org",
        "--nickname",
        "Ally",
        "--password-stdin",
        *d,
        stdin="first password\n",
    )
    assert (added.returncode, added.stdout) == (0, "created user alice\n"), added.stderr
    root = tidecast(
        env, "user", "add", "root", "--role", "admin", "--password-stdin", *d, stdin="root pass 1\n"
    )
    assert root.stdout == "created admin root\n", root.stderr
    # A guest needs no password, so nothing is asked (stdin is closed).
    guest = tidecast(env, "user", "add", "visitor", "--role", "guest", *d)
    assert guest.stdout == "created guest visitor\n", guest.stderr
    # The security code this process made is not the server's: it is not printed.
    assert "security code" not in added.stderr + root.stderr + guest.stderr

    failures = [
        (("user", "add", "alice", "--password-stdin"), "x long enough\n", "already exists"),
        (("user", "add", "bob", "--password-stdin"), "short\n", "at least 8 characters"),
        (("user", "add", "bob", "--password-stdin"), "\n", "no password on standard input"),
        (("user", "add", "bad login!"), None, "login may hold only"),
        (("user", "add", "bob@elsewhere.example", "--password-stdin"), "pw pw pw pw\n", "home"),
        (("user", "add", "bob", "--email", "nope", "--password-stdin"), "pw pw pw pw\n", "email"),
        (("user", "add", "bob"), None, "Aborted"),  # no terminal to ask on
        (("user", "passwd", "nobody", "--password-stdin"), "pw pw pw pw\n", "no user 'nobody'"),
        (("user", "remove", "nobody"), None, "no user 'nobody'"),
        (("user", "remove", "root"), None, "last operator"),
        (("user", "add", "bob", "--role", "boss"), None, "'boss' is not one of"),
    ]
    for args, stdin, message in failures:
        failed = tidecast(env, *args, *d, stdin=stdin)
        assert failed.returncode != 0, (args, failed.stdout)
        assert message in failed.stderr, (args, failed.stderr)
        assert "Traceback" not in failed.stderr, failed.stderr
    unreachable = tidecast(
        dict(env, TIDECAST_DATABASE_URL="postgresql://u:pw@127.0.0.1:9/none"), "user", "list", *d
    )
    assert unreachable.returncode == 1 and unreachable.stderr.startswith("Error: ")
    assert "Traceback" not in unreachable.stderr

    listing = tidecast(env, "user", "list", *d)
    assert listing.returncode == 0, listing.stderr
    assert user_rows(listing.stdout) == {
        "alice": ["Ally", "user", "never"],
        "root": ["root", "admin", "never"],
        "visitor": ["visitor", "guest", "never"],
    }

    with serving(data, env=env) as base:
        engine = Engine(base)
        assert engine.call("sign_in", email="alice@example.org", password="first password") == {
            "result": "ok",
            "error": None,
        }
        assert engine.call("check_auth")["result"]["login"] == "alice"
        assert engine.call("sign_in", login="root", password="root pass 1")["result"] == "ok"
        assert engine.call("check_auth")["result"]["auth_level"] == 3
        rows = user_rows(tidecast(env, "user", "list", *d).stdout)
        assert rows["root"][2] != "never" and rows["alice"][2] != "never"

        # The operator changes a password while the server runs: that sign-in ends (within
        # the few seconds the server trusts what it last read, as for any token).
        changed = tidecast(
            env, "user", "passwd", "ROOT", "--password-stdin", *d, stdin="root 2 pw\n"
        )
        assert changed.stdout == "password of root changed\n", changed.stderr
        eventually(lambda: engine.call("check_auth")["result"]["login"] is None)
        bad = engine.call("sign_in", login="root", password="root pass 1")
        assert bad["error"] == {"message": "auth_error", "code": 0}
        assert engine.call("sign_in", login="root", password="root 2 pw")["result"] == "ok"

        # Removing the signed-in account signs it out.
        removed = tidecast(env, "user", "remove", "root", *d)
        assert removed.returncode != 0  # still the last operator
        second = tidecast(
            env,
            "user",
            "add",
            "op2",
            "--role",
            "admin",
            "--password-stdin",
            *d,
            stdin="op2 pass 1\n",
        )
        assert second.returncode == 0, second.stderr
        assert tidecast(env, "user", "remove", "root", *d).stdout == "removed root\n"
        eventually(lambda: engine.call("check_auth")["result"]["method"] == "none")
        assert engine.call("sign_in", login="root", password="root 2 pw")["error"] == {
            "message": "auth_error",
            "code": 0,
        }
    assert set(user_rows(tidecast(env, "user", "list", *d).stdout)) == {"alice", "op2", "visitor"}


def test_cli_prompts_twice_for_a_hidden_password(tmp_path: Path) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path / "data"), "--network-probe-target", "127.0.0.1:9"]
    added = runner.invoke(
        main,
        ["user", "add", "bob", *d],
        input="bob password\nnot the same\nbob password\nbob password\n",
    )
    assert added.exit_code == 0, added.output
    assert added.output.count("Password: ") == 2 and "do not match" in added.output
    assert "bob password" not in added.output  # hidden input is not echoed
    assert "created user bob" in added.output
    changed = runner.invoke(
        main, ["user", "passwd", "bob", *d], input="second password\nsecond password\n"
    )
    assert changed.exit_code == 0 and "password of bob changed" in changed.output
    short = runner.invoke(main, ["user", "passwd", "bob", *d], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert short.exception is None or isinstance(short.exception, SystemExit)
    helped = runner.invoke(main, ["user", "--help"])
    for command in ("add", "list", "passwd", "remove"):
        assert command in helped.output

"""A control instance and two nodes on loopback, as an operator runs them.

Three `tidecast serve` processes with their own data directories; the nodes join through
`tidecast node join` while they run, report in heartbeats, and stream a seeded loopback
torrent to a device holding a key from the control. The nodes believe X-Forwarded-For
from loopback, so the test's requests can come from "the internet" (203.0.113.7) and
must show a key; loopback callers always play.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tidecast.core.access_keys import KeyClaims, KeySigner
from tidecast.core.instance_secret import InstanceSecret, load_or_create_secret
from tidecast.engine.torrent_reader import read_transport_file

from support.server_process import engine_env, serving
from support.swarm import Seeder, Tracker
from support.torrents import make_torrent

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
SIZE = 1536 * 1024
REMOTE = {"X-Forwarded-For": "203.0.113.7"}
HEARTBEAT = 0.5


def tidecast(data_dir: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidecast", *args, "--data-dir", str(data_dir)],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def eventually(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


@pytest.fixture
def swarm(tmp_path: Path) -> Iterator[tuple[Tracker, str, bytes]]:
    """A tracker and a seeder of one file: ``(tracker, infohash, the file's bytes)``."""
    tracker = Tracker().start()
    seeder = Seeder()
    torrent, root = make_torrent(
        tmp_path / "seed", {"film.mp4": SIZE}, piece_size=65536, trackers=[tracker.url]
    )
    seeder.seed(torrent, root.parent)
    try:
        yield tracker, read_transport_file(torrent).infohash, root.read_bytes()
    finally:
        seeder.stop()
        tracker.stop()


class Control:
    def __init__(self, base: str) -> None:
        self.base = base
        self.headers: dict[str, str] = {}

    def login(self, device: str) -> str:
        body = {"email": "alex@example.com", "password": PASSWORD}
        answer = httpx.post(
            self.base + "/api/login", json={**body, "device_id": device, "device_name": device}
        )
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}
        return str(answer.json()["device_id"])

    def post(self, path: str, **body: Any) -> Any:
        answer = httpx.post(self.base + path, json=body, headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def servers(self, device_id: str) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.post("/api/servers", device_id=device_id)}


def start_json(base: str, key: str | None, infohash: str) -> dict[str, Any]:
    """A remote caller's JSON-mode playback start on a node: the envelope."""
    params = {"format": "json", "infohash": infohash}
    if key is not None:
        params["access_key"] = key
    answer = httpx.get(base + "/ace/getstream", params=params, headers=REMOTE, timeout=60)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def test_a_control_and_two_nodes(tmp_path: Path, swarm: tuple[Tracker, str, bytes]) -> None:
    tracker, infohash, expected = swarm
    common = {
        "TIDECAST_EXTRA_TRACKERS": tracker.url,
        "TIDECAST_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "TIDECAST_READAHEAD_BYTES": str(512 * 1024),
    }
    control_env = engine_env(**common, TIDECAST_SERVER_NAME="Control")
    node_env = engine_env(**common, TIDECAST_TRUSTED_PROXIES="127.0.0.1")
    control_dir, node_dirs = tmp_path / "control", [tmp_path / "node-a", tmp_path / "node-b"]
    tidecast(
        control_dir,
        control_env,
        "user",
        "add",
        "alex",
        "--email",
        "alex@example.com",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    with ExitStack() as stack:
        control = Control(stack.enter_context(serving(control_dir, env=control_env)))
        node_b_stack = ExitStack()
        stack.enter_context(node_b_stack)
        node_a = stack.enter_context(serving(node_dirs[0], env=node_env))
        node_b = node_b_stack.enter_context(serving(node_dirs[1], env=node_env))
        for name, base, data_dir in (
            ("Node A", node_a, node_dirs[0]),
            ("Node B", node_b, node_dirs[1]),
        ):
            token = tidecast(control_dir, control_env, "node", "token")
            joined = tidecast(
                data_dir,
                node_env,
                "node",
                "join",
                control.base,
                "--token",
                token,
                "--url",
                base,
                "--name",
                name,
                "--country-code",
                "DE",
                "--city",
                "Berlin",
            )
            assert joined.startswith(f"joined {control.base} as server ")
            assert tidecast(data_dir, node_env, "node", "status").startswith("node ")
            # A join token works once.
            again = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tidecast",
                    "node",
                    "join",
                    control.base,
                    "--token",
                    token,
                    "--url",
                    base,
                    "--data-dir",
                    str(data_dir),
                ],
                capture_output=True,
                text=True,
                env=node_env,
                timeout=120,
            )
            assert again.returncode == 1 and "invalid or used join token" in again.stderr
            engine = httpx.get(base + "/server/api?method=get_api_access_token").json()
            httpx.get(
                base + "/server/api",
                params={
                    "method": "set_allow_remote_access",
                    "value": 1,
                    "token": engine["result"]["token"],
                },
            ).raise_for_status()

        device = control.login("phone")
        eventually(lambda: all(s["is_available"] for s in control.servers(device).values()))
        listed = control.servers(device)
        assert set(listed) == {"Control", "Node A", "Node B"}
        a = listed["Node A"]
        assert (
            listed["Node B"]["base_url"] == node_b and listed["Control"]["base_url"] == control.base
        )
        assert a["base_url"] == node_a and a["ping_url"] == node_a + "/api/ping"
        assert (a["country"], a["city"], a["active_connections"]) == ("Germany", "Berlin", 0)
        assert httpx.get(a["ping_url"]).json()["pong"] is True

        issued = control.post("/api/key", server_id=a["id"], device_id=device)
        assert issued["playback_url"].startswith(node_a + "/ace/getstream?access_key=")

        # Without a key, with a forged, an expired or another server's key: refused.
        assert start_json(node_a, None, infohash) == {
            "response": None,
            "error": "an access key is required",
        }
        refused = httpx.get(
            node_a + "/ace/getstream", params={"infohash": infohash}, headers=REMOTE
        )
        assert refused.status_code == 403
        now = int(time.time())
        user_id, device_no = 1, int(device)  # the signature and expiry are checked first
        forged = KeySigner(InstanceSecret(b"someone else")).sign(
            KeyClaims(user_id, device_no, 0, a["id"], now, now + 3600)
        )
        assert start_json(node_a, forged, infohash)["error"] == "access key signature invalid"
        control_signer = KeySigner(InstanceSecret(load_or_create_secret("", control_dir)))
        expired = control_signer.sign(KeyClaims(user_id, device_no, 0, a["id"], now - 90, now - 30))
        assert start_json(node_a, expired, infohash)["error"] == "access key expired"
        assert start_json(node_b, issued["key"], infohash)["error"] == (
            "access key is for another server"
        )
        tampered = issued["key"].replace(".", ".x", 1)
        assert start_json(node_a, tampered, infohash) == {
            "response": None,
            "error": "access key signature invalid",
        }

        # With the key, the node streams the seeded file.
        started = httpx.get(issued["playback_url"] + f"&infohash={infohash}", headers=REMOTE)
        assert started.status_code == 302
        stream = httpx.get(started.headers["location"], headers=REMOTE, timeout=60)
        assert stream.status_code == 200
        assert hashlib.sha256(stream.content).digest() == hashlib.sha256(expected).digest()
        # Its live session reaches the control with the next heartbeat.
        eventually(lambda: control.servers(device)["Node A"]["active_connections"] == 1)
        assert control.servers(device)["Node B"]["active_connections"] == 0

        # A device that logs out: its keys die on the node after a heartbeat.
        tv = control.login("tv")
        tv_key = control.post("/api/key", server_id=a["id"], device_id=tv)["key"]
        assert start_json(node_a, tv_key, infohash)["error"] is None
        control.post("/api/logout")
        eventually(lambda: start_json(node_a, tv_key, infohash)["error"] == "access key revoked")

        # A node that stops reporting is shown unavailable.
        control.login("phone")
        node_b_stack.close()
        eventually(lambda: not control.servers(device)["Node B"]["is_available"])
        assert control.servers(device)["Node A"]["is_available"]
        bearer = control.headers["Authorization"].removeprefix("Bearer ")

    # Nothing secret is kept in clear: device tokens are hashed, the node's heartbeat
    # secret is encrypted with its instance key.
    stored = b"".join(path.read_bytes() for path in control_dir.glob("tidecast.db*"))
    assert bearer.encode() not in stored and tv_key.encode() not in stored
    with closing(sqlite3.connect(node_dirs[0] / "tidecast.db")) as db:
        [(link,)] = db.execute("SELECT value FROM instance_settings WHERE key = 'node_link'")
    assert json.loads(link)["secret"].startswith("gAAAAA")  # a Fernet token

"""Start `tidecast serve` as a separate process for a benchmark, and stop it afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    for _ in range(600):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


@contextmanager
def tidecast_server(data_dir: Path, database_url: str = "") -> Iterator[tuple[str, int]]:
    """Yield ``(base URL, pid)`` of a fresh engine; it never probes the internet."""
    port = free_port()
    env = dict(os.environ, TIDECAST_NETWORK_PROBE_TARGET="127.0.0.1:9")
    if database_url:
        env["TIDECAST_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tidecast",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/webui/api/service?method=get_version")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def engine_token(base: str) -> str:
    reply = httpx.get(base + "/server/api?method=get_api_access_token").json()
    return str(reply["result"]["token"])

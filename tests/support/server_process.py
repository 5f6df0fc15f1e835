"""`python -m tidecast serve` as a real process, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def engine_env(**extra: str) -> dict[str, str]:
    """The test process's environment, never probing the internet and never pointing at an
    operator's database."""
    env = dict(
        os.environ,
        TIDECAST_NETWORK_PROBE_TARGET="127.0.0.1:9",
        # The BitTorrent engine stays on loopback, with no peer discovery beyond it.
        TIDECAST_TORRENT_LISTEN_ADDRESS="127.0.0.1",
        TIDECAST_TORRENT_LISTEN_PORT="0",
        TIDECAST_DHT="0",
        TIDECAST_LSD="0",
        TIDECAST_UPNP="0",
    )
    env.pop("TIDECAST_DATABASE_URL", None)
    env.update(extra)
    return env


@contextmanager
def serving(
    data_dir: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    output: Path | None = None,
) -> Iterator[str]:
    """Serve on a free loopback port; yield the base URL. On exit the server is stopped
    with SIGINT and must exit 0 without a traceback. Its output goes to ``output`` (a file
    the caller can search afterwards) or to a pipe read once it has stopped."""
    port = free_port()
    sink = output.open("w") if output is not None else None
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
            *args,
        ],
        env=dict(env) if env is not None else engine_env(),
        stdout=sink if sink is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def printed() -> str:
        if output is not None:
            return output.read_text()
        return process.stdout.read() if process.stdout else ""

    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, printed()
            try:
                httpx.get(base + "/webui/api/service?method=get_version", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        if sink is not None:
            process.wait(timeout=30)
            sink.close()
            text = output.read_text() if output is not None else ""
        else:
            text, _ = process.communicate(timeout=30)
        assert process.returncode == 0, text
        assert "Traceback" not in text, text

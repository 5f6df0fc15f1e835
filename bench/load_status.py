"""Requests per second and p99 latency of get_status and playlist_get under load.

Starts `tidecast serve` (SQLite in a temporary data directory, 1,000 playlist items) and,
as the peer, a bare ASGI app answering get_status's JSON (bench/bare_app.py) under the
same uvicorn; loads each with wrk (Debian's `wrk`: apt-get install wrk) from a second
process, and prints a table. Target (issue 2): get_status at least half the bare rate.
Usage: python bench/load_status.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from engine_process import engine_token, free_port, tidecast_server, wait_up

HERE = Path(__file__).resolve().parent


def wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses")
    return rate, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-server-header",
        ],
        cwd=HERE,
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        tidecast_server(Path(tmp) / "engine") as (base, _pid),
    ):
        try:
            wait_up(f"http://127.0.0.1:{bare_port}/")
            token = engine_token(base)
            m3u = "#EXTM3U\n" + "".join(
                f'#EXTINF:-1 group-title="G{n % 5}",Channel {n}\nacestream://{n:040x}\n'
                for n in range(1000)
            )
            task = httpx.post(
                base + f"/server/api?method=playlist_import&token={token}",
                files={"file": ("l.m3u", m3u.encode())},
            ).json()["result"]["task_id"]
            while (
                httpx.get(
                    base + f"/server/api?method=get_task&task_id={task}&token={token}"
                ).json()["result"]["state"]
                == "running"
            ):
                time.sleep(0.05)
            rows = [
                ("bare ASGI app (peer)", f"http://127.0.0.1:{bare_port}/"),
                ("tidecast get_status", base + "/server/api?api_version=3&method=get_status"),
                (
                    "tidecast playlist_get (50 items)",
                    base + f"/server/api?method=playlist_get&token={token}&limit=50",
                ),
            ]
            results = [(name, *wrk(url, args.seconds, args.connections)) for name, url in rows]
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    print(f"{'endpoint':36} {'req/s':>10} {'p99':>10}")
    for name, rate, p99 in results:
        print(f"{name:36} {rate:>10.0f} {p99:>10}")
    ratio = results[1][1] / results[0][1]
    print(f"get_status / bare = {ratio:.2f}   (target >= 0.50)")


if __name__ == "__main__":
    main()

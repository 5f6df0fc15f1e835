"""Import a generated 100,000-entry M3U through the real API and print time and peak RSS.

Target (issue 2): under 10 s, peak RSS under 300 MB. The import runs in a separate
`tidecast serve` process (SQLite in a temporary data directory); this script uploads the
file with `playlist_import`, polls `get_task` until it is done and reads the server's
peak RSS (VmHWM) from /proc. Usage: python bench/import_m3u.py [--entries N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import httpx
from engine_process import engine_token, tidecast_server

HERE = Path(__file__).resolve().parent


def write_playlist(path: Path, entries: int) -> None:
    rng = random.Random(7)
    groups = ["News", "Sport", "Movies", "Kids", "Music", "Docs"]
    with path.open("w") as fh:
        fh.write('#EXTM3U url-tvg="http://epg.example/guide.xml.gz"\n')
        for n in range(entries):
            group = groups[n % len(groups)]
            kind = n % 4
            fh.write(
                f'#EXTINF:-1 tvg-id="ch{n}.tv" tvg-name="Channel {n}" '
                f'tvg-logo="http://logo.example/{n}.png" group-title="{group}" '
                f'catchup="default" catchup-days="3",Channel {n} HD\n'
            )
            ident = f"{rng.getrandbits(160):040x}"
            if kind == 0:
                fh.write(f"acestream://{ident}\n")
            elif kind == 1:
                fh.write(f"magnet:?xt=urn:btih:{ident}&dn=Channel%20{n}\n")
            elif kind == 2:
                fh.write(f"http://cdn.example/live/{n}/index.m3u8\n")
            else:
                fh.write(f"http://cdn.example/vod/{n}.mp4\n")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        playlist = data / "big.m3u"
        write_playlist(playlist, args.entries)
        size_mb = playlist.stat().st_size / 1e6
        with (
            tidecast_server(data / "engine", args.database_url) as (base, pid),
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            token = engine_token(base)
            rss_before = peak_rss_mb(pid)
            started = time.perf_counter()
            with playlist.open("rb") as fh:
                reply = client.post(
                    "/server/api",
                    params={"method": "playlist_import", "token": token},
                    files={"file": ("big.m3u", fh, "audio/x-mpegurl")},
                ).json()
            task_id = reply["result"]["task_id"]
            while True:
                task = client.get(
                    "/server/api",
                    params={"method": "get_task", "task_id": task_id, "token": token},
                ).json()["result"]
                if task["state"] != "running":
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            total = client.get(
                "/server/api",
                params={"method": "playlist_get", "token": token, "limit": 1},
            ).json()["result"]["total_items"]
            rss_peak = peak_rss_mb(pid)
    print(f"entries in file      : {args.entries} ({size_mb:.1f} MB)")
    print(
        f"task state           : {task['state']} (imported {task['result']['imported']}, "
        f"problems {task['result']['problem_count']})"
    )
    print(f"items in playlist    : {total}")
    print(f"import time          : {elapsed:.2f} s   (target < 10 s)")
    print(f"server RSS before    : {rss_before:.0f} MB")
    print(f"server peak RSS      : {rss_peak:.0f} MB   (target < 300 MB)")


if __name__ == "__main__":
    main()

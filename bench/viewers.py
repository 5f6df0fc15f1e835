"""Throughput and engine memory with 1, 10 and 50 concurrent viewers of one torrent.

The swarm is bench/stream.py's healthy one: the ~200 MB test file on an unlimited libtorrent
seeder on 127.0.0.1, announced to a local tracker. For each engine and each viewer count a
fresh engine is started; once its stream answers, that many viewers (threads) each GET the
stream from its first URL (tidecast: ``/ace/getstream``, redirect followed) and read the
whole file, SHA-1-checked unless --no-verify. Printed per row: aggregate body throughput
(all viewers' bytes over the wall time from the first request to the last byte), the
slowest viewer's time, and the engine's resident memory (process and children, sampled
every 50 ms): once its stream answered ("idle"), and the peak while serving.

A row that fails shows its error (see ``start_tidecast`` in bench/stream.py for tidecast's
URL and flags). Target: tidecast under 250 MB at 50 viewers.

Usage: python bench/viewers.py [--viewers 1,10,50] [--rows static,peerflix,webtorrent,tidecast]
       [--no-verify]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import peers
import psutil
from peers import Swarm
from stream import (
    CACHE,
    ENGINES,
    NODE_ENGINES,
    Body,
    Engine,
    Stream,
    byte_range,
    check,
    prepare_media,
    read_body,
)

MB = 1e6
SAMPLE_SECONDS = 0.05
TARGET_MB = 250  # tidecast's peak at 50 viewers


class PeakMemory:
    """Samples the resident memory of a process tree in a thread until ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def now(self) -> int:
        try:
            tree = [self.process, *self.process.children(recursive=True)]
            return sum(member.memory_info().rss for member in tree)
        except psutil.Error:  # a child came or went between listing and reading
            return 0

    def sample(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self.now())

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return max(self.peak, self.now())


@dataclass(frozen=True)
class Result:
    viewers: int
    rate: float  # MB/s, all viewers together
    slowest: float  # s from the common start to a viewer's last byte
    idle_rss: float  # MB once the stream answered
    peak_rss: float  # MB


def view(url: str, media: Path, verify: bool) -> Body:
    """One viewer: GET the stream and read the whole file."""
    size = media.stat().st_size
    body = read_body(Stream(url, {}), size)
    if verify:
        check(body, media, 0, size)
    elif body.size != size:
        raise RuntimeError(f"a viewer got {body.size} of {size} bytes")
    return body


def measure(engine: str, swarm: Swarm, viewers: int, verify: bool) -> Result:
    """A fresh engine, its stream answered once, then ``viewers`` concurrent viewers."""
    name = f"{engine}-viewers-{viewers}.log"
    with tempfile.TemporaryDirectory(prefix="tidecast-bench-") as scratch:
        launch = ENGINES[engine][1](swarm, Path(scratch))
        started = Engine(launch, swarm.logs / name)
        memory = PeakMemory(started.process.pid)
        try:
            started.wait_ready()
            started.poll(launch.url, byte_range(0, 1)).close()
            idle = memory.now()
            begin = time.perf_counter()
            with ThreadPoolExecutor(viewers) as pool:
                bodies = list(
                    pool.map(lambda _: view(launch.url, swarm.media, verify), range(viewers))
                )
            end = max(body.last for body in bodies)
        finally:
            peak = memory.stop()
            started.stop()
    total = sum(body.size for body in bodies)
    return Result(viewers, total / (end - begin) / MB, end - begin, idle / MB, peak / MB)


def measure_row(engine: str, swarm: Swarm, counts: list[int], verify: bool) -> list[Result] | str:
    try:
        return [measure(engine, swarm, count, verify) for count in counts]
    except Exception as error:  # one failing row spoils no other
        return f"failed: {error}"


def print_row(engine: str, row: list[Result] | str) -> None:
    label = ENGINES[engine][0]
    if isinstance(row, str):
        print(f"{label:24}  {row}")
        return
    for result in row:
        print(
            f"{label:24}{result.viewers:>8}{result.rate:>10.0f}{result.slowest:>10.2f}"
            f"{result.idle_rss:>10.0f}{result.peak_rss:>10.0f}"
        )
        label = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", default="1,10,50", help="comma-separated viewer counts")
    parser.add_argument("--rows", default=",".join(ENGINES), help="comma-separated engines")
    parser.add_argument("--no-verify", dest="verify", action="store_false", help="skip SHA-1")
    args = parser.parse_args()
    engines, counts = args.rows.split(","), [int(n) for n in args.viewers.split(",")]
    if unknown := set(engines) - set(ENGINES):
        raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
    if set(NODE_ENGINES) & set(engines):
        peers.install()
    media = prepare_media()
    logs = CACHE / "logs"
    logs.mkdir(exist_ok=True)
    print(f"{'':24}{'viewers':>8}{'MB/s':>10}{'slowest':>10}{'idle MB':>10}{'peak MB':>10}")
    with peers.tracker(logs) as tracker_url, peers.seeded(media, tracker_url, 0, logs) as swarm:
        rows: dict[str, list[Result] | str] = {}
        for engine in engines:
            rows[engine] = measure_row(engine, swarm, counts, args.verify)
            print_row(engine, rows[engine])
    tidecast = rows.get("tidecast")
    if isinstance(tidecast, list) and tidecast:
        peak = tidecast[-1].peak_rss
        verdict = "met" if peak < TARGET_MB else "MISSED"
        viewers = tidecast[-1].viewers
        print(f"tidecast peak, {viewers} viewers: {peak:.0f} MB < {TARGET_MB} MB  {verdict}")


if __name__ == "__main__":
    main()

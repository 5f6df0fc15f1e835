"""Startup latency, seek latency and throughput of one streamed file: tidecast and its peers.

One ~200 MB H.264 file (generated once into bench/.cache/stream with PyAV) is seeded by a
libtorrent seeder on 127.0.0.1 and announced to a local bittorrent-tracker (bench/peers.py).
Every launch starts each engine afresh with an empty download folder and a freshly started
seeder (same program, same settings), reads its stream over HTTP and SHA-1-checks the bytes
against the file. The rows:

* static HTTP: the file from a plain HTTP server, the limit (in the capped swarm it sends
  at the seeder's cap);
* peerflix 0.39.0 and webtorrent-cli 6.0.1 (npm, installed into bench/node on first use)
  streaming the torrent from the same seeder;
* tidecast: `tidecast serve`, handed the .torrent and asked for
  ``/ace/getstream?content_id=...`` (``start_tidecast``).

Two swarms: ``healthy`` (unlimited seeder, the whole file is read) and ``capped`` (the seeder
uploads at most --cap bytes/s, the first --capped-mib MiB are read). A second launch per run
probes the first 2 MiB, then seeks with a Range request to the middle of the file.

"first byte", "2 MiB" and "total" count from when the stream is asked for: the launch for
the node CLIs (one process per stream), the request for servers already up (static,
tidecast). "up" is launch to the first HTTP answer; the seek columns count from the seek
request; MB/s is the body's rate from first to last byte. Each figure is the median of
--runs runs. Engine logs go to bench/.cache/stream/logs. Nothing leaves loopback.

Targets for tidecast: first byte < 0.15 s healthy and below both peers capped; throughput at
least 4x the faster peer's; first byte after a seek < 0.3 s.

Usage: python bench/stream.py [--runs 5] [--rows static,peerflix,webtorrent,tidecast]
       [--swarms healthy,capped] [--cap 4000000] [--capped-mib 16] [--seek-mib 4]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import peers
from peers import Swarm

CACHE = Path(__file__).resolve().parent / ".cache" / "stream"
MEDIA_SECONDS = 200
X264_OPTIONS = {
    "preset": "ultrafast",
    "tune": "zerolatency",
    "g": "60",
    "b": "8M",
    "minrate": "8M",
    "maxrate": "8M",
    "bufsize": "4M",
    "x264-params": "nal-hrd=cbr",
}
MIB = 1024 * 1024
POLL_SECONDS = 0.02
START_TIMEOUT = 60.0
READ_TIMEOUT = 30.0

# --- tidecast: the one place to adjust when the torrent engine lands ----------------------

TIDECAST = Path(sys.executable).with_name("tidecast")


def tidecast_torrent_flags(peer_port: int, tracker_url: str, cache_dir: Path) -> list[str]:
    """tidecast's torrent-engine flags, as `tidecast serve --help` names them today."""
    return [
        "--torrent-listen-address", "127.0.0.1",
        "--torrent-listen-port", str(peer_port),  # never 6881 nor the seeder's port
        "--no-dht", "--no-lsd", "--no-upnp",  # --no-upnp covers NAT-PMP too
        "--no-outgoing-utp",  # loopback is a LAN: TCP only, like the seeder
        "--extra-trackers", tracker_url,  # added to every torrent: how it finds the seeder
        "--cache-dir", str(cache_dir),
    ]  # fmt: skip


def start_tidecast(swarm: Swarm, scratch: Path) -> Launch:
    """`tidecast serve` on a free port with a fresh data dir; the stream is the getstream URL.

    The harness waits for ``ready_url``, hands tidecast the .torrent (as the node CLIs get
    it on their command line: official clients POST it as ``transport_file_data``; here
    ``get_media_files`` remembers it, untimed), requests ``url`` by content id and follows
    its redirect to the playback URL; the seek goes to that final URL, as players do.
    """
    port = peers.free_port()
    command = [
        str(TIDECAST), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(scratch / "data"), "--log-level", "warning",
        *tidecast_torrent_flags(peers.free_port(), swarm.tracker_url, scratch / "cache"),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    torrent = swarm.torrent.read_bytes()
    content_id = hashlib.sha1(torrent, usedforsecurity=False).hexdigest()

    def hand_over_the_torrent() -> None:
        body = json.dumps({"transport_file_data": base64.b64encode(torrent).decode()})
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST",
            "/server/api?method=get_media_files",
            body,
            {"Content-Type": "application/json"},
        )
        answer = connection.getresponse().read()
        connection.close()
        if b'"error": null' not in answer:
            raise RuntimeError(f"tidecast refused the torrent: {answer[:200]!r}")

    return Launch(
        command,
        url=f"{base}/ace/getstream?content_id={content_id}",
        ready_url=f"{base}/webui/api/service?method=get_version",
        env={"TIDECAST_NETWORK_PROBE_TARGET": "127.0.0.1:9"},  # never probe the internet
        prepare=hand_over_the_torrent,
    )


# --- the other engines ----------------------------------------------------------------------


@dataclass
class Launch:
    """How to start one engine for one stream, and where its stream is."""

    command: list[str]
    url: str
    ready_url: str = ""  # servers: wait until it answers, then ask for the stream
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None  # servers: untimed set-up once ready


def start_static(swarm: Swarm, scratch: Path) -> Launch:
    port = peers.free_port()
    base = f"http://127.0.0.1:{port}/"
    command = peers.static_command(swarm.media, port, swarm.cap)
    return Launch(command, url=base + swarm.media.name, ready_url=base)


def start_peerflix(swarm: Swarm, scratch: Path) -> Launch:
    port, peer_port = peers.free_port(), peers.free_port()
    command = peers.peerflix_command(swarm.torrent, scratch, port, peer_port, swarm.seeder_port)
    return Launch(command, url=f"http://127.0.0.1:{port}/")


def start_webtorrent(swarm: Swarm, scratch: Path) -> Launch:
    port, peer_port = peers.free_port(), peers.free_port()
    command = peers.webtorrent_command(swarm.torrent, scratch, port, peer_port)
    url = f"http://127.0.0.1:{port}/webtorrent/{swarm.infohash}/{swarm.media.name}"
    return Launch(command, url=url, env={"WT_LOCAL_ONLY": "1"})


Starter = Callable[[Swarm, Path], Launch]
Sample = dict[str, float]  # one run's figures by column name
ENGINES: dict[str, tuple[str, Starter]] = {
    "static": ("static HTTP (the limit)", start_static),
    "peerflix": ("peerflix 0.39.0", start_peerflix),
    "webtorrent": ("webtorrent-cli 6.0.1", start_webtorrent),
    "tidecast": ("tidecast", start_tidecast),
}
NODE_ENGINES = ("peerflix", "webtorrent")


def prepare_media() -> Path:
    """The test file, generated once: 720p30 test pattern, H.264 at 8 Mbit/s CBR, faststart."""
    media = CACHE / "tidecast-bench.mp4"
    if media.exists():
        return media
    import av

    print(f"generating {media} (once, about 15 s)", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = media.with_suffix(".partial")
    pattern = f"testsrc2=size=1280x720:rate=30:duration={MEDIA_SECONDS}"
    with (
        av.open(pattern, format="lavfi") as source,
        av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as target,
    ):
        video = target.add_stream("libx264", rate=30, options=X264_OPTIONS)
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        for frame in source.decode(video=0):
            frame.pts = None
            target.mux(video.encode(frame))
        target.mux(video.encode(None))
    partial.rename(media)
    return media


# --- the harness ----------------------------------------------------------------------------
# http.client rather than httpx: read1() reads 2-4 GB/s here, httpx's iter_raw() 0.7-1.6 GB/s,
# and the client shares the machine's two cores with the engine it measures.


class Stream:
    """One GET, redirects followed: ``url`` is the final URL, ``response`` is unread."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        for _ in range(5):
            parts = urlsplit(url)
            self.connection = http.client.HTTPConnection(parts.netloc, timeout=READ_TIMEOUT)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            self.connection.request("GET", target, headers=headers)
            self.response = self.connection.getresponse()
            self.url = url
            if self.response.status not in (301, 302, 303, 307, 308):
                return
            url = urljoin(url, self.response.getheader("Location", ""))
            self.close()
        raise RuntimeError(f"too many redirects, last to {url}")

    def close(self) -> None:
        self.response.close()
        self.connection.close()


class Engine:
    """A launched engine: its process, its launch time, and when its stream was asked for."""

    def __init__(self, launch: Launch, log: Path) -> None:
        self.launch = launch
        self.log = log
        with log.open("wb") as out:
            self.launched = time.perf_counter()
            self.process = subprocess.Popen(
                launch.command, stdout=out, stderr=out, env={**os.environ, **launch.env}
            )
        self.asked = self.launched

    def poll(self, url: str, headers: dict[str, str]) -> Stream:
        """Request ``url`` every 20 ms until it answers 2xx; return that stream, unread."""
        deadline = time.perf_counter() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"exited with {code}: {last_line(self.log)} (see {self.log})")
            try:
                stream = Stream(url, headers)
                if 200 <= stream.response.status < 300:
                    return stream
                stream.close()
                last = f"HTTP {stream.response.status}"
            except (OSError, http.client.HTTPException) as error:
                last = type(error).__name__
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"no stream after {START_TIMEOUT:.0f} s ({last}), see {self.log}"
                )
            time.sleep(POLL_SECONDS)

    def wait_ready(self) -> None:
        """For a server, wait until it is up; the stream is asked for from then on."""
        if self.launch.ready_url:
            self.poll(self.launch.ready_url, {}).close()
            if self.launch.prepare is not None:
                self.launch.prepare()
            self.asked = time.perf_counter()

    def stop(self) -> None:
        peers.stop(self.process)


def last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1].strip() if lines else "no output"


@dataclass
class Body:
    first: float  # perf_counter() at the first body byte
    two_mib: float
    last: float
    size: int
    sha1: str


def read_body(stream: Stream, limit: int) -> Body:
    """Read at most ``limit`` bytes of the body, timing the first byte and the first 2 MiB."""
    digest, size, first, two_mib = hashlib.sha1(), 0, 0.0, 0.0
    while size < limit and (chunk := stream.response.read1(min(MIB, limit - size))):
        now = time.perf_counter()
        size += len(chunk)
        digest.update(chunk)
        first = first or now
        two_mib = two_mib or (now if size >= 2 * MIB else 0.0)
    last = time.perf_counter()
    stream.close()
    return Body(first, two_mib or last, last, size, digest.hexdigest())


@cache
def expected_sha1(path: Path, offset: int, length: int) -> str:
    with path.open("rb") as file:
        file.seek(offset)
        return hashlib.sha1(file.read(length)).hexdigest()


def check(body: Body, path: Path, offset: int, length: int) -> None:
    if body.size != length or body.sha1 != expected_sha1(path, offset, length):
        raise RuntimeError(f"wrong bytes at {offset}: {body.size} bytes, sha1 {body.sha1}")


def byte_range(offset: int, length: int) -> dict[str, str]:
    return {"Range": f"bytes={offset}-{offset + length - 1}"}


def measure_read(launch: Launch, media: Path, limit: int, log: Path) -> Sample:
    """One launch reading the first ``limit`` bytes of the stream."""
    engine = Engine(launch, log)
    try:
        engine.wait_ready()
        stream = engine.poll(launch.url, {})
        up = time.perf_counter()
        body = read_body(stream, limit)
    finally:
        engine.stop()
    check(body, media, 0, limit)
    return {
        "up": up - engine.launched,
        "first byte": body.first - engine.asked,
        "2 MiB": body.two_mib - engine.asked,
        "total": body.last - engine.asked,
        "MB/s": body.size / max(body.last - body.first, 1e-9) / 1e6,
    }


def measure_seek(launch: Launch, media: Path, length: int, log: Path) -> Sample:
    """One launch probing the first 2 MiB, then reading ``length`` bytes from the middle."""
    middle = media.stat().st_size // 2
    engine = Engine(launch, log)
    try:
        engine.wait_ready()
        probe = engine.poll(launch.url, byte_range(0, 2 * MIB))
        playback_url = probe.url  # after redirects: where a player sends its seeks
        check(read_body(probe, 2 * MIB), media, 0, 2 * MIB)
        asked = time.perf_counter()
        seek = Stream(playback_url, byte_range(middle, length))
        if seek.response.status != 206:
            raise RuntimeError(f"the seek was answered with HTTP {seek.response.status}, not 206")
        body = read_body(seek, length)
    finally:
        engine.stop()
    check(body, media, middle, length)
    return {"seek first byte": body.first - asked, "seek 2 MiB": body.two_mib - asked}


# --- rows and tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Runs:
    count: int
    warmup: int
    limit: int  # bytes read by the reading launch
    seek_length: int  # bytes read after the seek


COLUMNS = ["up", "first byte", "2 MiB", "total", "MB/s", "seek first byte", "seek 2 MiB"]
Row = Sample | str  # the medians, or the error that stopped the row
LEGEND = """
up: launch to the first HTTP answer. first byte, 2 MiB, total: from the launch (node CLIs)
or from the request (servers already up: static, tidecast). seek: from the seek request."""


SwarmFactory = Callable[[], AbstractContextManager[Swarm]]


def measure_run(
    engine: str, seeding: SwarmFactory, limit: int, seek_length: int, name: str
) -> Sample:
    """One reading launch and one seeking launch, each in a fresh download folder and
    against a freshly started seeder, so every launch meets the seeder in the same state
    (a capped libtorrent seeder keeps the upload quota a previous client left unused, which
    otherwise lets whoever comes after a killed client start faster)."""
    start = ENGINES[engine][1]
    with seeding() as swarm, tempfile.TemporaryDirectory(prefix="tidecast-bench-") as scratch:
        launch = start(swarm, Path(scratch))
        log = swarm.logs / name
        sample = measure_read(launch, swarm.media, limit, log.with_suffix(".read.log"))
    with seeding() as swarm, tempfile.TemporaryDirectory(prefix="tidecast-bench-") as scratch:
        launch = start(swarm, Path(scratch))
        log = swarm.logs / name
        sample |= measure_seek(launch, swarm.media, seek_length, log.with_suffix(".seek.log"))
    return sample


def measure_row(engine: str, seeding: SwarmFactory, runs: Runs, swarm_name: str) -> Row:
    """Medians of the measured runs, after the warm-up runs (discarded)."""
    samples: list[Sample] = []
    try:
        for run in range(-runs.warmup, runs.count):
            name = f"{engine}-{swarm_name}-{'warmup' if run < 0 else run}"
            sample = measure_run(engine, seeding, runs.limit, runs.seek_length, name)
            print(name, " ".join(f"{sample[c]:.3f}" for c in COLUMNS), file=sys.stderr)
            if run >= 0:
                samples.append(sample)
    except Exception as error:  # one failing row spoils no other
        return f"run {len(samples) + 1} failed: {error}"
    return {name: statistics.median(sample[name] for sample in samples) for name in COLUMNS}


def print_table(title: str, rows: dict[str, Row]) -> None:
    print(f"\n{title}\n{'':24}" + "".join(f"{name:>16}" for name in COLUMNS))
    for engine, row in rows.items():
        if isinstance(row, str):
            cells = f"  {row}"
        else:
            cells = "".join(f"{row[n]:>16.{0 if n == 'MB/s' else 3}f}" for n in COLUMNS)
        print(f"{ENGINES[engine][0]:24}{cells}")


def print_targets(healthy: dict[str, Row], capped: dict[str, Row]) -> None:
    """tidecast against the issue's targets, where the rows needed have figures."""

    def figure(rows: dict[str, Row], engine: str, column: str) -> float:
        row = rows.get(engine)
        return row[column] if isinstance(row, dict) else float("nan")

    peer_rate = max(figure(healthy, engine, "MB/s") for engine in NODE_ENGINES)
    peer_start = min(figure(capped, engine, "first byte") for engine in NODE_ENGINES)
    targets = [
        ("first byte, healthy", figure(healthy, "tidecast", "first byte"), "<", 0.15),
        ("first byte, capped", figure(capped, "tidecast", "first byte"), "<", peer_start),
        ("MB/s, healthy", figure(healthy, "tidecast", "MB/s"), ">=", 4 * peer_rate),
        ("seek first byte, healthy", figure(healthy, "tidecast", "seek first byte"), "<", 0.3),
    ]
    print("\ntidecast targets")
    for name, value, sign, goal in targets:
        met = value < goal if sign == "<" else value >= goal
        verdict = "n/a" if value != value or goal != goal else "met" if met else "MISSED"
        print(f"  {name:26} {value:9.3f} {sign:>2} {goal:9.3f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs before each row")
    parser.add_argument("--rows", default=",".join(ENGINES), help="comma-separated engines")
    parser.add_argument("--swarms", default="healthy,capped")
    parser.add_argument("--cap", type=int, default=4_000_000, help="capped seeder, bytes/s")
    parser.add_argument("--capped-mib", type=int, default=16, help="MiB read when capped")
    parser.add_argument("--seek-mib", type=int, default=4, help="MiB read after the seek")
    args = parser.parse_args()
    engines = args.rows.split(",")
    if unknown := set(engines) - set(ENGINES):
        raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
    if set(NODE_ENGINES) & set(engines):
        peers.install()
    media = prepare_media()
    logs = CACHE / "logs"
    logs.mkdir(exist_ok=True)
    tables: dict[str, dict[str, Row]] = {}
    with peers.tracker(logs) as tracker_url:
        for swarm_name in args.swarms.split(","):
            cap = args.cap if swarm_name == "capped" else 0
            limit = args.capped_mib * MIB if cap else media.stat().st_size
            runs = Runs(args.runs, args.warmup, limit, args.seek_mib * MIB)
            seeding = partial(peers.seeded, media, tracker_url, cap, logs)
            tables[swarm_name] = {
                engine: measure_row(engine, seeding, runs, swarm_name) for engine in engines
            }
            seeder = f"capped at {cap / 1e6:g} MB/s" if cap else "unlimited"
            read = f"first {args.capped_mib} MiB" if cap else "whole file"
            print_table(f"{swarm_name}: seeder {seeder}, {read}, seek reads {args.seek_mib} MiB,"
                        f" medians of {args.runs} runs (s, MB/s)", tables[swarm_name])  # fmt: skip
    print(LEGEND)
    print_targets(tables.get("healthy", {}), tables.get("capped", {}))


if __name__ == "__main__":
    main()

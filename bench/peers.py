"""The other side of the streaming benchmarks: seeder, tracker, static server, node clients.

Nothing talks beyond loopback: DHT, LSD, UPnP and NAT-PMP are off in every program, the
only tracker is the local one, and every peer is on 127.0.0.1 (under strace, every connect
and sendto of a whole run went to 127.0.0.1). Listening sockets are on 127.0.0.1, except the
node clients' peer ports and webtorrent-cli's HTTP server, which they cannot bind.

* ``seed``: a libtorrent seeder (``high_performance_seed()``, TCP out, ``seed_mode``, an
  optional per-torrent upload cap that simulates a slow swarm, enforced every 100 ms). It
  runs as its own process so its CPU never shares a GIL with the measuring process.
* ``static``: a static HTTP server with Range support, optionally capped to a rate: the
  best any engine could do from the same source.
* the local ``bittorrent-tracker`` and the two node streaming clients, ``peerflix`` and
  ``webtorrent-cli``, pinned in ``bench/node/package.json`` and its lock. On first use
  ``install()`` runs ``npm install --ignore-scripts`` into ``bench/node/node_modules``
  (no lifecycle scripts: ip-set's preinstall insists on pnpm, and node-datachannel's would
  download a prebuilt binary) and applies two small patches, idempotently:
  ``node-datachannel`` falls back to a stub when its native module is missing (no WebRTC,
  TCP and uTP peers only), and ``WT_LOCAL_ONLY=1`` turns off webtorrent-cli's DHT, LSD,
  UPnP and NAT-PMP, which it has no flags for.

Usage:
    python bench/peers.py install
    python bench/peers.py seed --port 7001 --data DIR [--upload-limit BYTES] TORRENT
    python bench/peers.py static --port 8099 [--rate BYTES] FILE
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
MODULES = NODE_DIR / "node_modules"
PEERFLIX = MODULES / "peerflix" / "app.js"
WEBTORRENT = MODULES / "webtorrent-cli" / "bin" / "cmd.js"
TRACKER = MODULES / "bittorrent-tracker" / "bin" / "cmd.js"
READY = "ready"  # the line a helper process prints once it can serve
PIECE_SIZE = 256 * 1024

# --- node packages ----------------------------------------------------------------------

_NATIVE = 'require("../../../build/Release/node_datachannel.node")'
_STUBBED = (
    f"(() => {{ try {{ return {_NATIVE} }} catch {{ return {{}} }} }})() /* bench: no WebRTC */"
)
_WT_OPTIONS = "    uploadLimit: argv.uploadLimit\n  })"
_WT_LOCAL = (
    "    uploadLimit: argv.uploadLimit,\n    ...(process.env.WT_LOCAL_ONLY"
    " ? { dht: false, lsd: false, natUpnp: false, natPmp: false } : {}) /* bench */\n  })"
)
PATCHES: list[tuple[str, str, str]] = [
    ("node-datachannel/dist/esm/lib/node-datachannel.mjs", _NATIVE, _STUBBED),
    ("node-datachannel/dist/cjs/lib/node-datachannel.cjs", _NATIVE, _STUBBED),
    ("webtorrent-cli/bin/cmd.js", _WT_OPTIONS, _WT_LOCAL),
]
"""(file under node_modules, original text, replacement): every occurrence is replaced."""


def apply_patch(path: Path, old: str, new: str) -> bool:
    """Replace ``old`` by ``new`` in ``path``; False when it was already patched."""
    text = path.read_text()
    if new in text:
        return False
    if old not in text:
        raise SystemExit(f"{path}: cannot patch, the expected text is missing")
    path.write_text(text.replace(old, new))
    return True


def install() -> None:
    """Install the pinned node packages on first use and patch them (both idempotent)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("node and npm are needed for the peer rows")
    if not all(p.exists() for p in (PEERFLIX, WEBTORRENT, TRACKER)):
        # Not `npm ci`: it calls the lock out of sync, because webtorrent-cli's optional
        # airplay-js@^0.3.0 was never published. `npm install` installs the locked versions.
        subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
        )
    for name, old, new in PATCHES:
        if apply_patch(MODULES / name, old, new):
            print(f"patched node_modules/{name}", file=sys.stderr)


def tracker_command(port: int) -> list[str]:
    return ["node", str(TRACKER), "--http", "--http-hostname", "127.0.0.1", "--port", str(port)]


def peerflix_command(
    torrent: Path, out: Path, http_port: int, peer_port: int, seeder_port: int
) -> list[str]:
    """peerflix with the seeder as a direct peer; ``--peer-port`` must not be 6881 (notes §2.1)."""
    return [
        "node", str(PEERFLIX), str(torrent), "--quiet", "--no-dht",
        "--path", str(out), "--hostname", "127.0.0.1", "--port", str(http_port),
        "--peer-port", str(peer_port), "--peer", f"127.0.0.1:{seeder_port}",
    ]  # fmt: skip


def webtorrent_command(torrent: Path, out: Path, http_port: int, peer_port: int) -> list[str]:
    """webtorrent-cli finds the seeder through the tracker; run it with ``WT_LOCAL_ONLY=1``."""
    return [
        "node", str(WEBTORRENT), "download", str(torrent), "--quiet", "--keep-seeding",
        "--out", str(out), "--port", str(http_port), "--torrent-port", str(peer_port),
    ]  # fmt: skip


# --- helper processes ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (engines close their sessions cleanly), then SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def helper(command: list[str], log: IO[bytes], ready_port: int = 0) -> Iterator[None]:
    """Run ``command`` until the block ends; wait for its ``ready`` line, or for ``ready_port``."""
    out = log if ready_port else subprocess.PIPE
    process = subprocess.Popen(command, stdout=out, stderr=log)
    try:
        if ready_port:
            wait_port(ready_port, process)
        else:
            line = process.stdout.readline() if process.stdout else b""
            if line.strip().decode() != READY:
                raise RuntimeError(f"{command[:4]!r} did not start: {line!r}")
        yield
    finally:
        stop(process)


def static_command(path: Path, port: int, rate: int = 0) -> list[str]:
    return [sys.executable, str(Path(__file__)), "static", str(path), "--port", str(port),
            "--rate", str(rate)]  # fmt: skip


# --- the swarm ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Swarm:
    """One file, its torrent, and the running seeder and tracker it is streamed from."""

    media: Path
    torrent: Path
    infohash: str
    tracker_url: str
    seeder_port: int
    cap: int  # bytes/s the seeder uploads at most; 0 = unlimited
    logs: Path


def make_torrent(media: Path, tracker_url: str) -> Path:
    """A v1 torrent of ``media`` (256 KiB pieces) next to it, announcing to ``tracker_url``.

    The tracker is outside the info dictionary, so the infohash never changes.
    """
    import libtorrent as lt

    files = lt.list_files(str(media))
    creator = lt.create_torrent(files, PIECE_SIZE, lt.create_torrent.v1_only)
    creator.add_tracker(tracker_url)
    lt.set_piece_hashes(creator, str(media.parent))
    torrent = media.with_suffix(".torrent")
    torrent.write_bytes(lt.bencode(creator.generate()))
    return torrent


@contextmanager
def tracker(logs: Path) -> Iterator[str]:
    """A local bittorrent-tracker (HTTP only, on 127.0.0.1); yields its announce URL."""
    port = free_port()
    with (logs / "tracker.log").open("wb") as log, helper(tracker_command(port), log, port):
        yield f"http://127.0.0.1:{port}/announce"


@contextmanager
def seeded(media: Path, tracker_url: str, cap: int, logs: Path) -> Iterator[Swarm]:
    """Seed ``media`` (uploading at most ``cap`` bytes/s, 0 = unlimited) while the block runs."""
    import libtorrent as lt

    torrent = make_torrent(media, tracker_url)
    infohash = str(lt.torrent_info(str(torrent)).info_hashes().v1)
    port = free_port()
    command = [
        sys.executable, str(Path(__file__)), "seed", str(torrent),
        "--data", str(media.parent), "--port", str(port), "--upload-limit", str(cap),
    ]  # fmt: skip
    with (logs / f"seeder-{cap}.log").open("wb") as log, helper(command, log):
        yield Swarm(media, torrent, infohash, tracker_url, port, cap, logs)


# --- the seeder (runs in its own process) ------------------------------------------------


def seed(torrent: Path, data: Path, port: int, upload_limit: int) -> None:
    """Seed ``torrent`` from ``data`` on 127.0.0.1:``port`` until SIGTERM.

    Prints ``ready`` once the local tracker has answered the first announce (or after 5 s
    when the torrent names no reachable tracker).
    """
    import libtorrent as lt

    settings = lt.high_performance_seed()
    settings.update(
        {
            "listen_interfaces": f"127.0.0.1:{port}",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_outgoing_utp": False,
            "allow_multiple_connections_per_ip": True,
            # A capped torrent gets upload quota once a tick, and unused quota piles up: at
            # the default 500 ms the "4 MB/s" seeder delayed handshakes by half-seconds, then
            # sent 2 MiB in 0.1 s bursts; at 100 ms it sends at the cap, like the static row.
            # Uncapped, 100 ms cost the node peers a quarter of their throughput here.
            "tick_interval": 100 if upload_limit else 500,
            "alert_mask": lt.alert_category.error | lt.alert_category.tracker,
        }
    )
    session = lt.session(settings)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(str(torrent))
    params.save_path = str(data)
    params.flags |= lt.torrent_flags.seed_mode
    params.upload_limit = upload_limit
    handle = session.add_torrent(params)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    give_up_waiting = time.monotonic() + 5
    announced, told = False, False
    while not stopping.is_set():
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                announced = True
            elif alert.category() & lt.alert_category.error:
                print(f"seeder: {alert.message()}", file=sys.stderr)
        if not told and (announced or time.monotonic() > give_up_waiting):
            print(READY, flush=True)
            told = True
    session.remove_torrent(handle)  # says goodbye to connected peers


# --- the static server (runs in its own process) -----------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def byte_span(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a single ``Range`` asks for: ``a-b``, ``a-`` or ``-n``."""
    match = _RANGE.match(header)
    if not match or not any(match.groups()):
        return None
    start, end = match.groups()
    if not start:
        return max(size - int(end), 0), size - 1
    return int(start), min(int(end or size - 1), size - 1)


class StaticFile(BaseHTTPRequestHandler):
    """GET and HEAD of one file at any path, with single byte ranges; ``rate`` 0 is unlimited."""

    protocol_version = "HTTP/1.1"
    path_on_disk: Path
    rate: int = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.answer(send_body=False)

    def do_GET(self) -> None:
        self.answer(send_body=True)

    def answer(self, send_body: bool) -> None:
        size = self.path_on_disk.stat().st_size
        span = byte_span(self.headers.get("Range", ""), size)
        first, last = span or (0, size - 1)
        self.send_response(206 if span else 200)
        if span:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        if send_body:
            with self.path_on_disk.open("rb") as file, suppress(ConnectionError):
                self.copy(file, first, last - first + 1)  # players hang up mid-body

    def copy(self, file: IO[bytes], offset: int, count: int) -> None:
        if not self.rate:
            self.connection.sendfile(file, offset, count)
            return
        file.seek(offset)
        started, sent, chunk = time.monotonic(), 0, 64 * 1024
        while sent < count:
            data = file.read(min(chunk, count - sent))
            self.wfile.write(data)
            sent += len(data)
            time.sleep(max(0.0, started + sent / self.rate - time.monotonic()))


def serve_static(path: Path, port: int, rate: int) -> None:
    handler = type("Handler", (StaticFile,), {"path_on_disk": path, "rate": rate})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(READY, flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install and patch the node packages")
    seeding = commands.add_parser("seed", help="seed one torrent with libtorrent")
    seeding.add_argument("torrent", type=Path)
    seeding.add_argument("--data", type=Path, required=True, help="folder holding the files")
    seeding.add_argument("--port", type=int, required=True)
    seeding.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = unlimited")
    static = commands.add_parser("static", help="serve one file over HTTP with Range")
    static.add_argument("file", type=Path)
    static.add_argument("--port", type=int, required=True)
    static.add_argument("--rate", type=int, default=0, help="bytes/s, 0 = unlimited")
    args = parser.parse_args()
    if args.command == "install":
        install()
    elif args.command == "seed":
        seed(args.torrent, args.data, args.port, args.upload_limit)
    else:
        serve_static(args.file, args.port, args.rate)


if __name__ == "__main__":
    main()

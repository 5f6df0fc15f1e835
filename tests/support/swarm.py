"""A BitTorrent swarm on loopback: an HTTP tracker and a libtorrent seeder.

The tracker is a faithful, small BEP 3/23 tracker (compact peer lists); the seeder is a
real libtorrent session seeding from disk. Nothing listens beyond 127.0.0.1, and DHT,
LSD, UPnP and NAT-PMP are off, so a test swarm never reaches the network.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import libtorrent as lt


@dataclass
class Content:
    """A seeded torrent: its bytes, where its files are, its info-hash."""

    torrent: bytes
    root: Path
    infohash: str

    def bytes_of(self, relative: str | None = None) -> bytes:
        path = self.root if relative is None else self.root / relative
        return path.read_bytes()


class Tracker:
    """An HTTP tracker on 127.0.0.1 that answers announces with compact peer lists."""

    def __init__(self) -> None:
        self.peers: dict[bytes, dict[tuple[str, int], float]] = {}
        self.announces = 0
        self._lock = threading.Lock()
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                tracker._announce(self)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/announce"

    def start(self) -> Tracker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _announce(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query, encoding="latin-1")
        try:
            info_hash = query["info_hash"][0].encode("latin-1")
            port = int(query["port"][0])
        except (KeyError, ValueError):
            self._reply(request, lt.bencode({b"failure reason": b"bad announce"}))
            return
        peer = (request.client_address[0], port)
        with self._lock:
            self.announces += 1
            swarm = self.peers.setdefault(info_hash, {})
            if query.get("event", [""])[0] == "stopped":
                swarm.pop(peer, None)
            else:
                swarm[peer] = time.monotonic()
            others = [p for p in swarm if p != peer]
        compact = b"".join(socket.inet_aton(ip) + struct.pack(">H", p) for ip, p in others)
        self._reply(request, lt.bencode({b"interval": 30, b"min interval": 1, b"peers": compact}))

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, body: bytes) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        with contextlib.suppress(ConnectionError):  # the peer gave up: nothing to do
            request.wfile.write(body)


def local_session_settings(*, listen_port: int = 0) -> dict[str, object]:
    """Session settings for a loopback-only peer: no DHT/LSD/UPnP/NAT-PMP, TCP only."""
    return {
        "listen_interfaces": f"127.0.0.1:{listen_port}",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
        "stop_tracker_timeout": 1,
    }


class Seeder:
    """A libtorrent session seeding torrents from disk on 127.0.0.1.

    ``upload_limit`` caps each torrent's upload (bytes per second), which makes a slow
    swarm; 0 is unlimited.
    """

    def __init__(self, *, upload_limit: int = 0) -> None:
        pack = lt.high_performance_seed()
        pack.update(local_session_settings())
        self.session = lt.session(pack)
        self.upload_limit = upload_limit
        self.handles: list[lt.torrent_handle] = []

    @property
    def port(self) -> int:
        return int(self.session.listen_port())

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def seed(self, torrent: bytes, save_path: Path) -> lt.torrent_handle:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(lt.bdecode(torrent))
        params.save_path = str(save_path)
        params.flags |= lt.torrent_flags.seed_mode
        params.flags &= ~lt.torrent_flags.auto_managed
        params.flags &= ~lt.torrent_flags.paused
        handle = self.session.add_torrent(params)
        if self.upload_limit:
            handle.set_upload_limit(self.upload_limit)
        self.handles.append(handle)
        return handle

    def uploaded(self) -> int:
        return sum(h.status().total_payload_upload for h in self.handles)

    def stop(self) -> None:
        for handle in self.handles:
            self.session.remove_torrent(handle)
        self.handles.clear()
        self.session.pause()


@contextmanager
def seeding(torrent: bytes, save_path: Path, *, upload_limit: int = 0) -> Iterator[Seeder]:
    """Seed ``torrent`` from ``save_path`` for the duration of the block."""
    seeder = Seeder(upload_limit=upload_limit)
    seeder.seed(torrent, save_path)
    try:
        yield seeder
    finally:
        seeder.stop()


def magnet(infohash: str, *, peer: str | None = None, tracker: str | None = None) -> str:
    """A magnet link for ``infohash`` with an optional peer hint and tracker."""
    link = f"magnet:?xt=urn:btih:{infohash}"
    if peer:
        link += f"&x.pe={peer}"
    if tracker:
        link += f"&tr={tracker}"
    return link

"""The BitTorrent engine: one libtorrent session, its alert loop, and streaming reads.

``TorrentEngine`` owns the session. Its alert thread waits on libtorrent, copies what
each alert says into plain tuples (an alert object is only valid until the next pop) and
hands them to the event loop, so everything else here runs on the loop and the core sees
an async interface: ``acquire`` a ``Torrent`` from a transport file, a magnet or an
info-hash (metadata fetched from the swarm, with a timeout), open a ``FileReader`` on one
of its files, stream byte ranges, ``release`` it.

Piece strategy (measured in ``notes/streaming.md`` and ``bench/stream.py``): a reader
claims the pieces at its position with deadlines (a window that moves with it), their
priorities graded by distance from the read position. Nothing else is requested until
most of the first window is in, so a slow swarm delivers the first bytes without
queueing behind bulk requests. From then on the rest of the selected files is wanted at
low priority, their tails first (players probe the end of a file for its index), which
also keeps the torrent from turning "finished". When a reader goes away, the deadlines
only it claimed are cancelled, so a seek re-centres the window at once. Seed connections
are kept when a file completes (``close_redundant_connections`` off): libtorrent is slow
to reconnect them when the next file is asked for. Bytes are read back through
``read_piece`` only after the piece passed its hash check: never from the files on
disk, which can lag behind.
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libtorrent as lt

if TYPE_CHECKING:
    from libtorrent import _Entry

from tidecast.core.errors import ContentUnavailable, InvalidInput, UnsupportedContent
from tidecast.engine.cache_dir import CacheDir
from tidecast.engine.torrent_reader import TorrentFile, TransportFile, read_transport_file

log = logging.getLogger(__name__)

_DEADLINE_STEP_MS = 10
_TAIL_BYTES = 1024 * 1024
_BACKGROUND = 1
_TAIL_PRIORITY = 2
_ALERT_WAIT_MS = 250
_PIECE_CACHE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TorrentConfig:
    """What the session is built from (``Settings`` maps onto it in the core)."""

    listen_interfaces: str
    storage_dir: Path
    dht: bool = True
    lsd: bool = True
    upnp: bool = True
    outgoing_utp: bool = False
    download_rate_limit: int = 0
    upload_rate_limit: int = 0
    connections_limit: int = 200
    extra_trackers: tuple[str, ...] = ()
    readahead_bytes: int = 8 * 1024 * 1024
    cache_max_bytes: int = 4 * 1024**3
    memory_only: bool = False
    """Keep the cache in a private folder made inside ``storage_dir`` (tmpfs), removed
    when the engine stops."""


@dataclass(frozen=True, slots=True)
class TorrentSource:
    """One way to name a torrent: its transport file, a magnet link or an info-hash."""

    transport: bytes | None = None
    magnet: str | None = None
    infohash: str | None = None


@dataclass(frozen=True, slots=True)
class TorrentStatus:
    """A snapshot of one torrent: ``state`` is metadata, check, download, seed or error."""

    state: str
    peers: int
    download_rate: int
    upload_rate: int
    downloaded: int
    uploaded: int
    error: str | None


def session_settings(config: TorrentConfig) -> lt.settings_pack:
    """libtorrent settings for streaming (TCP to LAN peers, a 100 ms tick)."""
    categories = lt.alert.category_t
    mask = (
        categories.status_notification
        | categories.storage_notification
        | categories.error_notification
        | categories.piece_progress_notification
    )
    return {
        "listen_interfaces": config.listen_interfaces,
        "enable_dht": config.dht,
        "enable_lsd": config.lsd,
        "enable_upnp": config.upnp,
        "enable_natpmp": config.upnp,
        "enable_outgoing_utp": config.outgoing_utp,
        "tick_interval": 100,
        "close_redundant_connections": False,
        "stop_tracker_timeout": 1,
        "allow_multiple_connections_per_ip": True,
        "download_rate_limit": config.download_rate_limit,
        "upload_rate_limit": config.upload_rate_limit,
        "connections_limit": config.connections_limit,
        "alert_mask": int(mask),
        "alert_queue_size": 100_000,
        "user_agent": "tidecast",
    }


def _infohash_of(params: lt.add_torrent_params) -> str:
    hashes = params.ti.info_hashes() if params.ti is not None else params.info_hashes
    if hashes.has_v1():
        return str(hashes.v1.to_bytes().hex())
    return str(hashes.get_best().to_bytes().hex())


class TorrentEngine:
    """The libtorrent session of one instance; created on first use, closed on stop."""

    def __init__(self, config: TorrentConfig) -> None:
        self.config = config
        self._session: lt.session | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._torrents: dict[str, Torrent] = {}
        self._by_handle: dict[lt.torrent_handle, Torrent] = {}
        self._adding: dict[str, asyncio.Future[Torrent]] = {}
        self.cache = CacheDir(config.storage_dir, config.cache_max_bytes)

    @property
    def running(self) -> bool:
        return self._session is not None

    @property
    def listen_port(self) -> int:
        return int(self._ensure_session().listen_port())

    def torrents(self) -> list[Torrent]:
        return list(self._torrents.values())

    def _ensure_session(self) -> lt.session:
        if self._session is None:
            self.config.storage_dir.mkdir(parents=True, exist_ok=True)
            if self.config.memory_only:
                root = tempfile.mkdtemp(prefix="tidecast-", dir=self.config.storage_dir)
                self.cache = CacheDir(Path(root), self.config.cache_max_bytes)
            self._loop = asyncio.get_running_loop()
            self._session = lt.session(session_settings(self.config))
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._alert_loop, args=(self._session,), name="tidecast-alerts", daemon=True
            )
            self._thread.start()
        return self._session

    async def stop(self) -> None:
        """Remove every torrent (peers get a clean close) and end the session."""
        session = self._session
        if session is None:
            return
        for torrent in list(self._torrents.values()):
            torrent.fail(ContentUnavailable("the engine is stopping"))
            session.remove_torrent(torrent.handle)
        self._torrents.clear()
        self._by_handle.clear()
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        self._session = None
        # Dropping the last reference aborts the session; that waits for the network
        # thread, so it happens off the loop.
        await asyncio.to_thread(_close_session, session)
        if self.config.memory_only:
            await asyncio.to_thread(self.cache.clear)

    async def acquire(
        self, source: TorrentSource, *, metadata_timeout: float, file_index: int | None = None
    ) -> Torrent:
        """The torrent ``source`` names, added if needed, with its metadata; one more user.

        A magnet or info-hash without known metadata fetches it from the swarm, waiting
        at most ``metadata_timeout`` seconds (``ContentUnavailable`` then). The start of
        file ``file_index`` (default: the largest video) is claimed as soon as the
        metadata is known, before any reader asks (the first reader takes the claim over).
        """
        params = self._params(source)
        infohash = _infohash_of(params)
        torrent = self._torrents.get(infohash)
        if torrent is None:
            pending = self._adding.get(infohash)
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                self._adding[infohash] = pending
                try:
                    torrent = self._add(infohash, params, source.transport, file_index)
                    pending.set_result(torrent)
                except BaseException as exc:
                    pending.set_exception(exc)
                    pending.exception()  # retrieved: concurrent waiters re-raise it
                    raise
                finally:
                    del self._adding[infohash]
            else:
                torrent = await asyncio.shield(pending)
        elif params.ti is not None and not torrent.has_metadata:
            torrent.handle.set_metadata(params.ti.info_section())
        torrent.users += 1
        try:
            await torrent.wait_metadata(metadata_timeout)
        except BaseException:
            await self.release(torrent)
            raise
        return torrent

    async def release(self, torrent: Torrent) -> None:
        """One user fewer; the last one removes the torrent from the session (its data
        stays in the cache directory until the cache evicts it)."""
        torrent.users -= 1
        if torrent.users > 0 or self._torrents.get(torrent.infohash) is not torrent:
            return
        del self._torrents[torrent.infohash]
        self._by_handle.pop(torrent.handle, None)
        torrent.fail(ContentUnavailable("the torrent was closed"))
        if self._session is not None:
            self._session.remove_torrent(torrent.handle)
        self.cache.touch(torrent.infohash)

    def enforce_cache_limit(self) -> list[str]:
        """Evict the least recently watched content nobody is playing until the cache
        fits its limit; returns the info-hashes evicted."""
        for infohash in self._torrents:
            self.cache.touch(infohash)
        return self.cache.evict(in_use=set(self._torrents))

    def _params(self, source: TorrentSource) -> lt.add_torrent_params:
        try:
            if source.transport is not None:
                params = lt.load_torrent_buffer(source.transport)
                trackers = tuple(params.trackers)
            elif source.magnet is not None:
                params = lt.parse_magnet_uri(source.magnet)
                trackers = tuple(params.trackers)
            elif source.infohash is not None:
                params = lt.add_torrent_params()
                raw = bytes.fromhex(source.infohash)
                if len(raw) != 20:
                    raise InvalidInput("an info-hash is 40 hexadecimal digits")
                params.info_hashes = lt.info_hash_t(lt.sha1_hash(raw))
                trackers = ()
            else:
                raise InvalidInput("no torrent given")
        except (RuntimeError, ValueError) as exc:
            raise UnsupportedContent("not a transport file or magnet link") from exc
        params.trackers = list(dict.fromkeys([*trackers, *self.config.extra_trackers]))
        return params

    def _add(
        self,
        infohash: str,
        params: lt.add_torrent_params,
        transport: bytes | None,
        file_index: int | None,
    ) -> Torrent:
        session = self._ensure_session()
        params.save_path = str(self.cache.folder(infohash))
        params.flags &= ~lt.torrent_flags.auto_managed
        params.flags &= ~lt.torrent_flags.paused
        if params.ti is not None:
            # Added paused with nothing wanted; the first requests, made on resume, are
            # the prebuffer's. (A running torrent with nothing wanted is "finished" and
            # would not connect to seeds.)
            params.file_priorities = [0] * params.ti.num_files()
            params.flags |= lt.torrent_flags.paused
        try:
            handle = session.add_torrent(params)
        except RuntimeError as exc:
            raise ContentUnavailable(f"cannot start the torrent: {exc}") from exc
        assert self._loop is not None
        torrent = Torrent(self, infohash, handle, self._loop, file_index)
        self._torrents[infohash] = torrent
        self._by_handle[handle] = torrent
        if params.ti is not None:
            torrent.on_metadata(params.ti, transport)
            handle.resume()
        return torrent

    # -- the alert thread ------------------------------------------------------------

    def _alert_loop(self, session: lt.session) -> None:
        loop = self._loop
        assert loop is not None
        while not self._stopping.is_set():
            if session.wait_for_alert(_ALERT_WAIT_MS) is None:
                continue
            events = [event for alert in session.pop_alerts() if (event := _event(alert))]
            if events:
                try:
                    loop.call_soon_threadsafe(self._dispatch, events)
                except RuntimeError:  # the loop is closed: nobody is listening any more
                    return

    def _dispatch(self, events: list[tuple[Any, ...]]) -> None:
        for kind, handle, *args in events:
            torrent = self._by_handle.get(handle)
            if torrent is not None:
                torrent.on_event(kind, *args)


def _close_session(session: lt.session) -> None:
    session.pause()
    del session


def _event(alert: lt.alert) -> tuple[Any, ...] | None:
    """The plain data of an alert the engine acts on (alerts die at the next pop)."""
    if isinstance(alert, lt.piece_finished_alert):
        return ("piece", alert.handle, int(alert.piece_index))
    if isinstance(alert, lt.read_piece_alert):
        failed = alert.error.value() != 0
        data = None if failed else bytes(alert.buffer)
        return ("read", alert.handle, int(alert.piece), data, alert.error.message())
    if isinstance(alert, lt.metadata_received_alert):
        return ("metadata", alert.handle)
    if isinstance(alert, lt.torrent_checked_alert):
        return ("checked", alert.handle)
    if isinstance(alert, lt.file_error_alert | lt.torrent_error_alert):
        return ("error", alert.handle, alert.message())
    return None


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each file lies in the torrent's byte stream, and its pieces."""

    info: TransportFile
    piece_length: int
    num_pieces: int
    offsets: dict[int, int]

    def piece_at(self, file: TorrentFile, position: int) -> tuple[int, int]:
        """(piece, offset inside it) of byte ``position`` of ``file``."""
        absolute = self.offsets[file.index] + position
        return absolute // self.piece_length, absolute % self.piece_length

    def pieces_of(self, file: TorrentFile) -> range:
        start = self.offsets[file.index]
        if file.size == 0:
            return range(0)
        return range(start // self.piece_length, (start + file.size - 1) // self.piece_length + 1)


class Torrent:
    """One torrent in the session, shared by every viewer of its content."""

    def __init__(
        self,
        engine: TorrentEngine,
        infohash: str,
        handle: lt.torrent_handle,
        loop: asyncio.AbstractEventLoop,
        preselect: int | None = None,
    ) -> None:
        self.engine = engine
        self.infohash = infohash
        self.handle = handle
        self.users = 0
        self.error: str | None = None
        self.transport: bytes | None = None
        self._loop = loop
        self._layout: _Layout | None = None
        self._metadata: asyncio.Future[None] = loop.create_future()
        self._have = bytearray()
        self._have_waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._reads: dict[int, asyncio.Future[bytes]] = {}
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_bytes = 0
        self._selected: set[int] = set()
        self._claims: dict[int, int] = {}
        self._deadlines: set[int] = set()
        self._background = False
        self._preselect = preselect
        self._prebuffer: FileReader | None = None
        self._prioritized = False
        self._head: set[int] | None = None
        self._head_left = 0

    # -- metadata --------------------------------------------------------------------

    @property
    def has_metadata(self) -> bool:
        return self._layout is not None

    @property
    def info(self) -> TransportFile:
        if self._layout is None:
            raise ContentUnavailable("the torrent's metadata has not arrived")
        return self._layout.info

    async def wait_metadata(self, seconds: float) -> None:
        if self.error is not None and not self._metadata.done():
            raise ContentUnavailable(self.error)
        try:
            await asyncio.wait_for(asyncio.shield(self._metadata), seconds)
        except TimeoutError:
            raise ContentUnavailable("no peer sent the torrent's metadata in time") from None

    def on_metadata(self, ti: lt.torrent_info, transport: bytes | None = None) -> None:
        """The metadata is known: from the transport file added, or from the swarm."""
        if self._layout is not None:
            return
        if transport is None:
            transport = _transport_bytes(ti, [str(t["url"]) for t in self.handle.trackers()])
        info = read_transport_file(transport)
        storage = ti.layout()
        offsets = {f.index: int(storage.file_offset(f.index)) for f in info.files}
        self.transport = transport
        self._layout = _Layout(info, ti.piece_length(), ti.num_pieces(), offsets)
        self._have = bytearray(ti.num_pieces())
        self._refresh_have()
        file = self._preselected(info)
        if file is not None:
            self._prebuffer = self.reader(file)
        if not self._metadata.done():
            self._metadata.set_result(None)

    def _preselected(self, info: TransportFile) -> TorrentFile | None:
        for file in info.files:
            if file.index == self._preselect:
                return file
        return info.largest_video()

    # -- status ----------------------------------------------------------------------

    def status(self) -> TorrentStatus:
        status = self.handle.status()
        states = lt.torrent_status.states
        if self.error is not None:
            state = "error"
        elif not status.has_metadata:
            state = "metadata"
        elif status.state in (states.checking_files, states.checking_resume_data):
            state = "check"
        elif status.is_seeding:
            state = "seed"
        else:
            state = "download"
        return TorrentStatus(
            state=state,
            peers=int(status.num_peers),
            download_rate=int(status.download_payload_rate),
            upload_rate=int(status.upload_payload_rate),
            downloaded=int(status.total_payload_download),
            uploaded=int(status.total_payload_upload),
            error=self.error,
        )

    def file_progress(self, file: TorrentFile) -> float:
        """Share of ``file``'s bytes verified, 0..1."""
        if file.size == 0:
            return 1.0
        layout = self._require_layout()
        pieces = layout.pieces_of(file)
        done = sum(self._have[p] for p in pieces)
        return min(1.0, done / max(1, len(pieces)))

    def have_range(self, file: TorrentFile, start: int, end: int) -> bool:
        """Whether bytes ``start``..``end`` (exclusive) of ``file`` are all verified."""
        if end <= start:
            return True
        layout = self._require_layout()
        first, _ = layout.piece_at(file, start)
        last, _ = layout.piece_at(file, end - 1)
        return all(self._have[p] for p in range(first, last + 1))

    def prebuffer_share(self, file: TorrentFile, size: int) -> float:
        """Share of the pieces holding the first ``size`` bytes of ``file`` verified."""
        if size <= 0:
            return 1.0
        layout = self._require_layout()
        first, _ = layout.piece_at(file, 0)
        last, _ = layout.piece_at(file, size - 1)
        return sum(self._have[p] for p in range(first, last + 1)) / (last - first + 1)

    # -- reading ---------------------------------------------------------------------

    def want(self, file: TorrentFile) -> None:
        """Download ``file`` in the background (the next file of a playlist)."""
        layout = self._require_layout()
        if file.index not in layout.offsets or file.index in self._selected:
            return
        self._selected.add(file.index)
        if self._background:
            self._set_background(file)

    def reader(self, file: TorrentFile) -> FileReader:
        """A reader of ``file`` from its start; the file becomes wanted."""
        layout = self._require_layout()
        if file.index not in layout.offsets:
            raise InvalidInput("no such file in the torrent")
        reader = FileReader(self, file, layout)
        self._claim(list(enumerate(reader.window())))
        if file.index not in self._selected:
            self._selected.add(file.index)
            if self._background:
                self._set_background(file)
        if self._prebuffer is not None:
            # The first real reader takes over from the prebuffer (same window when it
            # reads the same file from the start).
            prebuffer, self._prebuffer = self._prebuffer, None
            prebuffer.close()
        return reader

    async def piece(self, index: int) -> bytes:
        """The verified bytes of piece ``index`` (waits for it to be downloaded)."""
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        if self.error is not None:
            raise ContentUnavailable(self.error)
        if not self._have[index]:
            waiter = self._loop.create_future()
            self._have_waiters.setdefault(index, []).append(waiter)
            await waiter
        return await self._read(index)

    def prefetch(self, index: int) -> None:
        """Start reading piece ``index`` if it is verified and not read yet."""
        layout = self._layout
        if (
            layout is not None
            and 0 <= index < layout.num_pieces
            and self._have[index]
            and index not in self._cache
        ):
            self._read_future(index)

    async def _read(self, index: int) -> bytes:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        return await asyncio.shield(self._read_future(index))

    def _read_future(self, index: int) -> asyncio.Future[bytes]:
        future = self._reads.get(index)
        if future is None:
            future = self._reads[index] = self._loop.create_future()
            self.handle.read_piece(index)
        return future

    # -- events from the alert loop --------------------------------------------------

    def on_event(self, kind: str, *args: Any) -> None:
        if kind == "piece":
            self._on_piece(args[0])
        elif kind == "read":
            self._on_read(*args)
        elif kind == "metadata":
            ti = self.handle.torrent_file()
            if ti is not None:
                self.on_metadata(ti)
        elif kind == "checked":
            self._refresh_have()
        elif kind == "error":
            self.fail(ContentUnavailable(str(args[0])))

    def _on_piece(self, index: int) -> None:
        if not self._have or self._have[index]:
            return
        self._have[index] = 1
        self._deadlines.discard(index)
        for waiter in self._have_waiters.pop(index, ()):
            if not waiter.done():
                waiter.set_result(None)
        if not self._background and self._head is not None and index in self._head:
            self._head.discard(index)
        if not self._background and self._head is not None and len(self._head) <= self._head_left:
            # Most of the first window is here: from now on the rest of the selected
            # files is wanted too, queued behind the window's requests (earlier, it
            # would delay them on a slow swarm) and before the window can complete and
            # "finish" the torrent.
            self._background = True
            layout = self._require_layout()
            for file in layout.info.files:
                if file.index in self._selected:
                    self._set_background(file)

    def _on_read(self, index: int, data: bytes | None, message: str) -> None:
        future = self._reads.pop(index, None)
        if data is None:
            if future is not None and not future.done():
                future.set_exception(ContentUnavailable(f"cannot read piece {index}: {message}"))
                future.exception()
            return
        self._remember(index, data)
        if future is not None and not future.done():
            future.set_result(data)

    def _remember(self, index: int, data: bytes) -> None:
        old = self._cache.pop(index, None)
        if old is not None:
            self._cache_bytes -= len(old)
        self._cache[index] = data
        self._cache_bytes += len(data)
        while self._cache_bytes > _PIECE_CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= len(dropped)

    def _refresh_have(self) -> None:
        if self._layout is None:
            return
        pieces = self.handle.status(lt.status_flags_t.query_pieces).pieces
        for index, have in enumerate(pieces):
            if have and not self._have[index]:
                self._on_piece(index)

    def fail(self, error: Exception) -> None:
        """End every wait on this torrent with ``error``."""
        self.error = self.error or str(error)
        if not self._metadata.done():
            self._metadata.set_exception(ContentUnavailable(str(error)))
            self._metadata.exception()
        waiters: list[asyncio.Future[Any]] = [w for ws in self._have_waiters.values() for w in ws]
        waiters += self._reads.values()
        self._have_waiters.clear()
        self._reads.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(ContentUnavailable(str(error)))
                waiter.exception()

    # -- priorities ------------------------------------------------------------------

    def _set_background(self, file: TorrentFile) -> None:
        """Want all of ``file`` at low priority, its tail first (players probe the end
        of a file for its index)."""
        layout = self._require_layout()
        if file.size > 0:
            tail_first, _ = layout.piece_at(file, max(0, file.size - _TAIL_BYTES))
            tail = range(tail_first, layout.pieces_of(file).stop)
            self._claim(list(enumerate(tail)), priority=_TAIL_PRIORITY)
        for index in layout.pieces_of(file):
            if not self._have[index] and index not in self._deadlines:
                self.handle.piece_priority(index, _BACKGROUND)

    def _claim(self, claims: list[tuple[int, int]], *, priority: int | None = None) -> None:
        """Readers want these ``(rank, piece)``: deadlines in rank order on the missing
        pieces nobody claimed yet, with ``priority`` or one graded by rank. Claims are
        counted, so every reader costs only its own window, however many there are."""
        layout = self._require_layout()
        fresh: list[tuple[int, int, int]] = []
        for rank, index in claims:
            count = self._claims.get(index, 0)
            self._claims[index] = count + 1
            if count == 0 and not self._have[index] and index not in self._deadlines:
                fresh.append((rank, index, priority or _rank_priority(rank)))
        if self._head is None and fresh:
            self._head = {index for _rank, index, _priority in fresh}
            self._head_left = len(self._head) // 2
        if not self._prioritized:
            # One call for every piece, the wanted ones raised in the same step, so the
            # torrent never passes through "nothing wanted" (= finished).
            self._prioritized = True
            priorities = [0] * layout.num_pieces
            for _rank, index, priority in fresh:
                priorities[index] = priority
            self.handle.prioritize_pieces(priorities)
        else:
            for _rank, index, priority in fresh:
                self.handle.piece_priority(index, priority)
        for rank, index, _priority in fresh:
            self.handle.set_piece_deadline(index, rank * _DEADLINE_STEP_MS)
            self._deadlines.add(index)

    def _unclaim(self, pieces: Iterable[int]) -> None:
        """Readers no longer want these; deadlines nobody else needs are cancelled."""
        for index in pieces:
            count = self._claims.get(index, 0) - 1
            if count > 0:
                self._claims[index] = count
                continue
            self._claims.pop(index, None)
            if index in self._deadlines:
                self._deadlines.discard(index)
                self.handle.reset_piece_deadline(index)
                self.handle.piece_priority(index, self._resting_priority(index))

    def _moved(self, old: range, new: range) -> None:
        """A reader's window moved from ``old`` to ``new`` (claim first: never a moment
        with nothing wanted)."""
        self._claim([(rank, index) for rank, index in enumerate(new) if index not in old])
        self._unclaim(index for index in old if index not in new)

    def _resting_priority(self, index: int) -> int:
        if not self._background:
            return 0
        layout = self._require_layout()
        for file in layout.info.files:
            if file.index in self._selected and index in layout.pieces_of(file):
                return _BACKGROUND
        return 0

    def _require_layout(self) -> _Layout:
        if self._layout is None:
            raise ContentUnavailable("the torrent's metadata has not arrived")
        return self._layout


class FileReader:
    """One viewer's position in one file: its window of deadlines follows the reads."""

    def __init__(self, torrent: Torrent, file: TorrentFile, layout: _Layout) -> None:
        self.torrent = torrent
        self.file = file
        self._layout = layout
        self._pieces = layout.pieces_of(file)
        self._window = max(
            2, math.ceil(torrent.engine.config.readahead_bytes / layout.piece_length)
        )
        self.piece_index = self._pieces.start
        self.closed = False

    def window(self) -> range:
        if self.closed or not self._pieces:
            return range(0)
        return range(self.piece_index, min(self.piece_index + self._window, self._pieces.stop))

    def seek(self, position: int) -> None:
        piece, _ = self._layout.piece_at(self.file, min(position, max(0, self.file.size - 1)))
        if piece != self.piece_index and not self.closed:
            old = self.window()
            self.piece_index = piece
            self.torrent._moved(old, self.window())

    async def stream(self, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (exclusive) of the file, piece by piece."""
        position = start
        while position < end:
            piece, offset = self._layout.piece_at(self.file, position)
            self.seek(position)
            for ahead in range(piece + 1, piece + 4):
                self.torrent.prefetch(ahead)
            data = await self.torrent.piece(piece)
            chunk = data[offset : offset + (end - position)]
            if not chunk:
                raise ContentUnavailable(f"piece {piece} is shorter than expected")
            position += len(chunk)
            yield chunk

    def close(self) -> None:
        if not self.closed:
            window = self.window()
            self.closed = True
            self.torrent._moved(window, range(0))


def _rank_priority(rank: int) -> int:
    """Piece priority by distance from the read position: 7 for the piece being read,
    down to 3 from 16 pieces ahead (background pieces have 1). The picker requests
    higher priorities first, and at random among equal ones: the grading keeps a slow
    swarm's requests close to the reading order."""
    return 7 - min(4, rank.bit_length())


def _transport_bytes(ti: lt.torrent_info, trackers: list[str]) -> bytes:
    """A ``.torrent`` for metadata received from the swarm: the exact info dictionary
    (so the info-hash is the swarm's) and the trackers it was found with."""
    head = b"d"
    if trackers:
        tiers: dict[bytes, _Entry] = {b"announce-list": [[url.encode()] for url in trackers]}
        head = lt.bencode(tiers)[:-1]
    return head + b"4:info" + bytes(ti.info_section()) + b"e"

"""Playback sessions: what ``/ace/getstream`` and ``/ace/manifest.m3u8`` start.

A session is one viewer (``pid``) watching one thing: a file of a torrent, a direct
HTTP media URL, or an HLS source relayed through tidecast. Viewers of the same torrent
share one download; each has its own session, its own URLs and its own stop. A session
nobody has read from (or polled) for ``idle_timeout`` seconds stops by itself, and the
content cache is held to its limit by the same housekeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from tidecast.core.content import ContentService
from tidecast.core.errors import (
    ContentUnavailable,
    InvalidInput,
    MissingParameter,
    NotFound,
    UnsupportedContent,
)
from tidecast.engine.torrent_reader import TorrentFile, TransportFile
from tidecast.engine.torrents import Torrent, TorrentEngine, TorrentSource

log = logging.getLogger(__name__)

UNKNOWN_SESSION = "unknown playback session id"
"""The engine's message for a session that ended or never was; clients match on it."""

FAILED_TO_LOAD = "failed to load content"

Kind = Literal["torrent", "direct", "hls"]
Output = Literal["http", "hls"]
AudioMode = Literal["copy", "aac", "mp3", "ac3"]

PREBUFFER_BYTES = 2 * 1024 * 1024
_HOUSEKEEPING_SECONDS = 1.0


class SessionGone(NotFound):
    """The playback session stopped, expired or never existed."""

    def __init__(self) -> None:
        super().__init__(UNKNOWN_SESSION)


@dataclass(frozen=True, slots=True)
class Selector:
    """What to play: exactly the first of these that is set counts (the seed's order)."""

    content_id: str | None = None
    infohash: str | None = None
    url: str | None = None
    magnet: str | None = None
    transport_data: bytes | None = None
    direct_url: str | None = None
    manifest_url: str | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """How to play it."""

    pid: str | None = None
    output: Output = "http"
    audio: AudioMode = "copy"
    file_index: int | None = None
    next_file_indexes: tuple[int, ...] = ()
    force_restart: bool = False


@dataclass(frozen=True, slots=True)
class SessionStat:
    """One poll of ``stat_url`` (engine units: speeds in KB/s, totals in bytes)."""

    status: str
    peers: int
    speed_down: int
    speed_up: int
    downloaded: int
    uploaded: int
    progress: int
    total_progress: int
    error: str | None


@dataclass(eq=False)
class PlaybackSession:
    """One viewer's playback; its URLs carry ``infohash`` and ``key``."""

    key: str
    infohash: str
    playback_session_id: str
    pid: str | None
    kind: Kind
    output: Output
    audio: AudioMode
    is_live: int
    caller_is_local: bool = False
    torrent: Torrent | None = None
    file: TorrentFile | None = None
    source_url: str | None = None
    created_at: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    readers: int = 0
    stopped: bool = False
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    delivered: bool = False
    live_announced: bool = False
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def is_direct(self) -> bool:
        return self.kind == "direct"

    def touch(self) -> None:
        self.last_activity = time.monotonic()


class PlaybackService:
    """Starts, finds, streams and stops playback sessions."""

    def __init__(
        self,
        engine: TorrentEngine,
        content: ContentService,
        *,
        metadata_timeout: float,
        idle_timeout: float,
    ) -> None:
        self.engine = engine
        self._content = content
        self._metadata_timeout = metadata_timeout
        self._idle_timeout = idle_timeout
        self._sessions: dict[str, PlaybackSession] = {}
        self._shared: dict[tuple[object, ...], PlaybackSession] = {}
        self._housekeeping: asyncio.Task[None] | None = None
        content.swarm = self.swarm_metadata

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._housekeeping = asyncio.create_task(self._housekeep(), name="playback-housekeeping")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        for session in list(self._sessions.values()):
            await self.stop_session(session)
        await self.engine.stop()

    def sessions(self) -> list[PlaybackSession]:
        return list(self._sessions.values())

    # -- starting ----------------------------------------------------------------------

    async def start_session(
        self, selector: Selector, options: Options, *, caller_is_local: bool
    ) -> PlaybackSession:
        """A session for ``selector``; the same viewer asking again gets the same one.

        Raises MissingParameter when nothing is selected, InvalidInput for malformed
        ids, ContentUnavailable when the content cannot be loaded. Whether the caller is
        local is kept: a relayed URL may reach private addresses only for local callers.
        """
        relayed = self._relayed_session(caller_is_local, options)
        if selector.direct_url and not _any_torrent(selector) and not selector.manifest_url:
            return relayed("direct", selector.direct_url, 0)
        if selector.manifest_url and not _any_torrent(selector):
            return relayed("hls", selector.manifest_url, 1)
        if not _any_torrent(selector):
            raise MissingParameter(
                "one of content_id, infohash, url, magnet, direct_url or manifest_url is required"
            )
        if selector.url and not selector.content_id and not selector.infohash:
            analysis = await self._content.analyze(
                query=selector.url, caller_is_local=caller_is_local
            )
            if analysis.content_type == "hls":
                return relayed("hls", selector.url, 0 if analysis.is_live == 0 else 1)
            if analysis.content_type == "direct_content" and options.output == "http":
                return relayed("direct", selector.url, 0)
            if analysis.content_type != "transport_file":
                raise UnsupportedContent(f"cannot play {analysis.content_type} content")
        source = await self._torrent_source(selector, caller_is_local=caller_is_local)
        return await self._torrent_session(source, options)

    def _relayed_session(
        self, caller_is_local: bool, options: Options
    ) -> Callable[[Kind, str, int], PlaybackSession]:
        """A maker of direct and HLS sessions: shared per (kind, URL, pid, caller)."""

        def make(kind: Kind, url: str, is_live: int) -> PlaybackSession:
            share_key = (kind, url, options.pid, caller_is_local)
            existing = self._shared.get(share_key)
            if existing is not None and not existing.stopped and not options.force_restart:
                existing.touch()
                return existing
            session = self._new_session(
                kind, _url_hash(url), options, source_url=url, is_live=is_live
            )
            session.caller_is_local = caller_is_local
            self._shared[share_key] = session
            self._sessions[session.key] = session
            return session

        return make

    def _new_session(
        self,
        kind: Kind,
        infohash: str,
        options: Options,
        *,
        source_url: str | None = None,
        is_live: int = 0,
    ) -> PlaybackSession:
        # A direct URL only streams; an HLS source only plays as HLS.
        output: Output = options.output
        if kind == "direct":
            output = "http"
        elif kind == "hls":
            output = "hls"
        return PlaybackSession(
            key=secrets.token_hex(16),
            infohash=infohash,
            playback_session_id=secrets.token_hex(20),
            pid=options.pid,
            kind=kind,
            output=output,
            audio=options.audio,
            is_live=is_live,
            source_url=source_url,
        )

    async def _torrent_source(self, selector: Selector, *, caller_is_local: bool) -> TorrentSource:
        """The transport file when it is known or can be fetched, else the swarm's name."""
        if selector.content_id or selector.url or selector.transport_data is not None:
            try:
                resolved = await self._content.transport_bytes(
                    content_id=selector.content_id,
                    url=None if selector.content_id else selector.url,
                    data=None if selector.content_id or selector.url else selector.transport_data,
                    caller_is_local=caller_is_local,
                )
            except ContentUnavailable as exc:
                raise ContentUnavailable(FAILED_TO_LOAD) from exc
            return TorrentSource(transport=resolved)
        known = await self._content.known_bytes(infohash=selector.infohash, magnet=selector.magnet)
        if known is not None:
            return TorrentSource(transport=known)
        if selector.infohash:
            return TorrentSource(infohash=_infohash(selector.infohash))
        return TorrentSource(magnet=selector.magnet)

    async def _torrent_session(self, source: TorrentSource, options: Options) -> PlaybackSession:
        torrent = await self.engine.acquire(
            source, metadata_timeout=self._metadata_timeout, file_index=options.file_index
        )
        try:
            if torrent.transport is not None and source.transport is None:
                await self._content.remember(torrent.transport)
            file = _pick_file(torrent.info, options.file_index)
        except BaseException:
            await self.engine.release(torrent)
            raise
        share_key = (
            "torrent",
            torrent.infohash,
            file.index,
            options.output,
            options.audio,
            options.pid,
        )
        existing = self._shared.get(share_key)
        if existing is not None and not existing.stopped and not options.force_restart:
            await self.engine.release(torrent)
            existing.touch()
            return existing
        if existing is not None and not existing.stopped:
            await self.stop_session(existing)
        for index in options.next_file_indexes:
            with contextlib.suppress(InvalidInput):
                torrent.want(_pick_file(torrent.info, index))
        session = self._new_session("torrent", torrent.infohash, options)
        session.torrent = torrent
        session.file = file
        self._shared[share_key] = session
        self._sessions[session.key] = session
        return session

    async def swarm_metadata(self, infohash: str | None, magnet: str | None) -> bytes:
        """The transport file of an info-hash or magnet, from the swarm's metadata."""
        source = TorrentSource(infohash=infohash) if infohash else TorrentSource(magnet=magnet)
        torrent = await self.engine.acquire(source, metadata_timeout=self._metadata_timeout)
        try:
            if torrent.transport is None:
                raise ContentUnavailable(FAILED_TO_LOAD)
            return torrent.transport
        finally:
            await self.engine.release(torrent)

    # -- finding and stopping --------------------------------------------------------

    def session(self, infohash: str, key: str) -> PlaybackSession:
        """The live session these URL parts name; SessionGone otherwise."""
        session = self._sessions.get(key)
        if session is None or session.stopped or session.infohash != infohash:
            raise SessionGone()
        return session

    async def stop_session(self, session: PlaybackSession) -> None:
        if session.stopped:
            return
        session.stopped = True
        session.ended.set()
        self._sessions.pop(session.key, None)
        for share_key, shared in list(self._shared.items()):
            if shared is session:
                del self._shared[share_key]
        for hook in reversed(session.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("stopping playback session %s", session.key)
        if session.torrent is not None:
            await self.engine.release(session.torrent)

    # -- reading -----------------------------------------------------------------------

    async def read_file(
        self, session: PlaybackSession, start: int, end: int
    ) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (exclusive) of the session's file, as they arrive.

        The reader's window follows the reads; stopping the session ends the stream.
        """
        if session.torrent is None or session.file is None:
            raise InvalidInput("this session does not play a torrent")
        reader = session.torrent.reader(session.file)
        session.readers += 1
        try:
            async for chunk in reader.stream(start, end):
                if session.stopped:
                    return
                session.delivered = True
                session.touch()
                yield chunk
        finally:
            session.readers -= 1
            session.touch()
            reader.close()

    # -- status ------------------------------------------------------------------------

    def stat(self, session: PlaybackSession) -> SessionStat:
        torrent, file = session.torrent, session.file
        if torrent is None or file is None:
            return SessionStat("dl", 0, 0, 0, 0, 0, 100, 0, None)
        status = torrent.status()
        prebuffer = min(file.size, PREBUFFER_BYTES)
        prebuffered = session.delivered or torrent.have_range(file, 0, prebuffer)
        if status.state == "check":
            state = "check"
        elif status.state == "error":
            state = "err"
        elif prebuffered:
            state = "dl"
        else:
            state = "prebuf"
        return SessionStat(
            status=state,
            peers=status.peers,
            speed_down=status.download_rate // 1024,
            speed_up=status.upload_rate // 1024,
            downloaded=status.downloaded,
            uploaded=status.uploaded,
            progress=100 if prebuffered else int(torrent.prebuffer_share(file, prebuffer) * 100),
            total_progress=int(torrent.file_progress(file) * 100),
            error=status.error,
        )

    # -- housekeeping ------------------------------------------------------------------

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(_HOUSEKEEPING_SECONDS)
            try:
                await self.expire_idle()
                if self.engine.running:
                    await asyncio.to_thread(self.engine.enforce_cache_limit)
            except Exception:
                log.exception("playback housekeeping")

    async def expire_idle(self) -> None:
        """Stop every session nobody has read from or polled for the idle timeout."""
        deadline = time.monotonic() - self._idle_timeout
        for session in list(self._sessions.values()):
            if session.readers == 0 and session.last_activity < deadline:
                log.info("playback session %s idle: stopping it", session.key)
                await self.stop_session(session)


def _any_torrent(selector: Selector) -> bool:
    return bool(
        selector.content_id
        or selector.infohash
        or selector.url
        or selector.magnet
        or selector.transport_data
    )


def _url_hash(url: str | None) -> str:
    return hashlib.sha1((url or "").encode(), usedforsecurity=False).hexdigest()


def _infohash(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 40 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput("infohash must be 40 hexadecimal digits", field="infohash")
    return value


def _pick_file(info: TransportFile, index: int | None) -> TorrentFile:
    if index is None:
        file = info.largest_video()
        if file is None:
            raise UnsupportedContent("the torrent has no files")
        return file
    for file in info.files:
        if file.index == index:
            return file
    raise InvalidInput(f"the torrent has no file with index {index}", field="_idx")

"""Torrent video for HLS-only players and audio transcoding, with PyAV.

A session whose output is HLS gets an ``HlsRemux`` (video copied, audio copied or
re-encoded) run in a worker thread, reading the file being streamed through a blocking
adapter over the torrent reader; the playlist grows as segments are cut (an EVENT
playlist, closed with ENDLIST when the file is done). A progressive stream asked for
with ``transcode_*`` is an MPEG-TS remux written straight into the response.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import math
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from tidecast.core.errors import ContentUnavailable, NotFound
from tidecast.core.playback import PlaybackSession
from tidecast.engine.remux import AudioMode, HlsProgress, HlsRemux, TsRemux
from tidecast.engine.torrent_reader import TorrentFile
from tidecast.engine.torrents import FileReader, Torrent

SEGMENT_WAIT_SECONDS = 60.0
_TS_QUEUE_CHUNKS = 16


class TorrentFileSource(io.RawIOBase):
    """A blocking, seekable view of one torrent file for a worker thread.

    Reads run on the event loop (where the torrent lives) and block the calling thread
    until the pieces arrive; ``abort`` ends a blocked read at once.
    """

    def __init__(self, torrent: Torrent, file: TorrentFile, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self._reader: FileReader = torrent.reader(file)
        self._size = file.size
        self._loop = loop
        self._position = 0
        self._pending: concurrent.futures.Future[bytes] | None = None
        self._aborted = threading.Event()

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int = -1) -> bytes:
        if self._aborted.is_set():
            raise ContentUnavailable("the stream was stopped")
        end = self._size if size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        self._pending = asyncio.run_coroutine_threadsafe(
            self._collect(self._position, end), self._loop
        )
        try:
            data = self._pending.result()
        except concurrent.futures.CancelledError:
            raise ContentUnavailable("the stream was stopped") from None
        self._position += len(data)
        return data

    async def _collect(self, start: int, end: int) -> bytes:
        return b"".join([chunk async for chunk in self._reader.stream(start, end)])

    def abort(self) -> None:
        """End a blocked read and every later one (from any thread)."""
        self._aborted.set()
        pending = self._pending
        if pending is not None:
            pending.cancel()

    def release(self) -> None:
        """Drop the reader's window (on the loop)."""
        self._reader.close()


class RemuxService:
    """HLS renditions of torrent sessions and transcoded progressive streams."""

    def __init__(self, work_dir: Path, *, segment_seconds: float):
        self._work_dir = work_dir
        self._segment_seconds = segment_seconds
        self._remuxes: dict[str, _Rendition] = {}

    def clear(self) -> None:
        """Remove what earlier runs left behind (renditions do not outlive the process)."""
        shutil.rmtree(self._work_dir, ignore_errors=True)

    async def rendition(self, session: PlaybackSession) -> _Rendition:
        """The session's HLS rendition, started on first use."""
        rendition = self._remuxes.get(session.key)
        if rendition is None:
            if session.torrent is None or session.file is None:
                raise NotFound("this session has no HLS rendition")
            rendition = _Rendition(
                session,
                self._work_dir / session.key,
                AudioMode(session.audio),
                self._segment_seconds,
            )
            self._remuxes[session.key] = rendition
            session.on_stop.append(lambda: self._drop(session.key))
            rendition.start()
        return rendition

    async def _drop(self, key: str) -> None:
        rendition = self._remuxes.pop(key, None)
        if rendition is not None:
            await rendition.stop()

    async def stop(self) -> None:
        for key in list(self._remuxes):
            await self._drop(key)

    async def transcoded(self, session: PlaybackSession) -> AsyncIterator[bytes]:
        """The session's file as MPEG-TS, video copied and audio re-encoded."""
        if session.torrent is None or session.file is None:
            raise NotFound("this session does not play a torrent")
        loop = asyncio.get_running_loop()
        source = TorrentFileSource(session.torrent, session.file, loop)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(_TS_QUEUE_CHUNKS)

        def write(chunk: bytes) -> None:
            asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()

        remux = TsRemux(source, write, size=source.size, audio=AudioMode(session.audio))

        def run() -> None:
            try:
                remux.run()
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is gone
                    asyncio.run_coroutine_threadsafe(queue.put(None), loop)

        worker = asyncio.create_task(asyncio.to_thread(run))
        session.readers += 1
        try:
            while (chunk := await queue.get()) is not None:
                session.touch()
                yield chunk
            await worker  # re-raises a failed remux
        finally:
            session.readers -= 1
            remux.cancel()
            source.abort()
            while not worker.done():  # unblock a writer waiting for room
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                await asyncio.sleep(0.01)
            source.release()


class _Rendition:
    """One running HLS remux and a way to wait for it on the loop."""

    def __init__(
        self, session: PlaybackSession, out_dir: Path, audio: AudioMode, segment_seconds: float
    ) -> None:
        assert session.torrent is not None and session.file is not None
        self._loop = asyncio.get_running_loop()
        self._source = TorrentFileSource(session.torrent, session.file, self._loop)
        self._changed = asyncio.Event()
        self.remux = HlsRemux(
            self._source,
            out_dir,
            size=self._source.size,
            audio=audio,
            segment_seconds=segment_seconds,
            on_progress=self._progressed,
        )
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run())

    async def _run(self) -> None:
        with contextlib.suppress(Exception):  # the failure is in the progress snapshot
            await asyncio.to_thread(self.remux.run)
        self._progressed(self.remux.progress())

    def _progressed(self, _progress: HlsProgress) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self._loop.call_soon_threadsafe(self._changed.set)

    async def wait(self, segments: int) -> HlsProgress:
        """The progress once ``segments`` segments exist or the run ended (or timed out)."""
        deadline = self._loop.time() + SEGMENT_WAIT_SECONDS
        while True:
            progress = self.remux.progress()
            if len(progress.segments) >= segments or progress.ended:
                return progress
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return progress
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def stop(self) -> None:
        self.remux.cancel()
        self._source.abort()
        if self._worker is not None:
            await self._worker
        self._source.release()
        await asyncio.to_thread(shutil.rmtree, self.remux.out_dir, True)


def playlist_text(progress: HlsProgress, segment_url: str) -> str:
    """An HLS EVENT playlist of the segments cut so far (``segment_url`` has ``{index}``)."""
    if progress.state == "failed" and not progress.segments:
        error = progress.error
        raise error if error is not None else ContentUnavailable("failed to get manifest")
    target = max((s.duration for s in progress.segments), default=1.0)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(target)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
    ]
    for segment in progress.segments:
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(segment_url.format(index=segment.index))
    if progress.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"

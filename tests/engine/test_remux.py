"""Tests of ``tidecast.engine.remux`` on real media made by ``support.media``, no mocks.

Every output is read back end to end, with PyAV (demuxed and decoded) and, where Debian's
``ffprobe`` is installed, with FFmpeg's own command-line prober as a second opinion.
Slow and stuck sources stand in for a torrent whose pieces have not all arrived.
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import pytest

from tidecast.core.errors import ContentUnavailable, NotFound, UnsupportedContent
from tidecast.engine.remux import AudioMode, HlsProgress, HlsRemux, TsRemux

from support.media import MediaInfo, make_video, probe
from support.tools import needs

SECONDS = 10
SEGMENT_SECONDS = 2

needs_ffprobe = needs("ffprobe")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The inputs, made once: H.264 with B-frames and AAC, keyframes every second."""
    root = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_video(root / "faststart.mp4", seconds=SECONDS),
        "mp4-moov-at-end": make_video(root / "moov_at_end.mp4", seconds=SECONDS, moov_at_end=True),
        "mkv": make_video(root / "clip.mkv", seconds=SECONDS),
        "ts": make_video(root / "clip.ts", seconds=SECONDS),
        "flac": make_video(root / "flac.mkv", seconds=SECONDS, audio_codec="flac"),
        "mjpeg": make_video(root / "mjpeg.mkv", seconds=2, video_codec="mjpeg"),
        # Big enough (about 2.6 MB) that a slow source takes a while to get through.
        "big": make_video(root / "big.mp4", seconds=SECONDS, video_bitrate=2_000_000),
    }


class SlowSource:
    """A file whose reads take ``delay`` each, like a torrent still downloading."""

    def __init__(self, path: Path, delay: float) -> None:
        self._file = path.open("rb")
        self._delay = delay

    def read(self, size: int, /) -> bytes:
        time.sleep(self._delay)
        return self._file.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StuckSource(SlowSource):
    """Reads past ``stall_at`` wait until ``close()``, then fail, as a closed reader would."""

    def __init__(self, path: Path, stall_at: int) -> None:
        super().__init__(path, 0)
        self._stall_at = stall_at
        self.stalled = threading.Event()
        self._closed = threading.Event()

    def read(self, size: int, /) -> bytes:
        if self.tell() + size > self._stall_at:
            self.stalled.set()
            self._closed.wait(30)
            raise ValueError("read of closed file")
        return super().read(size)

    def close(self) -> None:
        self._closed.set()
        super().close()


class FailingSource(SlowSource):
    """Reads fail after the first ``good`` bytes with ``error``."""

    def __init__(self, path: Path, good: int, error: Exception) -> None:
        super().__init__(path, 0)
        self._good = good
        self._error = error

    def read(self, size: int, /) -> bytes:
        if self.tell() + size > self._good:
            raise self._error
        return super().read(size)


def run_in_thread(target: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body, name="remux-under-test")
    thread.start()
    return thread, errors


def ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            "ffprobe",
            *("-v", "error", "-count_packets", "-of", "json"),
            *("-show_entries", "stream=codec_type,codec_name,nb_read_packets:format=duration"),
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def assert_plays_like(info: MediaInfo, source: MediaInfo, audio_codec: str) -> None:
    """Same video packets, the expected audio, the source's duration, A/V in step."""
    assert info["video_codec"] == source["video_codec"] == "h264"
    assert info["video_packets"] == source["video_packets"]
    assert info["audio_codec"] == audio_codec
    assert info["duration"] == pytest.approx(source["duration"], abs=0.1)
    video, audio = (next(s for s in info["streams"] if s["type"] == t) for t in ("video", "audio"))
    assert video["frames"] == video["packets"]  # every video packet decoded to a picture
    assert audio["duration"] == pytest.approx(video["duration"], abs=0.1)
    assert abs(audio["start"] - video["start"]) < 0.1


def hls_remux(source: Path, out_dir: Path, **kwargs: Any) -> HlsRemux:
    with source.open("rb") as file:
        remux = HlsRemux(
            file,
            out_dir,
            size=source.stat().st_size,
            segment_seconds=SEGMENT_SECONDS,
            **kwargs,
        )
        remux.run()
    return remux


def ts_remux(source: Path, **kwargs: Any) -> tuple[bytes, list[bytes]]:
    chunks: list[bytes] = []
    with source.open("rb") as file:
        TsRemux(file, chunks.append, size=source.stat().st_size, **kwargs).run()
    return b"".join(chunks), chunks


# --- HLS ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mp4", "mp4-moov-at-end", "mkv", "ts"])
def test_hls_rendition_copies_the_video_and_plays_through(
    clips: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    started = time.perf_counter()
    remux = hls_remux(clips[kind], tmp_path / "hls")
    assert time.perf_counter() - started < 2

    playlist = remux.playlist_path.read_text()
    assert playlist.startswith("#EXTM3U\n")
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    assert f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}\n" in playlist
    progress = remux.progress()
    assert progress.state == "complete" and progress.error is None
    assert len(progress.segments) == SECONDS // SEGMENT_SECONDS
    assert [s.name for s in progress.segments] == re.findall(r"^segment_\d+\.ts$", playlist, re.M)
    assert [s.index for s in progress.segments] == list(range(len(progress.segments)))
    assert sum(s.duration for s in progress.segments) == pytest.approx(SECONDS, abs=0.1)
    for segment in progress.segments:
        assert remux.segment_path(segment.index).name == segment.name
    assert sorted(p.name for p in remux.out_dir.iterdir()) == sorted(
        ["index.m3u8", *(s.name for s in progress.segments)]
    )  # no temporary files left behind

    assert_plays_like(probe(remux.playlist_path, decode=True), probe(clips[kind]), "aac")


@pytest.mark.parametrize(
    ("mode", "codec"), [(AudioMode.AAC, "aac"), (AudioMode.MP3, "mp3"), (AudioMode.AC3, "ac3")]
)
def test_hls_rendition_reencodes_the_audio_as_asked(
    clips: dict[str, Path], tmp_path: Path, mode: AudioMode, codec: str
) -> None:
    remux = hls_remux(clips["mkv"], tmp_path / "hls", audio=mode)
    assert remux.progress().state == "complete"
    assert_plays_like(probe(remux.playlist_path, decode=True), probe(clips["mkv"]), codec)


def test_copy_reencodes_audio_the_target_cannot_carry(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    remux = hls_remux(clips["flac"], tmp_path / "hls")
    assert_plays_like(probe(remux.playlist_path, decode=True), probe(clips["flac"]), "aac")
    data, _ = ts_remux(clips["flac"])
    (tmp_path / "out.ts").write_bytes(data)
    assert_plays_like(probe(tmp_path / "out.ts", decode=True), probe(clips["flac"]), "aac")


@needs_ffprobe
def test_ffprobe_reads_the_hls_rendition(clips: dict[str, Path], tmp_path: Path) -> None:
    remux = hls_remux(clips["mp4-moov-at-end"], tmp_path / "hls", audio=AudioMode.AC3)
    report = ffprobe(remux.playlist_path)
    streams = {s["codec_type"]: s for s in report["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert int(streams["video"]["nb_read_packets"]) == SECONDS * 25
    assert streams["audio"]["codec_name"] == "ac3"
    assert float(report["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)


def test_progress_is_published_while_the_playlist_grows(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    snapshots: list[HlsProgress] = []
    with SlowSource(clips["big"], delay=0.01) as source:
        remux = HlsRemux(
            source,
            tmp_path / "hls",
            size=clips["big"].stat().st_size,
            segment_seconds=SEGMENT_SECONDS,
            on_progress=snapshots.append,
        )
        assert remux.progress().state == "pending"
        thread, errors = run_in_thread(remux.run)

        first = remux.wait_for_segment(0, timeout=10)
        assert first.state == "running" and len(first.segments) >= 1
        # The first segment is whole and playable while the rest is still being read.
        early = probe(remux.segment_path(0), decode=True)
        assert early["video_packets"] == SEGMENT_SECONDS * 25
        assert "#EXT-X-ENDLIST" not in remux.playlist_path.read_text()

        final = remux.wait_for_segment(10_000, timeout=10)
        thread.join(10)
    assert not thread.is_alive() and errors == []
    assert final.state == "complete" and len(final.segments) == SECONDS // SEGMENT_SECONDS
    counts = [len(s.segments) for s in snapshots]
    assert counts == sorted(counts) and counts[-1] == len(final.segments)
    assert snapshots[0].state == "running" and snapshots[-1].state == "complete"


def test_cancel_stops_the_hls_remux_promptly(clips: dict[str, Path], tmp_path: Path) -> None:
    with SlowSource(clips["big"], delay=0.01) as source:
        remux = HlsRemux(
            source,
            tmp_path / "hls",
            size=clips["big"].stat().st_size,
            segment_seconds=SEGMENT_SECONDS,
        )
        thread, errors = run_in_thread(remux.run)
        assert len(remux.wait_for_segment(0, timeout=10).segments) >= 1

        cancelled_at = time.perf_counter()
        remux.cancel()
        thread.join(5)
    assert time.perf_counter() - cancelled_at < 0.5
    assert not thread.is_alive() and errors == []
    progress = remux.progress()
    assert progress.state == "cancelled" and progress.error is None
    assert len(progress.segments) < SECONDS // SEGMENT_SECONDS
    assert remux.wait_for_segment(10_000, timeout=0).ended  # waiters are released


def test_cancel_during_a_stuck_read_ends_when_the_source_is_closed(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    with StuckSource(clips["mp4"], stall_at=200_000) as source:
        remux = HlsRemux(source, tmp_path / "hls", size=clips["mp4"].stat().st_size)
        thread, errors = run_in_thread(remux.run)
        assert source.stalled.wait(10)

        remux.cancel()
        source.close()  # what the integrator does: the read fails, and counts as the cancel
        thread.join(5)
    assert not thread.is_alive() and errors == []
    assert remux.progress().state == "cancelled"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00" * 100_000, id="zeros"),
        pytest.param(bytes(range(256)) * 400, id="garbage"),
    ],
)
def test_what_is_not_media_is_unsupported_content(tmp_path: Path, content: bytes) -> None:
    remux = HlsRemux(io.BytesIO(content), tmp_path / "hls", size=len(content))
    with pytest.raises(UnsupportedContent, match="cannot remux this media"):
        remux.run()
    assert remux.progress().state == "failed"
    assert isinstance(remux.progress().error, UnsupportedContent)
    with pytest.raises(UnsupportedContent):
        TsRemux(io.BytesIO(content), lambda chunk: None).run()


def test_an_mp4_cut_before_its_index_is_unsupported_content(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    cut = clips["mp4-moov-at-end"].read_bytes()[:200_000]
    with pytest.raises(UnsupportedContent, match="Invalid data"):
        HlsRemux(io.BytesIO(cut), tmp_path / "hls").run()


def test_a_source_shorter_than_its_size_is_content_unavailable(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    data = clips["mkv"].read_bytes()
    remux = HlsRemux(io.BytesIO(data[:200_000]), tmp_path / "hls", size=len(data))
    with pytest.raises(ContentUnavailable, match=f"ended at byte 200000 of {len(data)}"):
        remux.run()
    progress = remux.progress()
    assert progress.state == "failed" and isinstance(progress.error, ContentUnavailable)
    assert len(progress.segments) >= 1  # what was remuxed before stays listed


def test_source_errors_become_core_errors(clips: dict[str, Path], tmp_path: Path) -> None:
    secret = "/srv/private/Some.Movie.2160p.mkv"
    error = OSError(errno.EIO, "I/O error", secret)
    with (
        FailingSource(clips["mp4"], 100_000, error) as failing,
        pytest.raises(ContentUnavailable, match="reading the media failed: I/O error") as info,
    ):
        HlsRemux(failing, tmp_path / "a").run()
    assert secret not in info.value.message

    # A core error from the source (the torrent engine's own) passes through unchanged.
    gone = NotFound("the torrent was removed")
    with (
        FailingSource(clips["mp4"], 100_000, gone) as failing,
        pytest.raises(NotFound) as raised,
    ):
        TsRemux(failing, lambda chunk: None).run()
    assert raised.value is gone


def test_video_the_target_cannot_carry_is_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UnsupportedContent, match="HLS cannot carry mjpeg video"):
        hls_remux(clips["mjpeg"], tmp_path / "hls")
    assert not (tmp_path / "hls").exists()
    with pytest.raises(UnsupportedContent, match="MPEG-TS cannot carry mjpeg video"):
        ts_remux(clips["mjpeg"])


def test_a_remux_runs_once(clips: dict[str, Path], tmp_path: Path) -> None:
    remux = hls_remux(clips["mp4"], tmp_path / "hls")
    with pytest.raises(RuntimeError):
        remux.run()


# --- MPEG-TS --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mode", "codec"),
    [
        ("mp4", AudioMode.COPY, "aac"),
        ("mp4-moov-at-end", AudioMode.AAC, "aac"),
        ("mkv", AudioMode.MP3, "mp3"),
        ("ts", AudioMode.AC3, "ac3"),
    ],
)
def test_ts_stream_plays_through(
    clips: dict[str, Path], tmp_path: Path, kind: str, mode: AudioMode, codec: str
) -> None:
    data, chunks = ts_remux(clips[kind], audio=mode, chunk_size=32 * 1024)
    assert all(0 < len(chunk) <= 32 * 1024 for chunk in chunks)
    assert len(chunks) >= len(data) // (32 * 1024)  # handed over as it goes, not at the end
    assert data[0] == 0x47 and len(data) % 188 == 0  # MPEG-TS packets, whole
    out = tmp_path / "out.ts"
    out.write_bytes(data)
    info = probe(out, decode=True)
    assert info["format"] == "mpegts"
    assert_plays_like(info, probe(clips[kind]), codec)


@needs_ffprobe
def test_ffprobe_reads_the_ts_stream(clips: dict[str, Path], tmp_path: Path) -> None:
    data, _ = ts_remux(clips["mkv"], audio=AudioMode.MP3)
    (tmp_path / "out.ts").write_bytes(data)
    report = ffprobe(tmp_path / "out.ts")
    streams = {s["codec_type"]: s for s in report["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert int(streams["video"]["nb_read_packets"]) == SECONDS * 25
    assert streams["audio"]["codec_name"] == "mp3"
    assert float(report["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)


def test_ts_write_errors_are_raised_unchanged(clips: dict[str, Path]) -> None:
    calls = 0

    def write(chunk: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise BrokenPipeError("client went away")

    with clips["mp4"].open("rb") as file, pytest.raises(BrokenPipeError, match="went away"):
        TsRemux(file, write, chunk_size=16 * 1024).run()
    assert calls == 2  # nothing more was written after the failure


def test_ts_cancel_stops_the_writes(clips: dict[str, Path]) -> None:
    chunks: list[bytes] = []

    def write(chunk: bytes) -> None:
        chunks.append(chunk)
        if len(chunks) == 3:
            remux.cancel()

    with clips["mp4"].open("rb") as file:
        remux = TsRemux(file, write, chunk_size=16 * 1024)
        remux.run()
    assert len(chunks) == 3 and remux.bytes_written == sum(map(len, chunks))


async def test_ts_remux_feeds_an_event_loop_with_back_pressure(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2)

    def write(chunk: bytes) -> None:
        # Blocks the worker while the queue is full: memory stays at a few chunks.
        asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()

    file = clips["mp4"].open("rb")
    remux = TsRemux(file, write, chunk_size=16 * 1024)

    async def produce() -> None:
        try:
            await asyncio.to_thread(remux.run)
        finally:
            file.close()
        await queue.put(None)

    producer = asyncio.create_task(produce())
    received = bytearray()
    most_pending = 0
    while (chunk := await queue.get()) is not None:
        most_pending = max(most_pending, queue.qsize())
        received += chunk
        await asyncio.sleep(0)
    await producer
    assert most_pending <= 2 and len(received) == remux.bytes_written
    (tmp_path / "out.ts").write_bytes(received)
    assert_plays_like(probe(tmp_path / "out.ts", decode=True), probe(clips["mp4"]), "aac")

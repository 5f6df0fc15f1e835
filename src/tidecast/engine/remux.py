"""Remuxing a file being streamed: HLS renditions and MPEG-TS, video copied, audio as asked.

Two jobs share one pipeline. ``HlsRemux`` writes an HLS *event* playlist and its MPEG-TS
segments into a directory, growing as the input is read (``/ace/manifest.m3u8``).
``TsRemux`` hands MPEG-TS bytes to a callback as they are muxed (``/ace/getstream`` with
``transcode_*``). Both read a blocking, seekable file-like object (``MediaSource``): an
open file, an ``io.BytesIO``, or the torrent engine's reader whose reads wait for pieces.

Contract of both:

* ``run()`` blocks; call it in a worker thread, never on an event loop. It returns when
  the input is remuxed to its end or when ``cancel()`` (callable from any thread) stopped
  it, and raises a core error otherwise.
* Video is never re-encoded. Only the first video stream (cover art excluded) and the
  first audio stream are kept; subtitles, data and other tracks are dropped. Audio is
  copied (``AudioMode.COPY``) or re-encoded to AAC, MP3 or AC-3; audio the target cannot
  carry is re-encoded to AAC even in ``COPY`` mode.
* Failures are core errors: media PyAV cannot read, or a codec the target cannot carry,
  is ``UnsupportedContent``; a failing source, or one that ends before ``size``, is
  ``ContentUnavailable``; a core error raised by the source's ``read`` passes unchanged.
* ``cancel()`` is seen at the next packet, read or seek. A read blocked in the source
  (a piece that has not arrived) is not interrupted: close or abort the source after
  ``cancel()``; whatever its read then raises counts as the cancellation, not a failure.

What is read, which matters while a torrent downloads: with ``size`` given, FFmpeg's
frequent size queries (seeks to the end and back) never reach the source, and a seek
reaches it only when a read follows. An MP4 whose ``moov`` index is at the end is read
there first, then from the start; a faststart MP4, Matroska and MPEG-TS are read from
the start on (the tail scan FFmpeg makes to time an MPEG-TS file is switched off).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Disposition, Stream
from av.video.stream import VideoStream

from tidecast.core.errors import ContentUnavailable, TidecastError, UnsupportedContent


class AudioMode(StrEnum):
    """What happens to the audio: the ``transcode_audio|mp3|ac3`` playback parameters."""

    COPY = "copy"
    AAC = "aac"
    MP3 = "mp3"
    AC3 = "ac3"


class MediaSource(Protocol):
    """The input: blocking reads (``b""`` only at the end), seeks, and the position."""

    def read(self, size: int, /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    video_codecs: frozenset[str]
    audio_codecs: frozenset[str]


# What players decode from HLS MPEG-TS segments (Apple's list, which hls.js and TVs follow).
_HLS = _Target("HLS", frozenset({"h264", "hevc"}), frozenset({"aac", "mp3", "ac3", "eac3"}))
# What FFmpeg's MPEG-TS muxer gives a stream type that players (VLC, mpv, Kodi) know.
_MPEGTS = _Target(
    "MPEG-TS",
    frozenset({"h264", "hevc", "mpeg1video", "mpeg2video", "mpeg4", "vc1"}),
    frozenset({"aac", "mp3", "mp2", "ac3", "eac3", "dts", "truehd", "opus"}),
)

_ENCODERS: dict[AudioMode, tuple[str, int]] = {
    # mode: (FFmpeg encoder, most channels it takes)
    AudioMode.AAC: ("aac", 6),
    AudioMode.MP3: ("libmp3lame", 2),
    AudioMode.AC3: ("ac3", 6),
}
_BIT_RATES = {"aac": 64_000, "libmp3lame": 96_000, "ac3": 96_000}  # per channel
_INPUT_OPTIONS = {"skip_estimate_duration_from_pts": "1"}


class _Cancelled(Exception):
    """Raised inside the pipeline (also through PyAV's I/O callbacks) once cancelled."""


_State = Literal["pending", "running", "complete", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class HlsSegment:
    """One finished segment: its number (the media sequence, from 0) and its file name."""

    index: int
    name: str
    duration: float


@dataclass(frozen=True, slots=True)
class HlsProgress:
    """A snapshot of an HLS remux. ``segments`` are complete and listed in the playlist.

    ``state``: ``pending`` until ``run()`` starts, then ``running``, and at the end
    ``complete`` (the playlist ends with ``#EXT-X-ENDLIST``), ``failed`` (``error`` holds
    the core error ``run()`` raised) or ``cancelled``.
    """

    segments: tuple[HlsSegment, ...] = ()
    state: _State = "pending"
    error: TidecastError | None = None

    @property
    def ended(self) -> bool:
        return self.state in ("complete", "failed", "cancelled")


class HlsRemux:
    """Remux ``source`` into ``out_dir/index.m3u8`` and ``out_dir/segment_NNNNN.ts``.

    ``out_dir`` belongs to this remux (created if missing). Segments are cut at the
    first video keyframe after ``segment_seconds``. The playlist is replaced atomically
    each time a segment is added (a segment is written as ``.tmp`` and renamed before it
    is listed), so both can be served as they grow. When the run fails or is cancelled,
    FFmpeg still closes the playlist with ``#EXT-X-ENDLIST`` after the last segment.
    ``on_progress`` is called in the worker thread with each new snapshot, e.g. to wake
    an event loop with ``loop.call_soon_threadsafe``; it must not raise. Run once.
    """

    PLAYLIST = "index.m3u8"

    def __init__(
        self,
        source: MediaSource,
        out_dir: Path,
        *,
        size: int | None = None,
        audio: AudioMode = AudioMode.COPY,
        segment_seconds: float = 4.0,
        on_progress: Callable[[HlsProgress], None] | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.playlist_path = out_dir / self.PLAYLIST
        self._audio = audio
        self._segment_seconds = segment_seconds
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._source = _Source(source, size, self._cancelled)
        self._changed = threading.Condition()
        self._progress = HlsProgress()
        self._playlist_size = -1

    def progress(self) -> HlsProgress:
        with self._changed:
            return self._progress

    def wait_for_segment(self, index: int, timeout: float | None = None) -> HlsProgress:
        """Wait until segment ``index`` is complete, the run ended, or ``timeout`` passed."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self._progress.segments) > index or self._progress.ended, timeout
            )
            return self._progress

    def segment_path(self, index: int) -> Path:
        return self.out_dir / f"segment_{index:05d}.ts"

    def cancel(self) -> None:
        self._cancelled.set()

    def run(self) -> None:
        if self.progress().state != "pending":
            raise RuntimeError("an HlsRemux runs once")
        self._publish(state="running")
        try:
            _remux(self._source, self._cancelled, _HLS, self._audio, self._open_output, self._poll)
        except _Cancelled:
            self._publish(state="cancelled")
        except TidecastError as exc:
            self._poll()
            self._publish(state="failed", error=exc)
            raise
        else:
            self._poll()
            self._publish(state="complete")

    def _open_output(self) -> OutputContainer:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.playlist_path.unlink(missing_ok=True)  # never publish an earlier run's list
        # The segment name is a printf pattern: a '%' in the directory must be doubled.
        pattern = str(self.out_dir).replace("%", "%%") + "/segment_%05d.ts"
        options = {
            "hls_time": f"{self._segment_seconds:g}",
            "hls_playlist_type": "event",
            "hls_segment_filename": pattern,
            "hls_flags": "temp_file+independent_segments",
            "start_number": "0",
        }
        return av.open(str(self.playlist_path), "w", format="hls", options=options)

    def _poll(self) -> None:
        """Publish the segments the muxer has listed; the playlist only ever grows."""
        try:
            size = os.stat(self.playlist_path).st_size
        except FileNotFoundError:
            return
        if size == self._playlist_size:
            return
        self._playlist_size = size
        segments = tuple(_playlist_segments(self.playlist_path.read_text()))
        if len(segments) != len(self._progress.segments):
            self._publish(segments=segments)

    def _publish(
        self,
        *,
        segments: tuple[HlsSegment, ...] | None = None,
        state: _State | None = None,
        error: TidecastError | None = None,
    ) -> None:
        with self._changed:
            old = self._progress
            self._progress = snapshot = replace(
                old,
                segments=old.segments if segments is None else segments,
                state=state or old.state,
                error=error or old.error,
            )
            self._changed.notify_all()
        if self._on_progress is not None:
            self._on_progress(snapshot)


def _playlist_segments(text: str) -> Iterator[HlsSegment]:
    duration = 0.0
    index = 0
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            yield HlsSegment(index, line, duration)
            index += 1


class TsRemux:
    """Remux ``source`` to MPEG-TS, handing each chunk of at most ``chunk_size`` to ``write``.

    ``write`` is called in the worker thread and may block: that is the back-pressure
    which keeps memory bounded (PyAV holds one chunk, the muxer a few packets). An
    exception from ``write`` stops the run and is re-raised by ``run()`` unchanged,
    unless ``cancel()`` was called first. Nothing is written after ``cancel()``. Run once.
    """

    def __init__(
        self,
        source: MediaSource,
        write: Callable[[bytes], object],
        *,
        size: int | None = None,
        audio: AudioMode = AudioMode.COPY,
        chunk_size: int = 64 * 1024,
    ) -> None:
        self._audio = audio
        self._chunk_size = chunk_size
        self._cancelled = threading.Event()
        self._source = _Source(source, size, self._cancelled)
        self._sink = _Sink(write, self._cancelled)
        self._started = False

    @property
    def bytes_written(self) -> int:
        return self._sink.written

    def cancel(self) -> None:
        self._cancelled.set()

    def run(self) -> None:
        if self._started:
            raise RuntimeError("a TsRemux runs once")
        self._started = True
        try:
            _remux(self._source, self._cancelled, _MPEGTS, self._audio, self._open_output)
        except _Cancelled:
            return
        except TidecastError:
            if self._sink.error is not None:
                raise self._sink.error from None
            raise

    def _open_output(self) -> OutputContainer:
        # FFmpeg flushes a non-seekable output after every packet by default: hundreds of
        # writes of a few hundred bytes a second. Whole chunks suit a socket better.
        return av.open(
            self._sink,
            "w",
            format="mpegts",
            buffer_size=self._chunk_size,
            container_options={"flush_packets": "0"},
        )


class _Source:
    """The input as PyAV sees it: cancellable, and seeking lazily.

    FFmpeg asks for the size (a seek to the end and back) every few reads; with ``size``
    known those seeks, and any other seek not followed by a read, never reach the source.
    """

    def __init__(self, raw: MediaSource, size: int | None, cancelled: threading.Event) -> None:
        self._raw = raw
        self._size = size
        self._cancelled = cancelled
        self._pos = self._raw_pos = raw.tell()
        self.error: TidecastError | None = None

    def read(self, n: int) -> bytes:
        if self._cancelled.is_set():
            raise _Cancelled
        try:
            if self._raw_pos != self._pos:
                self._raw_pos = self._raw.seek(self._pos, io.SEEK_SET)
            data = self._raw.read(n)
        except Exception as exc:
            if self._cancelled.is_set():
                raise _Cancelled from exc
            self.error = exc if isinstance(exc, TidecastError) else _read_error(exc)
            raise self.error from exc
        if not data and self._size is not None and self._pos < self._size:
            self.error = ContentUnavailable(f"the media ended at byte {self._pos} of {self._size}")
            raise self.error
        self._pos = self._raw_pos = self._raw_pos + len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._cancelled.is_set():
            raise _Cancelled
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        elif self._size is not None:
            self._pos = self._size + offset
        else:
            self._pos = self._raw_pos = self._raw.seek(offset, whence)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _read_error(exc: Exception) -> ContentUnavailable:
    # Never str(exc): an OSError's text names the file, and the message reaches clients.
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return ContentUnavailable(f"reading the media failed: {detail}")


class _Sink:
    """The MPEG-TS output as PyAV sees it: a writable file that forwards each chunk."""

    def __init__(self, write: Callable[[bytes], object], cancelled: threading.Event) -> None:
        self._write = write
        self._cancelled = cancelled
        self.written = 0
        self.error: Exception | None = None

    @property
    def closed(self) -> bool:
        # PyAV skips the trailer of an output whose file is closed: nothing after cancel.
        return self._cancelled.is_set()

    def write(self, chunk: bytes) -> int:
        if self._cancelled.is_set():
            raise _Cancelled
        if self.error is not None:  # the trailer written while failing: not to ``write``
            raise self.error
        try:
            self._write(chunk)
        except Exception as exc:
            self.error = exc
            raise
        self.written += len(chunk)
        return len(chunk)


class _Copy:
    """A stream copied packet by packet, its timestamps made fit for the muxer."""

    # Leading packets without a DTS wait (at most this many) for the first one with a DTS.
    MAX_PENDING = 64

    def __init__(self, out: OutputContainer, template: Stream) -> None:
        # opaque: reuse the demuxer's codec, so no encoder is needed for a codec we copy.
        self.stream = out.add_stream_from_template(template, opaque=True)
        self._last_dts: int | None = None
        self._pending: list[Packet[Stream]] = []

    def push(self, packet: Packet[Stream]) -> list[Packet[Stream]]:
        if packet.size == 0:  # a demuxer flush marker
            return []
        if packet.dts is None and self._last_dts is None:
            self._pending.append(packet)
            return self.drain() if len(self._pending) > self.MAX_PENDING else []
        ready = self._backfill(packet.dts) if packet.dts is not None and self._pending else []
        return [*ready, self._fix(packet)]

    def drain(self) -> list[Packet[Stream]]:
        pending, self._pending = self._pending, []
        for packet in pending:
            packet.dts = packet.pts
        return [self._fix(packet) for packet in pending if packet.dts is not None]

    def _backfill(self, next_dts: int) -> list[Packet[Stream]]:
        """Give leading packets the DTS that leads up to the first known one, one each."""
        pending, self._pending = self._pending, []
        for packet in reversed(pending):
            next_dts -= packet.duration or 1
            packet.dts = next_dts
        return [self._fix(packet) for packet in pending]

    def _fix(self, packet: Packet[Stream]) -> Packet[Stream]:
        if packet.dts is None:
            assert self._last_dts is not None
            packet.dts = self._last_dts + (packet.duration or 1)
        if self._last_dts is not None and packet.dts <= self._last_dts:
            packet.dts = self._last_dts + 1  # MPEG-TS refuses a DTS that does not grow
        if packet.pts is None or packet.pts < packet.dts:
            packet.pts = packet.dts
        self._last_dts = packet.dts
        packet.stream = self.stream
        return packet


class _Encode:
    """An audio stream decoded and re-encoded with one of ``_ENCODERS``."""

    def __init__(self, out: OutputContainer, template: AudioStream, mode: AudioMode) -> None:
        name, max_channels = _ENCODERS[mode]
        rates = av.Codec(name, "w").audio_rates or ()
        rate = template.rate if template.rate in rates else 48_000
        channels = min(template.channels, max_channels)
        stream = out.add_stream(name, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = {1: "mono", 2: "stereo"}.get(channels, "5.1")
        stream.bit_rate = _BIT_RATES[name] * stream.layout.nb_channels
        self.stream = stream
        self._next_pts: int | None = None

    def push(self, packet: Packet[Stream]) -> list[Packet[Stream]]:
        try:
            frames = packet.decode()  # an empty packet flushes the decoder
        except av.error.InvalidDataError:
            return []  # a damaged audio packet is skipped; the video goes on
        out: list[Packet[Stream]] = []
        for frame in frames:
            assert isinstance(frame, av.AudioFrame)
            if frame.pts is None:
                frame.pts = self._next_pts or 0
            if frame.time_base is not None:
                self._next_pts = frame.pts + round(
                    Fraction(frame.samples, frame.rate) / frame.time_base
                )
            out += self.stream.encode(frame)
        return out

    def drain(self) -> list[Packet[Stream]]:
        return self.stream.encode(None)


def _remux(
    source: _Source,
    cancelled: threading.Event,
    target: _Target,
    audio_mode: AudioMode,
    open_output: Callable[[], OutputContainer],
    after_mux: Callable[[], None] = lambda: None,
) -> None:
    """Demux ``source`` into the output ``open_output`` makes; raise core errors only."""
    try:
        with av.open(source, "r", container_options=_INPUT_OPTIONS) as inp:
            video, audio = _pick_streams(inp)
            if video is not None and _codec(video) not in target.video_codecs:
                raise UnsupportedContent(
                    f"{target.name} cannot carry {_codec(video)} video; "
                    f"it carries {', '.join(sorted(target.video_codecs))}"
                )
            if cancelled.is_set():
                raise _Cancelled
            out = open_output()
            try:
                routes: dict[int, _Copy | _Encode] = {}
                if video is not None:
                    routes[video.index] = _Copy(out, video)
                if audio is not None:
                    mode = audio_mode
                    if mode is AudioMode.COPY and _codec(audio) not in target.audio_codecs:
                        mode = AudioMode.AAC
                    routes[audio.index] = (
                        _Copy(out, audio) if mode is AudioMode.COPY else _Encode(out, audio, mode)
                    )
                for packet in inp.demux([s for s in (video, audio) if s is not None]):
                    if cancelled.is_set():
                        raise _Cancelled
                    out.mux(routes[packet.stream.index].push(packet))
                    after_mux()
                if source.error is not None:  # FFmpeg took a failed read for the end
                    raise source.error
                for route in routes.values():
                    out.mux(route.drain())
            except BaseException:
                _close_quietly(out)
                raise
            out.close()
    except (_Cancelled, TidecastError):
        raise
    except Exception as exc:
        if cancelled.is_set():
            raise _Cancelled from exc
        raise _core_error(exc, source) from exc


def _pick_streams(inp: InputContainer) -> tuple[VideoStream | None, AudioStream | None]:
    videos = [s for s in inp.streams.video if not s.disposition & Disposition.attached_pic]
    video = videos[0] if videos else None
    audio = inp.streams.audio[0] if inp.streams.audio else None
    if video is None and audio is None:
        raise UnsupportedContent("the media has neither video nor audio")
    return video, audio


def _codec(stream: Stream) -> str:
    return stream.codec.canonical_name


def _core_error(exc: Exception, source: _Source) -> TidecastError:
    if source.error is not None:
        return source.error
    if isinstance(exc, av.error.FFmpegError):
        # strerror only: the full text names files (the output directory).
        detail = exc.strerror or type(exc).__name__
        if isinstance(exc, OSError):
            return ContentUnavailable(f"remuxing failed: {detail}")
        return UnsupportedContent(f"cannot remux this media: {detail}")
    if isinstance(exc, ValueError):  # PyAV's own checks: codecs, formats, frame layouts
        return UnsupportedContent(f"cannot remux this media: {exc}")
    return TidecastError(f"remuxing failed: {type(exc).__name__}")


def _close_quietly(out: OutputContainer) -> None:
    # On the way out of a failure: the failure being raised already says what went wrong.
    with contextlib.suppress(Exception):
        out.close()

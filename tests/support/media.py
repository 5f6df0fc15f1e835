"""Real media for tests: generate small deterministic clips with PyAV, and read any back.

``make_video`` encodes a moving gradient (libx264 ``ultrafast`` by default) and a sine
tone (AAC by default) into MP4 (faststart, or the index at the end), Matroska or MPEG-TS,
chosen by the file's suffix. ``probe`` demuxes a file, URL or HLS playlist from its first
byte to its last, so a test can check that something a player would be given plays
through: its streams, their codecs, packet counts and duration.
"""

from __future__ import annotations

import math
from array import array
from fractions import Fraction
from pathlib import Path
from typing import TypedDict

import av
from av.audio.stream import AudioStream
from av.stream import Stream
from av.video.stream import VideoStream

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mkv": "matroska", ".ts": "mpegts"}

# Each audio frame holds a whole number of periods of the tone, so one frame's bytes serve
# for the whole clip.
_AUDIO_FRAME_SAMPLES = 1024
_TONE_PERIOD_SAMPLES = 64


def make_video(
    path: Path,
    *,
    seconds: float = 10,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    video_codec: str = "h264",
    audio_codec: str | None = "aac",
    sample_rate: int = 48000,
    channels: int = 2,
    video_bitrate: int | None = None,
    audio_bitrate: int | None = None,
    keyframe_interval: int | None = None,
    bframes: int = 2,
    moov_at_end: bool = False,
) -> Path:
    """Write a clip of ``seconds`` to ``path`` and return ``path``.

    The container follows the suffix: ``.mp4``/``.m4v`` (MP4, with the ``moov`` index at
    the front unless ``moov_at_end``), ``.mkv`` (Matroska) or ``.ts`` (MPEG-TS).
    ``video_codec`` is an FFmpeg codec name; ``"h264"`` means libx264 with the
    ``ultrafast`` preset, a keyframe every ``keyframe_interval`` frames (default: one a
    second, no scene-cut keyframes) and ``bframes`` B-frames. ``video_bitrate`` (bits per
    second) makes libx264 constant-bitrate with filler, so file sizes are predictable.
    ``audio_codec=None`` leaves the audio out. The same arguments give the same media.
    """
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"unknown container suffix {suffix!r}; use one of {sorted(_FORMATS)}")
    if moov_at_end and _FORMATS[suffix] != "mp4":
        raise ValueError("moov_at_end applies to MP4 only")
    gop = keyframe_interval or fps
    options = {} if _FORMATS[suffix] != "mp4" or moov_at_end else {"movflags": "+faststart"}
    with av.open(str(path), "w", format=_FORMATS[suffix], options=options) as out:
        video = _add_video(out, video_codec, width, height, fps, gop, bframes, video_bitrate)
        audio: AudioStream | None = None
        if audio_codec is not None:
            added = out.add_stream(audio_codec, rate=sample_rate)
            assert isinstance(added, AudioStream)
            audio = added
            audio.layout = "stereo" if channels == 2 else "mono" if channels == 1 else "5.1"
            if audio_bitrate:
                audio.bit_rate = audio_bitrate
        frames = round(seconds * fps)
        samples = round(seconds * sample_rate)
        tone = _tone_frame_bytes()
        audio_pts = 0
        for index in range(frames):
            frame = _video_frame(index, width, height)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
            # Keep the audio abreast of the video, so the muxer interleaves as it goes.
            video_end = (index + 1) * sample_rate // fps
            while audio is not None and audio_pts < min(video_end, samples):
                out.mux(audio.encode(_audio_frame(tone, channels, sample_rate, audio_pts)))
                audio_pts += _AUDIO_FRAME_SAMPLES
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))
    return path


def _add_video(
    out: av.container.OutputContainer,
    codec: str,
    width: int,
    height: int,
    fps: int,
    gop: int,
    bframes: int,
    bitrate: int | None,
) -> VideoStream:
    added: Stream
    if codec in ("h264", "libx264"):
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"
        if bitrate:
            kbps = bitrate // 1000
            params += f":nal-hrd=cbr:bitrate={kbps}:vbv-maxrate={kbps}:vbv-bufsize={kbps}"
        options = {"preset": "ultrafast", "x264-params": params}
        added = out.add_stream("libx264", rate=fps, options=options)
    else:
        added = out.add_stream(codec, rate=fps)
    assert isinstance(added, VideoStream)
    stream = added
    if codec not in ("h264", "libx264"):
        stream.gop_size = gop
        if bitrate:
            stream.bit_rate = bitrate
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    stream.codec_context.thread_count = 1  # deterministic output, and a clip is tiny
    return stream


def _video_frame(index: int, width: int, height: int) -> av.VideoFrame:
    """A diagonal gradient that moves four steps a frame, so consecutive frames differ."""
    frame = av.VideoFrame(width, height, "yuv420p")
    ramp = bytes(k & 255 for k in range(width + 256))
    luma, cb, cr = frame.planes
    shift = 4 * index
    luma.update(b"".join(ramp[(y + shift) & 255 :][:width] for y in range(height)))
    cb.update(bytes([(index * 2) & 255]) * cb.buffer_size)
    cr.update(bytes([128]) * cr.buffer_size)
    return frame


def _tone_frame_bytes() -> bytes:
    """One channel of one audio frame: float samples of a tone at a 64th of the rate."""
    period = [
        0.2 * math.sin(2 * math.pi * k / _TONE_PERIOD_SAMPLES) for k in range(_TONE_PERIOD_SAMPLES)
    ]
    return array("f", period * (_AUDIO_FRAME_SAMPLES // _TONE_PERIOD_SAMPLES)).tobytes()


def _audio_frame(tone: bytes, channels: int, sample_rate: int, pts: int) -> av.AudioFrame:
    layout = "stereo" if channels == 2 else "mono" if channels == 1 else "5.1"
    frame = av.AudioFrame("fltp", layout, _AUDIO_FRAME_SAMPLES)
    for plane in frame.planes:
        plane.update(tone)
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = Fraction(1, sample_rate)
    return frame


class StreamInfo(TypedDict):
    """One stream of a probed file, as PyAV demuxed (and optionally decoded) it."""

    type: str
    codec: str
    packets: int
    frames: int
    start: float
    duration: float


class MediaInfo(TypedDict):
    """What ``probe`` found: the container's own duration claim and every stream."""

    format: str
    container_duration: float | None
    duration: float
    streams: list[StreamInfo]
    video_codec: str | None
    audio_codec: str | None
    video_packets: int
    audio_packets: int


def probe(source: Path | str, *, decode: bool = False) -> MediaInfo:
    """Demux ``source`` (a path, URL or ``.m3u8`` playlist) end to end with PyAV.

    ``duration`` is measured from the packets (the latest end minus the earliest start of
    any stream, in seconds), not taken from the container's header, so it says how much
    media actually came through; each stream's ``start`` (its earliest timestamp, in
    seconds) shows whether audio and video still line up. Packets without data or
    timestamps (demuxer flushes) are not counted. With ``decode`` every packet is decoded
    too and ``frames`` counts the frames; a decoding error raises.
    """
    with av.open(str(source)) as container:
        streams = list(container.streams)
        packets = dict.fromkeys(range(len(streams)), 0)
        frames = dict.fromkeys(range(len(streams)), 0)
        spans: dict[int, tuple[float, float]] = {}
        for packet in container.demux():
            index = packet.stream.index
            if decode and packet.stream.type in ("video", "audio"):
                frames[index] += len(packet.decode())
            if packet.size == 0 or packet.pts is None or packet.time_base is None:
                continue
            packets[index] += 1
            start = float(packet.pts * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            low, high = spans.get(index, (start, end))
            spans[index] = (min(low, start), max(high, end))
        container_duration = (
            container.duration / av.time_base if container.duration is not None else None
        )
        infos = [
            StreamInfo(
                type=stream.type,
                codec=stream.codec.canonical_name,
                packets=packets[i],
                frames=frames[i],
                start=spans[i][0] if i in spans else 0.0,
                duration=(spans[i][1] - spans[i][0]) if i in spans else 0.0,
            )
            for i, stream in enumerate(streams)
        ]
        fmt = container.format.name
    all_spans = list(spans.values())
    video = next((s for s in infos if s["type"] == "video"), None)
    audio = next((s for s in infos if s["type"] == "audio"), None)
    return MediaInfo(
        format=fmt,
        container_duration=container_duration,
        duration=(max(h for _, h in all_spans) - min(lo for lo, _ in all_spans))
        if all_spans
        else 0.0,
        streams=infos,
        video_codec=video["codec"] if video else None,
        audio_codec=audio["codec"] if audio else None,
        video_packets=video["packets"] if video else 0,
        audio_packets=audio["packets"] if audio else 0,
    )

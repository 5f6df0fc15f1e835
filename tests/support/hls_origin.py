"""A real HLS rendition and a real HTTP server for it, standing in for a media origin.

``make_rendition`` encodes a short clip with PyAV's HLS muxer into two variants (each a
media playlist and MPEG-TS segments) under one master playlist. ``file_origin`` serves
a directory over HTTP with ``Range``, ``If-Range`` and ``HEAD`` as web servers do (and a
cookie on every answer, which a relay must not hand on), counting requests per path;
``delays`` makes chosen paths answer slowly, ``statuses`` makes them fail.
"""

from __future__ import annotations

import array
import asyncio
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from support.origin import serving_app

FPS = 25
SAMPLE_RATE = 48000
VARIANTS = (("low", 160, 120, 150_000), ("high", 192, 144, 300_000))
_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


@dataclass(frozen=True)
class Rendition:
    """An HLS rendition on disk: ``master.m3u8`` and, per variant, ``<name>/index.m3u8``."""

    root: Path
    seconds: float
    variants: tuple[str, ...]

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())


def make_rendition(root: Path, *, seconds: int = 3) -> Rendition:
    """Encode ``seconds`` of video and audio into two one-second-segment variants."""
    root.mkdir(parents=True, exist_ok=True)
    master = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for name, width, height, bandwidth in VARIANTS:
        _encode_variant(root / name, seconds, width, height)
        master.append(f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={width}x{height}")
        master.append(f"{name}/index.m3u8")
    (root / "master.m3u8").write_text("\n".join(master) + "\n")
    return Rendition(root, float(seconds), tuple(name for name, *_ in VARIANTS))


def _encode_variant(folder: Path, seconds: int, width: int, height: int) -> None:
    folder.mkdir(exist_ok=True)
    options = {
        "hls_time": "1",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(folder / "seg%d.ts"),
    }
    with av.open(str(folder / "index.m3u8"), "w", format="hls", options=options) as out:
        video = out.add_stream(
            "libx264",
            rate=FPS,
            options={"preset": "ultrafast", "x264-params": f"keyint={FPS}:scenecut=0"},
        )
        assert isinstance(video, VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=SAMPLE_RATE)
        assert isinstance(audio, AudioStream)
        audio.layout = "mono"
        tone = array.array("f", [0.2 * math.sin(2 * math.pi * k / 64) for k in range(1024)])
        samples = 0
        for index in range(seconds * FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 3 % 256]) * plane.buffer_size)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(video.encode(frame))
            while samples < (index + 1) * SAMPLE_RATE // FPS:
                sound = av.AudioFrame("fltp", "mono", 1024)
                sound.planes[0].update(tone.tobytes())
                sound.sample_rate, sound.pts = SAMPLE_RATE, samples
                sound.time_base = Fraction(1, SAMPLE_RATE)
                out.mux(audio.encode(sound))
                samples += 1024
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


@dataclass
class FileOrigin:
    """A web server over ``root``: ``url(path)``, and what happened to each path."""

    root: Path
    base: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def hits_of(self, path: str) -> int:
        return self.hits.get("/" + path.lstrip("/"), 0)

    def reset(self) -> FileOrigin:
        """Forget what happened and serve every path normally again (between tests)."""
        self.hits.clear()
        self.delays.clear()
        self.statuses.clear()
        return self


@contextmanager
def file_origin(root: Path) -> Iterator[FileOrigin]:
    state = FileOrigin(root)

    async def serve(request: Request) -> Response:
        path = request.url.path
        state.hits[path] = state.hits.get(path, 0) + 1
        await asyncio.sleep(state.delays.get(path, 0))
        headers = {"Set-Cookie": "origin-session=do-not-relay"}
        if path in state.statuses:
            return Response(b"no", status_code=state.statuses[path], headers=headers)
        file = (root / path.lstrip("/")).resolve()
        if not file.is_relative_to(root.resolve()) or not file.is_file():
            return Response(b"not found", status_code=404, headers=headers)
        media_type = _TYPES.get(file.suffix, "application/octet-stream")
        return FileResponse(file, media_type=media_type, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "HEAD"])])
    with serving_app(app) as base:
        state.base = base
        yield state

"""Torrent video as HLS and with audio transcoded, and a real player playing a torrent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.media import make_video, probe
from support.swarm import Content
from support.tools import needs

SECONDS = 12


@pytest.fixture
def film(tmp_path: Path, seed: Callable[..., Content]) -> tuple[Content, Path]:
    (tmp_path / "src").mkdir()
    source = make_video(tmp_path / "src" / "film.mp4", seconds=SECONDS)
    return seed({"film.mp4": source.read_bytes()}, piece_size=32768), source


async def complete_playlist(http: httpx.AsyncClient, url: str) -> str:
    for _ in range(200):
        response = await http.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
        if "#EXT-X-ENDLIST" in response.text:
            return response.text
        await asyncio.sleep(0.05)
    raise AssertionError("the playlist never ended")


async def test_manifest_of_a_torrent_video_plays_through_as_hls(
    http: httpx.AsyncClient, film: tuple[Content, Path]
) -> None:
    content, source = film
    started = await http.get(
        "/ace/manifest.m3u8", params={"format": "json", "infohash": content.infohash}
    )
    answer = started.json()["response"]
    playlist_url = answer["playback_url"]
    assert playlist_url.endswith(".m3u8") and "/ace/m/" in playlist_url
    text = await complete_playlist(http, playlist_url)
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    base = str(http.base_url).rstrip("/")
    assert segments and all(s.startswith(f"{base}/ace/c/{content.infohash}/") for s in segments)
    assert len(segments) >= SECONDS // 4 - 1
    original = await asyncio.to_thread(probe, source)
    remuxed = await asyncio.to_thread(probe, playlist_url, decode=True)
    assert remuxed["video_codec"] == original["video_codec"] == "h264"
    assert remuxed["audio_codec"] == "aac"
    assert remuxed["video_packets"] == original["video_packets"]
    assert abs(remuxed["duration"] - original["duration"]) < 0.5
    # Redirect mode lands on the same kind of playlist.
    redirect = await http.get("/ace/manifest.m3u8", params={"infohash": content.infohash})
    assert redirect.status_code == 302 and redirect.headers["location"].endswith(".m3u8")


@needs("ffprobe")
async def test_ffprobe_reads_the_hls_with_audio_reencoded_to_ac3(
    http: httpx.AsyncClient, film: tuple[Content, Path]
) -> None:
    content, _source = film
    answer = (
        await http.get(
            "/ace/manifest.m3u8",
            params={"format": "json", "infohash": content.infohash, "transcode_ac3": "1"},
        )
    ).json()["response"]
    await complete_playlist(http, answer["playback_url"])
    process = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
        answer["playback_url"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err
    assert set(out.decode().split()) == {"ac3", "h264"}


async def test_getstream_with_transcode_mp3_streams_mpeg_ts(
    http: httpx.AsyncClient, film: tuple[Content, Path]
) -> None:
    content, source = film
    answer = (
        await http.get(
            "/ace/getstream",
            params={"format": "json", "infohash": content.infohash, "transcode_mp3": "1"},
        )
    ).json()["response"]
    head = await http.head(answer["playback_url"])
    assert head.headers["content-type"] == "video/mp2t"
    info = await asyncio.to_thread(probe, answer["playback_url"])
    original = await asyncio.to_thread(probe, source)
    assert info["format"] == "mpegts"
    assert info["audio_codec"] == "mp3" and info["video_codec"] == "h264"
    assert info["video_packets"] == original["video_packets"]


@needs("mpv")
async def test_mpv_plays_a_torrent_stream_to_the_end(
    http: httpx.AsyncClient, film: tuple[Content, Path]
) -> None:
    content, _source = film
    url = f"{str(http.base_url).rstrip('/')}/ace/getstream?infohash={content.infohash}"
    process = await asyncio.create_subprocess_exec(
        "mpv", "--no-config", "--vo=null", "--ao=null", "--untimed", "--ao-null-untimed",
        "--msg-level=all=info", url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    log = out.decode(errors="replace")
    assert process.returncode == 0, log
    assert "Exiting... (End of file)" in log
    assert "(+) Video --vid=1" in log and "(+) Audio --aid=1" in log

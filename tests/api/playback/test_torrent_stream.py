"""Playing a torrent through /ace/getstream from a loopback swarm, as players do."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable

import httpx
import pytest

from tidecast.core.services import Services
from tidecast.engine.torrent_reader import read_transport_file

from support.swarm import Content, magnet

SIZE = 3 * 1024 * 1024 + 4321


async def start_json(http: httpx.AsyncClient, **query: str) -> dict[str, object]:
    response = await http.get("/ace/getstream", params={"format": "json", **query})
    assert response.status_code == 200
    body = response.json()
    assert body["error"] is None, body
    return body["response"]  # type: ignore[no-any-return]


async def test_json_start_answers_the_session_urls_on_the_clients_host(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    response = await http.get(
        "/ace/getstream", params={"format": "json", "infohash": content.infohash}
    )
    text = response.text
    assert text.startswith('{"response": {"playback_url": "'), text
    answer = response.json()["response"]
    base = str(http.base_url).rstrip("/")
    assert answer["playback_url"].startswith(f"{base}/ace/r/{content.infohash}/")
    assert answer["stat_url"].startswith(f"{base}/ace/stat/{content.infohash}/")
    assert answer["command_url"].startswith(f"{base}/ace/cmd/{content.infohash}/")
    assert answer["infohash"] == content.infohash
    assert len(answer["playback_session_id"]) == 40
    assert answer["is_live"] == 0 and answer["is_encrypted"] == 0
    assert answer["client_session_id"] == -1
    assert "event_url" not in answer


async def test_redirect_then_the_whole_file_and_ranges(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    expected = content.bytes_of()
    started = await http.get("/ace/getstream", params={"infohash": content.infohash})
    assert started.status_code == 302
    url = started.headers["location"]
    whole = await http.get(url)
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    assert int(whole.headers["content-length"]) == SIZE
    assert hashlib.sha1(whole.content).digest() == hashlib.sha1(expected).digest()
    for start, end in [(0, 999), (SIZE // 2, SIZE // 2 + 70_000), (SIZE - 5000, SIZE - 1)]:
        part = await http.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
        assert part.content == expected[start : end + 1]
    suffix = await http.get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206 and suffix.content == expected[-100:]
    beyond = await http.get(url, headers={"Range": f"bytes={SIZE}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{SIZE}"


async def test_seek_to_the_middle_is_served_before_the_rest(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    big = 24 * 1024 * 1024
    content = seed({"film.mp4": big})
    expected = content.bytes_of()
    answer = await start_json(http, infohash=content.infohash)
    url = str(answer["playback_url"])
    async with http.stream("GET", url) as head:
        first = await anext(head.aiter_bytes())
        assert expected.startswith(first)
        middle = big // 2
        seek = await http.get(url, headers={"Range": f"bytes={middle}-{middle + 65535}"})
        assert seek.content == expected[middle : middle + 65536]


async def test_magnet_content_id_url_and_posted_transport_file(
    http: httpx.AsyncClient, seed: Callable[..., Content], live: tuple[str, Services]
) -> None:
    content = seed({"film.mp4": SIZE})
    expected = content.bytes_of()
    answer = await start_json(http, magnet=magnet(content.infohash))
    assert answer["infohash"] == content.infohash
    tail = await http.get(str(answer["playback_url"]), headers={"Range": "bytes=-10"})
    assert tail.content == expected[-10:]
    # The metadata came from the swarm: the files are known now, as is a content id.
    files = await http.get(
        "/server/api",
        params={"method": "get_media_files", "infohash": content.infohash, "api_version": "3"},
    )
    assert files.json()["result"]["files"][0]["filename"] == "film.mp4"
    posted = await http.post(
        "/ace/getstream?format=json",
        json={"transport_file_data": base64.b64encode(content.torrent).decode()},
    )
    assert posted.json()["response"]["infohash"] == content.infohash
    content_id = hashlib.sha1(content.torrent).hexdigest()
    by_id = await start_json(http, id=content_id, pid="other")
    assert by_id["infohash"] == content.infohash


async def test_stat_moves_from_prebuf_to_dl_and_stop_ends_the_session(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    answer = await start_json(http, infohash=content.infohash)
    stat_url, command_url = str(answer["stat_url"]), str(answer["command_url"])
    first = (await http.get(stat_url)).json()
    assert first["error"] is None
    assert first["response"]["status"] in ("prebuf", "dl")
    for key in (
        "peers",
        "speed_down",
        "speed_up",
        "downloaded",
        "uploaded",
        "progress",
        "total_progress",
        "is_live",
    ):
        assert isinstance(first["response"][key], int), key
    await http.get(str(answer["playback_url"]))
    stat = (await http.get(stat_url)).json()["response"]
    assert stat["status"] == "dl"
    assert stat["downloaded"] >= SIZE
    assert stat["total_progress"] == 100 and stat["progress"] == 100
    assert stat["playback_session_id"] == answer["playback_session_id"]
    stopped = await http.get(command_url, params={"method": "stop"})
    assert stopped.text == '{"response": "ok", "error": null}'
    gone = {"response": None, "error": "unknown playback session id"}
    assert (await http.get(stat_url)).json() == gone
    assert (await http.get(command_url, params={"method": "stop"})).json() == gone
    assert (await http.get(str(answer["playback_url"]))).status_code == 404


async def test_two_viewers_share_one_download_and_stopping_one_spares_the_other(
    http: httpx.AsyncClient, seed: Callable[..., Content], live: tuple[str, Services]
) -> None:
    content = seed({"film.mp4": SIZE})
    expected = content.bytes_of()
    one = await start_json(http, infohash=content.infohash, pid="player-one")
    two = await start_json(http, infohash=content.infohash, pid="player-two")
    assert one["command_url"] != two["command_url"]
    assert len(live[1].playback.engine.torrents()) == 1
    same = await start_json(http, infohash=content.infohash, pid="player-one")
    assert same["command_url"] == one["command_url"]
    async with http.stream("GET", str(one["playback_url"])) as reading:
        chunks = reading.aiter_bytes()
        received = await anext(chunks)
        await http.get(str(two["command_url"]), params={"method": "stop"})
        async for chunk in chunks:
            received += chunk
    assert received == expected
    assert (await http.get(str(one["stat_url"]))).json()["error"] is None


async def test_a_session_nobody_reads_stops_by_itself(
    http: httpx.AsyncClient, seed: Callable[..., Content], live: tuple[str, Services]
) -> None:
    content = seed({"film.mp4": SIZE})
    answer = await start_json(http, infohash=content.infohash)
    playback = live[1].playback
    session = playback.sessions()[0]
    session.last_activity -= live[1].settings.playback_idle_timeout + 1
    await playback.expire_idle()
    gone = await http.get(str(answer["stat_url"]))
    assert gone.json()["error"] == "unknown playback session id"
    assert playback.engine.torrents() == []


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ({}, 400, "required"),
        ({"infohash": "zz"}, 400, "infohash"),
        ({"_idx": "x", "infohash": "ab" * 20}, 400, "_idx"),
        ({"content_id": "ab" * 20}, 500, "failed to load content"),
    ],
)
async def test_bad_requests_get_clear_errors(
    http: httpx.AsyncClient, query: dict[str, str], status: int, fragment: str
) -> None:
    redirect = await http.get("/ace/getstream", params=query)
    assert redirect.status_code == status
    assert fragment in redirect.text
    as_json = await http.get("/ace/getstream", params={"format": "json", **query})
    assert as_json.status_code == 200
    assert as_json.json()["response"] is None
    assert fragment in as_json.json()["error"]


async def test_unknown_session_urls(http: httpx.AsyncClient) -> None:
    gone = {"response": None, "error": "unknown playback session id"}
    assert (await http.get(f"/ace/stat/{'ab' * 20}/{'cd' * 16}")).json() == gone
    assert (await http.get(f"/ace/cmd/{'ab' * 20}/{'cd' * 16}?method=stop")).json() == gone
    assert (await http.get(f"/ace/r/{'ab' * 20}/{'cd' * 16}")).status_code == 404
    await asyncio.sleep(0)


async def test_api_events_long_poll_and_the_sdk_envelope(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    response = await http.get(
        "/ace/getstream",
        params={"format": "json", "infohash": content.infohash, "use_api_events": "1"},
    )
    assert response.text.startswith('{"response": {"event_url": "')
    answer = response.json()["response"]
    first = (await http.get(answer["event_url"])).json()
    assert first == {"response": {"name": "live_changed", "params": {"is_live": 0}}, "error": None}
    waiting = asyncio.create_task(http.get(answer["event_url"]))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    stopped = await http.get(answer["command_url"], params={"method": "stop", "api_version": "2"})
    assert stopped.json() == {"result": "ok", "error": None}
    ended = (await waiting).json()
    assert ended == {"response": None, "error": "unknown playback session id"}


async def test_head_answers_the_streams_headers_without_a_body(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    answer = await start_json(http, infohash=content.infohash, client_session_id="7")
    assert answer["client_session_id"] == 7
    head = await http.head(str(answer["playback_url"]), headers={"Range": "bytes=10-19"})
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 10-19/{SIZE}"
    assert head.headers["content-length"] == "10"
    assert head.content == b""


async def test_force_session_restart_replaces_the_viewers_session(
    http: httpx.AsyncClient, seed: Callable[..., Content]
) -> None:
    content = seed({"film.mp4": SIZE})
    first = await start_json(http, infohash=content.infohash, pid="tv")
    again = await start_json(http, infohash=content.infohash, pid="tv", force_session_restart="1")
    assert again["command_url"] != first["command_url"]
    gone = await http.get(str(first["stat_url"]))
    assert gone.json()["error"] == "unknown playback session id"
    assert (await http.get(str(again["stat_url"]))).json()["error"] is None


async def test_polls_that_skip_player_activity_let_an_idle_session_expire(
    http: httpx.AsyncClient, seed: Callable[..., Content], live: tuple[str, Services]
) -> None:
    content = seed({"film.mp4": SIZE})
    answer = await start_json(http, infohash=content.infohash)
    playback = live[1].playback
    (session,) = playback.sessions()
    idle = live[1].settings.playback_idle_timeout + 1
    session.last_activity -= idle
    await http.get(str(answer["stat_url"]), params={"skip_player_activity": "1"})
    await playback.expire_idle()
    assert session.stopped
    again = await start_json(http, infohash=content.infohash)
    (session,) = playback.sessions()
    session.last_activity -= idle
    await http.get(str(again["stat_url"]))  # a player's poll counts as activity
    await playback.expire_idle()
    assert not session.stopped


async def test_next_file_indexes_are_fetched_in_the_background(
    http: httpx.AsyncClient, seed: Callable[..., Content], live: tuple[str, Services]
) -> None:
    content = seed({"show/e1.mp4": 400_000, "show/e2.mp4": 300_000})
    files = {f.filename: f for f in read_transport_file(content.torrent).files}
    first, second = files["e1.mp4"], files["e2.mp4"]
    answer = await start_json(
        http,
        infohash=content.infohash,
        _idx=str(first.index),
        next_file_indexes=str(second.index),
    )
    await http.get(str(answer["playback_url"]))  # the first episode, read to the end
    (torrent,) = live[1].playback.engine.torrents()
    for _ in range(200):
        if torrent.file_progress(second) == 1.0:
            break
        await asyncio.sleep(0.05)
    assert torrent.file_progress(second) == 1.0

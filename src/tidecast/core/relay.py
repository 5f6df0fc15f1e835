"""Relaying HTTP media through tidecast: direct media URLs and HLS sources.

A direct URL is relayed as it streams, the viewer's ``Range`` passed through. An HLS
source is served with every URI its playlists name rewritten to a tidecast URL ending in
a token: the absolute upstream URL, whether it is a playlist or media (a segment, a key,
an init section), and an HMAC under this instance's ``hls-relay`` key binding both to the
session's content. A token this instance did not sign is refused, so tidecast relays what
the source's own playlists name and nothing else: it is never an open relay.

Playlists are fetched for every request (live playlists move) through a one-second
cache; media goes through an LRU cache of ``cache_bytes``. Either way, concurrent
requests for one URL share one upstream fetch.

Every fetch follows the Fetcher's address rules for a locality: a session's fetches may
reach private addresses only while the first viewer to use it and the current one are
both local (see :meth:`Relay.caller_is_local`). Cached bodies are kept per locality, so a
body fetched for a local viewer is never handed to a remote one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

from tidecast.core.errors import AccessDenied, ContentUnavailable, NotFound, PayloadTooLarge
from tidecast.core.instance_secret import InstanceSecret
from tidecast.core.playback import PlaybackSession
from tidecast.engine.http_fetch import Fetcher, Upstream

__all__ = [
    "FAILED_TO_GET_MANIFEST",
    "PLAYLIST_TYPE",
    "Relay",
    "Relayed",
    "Upstream",
    "rewrite_playlist",
]

FAILED_TO_GET_MANIFEST = "failed to get manifest"
"""The engine's message when an HLS source cannot be read; clients match on it."""

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MEDIA_TYPE = "video/mp2t"
"""What relayed media is said to be when its upstream does not say."""

INVALID_TOKEN = "invalid relay token"  # noqa: S105 - a message, not a secret
PLAYLIST_TTL = 1.0
MAX_PLAYLIST_BYTES = 4 * 1024 * 1024
_MAX_PLAYLISTS_KEPT = 256
_MAC_BYTES = 16

Kind = Literal["playlist", "media"]
_KIND_LETTERS: dict[Kind, str] = {"playlist": "p", "media": "m"}
_LETTER_KINDS: dict[str, Kind] = {letter: kind for kind, letter in _KIND_LETTERS.items()}

# A URI attribute, not the tail of another (SERVER-URI of EXT-X-CONTENT-STEERING).
_URI_ATTRIBUTE = re.compile(r'(?<=[:,])URI="([^"]*)"')
# Tags whose URI names a playlist; the URI of any other tag (KEY, SESSION-KEY, MAP, PART,
# PRELOAD-HINT, SESSION-DATA) names media.
_PLAYLIST_TAGS = ("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:", "#EXT-X-RENDITION-REPORT:")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")

T = TypeVar("T")
_CacheKey = tuple[str, bool]  # (upstream URL, fetched for a local caller)


@dataclass(frozen=True, slots=True)
class Relayed:
    """A relayed body: a rewritten playlist or media bytes, with its content type."""

    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class _Manifest:
    """A playlist as fetched: its final URL (relative URIs resolve against it), its text."""

    url: str
    text: str


def rewrite_playlist(text: str, base: str, link: Callable[[Kind, str], str]) -> str:
    """``text`` with every http(s) URI resolved against ``base`` and replaced by ``link``.

    ``link(kind, absolute_url)`` gives the replacement. Lines after ``#EXT-X-STREAM-INF``
    and the URI attributes of ``#EXT-X-MEDIA``, ``#EXT-X-I-FRAME-STREAM-INF`` and
    ``#EXT-X-RENDITION-REPORT`` are playlists; other URI lines (segments) and attributes
    (keys, init sections, parts) are media. URIs of other schemes (``data:``, ``skd:``)
    are left as they are.
    """

    def replace(kind: Kind, uri: str) -> str:
        absolute = urljoin(base, uri.strip())
        if urlsplit(absolute).scheme not in ("http", "https"):
            return uri
        return link(kind, absolute)

    lines: list[str] = []
    variant_next = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append(line)
        elif stripped.startswith("#"):
            if stripped.startswith("#EXT-X-STREAM-INF"):
                variant_next = True
            kind: Kind = "playlist" if stripped.startswith(_PLAYLIST_TAGS) else "media"
            lines.append(_URI_ATTRIBUTE.sub(partial(_replace_attribute, replace, kind), stripped))
        else:
            lines.append(replace("playlist" if variant_next else "media", stripped))
            variant_next = False
    return "\n".join(lines) + "\n"


def _replace_attribute(
    replace: Callable[[Kind, str], str], kind: Kind, match: re.Match[str]
) -> str:
    return f'URI="{replace(kind, match.group(1))}"'


class Relay:
    """Relays direct media (Range passed through) and HLS playlists and media.

    ``cache_bytes`` bounds the media kept for viewers that come after the first; 0 keeps
    nothing (concurrent requests still share one fetch).
    """

    def __init__(self, fetcher: Fetcher, secret: InstanceSecret, *, cache_bytes: int) -> None:
        self._fetcher = fetcher
        self._key = secret.derive("hls-relay")
        self._media = _MediaCache(cache_bytes)
        self._media_flights: _Flights[Relayed] = _Flights()
        self._manifests: dict[_CacheKey, tuple[float, _Manifest]] = {}
        self._manifest_flights: _Flights[_Manifest] = _Flights()

    # -- who is asking -----------------------------------------------------------------

    @staticmethod
    def caller_is_local(session: PlaybackSession, viewer_is_local: bool) -> bool:
        """Whether fetches for ``session`` may reach private and loopback addresses now:
        only when the session was started by a local caller and this viewer is local."""
        return session.caller_is_local and viewer_is_local

    # -- direct media ------------------------------------------------------------------

    @asynccontextmanager
    async def direct(
        self, session: PlaybackSession, *, headers: Mapping[str, str], caller_is_local: bool
    ) -> AsyncIterator[Upstream]:
        """The session's media URL opened with ``headers`` (``Range``, ``If-Range``).

        A 416 is handed back like a success; other failures raise as
        :meth:`Fetcher.stream` does.
        """
        async with self._fetcher.stream(
            _source(session),
            caller_is_local=caller_is_local,
            headers=headers,
            allow_statuses=(416,),
        ) as upstream:
            yield upstream

    # -- HLS ---------------------------------------------------------------------------

    async def playlist(
        self, session: PlaybackSession, *, prefix: str, caller_is_local: bool
    ) -> Relayed:
        """The session's HLS source, rewritten so that every URI is ``prefix`` + a token.

        Raises ContentUnavailable ("failed to get manifest…") when the source cannot be
        fetched or is not a playlist, FetchRefused when the address rules refuse it.
        """
        return await self._playlist(
            _source(session), scope=session.infohash, prefix=prefix, local=caller_is_local
        )

    async def resource(
        self, session: PlaybackSession, token: str, *, prefix: str, caller_is_local: bool
    ) -> Relayed:
        """What a token handed out in one of the session's playlists names.

        Raises AccessDenied for a token this instance did not sign for this content,
        ContentUnavailable or PayloadTooLarge when the upstream fails, FetchRefused.
        """
        kind, url = self._open(token, scope=session.infohash)
        if kind == "playlist":
            return await self._playlist(
                url, scope=session.infohash, prefix=prefix, local=caller_is_local
            )
        key = (url, caller_is_local)
        cached = self._media.get(key)
        if cached is not None:
            return cached
        return await self._media_flights.run(key, partial(self._fetch_media, key))

    async def _playlist(self, url: str, *, scope: str, prefix: str, local: bool) -> Relayed:
        key = (url, local)
        kept = self._manifests.get(key)
        if kept is not None and kept[0] > time.monotonic():
            manifest = kept[1]
        else:
            manifest = await self._manifest_flights.run(key, partial(self._fetch_manifest, key))

        def link(kind: Kind, absolute: str) -> str:
            return prefix + self._token(kind, scope, absolute)

        text = rewrite_playlist(manifest.text, manifest.url, link)
        return Relayed(text.encode(), PLAYLIST_TYPE)

    async def _fetch_manifest(self, key: _CacheKey) -> _Manifest:
        url, local = key
        try:
            result = await self._fetcher.fetch(
                url, caller_is_local=local, max_bytes=MAX_PLAYLIST_BYTES
            )
        except (ContentUnavailable, PayloadTooLarge) as exc:
            raise ContentUnavailable(f"{FAILED_TO_GET_MANIFEST}: {exc.message}") from exc
        text = _playlist_text(result.body)
        if text is None:
            raise ContentUnavailable(FAILED_TO_GET_MANIFEST)
        manifest = _Manifest(result.url, text)
        now = time.monotonic()
        if len(self._manifests) >= _MAX_PLAYLISTS_KEPT:
            for stale in [k for k, (expiry, _) in self._manifests.items() if expiry <= now]:
                del self._manifests[stale]
        if len(self._manifests) < _MAX_PLAYLISTS_KEPT:
            self._manifests[key] = (now + PLAYLIST_TTL, manifest)
        return manifest

    async def _fetch_media(self, key: _CacheKey) -> Relayed:
        url, local = key
        result = await self._fetcher.fetch(url, caller_is_local=local)
        media = Relayed(result.body, result.content_type or MEDIA_TYPE)
        self._media.put(key, media)
        return media

    # -- tokens ------------------------------------------------------------------------

    def _token(self, kind: Kind, scope: str, url: str) -> str:
        """``<kind>.<url>.<mac>`` (base64url), then an extension for players that look."""
        payload = _b64encode(url.encode())
        mac = self._mac(kind, scope, url)
        return f"{_KIND_LETTERS[kind]}.{payload}.{mac}{_extension(kind, url)}"

    def _open(self, token: str, *, scope: str) -> tuple[Kind, str]:
        parts = token.split(".")
        if len(parts) not in (3, 4) or parts[0] not in _LETTER_KINDS:
            raise AccessDenied(INVALID_TOKEN)
        kind = _LETTER_KINDS[parts[0]]
        try:
            url = _b64decode(parts[1]).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AccessDenied(INVALID_TOKEN) from None
        if not hmac.compare_digest(parts[2], self._mac(kind, scope, url)):
            raise AccessDenied(INVALID_TOKEN)
        return kind, url

    def _mac(self, kind: Kind, scope: str, url: str) -> str:
        message = f"{kind}\n{scope}\n{url}".encode()
        return _b64encode(hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES])


class _MediaCache:
    """Relayed media by (URL, locality), least recently used first out, within a budget."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[_CacheKey, Relayed] = OrderedDict()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def get(self, key: _CacheKey) -> Relayed | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: _CacheKey, item: Relayed) -> None:
        if len(item.body) > self._capacity:
            return
        previous = self._items.pop(key, None)
        if previous is not None:
            self._size -= len(previous.body)
        self._items[key] = item
        self._size += len(item.body)
        while self._size > self._capacity:
            _, evicted = self._items.popitem(last=False)
            self._size -= len(evicted.body)


class _Flights(Generic[T]):
    """At most one call in flight per key; whoever asks meanwhile waits for its result."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[T]] = {}

    async def run(self, key: Hashable, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(work())
            self._running[key] = task
            task.add_done_callback(partial(self._landed, key))
        # A viewer hanging up must not cancel the fetch other viewers wait for.
        return await asyncio.shield(task)

    def _landed(self, key: Hashable, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have hung up


def _source(session: PlaybackSession) -> str:
    if session.source_url is None:
        raise NotFound("this session relays no URL")
    return session.source_url


def _playlist_text(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text if text.lstrip().startswith("#EXTM3U") else None


def _extension(kind: Kind, url: str) -> str:
    """The suffix a player expects (FFmpeg checks segment URLs' extensions)."""
    if kind == "playlist":
        return ".m3u8"
    suffix = PurePosixPath(urlsplit(url).path).suffix
    return suffix if _EXTENSION.fullmatch(suffix) else ""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    # validate: a token with stray characters is not the token that was signed.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)

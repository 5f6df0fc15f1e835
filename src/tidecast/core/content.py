"""Content: transport files, their media files and content ids, and ``analyze_content``.

A transport file is remembered once it has been seen (fetched from a URL or handed over as
bytes), keyed by its content id: tidecast's definition of the Ace Stream content id, the
SHA-1 hex of the file's exact bytes. Content ids and info-hashes then resolve locally; an
id tidecast has never seen is "cannot get transport file", because there is no catalog to
ask.

Every fetch goes through the :class:`Fetcher`, so a caller that is not local cannot make
tidecast reach a private address. Fetched bodies are read whole (the Fetcher has no
partial read), at most ``MAX_TRANSPORT_FILE_BYTES``; a URL whose extension names media is
sniffed with a much smaller limit, so analysing a film does not download it.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from tidecast.core.content_refs import (
    ContentRef,
    normalize_content_id,
    normalize_infohash,
    parse_reference,
)
from tidecast.core.errors import (
    ContentUnavailable,
    InvalidInput,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
    TidecastError,
    UnsupportedContent,
)
from tidecast.engine.http_fetch import Fetcher, FetchResult
from tidecast.engine.torrent_reader import (
    MAX_TRANSPORT_FILE_BYTES,
    TransportFile,
    looks_like_torrent,
    read_transport_file,
)
from tidecast.storage import playlist_repo, transport_repo
from tidecast.storage.database import Database
from tidecast.storage.transport_repo import TransportRow

CANNOT_GET_TRANSPORT_FILE = "cannot get transport file"
"""The engine's own message for content it cannot find; clients match on it."""

DIRECT_SNIFF_BYTES = 64 * 1024
"""Limit for URLs whose extension names media: enough to sniff, small enough to be quick."""

_PARSED_CACHE_SIZE = 64
_TORRENT_ACCEPT = "application/x-bittorrent, */*;q=0.5"
_PLAYLIST_MIME = frozenset({"audio/x-mpegurl", "audio/mpegurl", "application/x-mpegurl"})
# Tags only HLS playlists carry: every media playlist has TARGETDURATION, every master
# playlist STREAM-INF. IPTV playlists do carry stray "#EXT-X-" lines, so the prefix alone
# does not decide.
_HLS_TAGS = (
    "#EXT-X-TARGETDURATION",
    "#EXT-X-STREAM-INF",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-I-FRAME-STREAM-INF",
)


@dataclass(frozen=True, slots=True)
class Analysis:
    """The answer of ``analyze_content`` (seed field names and value sets).

    ``content_type`` is one of transport_file, hls, direct_content, playlist (tidecast
    never answers the seed's hls_vode or direct_stream); ``transport_type`` is bt, hls or
    None; ``is_live`` is 0 (VOD), 1 (live) or -1 (unknown).
    """

    content_type: str
    transport_type: str | None
    content_id: str | None
    infohash: str | None
    item_url: str | None
    title: str | None
    is_live: int
    categories: list[str]


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One playable file of a transport file; ``index`` is libtorrent's file index."""

    index: int
    filename: str
    size: int
    mime: str


@dataclass(frozen=True, slots=True)
class MediaFiles:
    """The answer of ``get_media_files``; ``transport_file_data`` only when asked for."""

    infohash: str
    content_id: str
    name: str
    type: str
    transport_type: str
    files: list[MediaFile]
    transport_file_data: bytes | None


@dataclass(frozen=True, slots=True)
class _Resolved:
    file: TransportFile
    data: bytes


TRANSPORT_FILE_LIMIT = MAX_TRANSPORT_FILE_BYTES
"""The largest transport file tidecast reads (uploads are cut there)."""


class ContentService:
    """Remembers transport files and answers what they contain."""

    def __init__(
        self, db: Database, fetcher: Fetcher, *, max_stored_bytes: int = 512 * 1024 * 1024
    ) -> None:
        self._db = db
        self._fetcher = fetcher
        self._max_stored_bytes = max_stored_bytes
        # Metadata from the swarm for an info-hash or magnet never seen: (infohash,
        # magnet) -> transport file bytes. Set by the playback service.
        self.swarm: Callable[[str | None, str | None], Awaitable[bytes]] | None = None
        # Content ids name immutable bytes, so a parse never goes stale.
        self._parsed: OrderedDict[str, TransportFile] = OrderedDict()

    async def remember(self, data: bytes, *, source_url: str | None = None) -> TransportFile:
        """Parse ``data`` and store it unless its content id is already stored.

        Raises what ``read_transport_file`` raises: InvalidInput (empty), PayloadTooLarge,
        UnsupportedContent("not a transport file").
        """
        data = bytes(data)
        parsed = await asyncio.to_thread(read_transport_file, data)
        row = TransportRow(
            content_id=parsed.content_id,
            infohash=parsed.infohash,
            infohash_v2=parsed.infohash_v2,
            name=parsed.name,
            total_size=parsed.total_size,
            data=data,
            source_url=source_url,
            created_at=int(time.time()),
        )
        async with self._db.write() as conn:
            if await transport_repo.insert_if_absent(conn, row):
                # Public callers can make tidecast remember files: keep the store bounded.
                excess = await transport_repo.total_bytes(conn) - self._max_stored_bytes
                if excess > 0:
                    await transport_repo.evict_unreferenced(conn, excess, keep=row.content_id)
        self._keep(parsed)
        return parsed

    async def transport_file(
        self,
        *,
        content_id: str | None = None,
        infohash: str | None = None,
        url: str | None = None,
        data: bytes | None = None,
        caller_is_local: bool,
    ) -> TransportFile:
        """The transport file named by the first of ``content_id``, ``infohash``, ``url``,
        ``data`` that is given (the seed's order; the others are ignored).

        Empty strings count as not given. Raises MissingParameter when none is given,
        InvalidInput for a malformed id, ContentUnavailable("cannot get transport file")
        for an id never seen or a URL that does not serve a transport file, and the
        Fetcher's errors (FetchRefused, ContentUnavailable, PayloadTooLarge).
        """
        resolved = await self._resolve(
            content_id=content_id,
            infohash=infohash,
            url=url,
            magnet=None,
            data=data,
            caller_is_local=caller_is_local,
        )
        return resolved.file

    async def transport_bytes(
        self,
        *,
        content_id: str | None = None,
        url: str | None = None,
        data: bytes | None = None,
        caller_is_local: bool,
    ) -> bytes:
        """The exact bytes of the transport file :meth:`transport_file` would resolve."""
        resolved = await self._resolve(
            content_id=content_id,
            infohash=None,
            url=url,
            magnet=None,
            data=data,
            caller_is_local=caller_is_local,
        )
        return resolved.data

    async def known_bytes(
        self, *, infohash: str | None = None, magnet: str | None = None
    ) -> bytes | None:
        """A remembered transport file for an info-hash or a magnet's, or None."""
        if infohash:
            row = await self._row_by_infohash(normalize_infohash(infohash))
        elif magnet:
            row = await self._row_by_ref(_magnet(magnet))
        else:
            return None
        return row.data if row is not None else None

    async def known(
        self, *, content_id: str | None = None, infohash: str | None = None
    ) -> TransportFile | None:
        """A remembered transport file for these ids, or None; never fetches anything."""
        if not content_id and not infohash:
            return None
        try:
            return await self.transport_file(
                content_id=content_id, infohash=infohash, caller_is_local=False
            )
        except ContentUnavailable:
            return None

    async def media_files(
        self,
        *,
        content_id: str | None = None,
        infohash: str | None = None,
        url: str | None = None,
        magnet: str | None = None,
        data: bytes | None = None,
        caller_is_local: bool,
        include_data: bool = False,
    ) -> MediaFiles:
        """The files of a transport file, resolved as :meth:`transport_file` does, with
        ``magnet`` tried after ``url``.

        A magnet resolves only when a transport file with its info-hash was remembered
        before (fetching metadata from the swarm is the engine's job, not done here).
        ``filename`` is the file's path inside the torrent: its name for a single-file
        torrent, the path below the torrent's folder for a multi-file one.
        """
        resolved = await self._resolve(
            content_id=content_id,
            infohash=infohash,
            url=url,
            magnet=magnet,
            data=data,
            caller_is_local=caller_is_local,
        )
        file = resolved.file
        folder = file.name + "/"
        return MediaFiles(
            infohash=file.infohash,
            content_id=file.content_id,
            name=file.name,
            type="vod",
            transport_type="bt",
            files=[
                MediaFile(
                    index=f.index,
                    filename=f.path.removeprefix(folder),
                    size=f.size,
                    mime=f.mime,
                )
                for f in file.files
            ],
            transport_file_data=resolved.data if include_data else None,
        )

    async def content_id(
        self,
        *,
        infohash: str | None = None,
        url: str | None = None,
        playlist_item_id: int | None = None,
        caller_is_local: bool,
    ) -> str:
        """The content id of a playlist item, an info-hash or a transport-file URL, tried
        in that order.

        An item answers its stored content id, else the one of its info-hash or URL.
        Raises NotFound for an unknown item, and what :meth:`transport_file` raises.
        """
        if playlist_item_id is not None:
            async with self._db.read() as conn:
                item = await playlist_repo.get(conn, playlist_item_id)
            if item is None:
                raise NotFound("unknown playlist item", field="playlist_item_id")
            if item.content_id:
                return item.content_id
            if not (item.infohash or item.url):
                raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE)
            infohash, url = item.infohash, item.url
        elif not (infohash or url):
            raise MissingParameter("one of playlist_item_id, infohash or url is required")
        file = await self.transport_file(
            infohash=infohash, url=url, caller_is_local=caller_is_local
        )
        return file.content_id

    async def analyze(
        self, query: str, *, caller_is_local: bool, title: str | None = None
    ) -> Analysis:
        """Say what ``query`` is: any reference ``parse_reference`` knows.

        Ids and magnets are answered locally, known or not (unknown ones with
        ``is_live`` -1 and no title). URLs are fetched and sniffed: a torrent is
        remembered (transport_file); ``#EXTM3U`` with HLS tags is hls (live unless it has
        ``#EXT-X-ENDLIST`` or is a VOD playlist; a master playlist is judged by its first
        variant); other ``#EXTM3U`` text is a playlist; media by content type or
        extension, or any binary body, is direct_content. Raises UnsupportedContent
        ("unknown protocol") for unknown forms and bodies (HTML, plain text),
        InvalidInput for malformed ids, and the Fetcher's errors. A non-empty ``title``
        replaces the one found.
        """
        ref = parse_reference(query)
        if ref.kind == "content_id":
            analysis = await self._analyze_content_id(ref)
        elif ref.kind in ("infohash", "magnet"):
            analysis = await self._analyze_infohash(ref)
        else:
            analysis = await self._analyze_url(ref, caller_is_local=caller_is_local)
        if title:
            analysis = replace(analysis, title=title)
        return analysis

    # -- resolution --------------------------------------------------------------------

    async def _resolve(
        self,
        *,
        content_id: str | None,
        infohash: str | None,
        url: str | None,
        magnet: str | None,
        data: bytes | None,
        caller_is_local: bool,
    ) -> _Resolved:
        # Empty strings count as absent: dialects pass empty query parameters through.
        row: TransportRow | None
        if content_id:
            row = await self._row_by_content_id(normalize_content_id(content_id))
        elif infohash:
            row = await self._row_by_infohash(normalize_infohash(infohash))
        elif url:
            return await self._fetch_transport_file(url, caller_is_local=caller_is_local)
        elif magnet:
            row = await self._row_by_ref(_magnet(magnet))
        elif data is not None:
            return _Resolved(await self.remember(data), bytes(data))
        else:
            raise MissingParameter("one of content_id, infohash, url, magnet or data is required")
        if row is None and (infohash or magnet) and self.swarm is not None:
            try:
                fetched = await self.swarm(
                    normalize_infohash(infohash) if infohash else None, magnet
                )
            except ContentUnavailable as exc:
                raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE) from exc
            return _Resolved(await self.remember(fetched), fetched)
        if row is None:
            raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE)
        return _Resolved(await self._parse_row(row), row.data)

    async def _fetch_transport_file(self, url: str, *, caller_is_local: bool) -> _Resolved:
        result = await self._fetcher.fetch(
            url,
            caller_is_local=caller_is_local,
            max_bytes=MAX_TRANSPORT_FILE_BYTES,
            accept=_TORRENT_ACCEPT,
        )
        if not looks_like_torrent(result.body):
            raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE)
        try:
            file = await self.remember(result.body, source_url=result.url)
        except UnsupportedContent as exc:
            raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE) from exc
        return _Resolved(file, result.body)

    async def _row_by_content_id(self, content_id: str) -> TransportRow | None:
        async with self._db.read() as conn:
            return await transport_repo.get(conn, content_id)

    async def _row_by_infohash(self, infohash: str) -> TransportRow | None:
        async with self._db.read() as conn:
            return await transport_repo.find_by_infohash(conn, infohash)

    async def _row_by_ref(self, ref: ContentRef) -> TransportRow | None:
        row = None
        if ref.infohash_v2:
            row = await self._row_by_infohash(ref.infohash_v2)
        if row is None and ref.infohash:
            row = await self._row_by_infohash(ref.infohash)
        return row

    async def _parse_row(self, row: TransportRow) -> TransportFile:
        cached = self._parsed.get(row.content_id)
        if cached is not None:
            self._parsed.move_to_end(row.content_id)
            return cached
        parsed = await asyncio.to_thread(read_transport_file, row.data)
        self._keep(parsed)
        return parsed

    def _keep(self, parsed: TransportFile) -> None:
        self._parsed[parsed.content_id] = parsed
        self._parsed.move_to_end(parsed.content_id)
        while len(self._parsed) > _PARSED_CACHE_SIZE:
            self._parsed.popitem(last=False)

    # -- analysis ----------------------------------------------------------------------

    async def _analyze_content_id(self, ref: ContentRef) -> Analysis:
        row = await self._row_by_content_id(ref.value)
        if row is not None:
            return _transport_analysis(await self._parse_row(row), item_url=None)
        return Analysis("transport_file", "bt", ref.value, None, None, None, -1, [])

    async def _analyze_infohash(self, ref: ContentRef) -> Analysis:
        item_url = ref.value if ref.kind == "magnet" else None
        row = await self._row_by_ref(ref)
        if row is not None:
            return _transport_analysis(await self._parse_row(row), item_url=item_url)
        return Analysis("transport_file", "bt", None, ref.infohash, item_url, ref.title, -1, [])

    async def _analyze_url(self, ref: ContentRef, *, caller_is_local: bool) -> Analysis:
        url, kind = ref.value, ref.kind
        limit = DIRECT_SNIFF_BYTES if kind == "direct" else MAX_TRANSPORT_FILE_BYTES
        try:
            result = await self._fetcher.fetch(
                url, caller_is_local=caller_is_local, max_bytes=limit
            )
        except PayloadTooLarge:
            # Larger than any transport file or manifest tidecast reads: a playlist if
            # its extension says so, else media.
            if kind == "transport_url":
                raise
            return _url_analysis("playlist" if kind == "playlist" else "direct_content", url, -1)

        body = result.body
        if kind == "transport_url" or looks_like_torrent(body):
            try:
                file = await self.remember(body, source_url=result.url)
            except (UnsupportedContent, InvalidInput) as exc:
                if kind == "transport_url":
                    raise ContentUnavailable(CANNOT_GET_TRANSPORT_FILE) from exc
            else:
                return _transport_analysis(file, item_url=url)

        text = _as_text(body)
        if text is not None and text.lstrip("\ufeff \t\r\n").startswith("#EXTM3U"):
            if any(tag in text for tag in _HLS_TAGS):
                is_live = await self._hls_is_live(text, result, caller_is_local=caller_is_local)
                return _url_analysis("hls", url, is_live)
            return _url_analysis("playlist", url, -1)
        if kind == "playlist" and text is not None:
            # An extended header is optional in plain M3U lists of URLs.
            return _url_analysis("playlist", url, -1)
        media_type = result.content_type.startswith(("video/", "audio/"))
        if body and (text is None or (media_type and result.content_type not in _PLAYLIST_MIME)):
            # The whole body arrived within the limit, so it is a finished file.
            return _url_analysis("direct_content", url, 0)
        raise UnsupportedContent("unknown protocol")

    async def _hls_is_live(self, text: str, result: FetchResult, *, caller_is_local: bool) -> int:
        verdict = _media_playlist_is_live(text)
        if verdict is not None:
            return verdict
        variant = _first_variant(text)
        if variant is None:
            return -1
        try:
            variant_result = await self._fetcher.fetch(
                urljoin(result.url, variant),
                caller_is_local=caller_is_local,
                max_bytes=MAX_TRANSPORT_FILE_BYTES,
            )
        except TidecastError:
            return -1
        variant_text = _as_text(variant_result.body)
        verdict = _media_playlist_is_live(variant_text) if variant_text is not None else None
        return -1 if verdict is None else verdict


def _transport_analysis(file: TransportFile, *, item_url: str | None) -> Analysis:
    # Every transport file tidecast reads is a torrent, and torrents are VOD.
    return Analysis(
        "transport_file", "bt", file.content_id, file.infohash, item_url, file.name, 0, []
    )


def _url_analysis(content_type: str, url: str, is_live: int) -> Analysis:
    transport_type = "hls" if content_type == "hls" else None
    return Analysis(content_type, transport_type, None, None, url, None, is_live, [])


def _media_playlist_is_live(text: str) -> int | None:
    """0 or 1 for a media playlist, None for a master playlist (it names no segments)."""
    if "#EXT-X-ENDLIST" in text or "#EXT-X-PLAYLIST-TYPE:VOD" in text:
        return 0
    if "#EXT-X-STREAM-INF" in text:
        return None
    return 1


def _first_variant(text: str) -> str | None:
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF"):
            for uri in lines:
                uri = uri.strip()
                if uri and not uri.startswith("#"):
                    return uri
    return None


def _as_text(body: bytes) -> str | None:
    """``body`` decoded as UTF-8, or None if it looks binary (a NUL, or not UTF-8)."""
    head = body[:8192]
    if b"\x00" in head:
        return None
    try:
        # An incremental decode tolerates a character cut at the end of the head.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return body.decode("utf-8", errors="replace")


def _magnet(value: str) -> ContentRef:
    if not value.strip().lower().startswith("magnet:"):
        raise InvalidInput("not a magnet link", field="magnet")
    return parse_reference(value)

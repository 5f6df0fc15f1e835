"""Classification of the content references users hand to tidecast.

A reference is whatever a client puts where the Ace Stream engine expects content: the
``analyze_content`` query, a playlist line, the web UI paste box. ``parse_reference``
turns one into a :class:`ContentRef` or raises a core error:

* ``UnsupportedContent("unknown protocol")`` when the text is not a form tidecast knows
  (``ftp:``, ``file:``, ``rtmp:``, garbage, empty);
* ``InvalidInput`` when the form is known but its id is malformed (``acestream://xyz``).

The module is pure: no I/O, nothing fetched, so a ``url`` kind stays unknown until a
later layer fetches it.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
from base64 import b32decode
from dataclasses import dataclass
from typing import Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

from tidecast.core.errors import InvalidInput, UnsupportedContent

RefKind: TypeAlias = Literal[
    "content_id", "infohash", "magnet", "transport_url", "hls", "playlist", "direct", "url"
]
UrlKind: TypeAlias = Literal["transport_url", "hls", "playlist", "direct", "url"]


@dataclass(frozen=True, slots=True)
class ContentRef:
    """One classified reference.

    ``value`` is the normalised id (40 lower-case hex digits) for ``content_id`` and
    ``infohash``, and the URL or magnet URI as given (trimmed) for every other kind.
    ``infohash`` is always 40 lower-case hex digits: the v1 btih, or the first 40 digits
    of the v2 SHA-256 hash (libtorrent's truncated id) when only v2 is known.
    """

    kind: RefKind
    value: str
    infohash: str | None = None
    infohash_v2: str | None = None
    file_index: int | None = None
    title: str | None = None


_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_BASE32_32 = re.compile(r"[A-Za-z2-7]{32}")
_SHA256_MULTIHASH = re.compile(r"1220([0-9a-fA-F]{64})")
_MAGNET_XT_KEY = re.compile(r"xt(?:\.\d+)?", re.IGNORECASE)
_INDEX = re.compile(r"[0-9]{1,9}")

# Order matters only for the error message; a query naming two of them is rejected.
_ACESTREAM_SOURCES = ("content_id", "infohash", "magnet", "url", "data")

_TRANSPORT_EXTENSIONS = frozenset({"torrent", "acelive", "acestream"})
_MEDIA_EXTENSIONS = frozenset(
    {
        "mp4", "mkv", "ts", "webm", "avi", "mov", "mp3", "aac",
        "flac", "m4v", "mpg", "mpeg", "ogg", "ogv",
    }
)  # fmt: skip


def parse_reference(text: str) -> ContentRef:
    """Classify ``text``; surrounding whitespace is ignored and hex ids are lower-cased.

    A bare 40-hex string is a content id (the Ace Stream SDK's rule), a bare 32-character
    base32 string is an infohash. Raises ``UnsupportedContent`` for unknown forms and
    ``InvalidInput`` for a known form with a malformed id.
    """
    ref = text.strip()
    lowered = ref.lower()
    if lowered.startswith("acestream:"):
        return _parse_acestream(ref[len("acestream:") :])
    if lowered.startswith("magnet:"):
        return _parse_magnet(ref)
    if lowered.startswith(("http://", "https://")):
        return _parse_http(ref)
    if _HEX40.fullmatch(ref):
        return ContentRef("content_id", ref.lower())
    if _BASE32_32.fullmatch(ref):
        infohash = _infohash_hex(ref, field="infohash")
        return ContentRef("infohash", infohash, infohash=infohash)
    raise UnsupportedContent("unknown protocol")


def classify_url(url: str) -> UrlKind:
    """Guess what ``url`` serves from its path extension alone (the query is ignored).

    ``url`` means the extension says nothing and the kind is unknown until fetched.
    """
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return "url"
    segment = unquote(path).rsplit("/", 1)[-1].lower()
    if "." not in segment:
        return "url"
    extension = segment.rsplit(".", 1)[-1]
    if extension in _TRANSPORT_EXTENSIONS:
        return "transport_url"
    if extension == "m3u8":
        return "hls"
    if extension == "m3u":
        return "playlist"
    if extension in _MEDIA_EXTENSIONS:
        return "direct"
    return "url"


def _parse_acestream(rest: str) -> ContentRef:
    if rest.startswith("//"):
        rest = rest[2:]
    # Some clients URL-encode the whole reference ("acestream:%3Fcontent_id%3D...");
    # decoding once restores it, and leaves a magnet encoded inside it still encoded once.
    if rest[:3].lower() == "%3f":
        rest = unquote(rest)
    if rest.startswith("?"):
        return _parse_acestream_query(rest[1:])
    # "acestream://<id>?index=2" and "acestream://<id>&index=2" both occur in the wild.
    cut = min((at for at in (rest.find("?"), rest.find("&")) if at >= 0), default=len(rest))
    content_id, query = rest[:cut].rstrip("/"), rest[cut + 1 :]
    if not content_id:
        raise InvalidInput("acestream reference names no content", field="content_id")
    ref = ContentRef("content_id", _content_id(content_id))
    if query:
        index = _file_index(parse_qs(query, keep_blank_values=True))
        ref = dataclasses.replace(ref, file_index=index)
    return ref


def _parse_acestream_query(query: str) -> ContentRef:
    params = parse_qs(query, keep_blank_values=True)
    named = [key for key in _ACESTREAM_SOURCES if key in params]
    if not named:
        raise InvalidInput(
            "acestream query names no content: expected content_id, infohash, magnet, url or data"
        )
    if len(named) > 1:
        # Guessing which one the user meant could silently play the wrong content.
        raise InvalidInput(f"acestream query names more than one content: {', '.join(named)}")
    key = named[0]
    value = params[key][0].strip()
    if not value:
        raise InvalidInput(f"acestream query has an empty {key}", field=key)
    ref: ContentRef
    if key == "content_id":
        ref = ContentRef("content_id", _content_id(value))
    elif key == "infohash":
        ref = _infohash_ref(value)
    elif key == "magnet":
        if not value.lower().startswith("magnet:"):
            raise InvalidInput("acestream magnet parameter is not a magnet URI", field=key)
        ref = _parse_magnet(value)
    else:
        if not value.lower().startswith(("http://", "https://")):
            raise UnsupportedContent("unknown protocol")
        # The acestream scheme's url (and data) always names a transport file, whatever
        # its extension: trackers serve them from paths like /download.php?id=5.
        ref = dataclasses.replace(_parse_http(value), kind="transport_url")
    return dataclasses.replace(ref, file_index=_file_index(params))


def _parse_magnet(uri: str) -> ContentRef:
    _, _, query = uri.partition("?")
    params = parse_qs(query, keep_blank_values=True)
    btih: str | None = None
    btmh: str | None = None
    for key, values in params.items():
        if not _MAGNET_XT_KEY.fullmatch(key):
            continue
        for xt in values:
            urn = xt.strip()
            prefix = urn[:9].lower()
            if prefix == "urn:btih:":
                infohash = _infohash_hex(urn[9:], field="magnet")
                btih = btih or infohash
            elif prefix == "urn:btmh:":
                multihash = _SHA256_MULTIHASH.fullmatch(urn[9:])
                if multihash is None:
                    raise InvalidInput(
                        "magnet urn:btmh must be a SHA-256 multihash (1220 and 64 hex digits)",
                        field="magnet",
                    )
                btmh = btmh or multihash.group(1).lower()
            # Other URNs (ed2k, sha1, tree:tiger) name no BitTorrent swarm; skip them.
    # A hybrid magnet keeps its v1 hash as the 40-hex id: it is what v1 peers, trackers
    # and the Ace Stream API know the swarm by.
    if btih is not None:
        infohash = btih
    elif btmh is not None:
        infohash = btmh[:40]
    else:
        raise InvalidInput(
            "magnet link has no BitTorrent infohash (xt=urn:btih: or xt=urn:btmh:)",
            field="magnet",
        )
    names = params.get("dn", [])
    title = names[0].strip() if names else ""
    return ContentRef("magnet", uri, infohash=infohash, infohash_v2=btmh, title=title or None)


def _parse_http(url: str) -> ContentRef:
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:
        raise InvalidInput(f"malformed URL: {exc}", field="url") from exc
    if not host:
        raise InvalidInput("URL has no host", field="url")
    return ContentRef(classify_url(url), url)


def _infohash_ref(value: str) -> ContentRef:
    if _HEX64.fullmatch(value):
        full = value.lower()
        return ContentRef("infohash", full[:40], infohash=full[:40], infohash_v2=full)
    infohash = _infohash_hex(value, field="infohash")
    return ContentRef("infohash", infohash, infohash=infohash)


def normalize_content_id(value: str) -> str:
    """A content id as tidecast stores it: 40 lower-case hex digits (InvalidInput otherwise)."""
    return _content_id(value.strip())


def normalize_infohash(value: str) -> str:
    """An info-hash as tidecast stores it: 40 or 64 lower hex digits; base32 is decoded."""
    value = value.strip()
    if _HEX64.fullmatch(value):
        return value.lower()
    return _infohash_hex(value, field="infohash")


def _content_id(value: str) -> str:
    if not _HEX40.fullmatch(value):
        raise InvalidInput(
            f"malformed content id {_shorten(value)!r}: expected 40 hexadecimal digits",
            field="content_id",
        )
    return value.lower()


def _infohash_hex(value: str, *, field: str) -> str:
    if _HEX40.fullmatch(value):
        return value.lower()
    if _BASE32_32.fullmatch(value):
        try:
            return b32decode(value, casefold=True).hex()
        except binascii.Error:  # pragma: no cover - the pattern admits only valid base32
            pass
    raise InvalidInput(
        f"malformed infohash {_shorten(value)!r}: expected 40 hex or 32 base32 characters",
        field=field,
    )


def _file_index(params: dict[str, list[str]]) -> int | None:
    values = params.get("index")
    if not values or not values[0].strip():
        return None
    value = values[0].strip()
    if not _INDEX.fullmatch(value):
        raise InvalidInput(
            f"malformed file index {_shorten(value)!r}: expected a non-negative integer",
            field="index",
        )
    return int(value)


def _shorten(value: str, limit: int = 64) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"

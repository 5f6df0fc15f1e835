"""A streaming parser of real-world IPTV M3U playlists.

``parse_m3u`` pulls one line at a time and keeps only the pending ``#EXTINF`` and the
current ``#EXTGRP``, so its memory does not grow with the playlist (they reach 100,000
entries). It never fails on content: every broken line becomes an :class:`M3UProblem`
in the output, in line order, and parsing goes on.

What is accepted: with or without ``#EXTM3U``, a UTF-8 BOM, CRLF, blank lines; every
other ``#`` line (``#EXTVLCOPT``, ``#KODIPROP``, ``#EXT-X-…``, a repeated ``#EXTM3U``
of concatenated playlists) is ignored. Attribute values may be double-quoted,
single-quoted or bare; the title follows the first comma outside quotes.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TypeAlias

from tidecast.core.content_refs import ContentRef, parse_reference
from tidecast.core.errors import InvalidInput, UnsupportedContent

PROBLEM_TEXT_LIMIT = 200
"""``M3UProblem.text`` holds at most this many characters of the offending line."""

MAX_LINE_BYTES = 1 << 20
"""``iter_text_lines`` truncates longer lines (inline base64 logos stay well under it)."""

EPG_ATTRIBUTES = frozenset({"url-tvg", "x-tvg-url", "tvg-url"})
"""``#EXTM3U`` attributes whose comma-separated values are XMLTV guide URLs."""


@dataclass(frozen=True, slots=True)
class M3UHeader:
    """The ``#EXTM3U`` line; empty when the playlist has none."""

    epg_sources: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class M3UEntry:
    """One playable line with the metadata of the ``#EXTINF`` before it.

    ``line`` is the 1-based number of the URL line. Without a usable ``#EXTINF`` the
    title is the magnet's ``dn`` or the URL line itself, ``duration`` is -1 and
    ``attributes`` is empty. Attribute keys keep their spelling; ``tvg_*`` and ``group``
    are looked up case-insensitively, and an empty ``group-title`` counts as absent.
    """

    line: int
    title: str
    ref: ContentRef
    duration: int
    tvg_id: str
    tvg_name: str
    tvg_logo: str
    group: str | None
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class M3UProblem:
    """A line that could not be used, with why; ``text`` is cut to 200 characters."""

    line: int
    message: str
    text: str


M3UItem: TypeAlias = M3UHeader | M3UEntry | M3UProblem


def parse_m3u(lines: Iterable[str]) -> Iterator[M3UItem]:
    """Yield the header first (exactly once, even if empty), then entries and problems.

    ``lines`` are decoded lines, with or without their line terminators; they are pulled
    lazily, one at a time.
    """
    numbered = _numbered(lines)
    header, first_body_line = _read_header(numbered)
    yield header
    pending: _Extinf | None = None
    group: str | None = None
    body = itertools.chain([first_body_line] if first_body_line else [], numbered)
    for number, text in body:
        if not text:
            continue
        if text[:7].upper() == "#EXTINF":
            if pending is not None:
                yield _problem(pending.line, "#EXTINF is not followed by a URL", pending.text)
            try:
                pending = _parse_extinf(number, text)
            except _MalformedLine as exc:
                pending = None
                yield _problem(number, f"malformed #EXTINF: {exc}", text)
        elif text[:8].upper() == "#EXTGRP:":
            group = text[8:].strip() or None
        elif text.startswith("#"):
            continue
        else:
            extinf, pending = pending, None
            try:
                ref = parse_reference(text)
            except (UnsupportedContent, InvalidInput) as exc:
                yield _problem(number, exc.message, text)
                continue
            yield _entry(number, text, ref, extinf, group)
    if pending is not None:
        yield _problem(pending.line, "#EXTINF at end of file has no URL", pending.text)


def read_header(lines: Iterable[str]) -> M3UHeader:
    """Read only the header: pulls blank lines and then one line, the ``#EXTM3U`` or not."""
    return _read_header(_numbered(lines))[0]


def iter_text_lines(binary: BinaryIO, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Decode ``binary`` as UTF-8 (errors replaced) one line at a time, without terminators.

    Lines end at LF or CRLF; a leading BOM is dropped. A line longer than
    ``max_line_bytes`` is cut there and the rest of it skipped, so memory stays bounded
    even for a file without newlines. ``binary`` is read, never closed.
    """
    first = True
    while raw := binary.readline(max_line_bytes):
        if not raw.endswith(b"\n"):
            while (rest := binary.readline(max_line_bytes)) and not rest.endswith(b"\n"):
                pass
        if first:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            first = False
        # Splitting bytes at LF is safe for UTF-8: 0x0A never occurs inside a sequence.
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


@dataclass(frozen=True, slots=True)
class _Extinf:
    line: int
    text: str
    duration: int
    title: str
    attributes: dict[str, str]


class _MalformedLine(ValueError):
    pass


_DURATION = re.compile(r"\s*([+-]?\d+(?:\.\d*)?)(?=[\s,]|$)")
# No duration at all is tolerated (read as -1) when the line goes straight on to the
# title or to an attribute, as some generators write it; any other first word is not.
_NO_DURATION = re.compile(r"\s*(?:,|[^\s,=\"']+=|$)")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<comma>,)
      | (?P<key>[^\s,="']+)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>(?!["'])[^\s,]*))
      | (?P<open_key>[^\s,="']+)=["'](?P<rest>.*)
      | "[^"]*" | '[^']*'
      | [^\s,]+
    )""",
    re.VERBOSE | re.DOTALL,
)


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, 1):
        text = raw.removeprefix("\ufeff") if number == 1 else raw
        yield number, text.strip()


def _read_header(numbered: Iterator[tuple[int, str]]) -> tuple[M3UHeader, tuple[int, str] | None]:
    """Return the header and the first non-header line, which the caller must process."""
    for number, text in numbered:
        if not text:
            continue
        if text[:7].upper() != "#EXTM3U":
            return M3UHeader(), (number, text)
        attributes, _, _ = _scan_attributes(text, 7, stop_at_comma=False)
        sources: dict[str, None] = {}  # an ordered set: de-duplicates, keeps first order
        for key, value in attributes.items():
            if key.lower() in EPG_ATTRIBUTES:
                for url in value.split(","):
                    if url.strip():
                        sources[url.strip()] = None
        return M3UHeader(epg_sources=tuple(sources), attributes=attributes), None
    return M3UHeader(), None


def _scan_attributes(
    text: str, start: int, *, stop_at_comma: bool
) -> tuple[dict[str, str], int, str | None]:
    """Read ``key=value`` pairs from ``start``; stray words are skipped.

    Returns the attributes, the index of the first comma outside quotes (``-1`` if none or
    not stopping at commas), and the key of a value whose quote never closes, if any; such
    a value runs to the end of the line.
    """
    attributes: dict[str, str] = {}
    position = start
    while (token := _TOKEN.match(text, position)) is not None:
        position = token.end()
        if token.group("comma") is not None:
            if stop_at_comma:
                return attributes, token.start("comma"), None
        elif (key := token.group("key")) is not None:
            value = token.group("dq")
            if value is None:
                value = token.group("sq")
            if value is None:
                value = token.group("bare")
            attributes[key] = value
        elif (open_key := token.group("open_key")) is not None:
            attributes[open_key] = token.group("rest")
            return attributes, -1, open_key
    return attributes, -1, None


def _parse_extinf(number: int, text: str) -> _Extinf:
    if text[7:8] != ":":
        raise _MalformedLine("no ':' after #EXTINF")
    duration = -1
    position = 8
    if (match := _DURATION.match(text, position)) is not None:
        duration = int(float(match.group(1)))
        position = match.end()
    elif _NO_DURATION.match(text, position) is None:
        raise _MalformedLine("the duration is not a number")
    attributes, comma, unterminated = _scan_attributes(text, position, stop_at_comma=True)
    if unterminated is not None:
        raise _MalformedLine(f"the quote of attribute {unterminated!r} is never closed")
    if comma < 0:
        raise _MalformedLine("no comma before the title")
    return _Extinf(number, text, duration, text[comma + 1 :].strip(), attributes)


def _entry(
    number: int, text: str, ref: ContentRef, extinf: _Extinf | None, group: str | None
) -> M3UEntry:
    if ref.kind == "url":
        # A playlist line is meant to be played: an http URL that names no known kind is
        # taken as a direct stream (IPTV panels serve them from extension-less paths).
        ref = dataclasses.replace(ref, kind="direct")
    if extinf is None:
        return M3UEntry(number, ref.title or text, ref, -1, "", "", "", group, {})
    known = {key.lower(): value for key, value in extinf.attributes.items()}
    tvg_name = known.get("tvg-name", "")
    return M3UEntry(
        line=number,
        title=extinf.title or tvg_name or ref.title or text,
        ref=ref,
        duration=extinf.duration,
        tvg_id=known.get("tvg-id", ""),
        tvg_name=tvg_name,
        tvg_logo=known.get("tvg-logo", ""),
        group=known.get("group-title") or group,
        attributes=extinf.attributes,
    )


def _problem(number: int, message: str, text: str) -> M3UProblem:
    return M3UProblem(number, message, text[:PROBLEM_TEXT_LIMIT])

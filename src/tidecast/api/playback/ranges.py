"""HTTP byte ranges (RFC 9110 §14): ``bytes=a-b``, ``bytes=a-`` and the suffix ``bytes=-n``.

One range per request, as players send; a multi-range request is answered with the
whole representation (RFC-conformant: a server may ignore Range).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start``..``end`` (exclusive) of a representation of ``size`` bytes."""

    start: int
    end: int
    size: int
    partial: bool

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


class RangeNotSatisfiable(Exception):
    """The range lies outside the representation (answered 416)."""


def parse_range(header: str | None, size: int) -> ByteRange:
    """The range a ``Range`` header asks for in a representation of ``size`` bytes."""
    whole = ByteRange(0, size, size, partial=False)
    if not header:
        return whole
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return whole
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return whole
    if not first:  # suffix: the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - count), size, size, partial=True)
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable
    end = size if not last else min(size, int(last) + 1)
    if last and int(last) < start:
        return whole
    return ByteRange(start, end, size, partial=True)

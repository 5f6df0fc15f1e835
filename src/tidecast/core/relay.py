"""Relaying HTTP media through tidecast: direct media URLs and HLS sources.

(Skeleton: the HLS relay and the direct relay are being written.)
"""

from __future__ import annotations

from tidecast.core.instance_secret import InstanceSecret
from tidecast.engine.http_fetch import Fetcher


class Relay:
    """Relays direct media (Range passed through) and HLS manifests and segments."""

    def __init__(self, fetcher: Fetcher, secret: InstanceSecret, *, cache_bytes: int) -> None:
        self._fetcher = fetcher
        self._secret = secret
        self._cache_bytes = cache_bytes

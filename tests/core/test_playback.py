"""Playback wiring: the engine's settings as the instance's settings say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from tidecast.core.services import torrent_config
from tidecast.settings import Settings


def test_disk_cache_defaults_to_the_data_directory(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    config = torrent_config(
        make_settings(
            torrent_listen_port=7001,
            extra_trackers="http://127.0.0.1:1/announce, udp://127.0.0.1:2",
            cache_max_bytes=64 * 1024 * 1024,
            upload_rate_limit=1000,
        )
    )
    assert config.storage_dir == tmp_path / "data" / "cache"
    assert not config.memory_only
    assert config.listen_interfaces == "127.0.0.1:7001"
    assert config.extra_trackers == ("http://127.0.0.1:1/announce", "udp://127.0.0.1:2")
    assert config.cache_max_bytes == 64 * 1024 * 1024
    assert config.upload_rate_limit == 1000
    assert not (config.dht or config.lsd or config.upnp)


def test_memory_mode_keeps_the_cache_on_tmpfs(make_settings: Callable[..., Settings]) -> None:
    config = torrent_config(make_settings(cache_mode="memory", cache_dir="/var/ignored"))
    assert config.memory_only
    assert config.storage_dir == Path("/dev/shm")


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("cache_mode", "ram", "disk or memory"),
        ("extra_trackers", "ftp://tracker/announce", "tracker URL"),
        ("cache_max_bytes", 1024, "greater than or equal"),
        ("torrent_listen_port", 70000, "less than or equal"),
    ],
)
def test_bad_engine_settings_name_the_setting(
    make_settings: Callable[..., Settings], name: str, value: object, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        make_settings(**{name: value})

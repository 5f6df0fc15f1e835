"""Settings: declared once, layered defaults -> file -> environment -> flags, validated."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tidecast.cli import configure_logging
from tidecast.settings import SettingsError, load_settings, mask_url, masked_items


def test_layering(tmp_path: Path) -> None:
    config = tmp_path / "tidecast.toml"
    config.write_text('port = 7000\nlog_level = "warning"\nplayers = ["mpv"]\n')
    settings = load_settings(
        config_file=config,
        environ={"TIDECAST_LOG_LEVEL": "debug", "TIDECAST_FETCH_TIMEOUT": "3.5"},
        overrides={"fetch_timeout": 2.0, "host": None},
    )
    assert settings.port == 7000  # file
    assert settings.log_level == "debug"  # environment beats file
    assert settings.fetch_timeout == 2.0  # flag beats environment
    assert settings.host == "127.0.0.1"  # an absent flag keeps the default
    assert settings.players == ("mpv",)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("trusted_proxies", "not-a-net"),
        ("network_probe_target", "nohost"),
        ("port", "70000"),
        ("log_level", "loud"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(environ={f"TIDECAST_{name.upper()}": value})


def test_unknown_keys_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(config_file=config, environ={})


def test_secrets_masked(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "TIDECAST_DATABASE_URL": "postgresql://u:pw-123@db/tide",
            "TIDECAST_SECRET_KEY": "k-456",
            "TIDECAST_DATA_DIR": str(tmp_path),
        }
    )
    shown = {name: value for name, value, _help in masked_items(settings)}
    assert shown["database_url"] == "postgresql://u:********@db/tide"
    assert shown["secret_key"] == "********"
    assert "pw-123" not in str(shown) and "k-456" not in str(shown)
    assert mask_url("sqlite:////x/y.db") == "sqlite:////x/y.db"


def test_the_log_file_is_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"TIDECAST_DATA_DIR": str(tmp_path)})
    assert settings.log_file == tmp_path / "logs" / "tidecast.log"
    assert "log_file" not in {name for name, _value, _help in masked_items(settings)}


def test_logging_writes_to_the_log_file(tmp_path: Path) -> None:
    settings = load_settings(environ={"TIDECAST_DATA_DIR": str(tmp_path)})
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(settings)
        logging.getLogger("tidecast.test").warning("written where the web UI says")
        for handler in root.handlers:
            handler.flush()
        assert "written where the web UI says" in settings.log_file.read_text()
    finally:
        for handler in root.handlers:
            if handler not in saved[0]:
                handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])

"""Every tidecast setting, declared once: name, type, default and help.

The same declaration feeds the CLI flags (``tidecast serve --help``), validation,
``tidecast config show`` and the README. Values are layered, later wins:

    defaults  ->  config file (TOML)  ->  TIDECAST_* environment  ->  CLI flags

Nothing here touches the disk or the network at import time; :func:`load_settings` reads
the config file only when called.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "TIDECAST_"
SECRET_MASK = "********"  # noqa: S105 - what replaces a secret


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tidecast", appauthor=False))


class Settings(BaseModel):
    """The typed, frozen settings of one tidecast instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(
        6878,
        ge=0,
        le=65535,
        description="Port of every API surface (6878 is the Ace Stream engine's).",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder holding the SQLite database, the cache, uploads and logs.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy database URL; empty means SQLite at DATA_DIR/tidecast.db. "
        "PostgreSQL: postgresql://user:password@host/db",
        json_schema_extra={"secret": True},
    )
    secret_key: str = Field(
        "",
        description="Instance secret (signs and encrypts); "
        "empty means one generated once in DATA_DIR/secret_key.",
        json_schema_extra={"secret": True},
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    trusted_proxies: tuple[str, ...] = Field(
        (),
        description="Comma-separated addresses or networks whose X-Forwarded-For is believed; "
        "empty means the peer address always decides.",
    )
    network_probe_target: str = Field(
        "1.1.1.1:443",
        description="host:port that get_network_connection_status connects to.",
    )
    network_probe_timeout: float = Field(
        2.0, gt=0, description="Seconds the connectivity probe may take."
    )
    network_probe_cache_seconds: float = Field(
        30.0, ge=0, description="Seconds a probe result is reused."
    )
    fetch_timeout: float = Field(
        15.0, gt=0, description="Seconds allowed for fetching a user-given URL."
    )
    fetch_max_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Largest body fetched from a user-given URL (bytes)."
    )
    upload_max_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Largest uploaded file accepted (bytes)."
    )
    image_max_bytes: int = Field(
        2 * 1024 * 1024, gt=0, description="Largest logo or icon accepted (bytes)."
    )
    transport_store_max_bytes: int = Field(
        512 * 1024 * 1024,
        gt=0,
        description="Bytes of remembered transport files kept; the oldest no playlist item "
        "names go first.",
    )
    icon_cache_max_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Bytes of fetched logos kept on disk."
    )
    scheduler_tick_seconds: float = Field(
        5.0, gt=0, description="How often the scheduler looks for external playlists that are due."
    )
    min_update_interval: int = Field(
        60,
        ge=1,
        description="Shortest update_interval accepted for an external playlist (seconds).",
    )
    frontend_mode: str = Field(
        "open",
        description="closed, restricted or open: which user commands non-operators may use.",
    )
    allow_user_creation: bool = Field(True, description="Anyone may create a user account.")
    allow_guest_login: bool = Field(True, description="Guests may log in (loginGuest).")
    allow_custom_guests: bool = Field(
        True, description="loginGuest may create a temporary guest when none is free."
    )
    online_accounts: bool = Field(
        True, description="Accounts may live on another tidecast instance (login@instance)."
    )
    online_scheme: str = Field(
        "https", description="Scheme used to reach other instances for online accounts."
    )
    online_allow_private_homes: bool = Field(
        False,
        description="Online accounts may have their home on a loopback or private address "
        "(tests, a LAN of instances); off, homes must be public hosts.",
    )
    max_temporary_guests: int = Field(
        50, ge=0, description="Temporary guest accounts loginGuest may create at most."
    )
    token_lifetime_seconds: int = Field(
        30 * 24 * 3600, ge=60, description="How long a login token stays valid."
    )
    login_account_failures: int = Field(
        5, ge=1, description="Failed logins of one account before it is locked out."
    )
    login_address_failures: int = Field(
        20, ge=1, description="Failed logins from one address before it is locked out."
    )
    login_window_seconds: int = Field(900, ge=1, description="Window counting failed logins.")
    login_lockout_seconds: int = Field(900, ge=1, description="How long a lockout lasts.")
    anilist_api_url: str = Field(
        "https://graphql.anilist.co", description="AniList GraphQL endpoint for anime lists."
    )
    kitsu_api_url: str = Field(
        "https://kitsu.io/api/edge", description="Kitsu JSON:API base for anime lists."
    )
    torrent_listen_address: str = Field(
        "0.0.0.0",  # noqa: S104 - peers must reach the BitTorrent port
        description="Address the BitTorrent engine listens on for peers.",
    )
    torrent_listen_port: int = Field(
        8621, ge=0, le=65535, description="BitTorrent listen port (0 picks a free one)."
    )
    dht: bool = Field(True, description="Find peers through the BitTorrent DHT.")
    lsd: bool = Field(True, description="Find peers on the LAN (local service discovery).")
    upnp: bool = Field(True, description="Map the BitTorrent port with UPnP and NAT-PMP.")
    outgoing_utp: bool = Field(
        False, description="Connect to peers over uTP too (TCP only is much faster on a LAN)."
    )
    download_rate_limit: int = Field(
        0, ge=0, description="BitTorrent download limit in bytes/s (0: none; LAN peers exempt)."
    )
    upload_rate_limit: int = Field(
        0, ge=0, description="BitTorrent upload limit in bytes/s (0: none; LAN peers exempt)."
    )
    connections_limit: int = Field(200, ge=2, description="Most peer connections at once.")
    extra_trackers: tuple[str, ...] = Field(
        (), description="Comma-separated tracker URLs announced to for every torrent."
    )
    cache_mode: str = Field(
        "disk", description="disk (CACHE_DIR) or memory (a tmpfs folder, gone on exit)."
    )
    cache_dir: Path | None = Field(
        None, description="Folder of the content cache; empty means DATA_DIR/cache."
    )
    cache_max_bytes: int = Field(
        4 * 1024**3,
        ge=16 * 1024 * 1024,
        description="Size limit of the content cache; content nobody plays is evicted.",
    )
    metadata_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for a magnet's metadata from the swarm."
    )
    readahead_bytes: int = Field(
        8 * 1024 * 1024,
        ge=64 * 1024,
        description="Bytes ahead of each reader requested with deadlines.",
    )
    playback_idle_timeout: float = Field(
        60.0, gt=0, description="Seconds a playback session nobody reads from lives on."
    )
    hls_segment_seconds: float = Field(
        4.0, gt=0, description="Segment length of HLS remuxed from torrents."
    )
    hls_relay_cache_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Memory for relayed HLS segments shared by viewers."
    )
    # -- device API, subscriptions and nodes (seed 002) --
    default_device_limit: int = Field(
        5, ge=0, description="Devices a user without a plan may sign in on (0: none)."
    )
    require_subscription: bool = Field(
        False,
        description="Streaming to non-loopback callers needs an access key, given only to "
        "users with an active subscription.",
    )
    access_key_lifetime_seconds: int = Field(
        24 * 3600, ge=60, description="How long an access key from POST /api/key is valid."
    )
    server_name: str = Field("tidecast", description="This server's name in /api/servers.")
    server_country_code: str = Field(
        "", description="This server's ISO 3166 two-letter country code."
    )
    server_city: str = Field("", description="This server's city in /api/servers.")
    public_url: str = Field(
        "",
        description="Base URL clients reach this instance at; empty means the URL of the "
        "request that asks.",
    )
    node_heartbeat_seconds: float = Field(
        30.0,
        gt=0,
        description="How often a node reports to its control instance; a node silent for "
        "three intervals is shown unavailable.",
    )
    # -- admin command API (seed 001, /api.php) --
    admin_session_seconds: int = Field(
        8 * 3600, ge=1, description="How long an admin SessionID from Admin.Login is valid."
    )
    admin_captcha_after_failures: int = Field(
        3,
        ge=0,
        description="Failed logins (of the account or from the address, within "
        "login_window_seconds) after which Admin.Login needs a captcha; 0: always.",
    )
    admin_captcha_seconds: int = Field(
        300, ge=10, description="How long a captcha from Captcha.Get can be answered."
    )
    admin_totp_issuer: str = Field(
        "tidecast", description="Issuer shown by authenticator apps for admin two-factor codes."
    )
    players: tuple[str, ...] = Field(
        ("vlc", "mpv", "mplayer", "ffplay", "smplayer", "celluloid", "totem", "mpc-qt", "iina"),
        description="Executable names looked up on PATH for get_available_players.",
    )

    @field_validator("trusted_proxies", "players", "extra_trackers", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for spec in value:
            try:
                ipaddress.ip_network(spec, strict=False)
            except ValueError:
                raise ValueError(f"{spec!r} is not an address or network") from None
        return value

    @field_validator("network_probe_target")
    @classmethod
    def _check_target(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port")
        return value

    @field_validator("cache_mode")
    @classmethod
    def _check_cache_mode(cls, value: str) -> str:
        if value not in ("disk", "memory"):
            raise ValueError("must be disk or memory")
        return value

    @field_validator("extra_trackers")
    @classmethod
    def _check_trackers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if urlsplit(url).scheme not in ("http", "https", "udp"):
                raise ValueError(f"{url!r} is not an http, https or udp tracker URL")
        return value

    @field_validator("frontend_mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        if value not in ("closed", "restricted", "open"):
            raise ValueError("must be closed, restricted or open")
        return value

    @field_validator("online_scheme")
    @classmethod
    def _check_scheme(cls, value: str) -> str:
        if value not in ("http", "https"):
            raise ValueError("must be http or https")
        return value

    @field_validator("server_country_code")
    @classmethod
    def _check_country_code(cls, value: str) -> str:
        import pycountry  # only when set: the country table is large

        if value and pycountry.countries.get(alpha_2=value.upper()) is None:
            raise ValueError("must be an ISO 3166 two-letter country code")
        return value.upper()

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'tidecast.db'}"

    @property
    def log_file(self) -> Path:
        """Where the log is written (rotated beside it): DATA_DIR/logs/tidecast.log."""
        return self.data_dir / "logs" / "tidecast.log"


def setting_names() -> list[str]:
    return list(Settings.model_fields)


def is_secret(name: str) -> bool:
    extra = Settings.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("secret"))


def mask_url(url: str) -> str:
    """Hide the password of a URL (``postgresql://u:secret@h/db`` -> ``u:********@h``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{SECRET_MASK}@{netloc[1]}"))


def masked_items(settings: Settings) -> list[tuple[str, str, str]]:
    """``(name, shown value, help)`` for every setting, secrets masked."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = ",".join(value) if isinstance(value, tuple) else str(value)
        if name == "database_url":
            shown = mask_url(settings.resolved_database_url)
        elif is_secret(name) and value:
            shown = SECRET_MASK
        rows.append((name, shown, field.description or ""))
    return rows


class SettingsError(Exception):
    """The layered settings do not validate; the message names the bad setting."""


def load_settings(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Layer defaults, the TOML config file, ``TIDECAST_*`` variables and overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or (
        Path(env[f"{ENV_PREFIX}CONFIG"]) if f"{ENV_PREFIX}CONFIG" in env else None
    )
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {path}: {exc}") from exc
        unknown = set(data) - set(setting_names())
        if unknown:
            raise SettingsError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
        values.update(data)
    for name in setting_names():
        key = ENV_PREFIX + name.upper()
        if key in env:
            values[name] = env[key]
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(problems) from exc

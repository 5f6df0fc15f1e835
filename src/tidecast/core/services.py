"""The core services of one instance, built from settings and started by the app's lifespan."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tidecast.core.access import Caller, classify, client_address, parse_networks
from tidecast.core.accounts import AccountPolicy, AccountService
from tidecast.core.anime_lists import AnimeLists
from tidecast.core.avatars import AvatarStore
from tidecast.core.content import ContentService
from tidecast.core.credentials import EngineApiToken, TokenService
from tidecast.core.engine_session import EngineSession
from tidecast.core.external_playlists import ExternalPlaylistService
from tidecast.core.icons import IconService
from tidecast.core.instance import AccessSwitches, ConnectivityProbe
from tidecast.core.instance_secret import InstanceSecret, load_or_create_secret
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.m3u_import import ImportService
from tidecast.core.online_accounts import OnlineAccounts
from tidecast.core.playback import PlaybackService
from tidecast.core.players import PlayerService
from tidecast.core.playlists import PlaylistService
from tidecast.core.relay import Relay
from tidecast.core.remuxing import RemuxService
from tidecast.core.security_code import SecurityCode
from tidecast.core.tasks import TaskService
from tidecast.engine.http_fetch import Fetcher
from tidecast.engine.torrents import TorrentConfig, TorrentEngine
from tidecast.settings import Settings
from tidecast.storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    secret: InstanceSecret
    engine_token: EngineApiToken
    switches: AccessSwitches
    probe: ConnectivityProbe
    fetcher: Fetcher
    playlists: PlaylistService
    tasks: TaskService
    imports: ImportService
    external: ExternalPlaylistService
    content: ContentService
    icons: IconService
    players: PlayerService
    tokens: TokenService
    accounts: AccountService
    engine_session: EngineSession
    online: OnlineAccounts
    anime_lists: AnimeLists
    avatars: AvatarStore
    playback: PlaybackService
    relay: Relay
    remux: RemuxService
    ready: bool = field(default=False)
    _callers: dict[tuple[str | None, str | None], Caller] = field(default_factory=dict)
    _callers_networks: object = None

    def caller(self, peer: str | None, forwarded_for: str | None) -> Caller:
        """Who is calling; memoised per (peer, X-Forwarded-For) while interfaces stay the same."""
        networks = self.switches.networks()
        if networks is not self._callers_networks or len(self._callers) > 4096:
            self._callers.clear()
            self._callers_networks = networks
        key = (peer, forwarded_for)
        known = self._callers.get(key)
        if known is None:
            trusted = parse_networks(self.settings.trusted_proxies)
            address = client_address(peer, forwarded_for, trusted)
            known = self._callers[key] = Caller(address, classify(address, networks))
        return known

    async def start(self) -> None:
        await self.db.migrate()
        await self.switches.load()
        await self.engine_token.ensure_registered()
        await self.engine_session.load()
        await self.tasks.mark_interrupted()
        self.imports.clear_spool()
        await self.external.start()
        self.remux.clear()
        await self.playback.start()
        self.ready = True
        log.info("tidecast ready on %s:%s", self.settings.host, self.settings.port)

    async def stop(self) -> None:
        self.ready = False
        await self.remux.stop()
        await self.playback.stop()
        await self.external.stop()
        await self.tasks.stop()
        await self.fetcher.aclose()
        await self.db.dispose()


def build_services(settings: Settings) -> Services:
    """Wire every service; nothing is started, nothing touches the network."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    secret = InstanceSecret(load_or_create_secret(settings.secret_key, settings.data_dir))
    fetcher = Fetcher(timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes)
    playlists = PlaylistService(db)
    tasks = TaskService(db)
    imports = ImportService(db, tasks, settings.data_dir / "tmp")
    content = ContentService(db, fetcher, max_stored_bytes=settings.transport_store_max_bytes)
    tokens = TokenService(db, settings.token_lifetime_seconds)
    throttle = LoginThrottle(
        db,
        ThrottlePolicy(
            account_failures=settings.login_account_failures,
            address_failures=settings.login_address_failures,
            window_seconds=settings.login_window_seconds,
            lockout_seconds=settings.login_lockout_seconds,
        ),
    )
    accounts = AccountService(
        db,
        tokens,
        SecurityCode(),
        throttle,
        AccountPolicy(
            allow_user_creation=settings.allow_user_creation,
            allow_guest_login=settings.allow_guest_login,
            allow_custom_guests=settings.allow_custom_guests,
            online_accounts=settings.online_accounts,
            max_temporary_guests=settings.max_temporary_guests,
        ),
    )
    anime_lists = AnimeLists(
        accounts,
        playlists,
        fetcher,
        anilist_url=settings.anilist_api_url,
        kitsu_url=settings.kitsu_api_url,
    )
    playback = PlaybackService(
        TorrentEngine(torrent_config(settings)),
        content,
        metadata_timeout=settings.metadata_timeout,
        idle_timeout=settings.playback_idle_timeout,
    )
    return Services(
        settings=settings,
        db=db,
        secret=secret,
        engine_token=EngineApiToken(db, secret),
        switches=AccessSwitches(db),
        probe=ConnectivityProbe(
            settings.network_probe_target,
            settings.network_probe_timeout,
            settings.network_probe_cache_seconds,
        ),
        fetcher=fetcher,
        playlists=playlists,
        tasks=tasks,
        imports=imports,
        external=ExternalPlaylistService(db, fetcher, imports, tasks, secret, settings),
        content=content,
        icons=IconService(
            db,
            fetcher,
            settings.data_dir / "icons",
            settings.image_max_bytes,
            cache_max_bytes=settings.icon_cache_max_bytes,
        ),
        players=PlayerService(settings.players),
        tokens=tokens,
        accounts=accounts,
        engine_session=EngineSession(db, accounts, tokens),
        online=OnlineAccounts(
            accounts,
            tokens,
            fetcher,
            anime_lists,
            scheme=settings.online_scheme,
            enabled=settings.online_accounts,
            allow_private_homes=settings.online_allow_private_homes,
            allow_user_creation=settings.allow_user_creation,
        ),
        anime_lists=anime_lists,
        avatars=AvatarStore(settings.data_dir / "avatars", settings.image_max_bytes),
        playback=playback,
        relay=Relay(fetcher, secret, cache_bytes=settings.hls_relay_cache_bytes),
        remux=RemuxService(
            playback,
            settings.data_dir / "tmp" / "hls",
            segment_seconds=settings.hls_segment_seconds,
        ),
    )


SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 - a private mkdtemp folder is made in it


def torrent_config(settings: Settings) -> TorrentConfig:
    """The BitTorrent engine's settings; memory mode keeps the cache on tmpfs."""
    if settings.cache_mode == "memory":
        storage = SHARED_MEMORY  # the engine makes a private folder in it
    else:
        storage = settings.cache_dir or settings.data_dir / "cache"
    return TorrentConfig(
        listen_interfaces=f"{settings.torrent_listen_address}:{settings.torrent_listen_port}",
        storage_dir=storage,
        dht=settings.dht,
        lsd=settings.lsd,
        upnp=settings.upnp,
        outgoing_utp=settings.outgoing_utp,
        download_rate_limit=settings.download_rate_limit,
        upload_rate_limit=settings.upload_rate_limit,
        connections_limit=settings.connections_limit,
        extra_trackers=settings.extra_trackers,
        readahead_bytes=settings.readahead_bytes,
        cache_max_bytes=settings.cache_max_bytes,
        memory_only=settings.cache_mode == "memory",
    )

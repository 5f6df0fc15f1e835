"""The core services of one instance, built from settings and started by the app's lifespan."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidecast.core.access import Caller, classify, client_address, parse_networks
from tidecast.core.access_keys import KeySigner
from tidecast.core.accounts import AccountPolicy, AccountService
from tidecast.core.admin_auth import AdminAuth, AdminPolicy
from tidecast.core.anime_lists import AnimeLists
from tidecast.core.audit import AuditLog
from tidecast.core.avatars import AvatarStore
from tidecast.core.captcha import Captchas
from tidecast.core.content import ContentService
from tidecast.core.credentials import EngineApiToken, TokenService
from tidecast.core.devices import Devices
from tidecast.core.engine_session import EngineSession
from tidecast.core.entitlements import Entitlements
from tidecast.core.external_playlists import ExternalPlaylistService
from tidecast.core.icons import IconService
from tidecast.core.instance import AccessSwitches, ConnectivityProbe
from tidecast.core.instance_secret import InstanceSecret, load_or_create_secret
from tidecast.core.login_throttle import LoginThrottle, ThrottlePolicy
from tidecast.core.m3u_import import ImportService
from tidecast.core.nodes import NodeLink
from tidecast.core.online_accounts import OnlineAccounts
from tidecast.core.playback import PlaybackService
from tidecast.core.players import PlayerService
from tidecast.core.playlists import PlaylistService
from tidecast.core.relay import Relay
from tidecast.core.remuxing import RemuxService
from tidecast.core.security_code import SecurityCode
from tidecast.core.servers import Identity, Servers
from tidecast.core.subscriptions import Subscriptions
from tidecast.core.tasks import TaskService
from tidecast.core.two_factor import TwoFactor
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
    subscriptions: Subscriptions
    devices: Devices
    servers: Servers
    node: NodeLink
    entitlements: Entitlements
    audit: AuditLog
    captchas: Captchas
    two_factor: TwoFactor
    admin_auth: AdminAuth
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
        await self.servers.ensure_self()
        await self.node.load()
        await self.node.start()
        self.ready = True
        log.info("tidecast ready on %s:%s", self.settings.host, self.settings.port)

    async def stop(self) -> None:
        self.ready = False
        await self.node.stop()
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
    # Every password sign-in passes through two-factor, so the account store holds it.
    two_factor = TwoFactor(db, secret, throttle, issuer=settings.admin_totp_issuer)
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
        two_factor,
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
    device_api = device_services(settings, db, secret, fetcher, accounts, playback)
    admin_api = admin_services(settings, db, accounts, tokens, throttle, two_factor)
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
            settings.data_dir / "tmp" / "hls",
            segment_seconds=settings.hls_segment_seconds,
        ),
        **device_api,
        **admin_api,
    )


def device_services(
    settings: Settings,
    db: Database,
    secret: InstanceSecret,
    fetcher: Fetcher,
    accounts: AccountService,
    playback: PlaybackService,
) -> dict[str, Any]:
    """The device API's services (seed 002): subscriptions, devices, servers, nodes."""

    def live_connections() -> int:
        return len(playback.sessions())

    subscriptions = Subscriptions(
        db,
        default_device_limit=settings.default_device_limit,
        required=settings.require_subscription,
    )
    devices = Devices(db, accounts, subscriptions, token_lifetime=settings.token_lifetime_seconds)
    servers = Servers(
        db,
        Identity(
            name=settings.server_name,
            country_code=settings.server_country_code,
            city=settings.server_city,
            public_url=settings.public_url,
        ),
        heartbeat_seconds=settings.node_heartbeat_seconds,
        live_connections=live_connections,
    )
    node = NodeLink(
        db,
        secret,
        fetcher,
        heartbeat_seconds=settings.node_heartbeat_seconds,
        live_connections=live_connections,
    )
    entitlements = Entitlements(
        KeySigner(secret),
        devices,
        subscriptions,
        servers,
        node,
        key_lifetime=settings.access_key_lifetime_seconds,
    )
    return {
        "subscriptions": subscriptions,
        "devices": devices,
        "servers": servers,
        "node": node,
        "entitlements": entitlements,
    }


def admin_services(
    settings: Settings,
    db: Database,
    accounts: AccountService,
    tokens: TokenService,
    throttle: LoginThrottle,
    two_factor: TwoFactor,
) -> dict[str, Any]:
    """The admin command API's services (seed 001): audit log, captchas, two-factor, logins."""
    audit = AuditLog(db)
    captchas = Captchas(settings.admin_captcha_seconds)
    admin_auth = AdminAuth(
        db,
        accounts,
        tokens,
        throttle,
        two_factor,
        captchas,
        audit,
        AdminPolicy(
            session_seconds=settings.admin_session_seconds,
            captcha_after_failures=settings.admin_captcha_after_failures,
            window_seconds=settings.login_window_seconds,
        ),
    )
    return {
        "audit": audit,
        "captchas": captchas,
        "two_factor": two_factor,
        "admin_auth": admin_auth,
    }


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

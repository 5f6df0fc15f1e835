"""The one definition of tidecast's tables (SQLAlchemy Core).

Alembic migrations in ``storage/migrations`` create exactly these tables; a test compares
the migrated schema with this metadata. Times are UNIX seconds (integers), the unit every
API surface speaks.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

instance_settings = Table(
    "instance_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("owner", String(255), nullable=True),
    Column("device", String(255), nullable=True),
    Column("label", String(255), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_credentials_kind_owner", "kind", "owner"),
)

external_playlists = Table(
    "external_playlists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(255), nullable=False),
    Column("type", String(16), nullable=False),
    Column("category", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("login", String(255), nullable=False, default=""),
    Column("password_encrypted", Text, nullable=False, default=""),
    Column("update_interval", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_update", BigInteger, nullable=True),
    Column("next_update", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("item_count", Integer, nullable=False, default=0),
    Column("epg_sources", JSON, nullable=False, default=list),
    # Whether updates may reach private/loopback addresses: the last caller to add or
    # edit the playlist was local to this instance.
    Column("allow_private", Boolean, nullable=False, default=False),
)

playlist_items = Table(
    "playlist_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("display_title", Text, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("transport_type", String(16), nullable=False),
    Column("content_type", String(16), nullable=False),
    Column("is_live", Integer, nullable=False, default=-1),
    Column("content_id", String(40), nullable=True),
    Column("infohash", String(40), nullable=True),
    Column("url", Text, nullable=True),
    Column("hls_manifest_url", Text, nullable=True),
    Column("dash_manifest_url", Text, nullable=True),
    Column("video_url", Text, nullable=True),
    Column("file_index", Integer, nullable=True),
    Column("category", Text, nullable=True),
    Column("subcategory", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False, default=list),
    Column("poster", Text, nullable=False, default=""),
    Column("tvg_id", Text, nullable=False, default=""),
    Column("tvg_name", Text, nullable=False, default=""),
    Column("tvg_logo", Text, nullable=False, default=""),
    Column("logo_file", String(128), nullable=True),
    Column("languages", JSON, nullable=True),
    Column("countries", JSON, nullable=True),
    Column("extra", JSON, nullable=False, default=dict),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("is_deleted", Boolean, nullable=False, default=False),
    Column("auto_search", Boolean, nullable=False, default=False),
    Column(
        "external_playlist_id",
        Integer,
        ForeignKey("external_playlists.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("hash", String(32), nullable=False),
    Column("hash_v2", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_playlist_items_owner_deleted", "owner", "is_deleted"),
    Index("ix_playlist_items_external", "external_playlist_id"),
    Index("ix_playlist_items_hash", "hash"),
)

transport_files = Table(
    "transport_files",
    metadata,
    Column("content_id", String(40), primary_key=True),
    Column("infohash", String(40), nullable=False, index=True),
    Column("infohash_v2", String(64), nullable=True, index=True),
    Column("name", Text, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("source_url", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("owner", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("progress", Integer, nullable=False, default=0),
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(255), nullable=False, unique=True),
    Column("nickname", String(255), nullable=False, unique=True),
    Column("email", String(255), nullable=True, unique=True),
    Column("password_hash", Text, nullable=True),
    Column("type", Integer, nullable=False),
    Column("avatar_file", String(255), nullable=False, default="blank.png"),
    Column("bio", Text, nullable=True),
    Column("url", Text, nullable=True),
    Column("location", String(255), nullable=True),
    Column("language", String(16), nullable=True),
    Column("main_series_lang", String(3), nullable=True),
    Column("fallback_series_lang", String(3), nullable=True),
    Column("flag_tutorial_done", Boolean, nullable=False, default=False),
    Column("flag_sendstats", Boolean, nullable=False, default=False),
    Column("flag_public", Boolean, nullable=False, default=True),
    Column("flag_displayfavorites", Boolean, nullable=False, default=False),
    Column("flag_parentsonly", Boolean, nullable=False, default=False),
    Column("flag_temporary", Boolean, nullable=False, default=False),
    Column("social_networks", JSON, nullable=False, default=dict),
    Column("banner", String(255), nullable=False, default="default.jpg"),
    Column("anime_list_to_fetch", String(16), nullable=True),
    Column("anime_list_user", String(255), nullable=True),
    Column("anime_list_last_modified_at", BigInteger, nullable=True),
    Column("anime_list_ids", JSON, nullable=False, default=list),
    Column("anime_list_titles", JSON, nullable=False, default=list),
    Column("last_login_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Two-factor authentication (TOTP): the secret encrypted with the instance key, the
    # recovery codes as SHA-256 hashes; enabled only once a code confirmed enrolment.
    Column("totp_secret", Text, nullable=True),
    Column("totp_enabled", Boolean, nullable=False, default=False),
    Column("totp_recovery_hashes", JSON, nullable=False, default=list),
    # The time step of the last two-factor code accepted, so no code is accepted twice.
    Column("totp_last_step", BigInteger, nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_failure_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
)

playlist_favorites = Table(
    "playlist_favorites",
    metadata,
    Column(
        "item_id",
        Integer,
        ForeignKey("playlist_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # 0 is the instance itself (nobody signed in on the engine API); otherwise a user id.
    Column("user_id", Integer, primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_playlist_favorites_user", "user_id"),
)


# -- devices, subscriptions, servers (the device API) --------------------------------

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # The client's own id for the device (seed 002 ``device_id``), unique per user.
    Column("client_id", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("credential_id", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    # Bumped when the device is revoked: access keys name the generation they were issued
    # for, so a revoked device's keys stay dead even once it signs in again.
    Column("key_generation", Integer, nullable=False, default=0),
    Column("keys_revoked_at", BigInteger, nullable=True),
    UniqueConstraint("user_id", "client_id", name="uq_devices_user_client"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("color", String(16), nullable=False, default="#3b82f6"),
    Column("device_limit", Integer, nullable=False),
    Column("duration_days", Integer, nullable=False),
    # Empty: every server; otherwise the ids of the servers the plan may use.
    Column("server_ids", JSON, nullable=False, default=list),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("plan_id", Integer, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    Column("starts_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_grants_user", "user_id"),
)

servers = Table(
    "servers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("country", String(255), nullable=False, default=""),
    Column("country_code", String(2), nullable=False, default=""),
    Column("city", String(255), nullable=False, default=""),
    # Where clients reach the node (playback base URL) and what they ping.
    Column("base_url", Text, nullable=False),
    Column("ping_url", Text, nullable=False),
    Column("is_self", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    # A node's heartbeat credential, as a SHA-256 hash (None for this instance).
    Column("secret_hash", String(64), nullable=True, unique=True),
    Column("active_connections", Integer, nullable=False, default=0),
    Column("load", Float, nullable=False, default=0.0),
    Column("last_heartbeat_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# -- administration ------------------------------------------------------------------

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Column("address", String(64), nullable=True),
    Index("ix_audit_log_at", "at"),
    # The operator pages filter the log by actor (AuditLog.Get Actor, ?actor=).
    Index("ix_audit_log_actor", "actor"),
)

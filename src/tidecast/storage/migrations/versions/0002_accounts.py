"""accounts: users, login failures, per-user favorites

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.Column("nickname", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("avatar_file", sa.String(length=255), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("main_series_lang", sa.String(length=3), nullable=True),
        sa.Column("fallback_series_lang", sa.String(length=3), nullable=True),
        sa.Column("flag_tutorial_done", sa.Boolean(), nullable=False),
        sa.Column("flag_sendstats", sa.Boolean(), nullable=False),
        sa.Column("flag_public", sa.Boolean(), nullable=False),
        sa.Column("flag_displayfavorites", sa.Boolean(), nullable=False),
        sa.Column("flag_parentsonly", sa.Boolean(), nullable=False),
        sa.Column("flag_temporary", sa.Boolean(), nullable=False),
        sa.Column("social_networks", sa.JSON(), nullable=False),
        sa.Column("banner", sa.String(length=255), nullable=False),
        sa.Column("anime_list_to_fetch", sa.String(length=16), nullable=True),
        sa.Column("anime_list_user", sa.String(length=255), nullable=True),
        sa.Column("anime_list_last_modified_at", sa.BigInteger(), nullable=True),
        sa.Column("anime_list_ids", sa.JSON(), nullable=False),
        sa.Column("anime_list_titles", sa.JSON(), nullable=False),
        sa.Column("last_login_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
        sa.UniqueConstraint("nickname", name=op.f("uq_users_nickname")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.BigInteger(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.create_table(
        "playlist_favorites",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["playlist_items.id"],
            name=op.f("fk_playlist_favorites_item_id_playlist_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "user_id", name=op.f("pk_playlist_favorites")),
    )
    with op.batch_alter_table("playlist_favorites") as batch:
        batch.create_index("ix_playlist_favorites_user", ["user_id"], unique=False)
    # Favorites were per instance; they become the instance's own (user 0).
    op.execute(
        "INSERT INTO playlist_favorites (item_id, user_id, created_at) "
        "SELECT id, 0, updated_at FROM playlist_items WHERE is_favorite"
    )
    with op.batch_alter_table("playlist_items") as batch:
        batch.drop_column("is_favorite")


def downgrade() -> None:
    with op.batch_alter_table("playlist_items") as batch:
        batch.add_column(
            sa.Column("is_favorite", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE playlist_items SET is_favorite = TRUE WHERE id IN "
        "(SELECT item_id FROM playlist_favorites WHERE user_id = 0)"
    )
    op.drop_table("playlist_favorites")
    op.drop_table("login_failures")
    op.drop_table("users")

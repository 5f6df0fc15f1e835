"""device key generations: access keys of a revoked device stay refused

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(
            sa.Column("key_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("keys_revoked_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("devices") as batch:
        batch.alter_column("key_generation", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("keys_revoked_at")
        batch.drop_column("key_generation")

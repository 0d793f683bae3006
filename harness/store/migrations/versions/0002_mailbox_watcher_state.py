"""mailbox watcher state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "folderstate",
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("highest_uid", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("folder", name=op.f("pk_folderstate")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounce_final", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("date_skewed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("review_note", sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_needs_review"), ["needs_review"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_needs_review"))
        batch_op.drop_column("review_note")
        batch_op.drop_column("needs_review")
        batch_op.drop_column("date_skewed")
        batch_op.drop_column("bounce_final")

    op.drop_table("folderstate")

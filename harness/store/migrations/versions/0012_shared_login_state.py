"""revoked sessions and failed logins in the database, shared by every web worker

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both tables start empty: the revocations and counts a web process held in memory before
    # the upgrade ended with it, as they always did on a restart.
    op.create_table(
        "revokedsession",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("expires_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_revokedsession")),
    )
    with op.batch_alter_table("revokedsession", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revokedsession_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "loginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loginfailure")),
    )
    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loginfailure_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index(
            "ix_loginfailure_key_hash_failed_at", ["key_hash", "failed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.drop_index("ix_loginfailure_key_hash_failed_at")
        batch_op.drop_index(batch_op.f("ix_loginfailure_failed_at"))
    op.drop_table("loginfailure")
    with op.batch_alter_table("revokedsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revokedsession_expires_at"))
    op.drop_table("revokedsession")

"""e-mail answer assessments (sender details, answer quality); edition 2011's call assessment

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("sender_title", sa.String(length=200), nullable=True),
        sa.Column("sender_phone", sa.String(length=60), nullable=True),
        sa.Column("sender_address", sa.String(length=300), nullable=True),
        sa.Column("sender_complete", sa.Boolean(), nullable=True),
        sa.Column("proposed", sa.JSON(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("extra_help", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("assessor", sa.String(length=200), nullable=False),
        sa.Column("assessed_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["probe_id"], ["probe.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("probe_id"),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bemotande_2011", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("case_officer", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("case_officer")
        batch_op.drop_column("bemotande_2011")
    op.drop_table("mail_assessment")

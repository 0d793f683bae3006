"""case numbers and review candidates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "casenumber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("found_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_casenumber_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_casenumber_probe_id_probe")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casenumber")),
        sa.UniqueConstraint("probe_id", "number", name=op.f("uq_casenumber_probe_id_number")),
    )
    with op.batch_alter_table("casenumber", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casenumber_probe_id"), ["probe_id"], unique=False)
    # Existing rows have none: nothing was recorded about their candidates.
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("candidates")
    with op.batch_alter_table("casenumber", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casenumber_probe_id"))
    op.drop_table("casenumber")

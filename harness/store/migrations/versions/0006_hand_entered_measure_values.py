"""hand-entered measure values

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measurevalue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kommunkod", sa.String(length=4), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_measurevalue_campaign_id_campaign")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurevalue")),
        sa.UniqueConstraint(
            "campaign_id",
            "kommunkod",
            "measure",
            name=op.f("uq_measurevalue_campaign_id_kommunkod_measure"),
        ),
    )
    with op.batch_alter_table("measurevalue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_measurevalue_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("measurevalue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurevalue_campaign_id"))

    op.drop_table("measurevalue")

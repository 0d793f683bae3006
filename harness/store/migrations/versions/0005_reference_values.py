"""reference values

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referencevalue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=20), nullable=False),
        sa.Column("municipality", sa.String(length=4), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referencevalue")),
        sa.UniqueConstraint(
            "kpi", "municipality", "period", name=op.f("uq_referencevalue_kpi_municipality_period")
        ),
    )
    with op.batch_alter_table("referencevalue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referencevalue_kpi"), ["kpi"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referencevalue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referencevalue_kpi"))

    op.drop_table("referencevalue")

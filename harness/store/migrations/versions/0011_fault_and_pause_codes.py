"""fault, pause and review codes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep NULL codes: their English fault_reason is shown as it was stored.
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fault_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("fault_params", sa.JSON(), nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_codes", sa.JSON(), nullable=True))
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("paused_params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", harness.store.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("paused_params")
        batch_op.drop_column("paused_code")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("review_codes")
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.drop_column("fault_params")
        batch_op.drop_column("fault_code")

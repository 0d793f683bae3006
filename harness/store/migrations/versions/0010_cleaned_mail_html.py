"""cleaned mail html

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep NULL: the dashboard cleans them on first view and saves the result.
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html_clean", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("html_refused", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("html_refused")
        batch_op.drop_column("html_clean")

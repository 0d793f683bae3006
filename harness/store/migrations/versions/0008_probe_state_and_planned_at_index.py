"""probe state and planned_at index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The runner's "next planned probe" and "due now" read probes by state in planned order.
    op.create_index("ix_probe_state_planned_at", "probe", ["state", "planned_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_probe_state_planned_at", table_name="probe")

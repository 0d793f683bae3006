"""give-up deadline per probe, replacement index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The give-up deadline of a waiting probe, computed once (harness.campaign.upkeep) instead
    # of for every waiting probe on every tick; (state, give_up_at) lets the runner read only
    # the probes whose deadline has passed. Existing sent probes keep NULL: the runner fills
    # them on its first tick with the configuration's calendar, which a migration cannot see.
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.add_column(sa.Column("give_up_at", harness.store.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_probe_state_give_up_at", ["state", "give_up_at"], unique=False)
        # The runner looks for faults not yet replaced on every tick.
        batch_op.create_index(
            batch_op.f("ix_probe_replaces_probe_id"), ["replaces_probe_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_probe_replaces_probe_id"))
        batch_op.drop_index("ix_probe_state_give_up_at")
        batch_op.drop_column("give_up_at")

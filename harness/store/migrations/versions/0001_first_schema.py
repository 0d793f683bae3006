"""first schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import harness.store.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", harness.store.db.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auditentry")),
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditentry_at"), ["at"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("created_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("name", name=op.f("uq_campaign_name")),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("area", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("spoken", sa.String(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("assessor_notes", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
        sa.UniqueConstraint("code", name=op.f("uq_question_code")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_area"), ["area"], unique=False)

    op.create_table(
        "target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kommunkod", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column("extra_reply_domains", sa.JSON(), nullable=False),
        sa.Column("switchboard_number", sa.String(length=20), nullable=True),
        sa.Column("email_broken_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_target_campaign_id_campaign")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target")),
        sa.UniqueConstraint(
            "campaign_id", "kommunkod", name=op.f("uq_target_campaign_id_kommunkod")
        ),
    )
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_target_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=True),
        sa.Column("planned_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("persona_name", sa.String(length=200), nullable=True),
        sa.Column("persona_address", sa.String(length=320), nullable=True),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("reply_token", sa.String(length=64), nullable=True),
        sa.Column("sent_at", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("send_response", sa.String(length=500), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("completed_at", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("fault_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_probe_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_probe_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_probe_question_id_question")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_probe_id"], ["probe.id"], name=op.f("fk_probe_replaces_probe_id_probe")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["target.id"], name=op.f("fk_probe_target_id_target")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_probe_call_sid")),
        sa.UniqueConstraint("message_id", name=op.f("uq_probe_message_id")),
        sa.UniqueConstraint("reply_token", name=op.f("uq_probe_reply_token")),
    )
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_probe_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_probe_planned_at"), ["planned_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_probe_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_probe_target_id"), ["target_id"], unique=False)

    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("assessor", sa.String(length=200), nullable=False),
        sa.Column("person_reached", sa.Boolean(), nullable=False),
        sa.Column("direct_answer", sa.Boolean(), nullable=True),
        sa.Column("bemotande", sa.Integer(), nullable=True),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("assessed_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_assessment_probe_id_probe")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("probe_id", name=op.f("uq_assessment_probe_id")),
    )
    op.create_table(
        "callevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("parent_call_sid", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("occurred_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.Column("received_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probe.id"], name=op.f("fk_callevent_probe_id_probe")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callevent")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_callevent_dedupe_key")),
    )
    with op.batch_alter_table("callevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callevent_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_callevent_probe_id"), ["probe_id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=True),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id_header", sa.String(length=998), nullable=True),
        sa.Column("in_reply_to", sa.String(), nullable=True),
        sa.Column("references", sa.String(), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("from_name", sa.String(), nullable=True),
        sa.Column("to_addresses", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("date_header", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("internal_date", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("received_header_at", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("arrived_at", harness.store.db.UTCDateTime(), nullable=True),
        sa.Column("arrival_source", sa.String(length=30), nullable=True),
        sa.Column("fetched_at", harness.store.db.UTCDateTime(), nullable=False),
        sa.Column("raw_compressed", sa.LargeBinary(), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("text_body", sa.String(), nullable=True),
        sa.Column("html_body", sa.String(), nullable=True),
        sa.Column("malformed", sa.Boolean(), nullable=False),
        sa.Column("defects", sa.String(), nullable=True),
        sa.Column("classification", sa.String(length=20), nullable=True),
        sa.Column("classification_reason", sa.String(length=60), nullable=True),
        sa.Column("holding_reply", sa.Boolean(), nullable=False),
        sa.Column("classified_by", sa.String(length=20), nullable=True),
        sa.Column("match_method", sa.String(length=30), nullable=True),
        sa.Column("match_confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["probe_id"], ["probe.id"], name=op.f("fk_message_probe_id_probe")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint(
            "folder", "uidvalidity", "uid", name=op.f("uq_message_folder_uidvalidity_uid")
        ),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_arrived_at"), ["arrived_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_message_message_id_header"), ["message_id_header"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_probe_id"), ["probe_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_raw_sha256"), ["raw_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_raw_sha256"))
        batch_op.drop_index(batch_op.f("ix_message_probe_id"))
        batch_op.drop_index(batch_op.f("ix_message_message_id_header"))
        batch_op.drop_index(batch_op.f("ix_message_arrived_at"))

    op.drop_table("message")
    with op.batch_alter_table("callevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callevent_probe_id"))
        batch_op.drop_index(batch_op.f("ix_callevent_call_sid"))

    op.drop_table("callevent")
    op.drop_table("assessment")
    with op.batch_alter_table("probe", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_probe_target_id"))
        batch_op.drop_index(batch_op.f("ix_probe_state"))
        batch_op.drop_index(batch_op.f("ix_probe_planned_at"))
        batch_op.drop_index(batch_op.f("ix_probe_campaign_id"))

    op.drop_table("probe")
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_target_campaign_id"))

    op.drop_table("target")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_area"))

    op.drop_table("question")
    op.drop_table("campaign")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditentry_at"))

    op.drop_table("auditentry")

"""The columns that read-only fast paths select, as SQLAlchemy Core table clauses.

Importing the model classes (:mod:`harness.store.models`) loads SQLModel, pydantic's model
building for every table and SQLAlchemy's ORM: about a third of a cold ``kkik status`` (issue
16, item 8). A command that only counts reads these lightweight clauses instead: the same table
and column names with the same column types (``UTCDateTime`` included, so times come back as
aware UTC datetimes on SQLite and PostgreSQL alike). They describe no schema; the models and
the migrations own it, and tests/unit/test_core_tables.py holds every column here, and the
stored values below, to the models.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Integer, String, column, table

from harness.store.db import UTCDateTime

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "EMAIL",
    "FAILED",
    "PHONE",
    "PLANNED",
    "SENDING",
    "SEND_UNKNOWN",
    "SENT",
    "assessment",
    "call_event",
    "campaign",
    "message",
    "probe",
    "target",
]

# Channel and ProbeState of harness.store.models, as the strings the tables hold.
EMAIL, PHONE = "email", "phone"
PLANNED, SENDING, SENT, COMPLETED, FAILED, CANCELLED = (
    "planned",
    "sending",
    "sent",
    "completed",
    "failed",
    "cancelled",
)
# A probe's outcome while a crashed send waits for a person's decision (``kkik resolve``).
SEND_UNKNOWN = "send_unknown"

campaign = table(
    "campaign",
    column("id", Integer),
    column("name", String),
    column("status", String),
)
target = table(
    "target",
    column("id", Integer),
    column("campaign_id", Integer),
    column("kommunkod", String),
    column("name", String),
    column("paused", Boolean),
)
probe = table(
    "probe",
    column("id", Integer),
    column("campaign_id", Integer),
    column("target_id", Integer),
    column("channel", String),
    column("mode", String),
    column("state", String),
    column("outcome", String),
    column("planned_at", UTCDateTime),
    column("sent_at", UTCDateTime),
    column("claimed_at", UTCDateTime),
)
message = table(
    "message",
    column("id", Integer),
    column("probe_id", Integer),
    column("arrived_at", UTCDateTime),
    column("classification", String),
    column("holding_reply", Boolean),
    column("match_method", String),
    column("match_confidence", Float),
)
call_event = table(
    "callevent",
    column("id", Integer),
    column("probe_id", Integer),
    column("parent_call_sid", String),
    column("event", String),
    column("status", String),
    column("sequence_number", Integer),
    column("occurred_at", UTCDateTime),
    column("payload", JSON),
)
assessment = table(
    "assessment",
    column("probe_id", Integer),
    column("direct_answer", Boolean),
)

"""The tables: what a campaign planned, what each probe did, and the evidence it left.

Evidence is stored as it arrived (raw mail, every Twilio callback) next to the fields parsed from
it; scores are always recomputed from evidence, never stored, so changing a scoring setting or
correcting a classification re-scores without touching what was observed. Every manual change
writes an :class:`AuditEntry`.

All timestamps use :class:`harness.store.db.UTCDateTime` and are passed in by callers from the
injected clock or from the evidence itself; no column has a ``default_factory`` reading the wall
clock. Enumerations are stored as short strings (not database enums) so migrations stay simple.

This module deliberately has no ``from __future__ import annotations``: SQLModel needs the real
annotations at class creation on Python 3.11.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from harness.store.db import UTCDateTime


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class ProbeState(StrEnum):
    """Where a probe is in its life; see docs/architecture.md for the transitions."""

    PLANNED = "planned"  # in the plan, not yet due or not yet claimed
    SENDING = "sending"  # claimed by one runner; the question is going out
    SENT = "sent"  # our server accepted the e-mail / the call was placed: evidence pending
    COMPLETED = "completed"  # final evidence collected (answered, given up, call ended)
    FAILED = "failed"  # harness fault: excluded from scoring and replaced
    CANCELLED = "cancelled"  # withdrawn before it was sent


class Classification(StrEnum):
    HUMAN_REPLY = "human_reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNRELATED = "unrelated"


# Named constraints, so that later migrations can alter them (SQLite batch mode needs names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


# Factories written in Python rather than the builtins dict and list: pydantic reads a default
# factory's signature, and a builtin's is parsed from its text by the tokenizer, whose pattern
# alone took 13 ms of every command that imports the models (issue 16, item 8).
def _no_values() -> dict[str, Any]:
    return {}


def _no_items() -> list[str]:
    return []


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), unique=True)
    year: int
    edition: str = Field(default="2018", sa_type=String(10))
    period_start: date
    period_end: date
    status: str = Field(default="draft", sa_type=String(20))
    # Why the runner paused the campaign by itself (a code of harness.core.labels.PAUSES with
    # its parameters), and when; None when a person paused it or it runs.
    paused_code: str | None = Field(default=None, sa_type=String(40))
    paused_params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The scenario as it was when the campaign was saved: what the plan was made from.
    scenario: dict[str, Any] = Field(
        default_factory=_no_values, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Target(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "kommunkod"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    # SCB municipality code, always a 4-character string: "0180" is Stockholm, never 180.
    kommunkod: str = Field(sa_type=String(4))
    name: str = Field(sa_type=String(100))
    email_address: str | None = Field(default=None, sa_type=String(320))
    extra_reply_domains: list[str] = Field(
        default_factory=_no_items, sa_column=Column(JSON, nullable=False)
    )
    switchboard_number: str | None = Field(default=None, sa_type=String(20))
    email_broken_reason: str | None = Field(default=None, sa_type=String(500))
    # Placeholder targets (example addresses in a template) are never contacted.
    placeholder: bool = False
    paused: bool = False


class Question(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(50), unique=True)
    area: str = Field(sa_type=String(50), index=True)
    subject: str = Field(sa_type=String(300))
    body: str
    spoken: str | None = None
    answered_by: str | None = Field(default=None, sa_type=String(200))
    assessor_notes: str | None = None


class Probe(SQLModel, table=True):
    # The plan key ("2380/email/03") ties a probe to its slot in the plan, so saving the plan
    # again updates planned probes instead of adding duplicates.
    # (state, planned_at): the runner's "next planned probe" and "due now" queries read it in
    # order; with the two columns indexed apart, SQLite walked every completed probe first.
    __table_args__ = (
        UniqueConstraint("campaign_id", "plan_key"),
        Index("ix_probe_state_planned_at", "state", "planned_at"),
        # (state, give_up_at): the runner reads only the waiting probes whose deadline passed.
        Index("ix_probe_state_give_up_at", "state", "give_up_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    target_id: int = Field(foreign_key="target.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id")
    channel: str = Field(sa_type=String(10))
    mode: str | None = Field(default=None, sa_type=String(20))  # phone: bridged | automated
    planned_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    state: str = Field(default=ProbeState.PLANNED, sa_type=String(20), index=True)
    persona_name: str | None = Field(default=None, sa_type=String(200))
    persona_address: str | None = Field(default=None, sa_type=String(320))
    # E-mail evidence: our own Message-ID (generated before sending) and the server's acceptance.
    message_id: str | None = Field(default=None, sa_type=String(250), unique=True)
    reply_token: str | None = Field(default=None, sa_type=String(64), unique=True)
    sent_at: datetime | None = _utc()
    send_response: str | None = Field(default=None, sa_type=String(500))
    # Phone evidence lives in CallEvent; the SID links callbacks to the probe.
    call_sid: str | None = Field(default=None, sa_type=String(64), unique=True)
    attempts: int = 0
    claimed_at: datetime | None = _utc()
    completed_at: datetime | None = _utc()
    # A waiting probe's give-up deadline (the campaign's limit in working days after sent_at),
    # computed once by the runner (harness.campaign.upkeep), not on every tick.
    give_up_at: datetime | None = _utc()
    outcome: str | None = Field(default=None, sa_type=String(40))
    fault_reason: str | None = Field(default=None, sa_type=String(500))  # English, for the logs
    # Why it failed, was refused or waits for a person: a code of harness.core.labels.FAULTS
    # and its parameters, worded in the reader's language when shown.
    fault_code: str | None = Field(default=None, sa_type=String(40))
    fault_params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    replaces_probe_id: int | None = Field(default=None, foreign_key="probe.id", index=True)
    plan_key: str | None = Field(default=None, sa_type=String(60))
    persona_index: int | None = None


class Message(SQLModel, table=True):
    """One mail message seen in the measurement mailbox, kept raw and parsed."""

    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid"),)

    id: int | None = Field(default=None, primary_key=True)
    probe_id: int | None = Field(default=None, foreign_key="probe.id", index=True)
    folder: str = Field(sa_type=String(200))
    # UIDVALIDITY and UID are unsigned 32-bit in IMAP: too big for a signed INTEGER on PostgreSQL.
    uidvalidity: int = Field(sa_type=BigInteger)
    uid: int = Field(sa_type=BigInteger)
    message_id_header: str | None = Field(default=None, sa_type=String(998), index=True)
    in_reply_to: str | None = None
    references: str | None = None
    from_address: str | None = Field(default=None, sa_type=String(320))
    from_name: str | None = None
    to_addresses: str | None = None
    subject: str | None = None
    date_header: datetime | None = _utc()
    internal_date: datetime | None = _utc()
    received_header_at: datetime | None = _utc()
    # When the reply reached our mail system, and which evidence that came from.
    arrived_at: datetime | None = _utc(index=True)
    arrival_source: str | None = Field(default=None, sa_type=String(30))
    fetched_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    raw_compressed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    raw_size: int
    raw_sha256: str = Field(sa_type=String(64), index=True)
    text_body: str | None = None
    html_body: str | None = None
    # The HTML as the dashboard shows it, cleaned once when the mail was stored
    # (harness.channels.email.html); None for rows stored before that, which are cleaned on first
    # view.
    html_clean: str | None = None
    # Why the HTML is not shown ("size", "tags", "depth": a cap of harness.channels.email.html),
    # else None.
    html_refused: str | None = Field(default=None, sa_type=String(20))
    malformed: bool = False
    defects: str | None = None
    classification: str | None = Field(default=None, sa_type=String(20))
    classification_reason: str | None = Field(default=None, sa_type=String(60))
    holding_reply: bool = False
    classified_by: str | None = Field(default=None, sa_type=String(20))  # rule | manual
    match_method: str | None = Field(default=None, sa_type=String(30))
    match_confidence: float | None = None
    # A delivery-delay notice is a bounce that is not final; None for other kinds.
    bounce_final: bool | None = None
    # Date: disagrees with the arrival by more than email.date_skew_flag_minutes.
    date_skewed: bool = False
    # Unmatched, ambiguous or low-confidence: an administrator must look at it.
    needs_review: bool = Field(default=False, index=True)
    review_note: str | None = Field(default=None, sa_type=String(300))  # English, or a person's
    # Why it waits for review: codes of harness.core.labels.REVIEW_NOTES with their details,
    # worded in the reader's language when shown; None once a person has decided.
    review_codes: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    # The probes an ambiguous match could belong to, for the person who decides (None: none).
    # No default_factory: pydantic inspects a factory's signature on every construction, which
    # cost the mailbox sync a quarter of its speed.
    candidates: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CaseNumber(SQLModel, table=True):
    """A case number (diarienummer, ärendenummer) the municipality gave one of our questions.

    Found in a receipt or reply already matched to the probe; a later mail that cites it is
    matched to the probe by it, however the case system rewrote the subject. Normalised by
    :func:`probes.case_numbers.normalise_case_number`.
    """

    __table_args__ = (UniqueConstraint("probe_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    probe_id: int = Field(foreign_key="probe.id", index=True)
    number: str = Field(sa_type=String(60))
    # The stored mail it was read from.
    message_id: int | None = Field(default=None, foreign_key="message.id")
    found_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class FolderState(SQLModel, table=True):
    """How far the watcher has read one mailbox folder: survives restarts, so only new mail
    is fetched, and a changed UIDVALIDITY (the server renumbered the folder) is noticed."""

    folder: str = Field(sa_type=String(200), primary_key=True)
    uidvalidity: int = Field(sa_type=BigInteger)
    highest_uid: int = Field(sa_type=BigInteger)
    synced_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CallEvent(SQLModel, table=True):
    """One timed moment of a call: a Twilio callback or a tester's mark, stored as received."""

    id: int | None = Field(default=None, primary_key=True)
    probe_id: int | None = Field(default=None, foreign_key="probe.id", index=True)
    call_sid: str = Field(sa_type=String(64), index=True)
    parent_call_sid: str | None = Field(default=None, sa_type=String(64))
    source: str = Field(sa_type=String(20))  # twilio | tester | reconcile
    event: str = Field(sa_type=String(30))
    status: str | None = Field(default=None, sa_type=String(30))
    sequence_number: int | None = None
    # The instant the evidence states (Twilio's Timestamp, the tester's mark), and when we got it.
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Callbacks are retried and may arrive twice; this key makes storing them idempotent.
    dedupe_key: str = Field(sa_type=String(200), unique=True)
    payload: dict[str, Any] = Field(
        default_factory=_no_values, sa_column=Column(JSON, nullable=False)
    )


class Assessment(SQLModel, table=True):
    """A person's judgement of one call: direct answer and bemötande (0-3)."""

    id: int | None = Field(default=None, primary_key=True)
    probe_id: int = Field(foreign_key="probe.id", unique=True)
    assessor: str = Field(sa_type=String(200))
    person_reached: bool
    direct_answer: bool | None = None
    bemotande: int | None = None  # mycket god = 3, god = 2, medelgod = 1, dålig = 0
    # Edition 2011's own scale, assessed as such: god = 2, medelgod = 1, dålig = 0.
    bemotande_2011: int | None = None
    # Did the tester reach a case officer (handläggare)? None: not said in the assessment, and
    # the tester's mark during the call decides (edition 2011's "kontakt med handläggare").
    case_officer: bool | None = None
    transferred: bool = False
    notes: str | None = None
    assessed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MailAssessment(SQLModel, table=True):
    """A person's judgement of one answered e-mail question: who answered, and how well.

    The sender details are proposed from the counting reply's signature
    (:mod:`probes.email_signature`, kept in ``proposed``) and confirmed or corrected by a person;
    they are personal data, purged with the mail. ``sender_complete`` is the published
    method's "fullständiga avsändaruppgifter": a name, a title and a phone number.
    """

    __tablename__ = "mail_assessment"

    id: int | None = Field(default=None, primary_key=True)
    probe_id: int = Field(foreign_key="probe.id", unique=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")  # the reply judged
    sender_name: str | None = Field(default=None, sa_type=String(200))
    sender_title: str | None = Field(default=None, sa_type=String(200))
    sender_phone: str | None = Field(default=None, sa_type=String(60))
    sender_address: str | None = Field(default=None, sa_type=String(300))
    sender_complete: bool | None = None
    proposed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    answered: bool | None = None  # the reply answers the question asked
    correct: bool | None = None
    extra_help: bool | None = None  # a link, opening hours, a contact beyond the answer
    notes: str | None = None
    assessor: str = Field(sa_type=String(200))
    assessed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AuditEntry(SQLModel, table=True):
    """Who changed what and when, with the values before and after and the reason given."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    actor: str = Field(sa_type=String(200))
    action: str = Field(sa_type=String(60))
    entity: str = Field(sa_type=String(40))
    entity_id: str = Field(sa_type=String(64))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = None


class ReferenceValue(SQLModel, table=True):
    """A published figure imported from Kolada (or a Kolada-shaped file), for comparison."""

    __table_args__ = (UniqueConstraint("kpi", "municipality", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi: str = Field(sa_type=String(20), index=True)
    # SCB kommunkod, or "0000" for the whole country (riket), as Kolada writes it.
    municipality: str = Field(sa_type=String(4))
    period: int
    value: float
    count: int | None = None
    source: str = Field(sa_type=String(300))
    imported_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MeasureValue(SQLModel, table=True):
    """A figure typed in by a person (``kkik measure set``) for one municipality in a campaign.

    The KKiK measures the municipality reports itself (Part B §7): preschool place on the
    requested date and waiting days for preschool and for elderly housing. One value per
    campaign, municipality and measure; every change is in the audit log.
    """

    __table_args__ = (UniqueConstraint("campaign_id", "kommunkod", "measure"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    kommunkod: str = Field(sa_type=String(4))
    measure: str = Field(sa_type=String(60))  # an id of results.measures.MANUAL_MEASURES
    value: float
    unit: str = Field(sa_type=String(20))  # percent | days
    period: int  # the year the figure is for
    note: str | None = None
    entered_by: str = Field(sa_type=String(200))
    entered_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class User(SQLModel, table=True):
    """A person who may log in to the dashboard, with one role: viewer < staff < admin.

    Only an argon2 hash of the password is kept (:mod:`harness.web.auth`). A disabled user
    cannot log in and is logged out of every open session at the next request.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    role: str = Field(sa_type=String(10))  # admin | staff | viewer
    password_hash: str = Field(sa_type=String(255))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    disabled: bool = False
    last_login_at: datetime | None = _utc()


class RevokedSession(SQLModel, table=True):
    """A dashboard session ended by logging out, so a copy of its cookie no longer works.

    In the database, not in one web process's memory, so every ``kkik serve`` worker refuses it
    (:mod:`harness.store.logins`). Kept until the session would have expired anyway.
    """

    sid: str = Field(sa_type=String(64), primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class LoginFailure(SQLModel, table=True):
    """One failed login, counted against a user name or a client address for a while.

    ``key_hash`` is a SHA-256 of the limiter's key (``name:…`` or ``addr:…``), never the name
    typed: people type their password into the name field. Rows older than the limit's window
    are deleted (:mod:`harness.store.logins`).
    """

    __table_args__ = (Index("ix_loginfailure_key_hash_failed_at", "key_hash", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(sa_type=String(64))
    failed_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)

"""Checks shared by the SQLite and PostgreSQL storage tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from harness.store.models import (
    Assessment,
    AuditEntry,
    CallEvent,
    Campaign,
    CaseNumber,
    Channel,
    Classification,
    FolderState,
    LoginFailure,
    MeasureValue,
    Message,
    Probe,
    ProbeState,
    Question,
    ReferenceValue,
    RevokedSession,
    Target,
    User,
)

CEST = timezone(timedelta(hours=2))


def _id(row: SQLModel) -> int:
    value = getattr(row, "id", None)
    assert isinstance(value, int), "flush() should have assigned an id"
    return value


def assert_schema_matches_models(engine: Engine) -> None:
    """The migrated schema must be exactly what the models declare (no forgotten migration)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def roundtrip_every_table(engine: Engine) -> None:
    """Write one fully populated row to every table and read it back unchanged."""
    sent = datetime(2026, 10, 6, 9, 15, 2, 123000, tzinfo=CEST)
    with Session(engine) as session:
        campaign = Campaign(
            name="KKiK hösten 2026",
            year=2026,
            edition="2018",
            period_start=date(2026, 10, 5),
            period_end=date(2026, 11, 13),
            status="running",
            scenario={"weeks": 6, "areas": ["bygglov", "förskola"]},
            created_at=sent - timedelta(days=3),
        )
        session.add(campaign)
        session.flush()
        target = Target(
            campaign_id=_id(campaign),
            kommunkod="0180",
            name="Stockholm",
            email_address="kontakt@stockholm.example.se",
            extra_reply_domains=["edu.stockholm.example.se"],
            switchboard_number="+46850829000",
            placeholder=True,
            paused=True,
        )
        question = Question(
            code="bygglov-01",
            area="bygglov",
            subject="Behöver jag bygglov för ett uterum?",
            body="Hej! Jag funderar på att bygga ett uterum på 12 kvm ...",
            spoken="Behöver man bygglov för ett uterum på tolv kvadrat?",
            answered_by="Bygglovsenheten",
            assessor_notes="Svaret ska nämna attefallsregler och kontakt med bygglov.",
        )
        session.add_all([target, question])
        session.flush()
        probe = Probe(
            campaign_id=_id(campaign),
            target_id=_id(target),
            question_id=_id(question),
            channel=Channel.EMAIL,
            planned_at=sent - timedelta(minutes=1),
            state=ProbeState.SENT,
            persona_name="Anna Lindqvist",
            persona_address="anna.lindqvist@boende.example.se",
            message_id="<20261006091502.abc@boende.example.se>",
            reply_token="k7x2q9",
            sent_at=sent,
            send_response="250 2.0.0 Ok: queued as 4F1",
            attempts=1,
            claimed_at=sent - timedelta(seconds=2),
            plan_key="0180/email/01",
            persona_index=2,
        )
        session.add(probe)
        session.flush()
        message = Message(
            probe_id=_id(probe),
            folder="INBOX",
            uidvalidity=4241952691,  # above 2**31: needs BIGINT on PostgreSQL
            uid=42,
            message_id_header="<svar-1@stockholm.example.se>",
            in_reply_to=probe.message_id,
            references=probe.message_id,
            from_address="karin.handlaggare@stockholm.example.se",
            from_name="Karin Handläggare",
            to_addresses="anna.lindqvist+k7x2q9@boende.example.se",
            subject="SV: Behöver jag bygglov för ett uterum?",
            date_header=sent + timedelta(hours=3),
            internal_date=sent + timedelta(hours=3, seconds=4),
            received_header_at=sent + timedelta(hours=3, seconds=3),
            arrived_at=sent + timedelta(hours=3, seconds=3),
            arrival_source="received_header",
            fetched_at=sent + timedelta(hours=3, seconds=5),
            raw_compressed=b"\x28\xb5\x2f\xfd raw bytes \x00\xff",
            raw_size=2048,
            raw_sha256="0" * 64,
            text_body="Hej Anna! Ett uterum kräver oftast bygglov ...",
            html_body="<p>Hej Anna!</p>",
            html_clean="<p>Hej Anna!</p>",
            html_refused="depth",
            malformed=False,
            classification=Classification.HUMAN_REPLY,
            classification_reason="person_signature",
            classified_by="rule",
            match_method="in_reply_to",
            match_confidence=1.0,
            bounce_final=None,
            date_skewed=True,
            needs_review=True,
            review_note="Date: 3 h före ankomst",
            candidates=[_id(probe), 77],
        )
        call_probe = Probe(
            campaign_id=_id(campaign),
            target_id=_id(target),
            question_id=_id(question),
            channel=Channel.PHONE,
            mode="bridged",
            planned_at=sent,
            call_sid="CA" + "1" * 32,
        )
        session.add_all([message, call_probe])
        session.flush()
        event = CallEvent(
            probe_id=_id(call_probe),
            call_sid="CA" + "2" * 32,
            parent_call_sid=call_probe.call_sid,
            source="twilio",
            event="answered",
            status="in-progress",
            sequence_number=2,
            occurred_at=sent + timedelta(seconds=14),
            received_at=sent + timedelta(seconds=15),
            dedupe_key="CA222:answered:2",
            payload={"CallStatus": "in-progress", "Timestamp": "Tue, 06 Oct 2026 07:15:16 +0000"},
        )
        assessment = Assessment(
            probe_id=_id(call_probe),
            assessor="kvalitet@example.se",
            person_reached=True,
            direct_answer=True,
            bemotande=3,
            transferred=True,
            notes="Trevligt bemötande, kopplades till bygglov.",
            assessed_at=sent + timedelta(minutes=10),
        )
        audit = AuditEntry(
            at=sent + timedelta(days=1),
            actor="admin",
            action="reclassify",
            entity="message",
            entity_id=str(message.id),
            before={"classification": "auto_reply"},
            after={"classification": "human_reply"},
            reason="Personligt svar trots autosvarsrubrik",
        )
        reference = ReferenceValue(
            kpi="U00414", municipality="0000", period=2018, value=85.0, count=260,
            source="kolada", imported_at=sent,
        )  # fmt: skip
        folder = FolderState(
            folder="Skräppost", uidvalidity=4294967295, highest_uid=4294967294, synced_at=sent
        )
        measure_value = MeasureValue(
            campaign_id=_id(campaign),
            kommunkod="0180",
            measure="elderly_housing_waiting_days_mean",
            value=47.5,
            unit="days",
            period=2026,
            note="Ur verksamhetssystemet, första halvåret",
            entered_by="cli:kvalitet",
            entered_at=sent + timedelta(days=2),
        )
        user = User(
            name="kvalitet",
            role="staff",
            password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            created_at=sent - timedelta(days=7),
            disabled=True,
            last_login_at=sent + timedelta(hours=1),
        )
        case_number = CaseNumber(
            probe_id=_id(probe),
            number="KS2025/193",
            message_id=message.id,
            found_at=sent + timedelta(hours=3),
        )
        revoked = RevokedSession(sid="x" * 22, expires_at=sent + timedelta(hours=8))
        failure = LoginFailure(key_hash="ab" * 32, failed_at=sent + timedelta(minutes=1))
        session.add_all(
            [event, assessment, audit, folder, reference, measure_value, user, case_number,
             revoked, failure]
        )  # fmt: skip
        session.flush()
        # Dump before commit: committing expires the objects' attributes.
        written = {
            type(row): row.model_dump()
            for row in (
                campaign,
                target,
                question,
                message,
                event,
                assessment,
                audit,
                folder,
                reference,
                measure_value,
                user,
                case_number,
                revoked,
                failure,
            )
        }
        probe_dumps = {p.id: p.model_dump() for p in (probe, call_probe)}
        session.commit()

    with Session(engine) as session:
        for model, expected in written.items():
            row = session.exec(select(model)).one()
            assert row.model_dump() == expected, model.__name__
        for probe_id, expected in probe_dumps.items():
            assert session.get(Probe, probe_id).model_dump() == expected  # type: ignore[union-attr]
        stored = session.exec(select(Probe).where(Probe.channel == "email")).one()
        assert stored.sent_at == sent.astimezone(UTC)
        assert stored.sent_at is not None
        assert stored.sent_at.tzinfo is UTC

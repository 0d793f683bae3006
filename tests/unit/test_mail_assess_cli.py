"""``kkik mail assess``: the signature's proposal, a person's judgement, a change with a reason."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.store.models import AuditEntry, MailAssessment
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

FRIDAY_1600 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)
MONDAY_1100 = FRIDAY_1600 + timedelta(days=2, hours=19)
SIGNED = (
    "Hej Anna!\n\nEtt uterum på 12 kvm kräver bygglov. Ansökan finns på "
    "https://www.ostersund.se/bygglov.\n\nMed vänliga hälsningar\nKarin Berg\n"
    "Handläggare, Bygglovsenheten\nÖstersunds kommun\nRådhusgatan 42, 831 82 Östersund\n"
)


def _config(tmp_path: Path, engine: Engine) -> str:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{engine.url.database}"\n')
    return str(config)


def test_assess_an_answer_from_the_proposal_then_correct_it(
    kkik, tmp_path: Path, sqlite_engine: Engine
):
    config = _config(tmp_path, sqlite_engine)
    answered = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="aaaa1111")
    unanswered = seed_sent_probe(sqlite_engine, sent_at=FRIDAY_1600, token="bbbb2222")
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    raw = reply_to(answered, written_at=MONDAY_1100, body=SIGNED)
    assert store.ingest("INBOX", 1, FetchedMessage(1, MONDAY_1100, None, raw))
    pid = answered.probe_id

    shown = kkik("--config", config, "mail", "assess", str(pid))
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[:5] == [
        "Förslag ur signaturen:",
        "  Namn: Karin Berg",
        "  Titel: Handläggare",
        "  Telefon: –",
        "  Adress: Rådhusgatan 42, 831 82 Östersund",
    ]
    assert "Ingen bedömning sparad ännu." in shown.out

    saved = kkik("--config", config, "mail", "assess", str(pid), "--answered", "ja",
                 "--correct", "ja", "--extra-help", "ja")  # fmt: skip
    assert saved.code == 0, saved.err
    assert saved.out == (
        f"Svaret på fråga {pid} är bedömt: avsändaruppgifter ofullständiga, svarskvalitet 3/3.\n"
    )
    # A change of a saved judgement needs a reason; nothing is written without one.
    again = kkik("--config", config, "mail", "assess", str(pid), "--phone", "063-14 30 00")
    assert (again.code, again.err) == (2, "Ange ett skäl.\n")
    fixed = kkik("--lang", "en", "--config", config, "mail", "assess", str(pid),
                 "--phone", "063-14 30 00", "--reason", "Numret står i svarets sidfot")  # fmt: skip
    assert fixed.code == 0, fixed.err
    assert "sender details complete, answer quality 3/3" in fixed.out
    with Session(sqlite_engine) as session:
        row = session.exec(select(MailAssessment).where(MailAssessment.probe_id == pid)).one()
        trail = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert (row.sender_name, row.sender_title, row.sender_phone) == (
        "Karin Berg", "Handläggare", "063-14 30 00",
    )  # fmt: skip
    assert row.sender_complete
    assert row.proposed is not None
    assert row.proposed["phone"] is None  # what the signature said, kept beside the correction
    assert [(e.action, e.reason) for e in trail] == [
        ("mail_assess", None), ("mail_reassess", "Numret står i svarets sidfot"),
    ]  # fmt: skip
    assert trail[1].before is not None
    assert trail[1].before["sender_phone"] is None
    assert trail[1].after is not None
    assert trail[1].after["sender_phone"] == "063-14 30 00"

    # Nothing to judge without an answer; an unknown probe is named.
    none = kkik("--config", config, "mail", "assess", str(unanswered.probe_id))
    assert (none.code, none.err) == (
        2, f"Fråga {unanswered.probe_id} har inget svar som räknas; det finns inget att bedöma.\n"
    )  # fmt: skip
    assert kkik("--config", config, "mail", "assess", "999").code == 2
    too_long = kkik("--config", config, "mail", "assess", str(pid), "--title", "x" * 201,
                    "--reason", "r")  # fmt: skip
    assert (too_long.code, too_long.err) == (2, "Titeln får vara högst 200 tecken.\n")

    # Our own measures in the export: complete sender details 1 of 1, quality 3 of 3 points.
    out = tmp_path / "results.csv"
    exported = kkik("--config", config, "export", "--format", "csv", "--out", str(out))
    assert exported.code == 0, exported.err
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))}
    sender = rows["email_sender_complete"]
    assert (sender["value"], sender["numerator"], sender["denominator"]) == ("100", "1", "1")
    assert (sender["kpi_id_is_own"], sender["source"]) == ("True", "assessed")
    quality = rows["email_answer_quality"]
    assert (quality["value"], quality["numerator"], quality["denominator"]) == ("100", "3", "3")
    assert rows["email_unanswered"]["value"] == "50"
    assert rows["email_reply_hours_mean"]["unit"] == "hours"
    assert float(rows["email_reply_hours_mean"]["value"]) > 0

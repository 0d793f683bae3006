"""Review before publishing (issue 18): results say what awaits review, a submission file is
refused while any reply does (unless --allow-pending), and a correction changes the score."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from harness.channels.email.store import MailStore
from harness.core.clock import FakeClock, SystemClock
from harness.core.config import Settings
from harness.services.base import Context
from harness.services.review import Correction, correct
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import reply_to, seed_sent_probe

FRIDAY_1600 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)
MONDAY_1600 = FRIDAY_1600 + timedelta(days=3)


def _ambiguous_reply(engine: Engine) -> int:
    """Two questions to Östersund and an answer that names neither: a reply for review with
    both as candidates, as the real pipeline stores it. Returns the first probe's id."""
    first = seed_sent_probe(engine, sent_at=FRIDAY_1600, token="aaaa1111")
    seed_sent_probe(engine, sent_at=FRIDAY_1600, token="bbbb2222")
    raw = reply_to(first, written_at=MONDAY_1600, threaded=False)
    raw = raw.replace(b"+aaaa1111@", b"@").replace(b" (aaaa1111)", b"")
    store = MailStore(engine, SystemClock(), TimingRules())
    assert store.ingest("INBOX", 1, FetchedMessage(1, MONDAY_1600, None, raw))
    return first.probe_id


def _email_value(kkik, config: Path) -> dict[str, object]:
    result = kkik("--config", str(config), "score", "--json")
    assert result.code == 0, result.err
    [row] = [r for r in json.loads(result.out) if r["measure"] == "email_within_1_working_day"]
    return {"value": row["value"], "awaiting_review": row["awaiting_review"], "err": result.err}


def test_pending_replies_hold_the_export_until_a_correction_settles_the_score(
    kkik, tmp_path: Path, sqlite_engine: Engine
):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    probe_id = _ambiguous_reply(sqlite_engine)

    # The score says what waits, and on which municipality.
    before = _email_value(kkik, config)
    assert (before["value"], before["awaiting_review"]) == (0, 1)
    assert before["err"] == (
        "Obs: 1 svar väntar på granskning (2380 Östersund); värdena kan ändras när de är "
        "granskade.\n"
    )
    text = kkik("--lang", "en", "--config", str(config), "score")
    assert text.out.splitlines()[-1] == (
        "Note: 1 replies await review (2380 Östersund); the values may change once they are "
        "reviewed."
    )

    # No submission file while it waits: exit 1, one line, nothing written.
    out = tmp_path / "results.csv"
    refused = kkik("--config", str(config), "export", "--format", "csv", "--out", str(out))
    assert refused.code == 1
    assert refused.err == (
        "1 svar väntar på granskning och kan ändra resultaten (2380 Östersund); granska dem "
        "under Granska i webbgränssnittet först.\n"
    )
    assert not out.exists()
    kolada = kkik("--config", str(config), "export", "--format", "json", "--kolada",
                  "--out", str(tmp_path / "k.json"))  # fmt: skip
    assert kolada.code == 1
    # The evidence is what it is: it may be written.
    evidence = tmp_path / "evidence.csv"
    assert kkik("--config", str(config), "export", "--format", "csv", "--evidence",
                "--out", str(evidence)).code == 0  # fmt: skip
    # With --allow-pending the rows carry the count and the command says so.
    allowed = kkik("--config", str(config), "export", "--format", "csv", "--out", str(out),
                   "--allow-pending")  # fmt: skip
    assert allowed.code == 0, allowed.err
    assert "Obs: 1 svar väntar på granskning (2380 Östersund)" in allowed.out
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["awaiting_review"] for r in rows if r["measure"].startswith("email")} == {"1"}

    # An administrator assigns the reply to its question: the score follows at once.
    ctx = Context(
        sqlite_engine, FakeClock(MONDAY_1600 + timedelta(hours=2)), Settings(), "web:anna"
    )
    correct(ctx, Correction(message_id=1, reason="Svarar på uterumsfrågan", probe_id=probe_id))
    after = _email_value(kkik, config)
    assert (after["value"], after["awaiting_review"], after["err"]) == (50, 0, "")
    out.unlink()
    written = kkik("--config", str(config), "export", "--format", "csv", "--out", str(out))
    assert written.code == 0, written.err
    assert "granskning" not in written.out
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    [email] = [r for r in rows if r["measure"] == "email_within_1_working_day"]
    assert (email["value"], email["awaiting_review"]) == ("50", "0")


def test_flagged_mail_of_another_campaign_or_matched_to_nothing(kkik, sqlite_engine: Engine):
    """Flagged mail with no probe and no candidate may be anyone's: counted as unassigned for a
    campaign it arrived during; a campaign's counts never take another campaign's probes."""
    from sqlmodel import Session, select

    from harness.campaign.pending import pending_review
    from harness.store.models import Campaign, Message

    _ambiguous_reply(sqlite_engine)
    other = seed_sent_probe(
        sqlite_engine, sent_at=FRIDAY_1600, token="cccc3333", campaign_name="Annan kampanj",
        kommunkod="0180", name="Stockholm", address="kommun@stockholm.example.se",
    )  # fmt: skip
    with Session(sqlite_engine) as session:
        session.add(
            Message(
                folder="INBOX", uidvalidity=1, uid=7, arrived_at=MONDAY_1600,
                fetched_at=MONDAY_1600, raw_compressed=b"", raw_size=0, raw_sha256="0" * 64,
                needs_review=True, classification="human_reply",
            )
        )  # fmt: skip
        session.commit()
        campaigns = {c.name: c for c in session.exec(select(Campaign))}
    ours = pending_review(sqlite_engine, campaigns["KKiK hösten 2026"])
    assert (ours.replies, ours.by_municipality, ours.unassigned) == (2, {"2380": 1}, 1)
    assert ours.named() == ["2380 Östersund"]
    theirs = pending_review(sqlite_engine, campaigns["Annan kampanj"])
    assert theirs.by_municipality == {}
    assert other.probe_id

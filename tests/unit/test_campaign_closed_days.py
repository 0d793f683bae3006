"""A campaign's own closed days count wherever its answers are judged, not only in its plan.

One question, sent Tuesday 20 October 2026 at 15:00 and answered Thursday the 22nd at 10:00
(Stockholm): 13 business hours when Wednesday is open, 4 when the campaign declares Wednesday
its staff day. Through the real commands on a database: ``kkik score``, ``kkik export``,
``kkik mail log`` and the report's data (which the dashboard's overview shows).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.campaign.reportdata import report_data
from harness.channels.email.store import MailStore
from harness.core.clock import SystemClock
from harness.core.config import Settings
from harness.store.models import Campaign
from probes.email_analysis import TimingRules
from probes.imap_wire import FetchedMessage
from tests.factories import SentProbe, reply_to, seed_sent_probe

TUESDAY_1500 = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)
THURSDAY_1000 = datetime(2026, 10, 22, 8, 0, tzinfo=UTC)
STAFF_DAY = "2026-10-21"
CAMPAIGN = "KKiK hösten 2026"


def _spec(name: str, closed: list[str]) -> dict[str, Any]:
    """The campaign as planstore saves it (Scenario.model_dump(mode="json")["campaign"])."""
    return {
        "name": name,
        "year": 2026,
        "period_start": "2026-10-05",
        "period_end": "2026-11-13",
        "extra_closed_days": closed,
    }


def _answered_campaign(
    engine: Engine,
    closed: list[str],
    *,
    name: str = CAMPAIGN,
    token: str = "aaaa1111",
    uid: int = 1,
) -> SentProbe:
    """A campaign whose one question was sent on Tuesday and answered on Thursday."""
    probe = seed_sent_probe(engine, sent_at=TUESDAY_1500, token=token, campaign_name=name)
    with Session(engine) as session:
        campaign = session.exec(select(Campaign).where(Campaign.name == name)).one()
        campaign.scenario = {"campaign": _spec(name, closed)}
        session.add(campaign)
        session.commit()
    store = MailStore(engine, SystemClock(), TimingRules())
    raw = reply_to(probe, written_at=THURSDAY_1000)
    assert store.ingest("INBOX", uid, FetchedMessage(uid, THURSDAY_1000, None, raw))
    return probe


def _config(tmp_path: Path, engine: Engine) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{engine.url.database}"\n')
    return config


def _within_one_day(rows: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    [row] = [r for r in rows if r["measure"] == "email_within_1_working_day"]
    return row["value"], row["numerator"], row["denominator"]


@pytest.mark.parametrize(
    ("closed", "value", "numerator"),
    [
        ([STAFF_DAY], 100, 1),  # 4 business hours: within one working day
        ([], 0, 0),  # 13 business hours: late
    ],
)
def test_score_and_export_judge_by_the_campaigns_closed_days(
    kkik: Any,
    tmp_path: Path,
    sqlite_engine: Engine,
    closed: list[str],
    value: int,
    numerator: int,
) -> None:
    _answered_campaign(sqlite_engine, closed)
    config = _config(tmp_path, sqlite_engine)

    scored = kkik("--config", str(config), "score", "--json")
    assert scored.code == 0, scored.err
    assert _within_one_day(json.loads(scored.out)) == (value, numerator, 1)

    out = tmp_path / "export.json"
    exported = kkik("--config", str(config), "export", "--format", "json", "--out", str(out))
    assert exported.code == 0, exported.err
    assert _within_one_day(json.loads(out.read_text(encoding="utf-8"))) == (value, numerator, 1)


@pytest.mark.parametrize(
    ("closed", "hours", "within", "category"),
    [([STAFF_DAY], 4.0, True, "within"), ([], 13.0, False, "later")],
)
def test_the_mail_log_and_the_report_judge_by_the_campaigns_closed_days(
    kkik: Any,
    tmp_path: Path,
    sqlite_engine: Engine,
    closed: list[str],
    hours: float,
    within: bool,
    category: str,
) -> None:
    _answered_campaign(sqlite_engine, closed)
    config = _config(tmp_path, sqlite_engine)

    logged = kkik("--config", str(config), "mail", "log", "--json")
    assert logged.code == 0, logged.err
    [row] = json.loads(logged.out)
    assert (row["business_hours"], row["within_one_working_day"]) == (hours, within)

    data = report_data(sqlite_engine, Settings(), None, THURSDAY_1000)
    [line] = data.evidence
    assert line.category == category
    assert line.business_hours == pytest.approx(hours)
    [score] = [s for s in data.scores if s.measure_id == "email_within_1_working_day"]
    assert score.numerator == int(within)
    # The method section shows the day the verdict rests on.
    assert ("campaign.extra_closed_days", ", ".join(closed) or "–") in data.settings


def test_one_mail_log_shows_each_campaign_by_its_own_days(
    kkik: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    staff_day = _answered_campaign(sqlite_engine, [STAFF_DAY], name="Med personaldag")
    plain = _answered_campaign(sqlite_engine, [], name="Utan personaldag", token="bbbb2222", uid=2)
    logged = kkik("--config", str(_config(tmp_path, sqlite_engine)), "mail", "log", "--json")
    assert logged.code == 0, logged.err
    verdicts = {
        r["probe_id"]: (r["business_hours"], r["within_one_working_day"])
        for r in json.loads(logged.out)
    }
    assert verdicts == {staff_day.probe_id: (4.0, True), plain.probe_id: (13.0, False)}


def test_a_campaign_saved_without_the_key_is_judged_by_the_configured_calendar(
    kkik: Any, tmp_path: Path, sqlite_engine: Engine
) -> None:
    # An old row: the campaign's scenario has no extra_closed_days; the configuration closes
    # the staff day for every campaign, and that still counts.
    probe = seed_sent_probe(sqlite_engine, sent_at=TUESDAY_1500)
    store = MailStore(sqlite_engine, SystemClock(), TimingRules())
    raw = reply_to(probe, written_at=THURSDAY_1000)
    assert store.ingest("INBOX", 1, FetchedMessage(1, THURSDAY_1000, None, raw))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n\n'
        f"[calendar]\nextra_closed_days = [{STAFF_DAY}]\n"
    )
    scored = kkik("--config", str(config), "score", "--json")
    assert scored.code == 0, scored.err
    assert _within_one_day(json.loads(scored.out)) == (100, 1, 1)

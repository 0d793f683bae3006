"""The channel registry: every channel declared once, the rest of the harness asks it."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from harness.channels.registry import CHANNELS, channel
from harness.core.scenario import CampaignSpec
from harness.store.models import Channel, Question, Target
from results.measures import MEASURES

ROOT = Path(__file__).resolve().parents[2]


def test_every_channel_is_registered_and_feeds_its_measures() -> None:
    assert set(CHANNELS) == {c.value for c in Channel}
    fed = {m for spec in CHANNELS.values() for m in spec.measures}
    assert fed == set(MEASURES)  # every KKiK measure is fed by exactly one registered channel
    assert not set(channel("email").measures) & set(channel("phone").measures)


def test_a_channel_says_where_and_when_it_asks() -> None:
    spec = CampaignSpec.model_validate(
        {
            "name": "x",
            "year": 2026,
            "period_start": date(2026, 10, 5),
            "period_end": date(2026, 11, 13),
            "send_window": {"start": "09:00", "end": "12:00"},
            "call_window": {"start": "13:00", "end": "16:00"},
            "max_emails_per_target_per_day": 1,
            "max_calls_per_target_per_day": 3,
        }
    )
    assert channel("email").window(spec) == (time(9), time(12))
    assert channel("phone").window(spec) == (time(13), time(16))
    assert (channel("email").per_day(spec), channel("phone").per_day(spec)) == (1, 3)
    target = Target(
        campaign_id=1,
        kommunkod="2380",
        name="Östersund",
        email_address="kommun@ostersund.example.se",
        switchboard_number="+4663143000",
    )
    assert channel("email").address(target) == "kommun@ostersund.example.se"
    assert channel("phone").address(target) == "+4663143000"
    question = Question(code="q", area="a", subject="S", body="Skriven fråga", spoken="Talad fråga")
    assert channel("email").question_text(question) == "Skriven fråga"
    assert channel("phone").question_text(question) == "Talad fråga"


def test_the_runner_asks_the_registry_instead_of_branching_on_the_channel() -> None:
    for name in ("runner.py", "due.py", "slots.py", "upkeep.py", "fault_pause.py"):
        source = (ROOT / "harness" / "campaign" / name).read_text(encoding="utf-8")
        assert "Channel.EMAIL" not in source, name
        assert "Channel.PHONE" not in source, name

"""Our own e-mail measures (results.mail_quality): sender details, quality, unanswered, hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from results.calendar import WorkCalendar
from results.mail_quality import MailAssessment, OwnValue, mail_quality
from results.scoring import Evidence

MONDAY_0900 = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm


def _mail(probe: str, kommun: str = "0180", hours: float | None = None, fault: bool = False):
    answered = None if hours is None else MONDAY_0900 + timedelta(hours=hours)
    return Evidence(kommun, "email", probe, MONDAY_0900, answered, harness_fault=fault)


def _by_measure(values: list[OwnValue]) -> dict[str, OwnValue]:
    return {v.measure_id: v for v in values}


def test_the_five_measures_of_one_municipality():
    evidence = [
        _mail("1", hours=2),  # answered Monday 11:00: 2 working hours
        _mail("2", hours=6),  # Monday 15:00: 6 working hours
        _mail("3", hours=24 + 1),  # Tuesday 10:00: the rest of Monday's office day and an hour
        _mail("4"),  # never answered
        _mail("5", fault=True),  # our fault: not counted anywhere
    ]
    assessments = {
        "1": MailAssessment("1", sender_complete=True, answered=True, correct=True,
                            extra_help=True),
        "2": MailAssessment("2", sender_complete=False, answered=True, correct=False,
                            extra_help=False),
        # "3" is answered but not yet assessed
    }  # fmt: skip
    calendar = WorkCalendar()
    got = _by_measure(mail_quality(evidence, assessments, calendar))
    sender = got["email_sender_complete"]
    assert (sender.value, sender.numerator, sender.denominator, sender.awaiting) == (50, 1, 2, 1)
    quality = got["email_answer_quality"]
    assert (quality.value, quality.numerator, quality.denominator, quality.awaiting) == (
        67, 4, 6, 1,
    )  # fmt: skip
    unanswered = got["email_unanswered"]
    assert (unanswered.value, unanswered.numerator, unanswered.denominator) == (25, 1, 4)
    third = calendar.business_seconds(MONDAY_0900, MONDAY_0900 + timedelta(hours=25)) / 3600
    hours = sorted([2.0, 6.0, third])
    assert got["email_reply_hours_mean"].value == round(sum(hours) / 3, 1)
    assert got["email_reply_hours_median"].value == hours[1]
    assert got["email_reply_hours_mean"].sample == 3


def test_nothing_answered_or_assessed_gives_no_value_not_zero():
    got = _by_measure(mail_quality([_mail("1", "2380")], {}, WorkCalendar()))
    assert got["email_sender_complete"].value is None
    assert got["email_answer_quality"].value is None
    assert got["email_reply_hours_mean"].value is None
    assert got["email_unanswered"].value == 100


def test_a_partly_assessed_rubric_is_not_scored():
    evidence = [_mail("1", hours=1)]
    partial = {"1": MailAssessment("1", answered=True, correct=None, extra_help=True)}
    got = _by_measure(mail_quality(evidence, partial, WorkCalendar()))
    assert (got["email_answer_quality"].value, got["email_answer_quality"].awaiting) == (None, 1)

"""The e-mail log's verdicts (results.email_log.log_rows): each probe by its own campaign's days.

Expected hours are worked out by hand from the calendar: 20 October 2026 is a Tuesday, the 21st
a Wednesday (the staff day a campaign may close), the 22nd a Thursday; none is a holiday.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from results.calendar import DeadlineRule, WorkCalendar
from results.email_log import ProbeEvidence, ReplyEvidence, log_rows

STHLM = ZoneInfo("Europe/Stockholm")
STAFF_DAY = date(2026, 10, 21)
SQUEEZE = date(2026, 5, 15)  # closed by the configuration, far from these probes


def _probe(
    probe_id: int,
    sent: datetime,
    answered: datetime | None,
    closed: frozenset[date] = frozenset(),
    outcome: str | None = None,
) -> ProbeEvidence:
    replies = (
        (ReplyEvidence(answered, "human_reply", False, "in_reply_to", False, 1.0),)
        if answered is not None
        else ()
    )
    return ProbeEvidence(
        probe_id=probe_id,
        kommunkod="2380",
        target="Östersund",
        area="bygglov",
        sent_at=sent,
        outcome=outcome,
        replies=replies,
        closed_days=closed,
    )


TUE_1500 = datetime(2026, 10, 20, 15, 0, tzinfo=STHLM)
THU_1000 = datetime(2026, 10, 22, 10, 0, tzinfo=STHLM)
WED_1000 = datetime(2026, 10, 21, 10, 0, tzinfo=STHLM)


@pytest.mark.parametrize(
    ("closed", "answered", "rule", "hours", "within"),
    [
        # Wednesday open: Tue 15-17 (2 h) + Wed (9 h) + Thu 08-10 (2 h) = 13 h, late.
        (frozenset(), THU_1000, DeadlineRule.OFFICE_HOURS, 13.0, False),
        # Wednesday the campaign's staff day: 2 h + 2 h = 4 h, within.
        (frozenset({STAFF_DAY}), THU_1000, DeadlineRule.OFFICE_HOURS, 4.0, True),
        # The other rule agrees: the deadline moves from Wednesday 15:00 to Thursday 15:00.
        (frozenset(), THU_1000, DeadlineRule.NEXT_WORKING_DAY_SAME_TIME, 13.0, False),
        (frozenset({STAFF_DAY}), THU_1000, DeadlineRule.NEXT_WORKING_DAY_SAME_TIME, 4.0, True),
        # A day the campaign does not close changes nothing.
        (frozenset({date(2026, 10, 23)}), THU_1000, DeadlineRule.OFFICE_HOURS, 13.0, False),
        # An answer that came (by some duty officer) on the closed day itself adds no hours.
        (frozenset({STAFF_DAY}), WED_1000, DeadlineRule.OFFICE_HOURS, 2.0, True),
        (frozenset(), WED_1000, DeadlineRule.OFFICE_HOURS, 4.0, True),
    ],
)
def test_a_probes_own_closed_days_decide_its_verdict(
    closed: frozenset[date], answered: datetime, rule: DeadlineRule, hours: float, within: bool
) -> None:
    [row] = log_rows([_probe(1, TUE_1500, answered, closed)], WorkCalendar(), rule)
    assert (row.business_hours, row.within_one_working_day) == (hours, within)


def test_probes_of_different_campaigns_are_judged_by_their_own_days_in_one_log() -> None:
    configured = WorkCalendar(extra_closed_days=frozenset({SQUEEZE}))
    rows = log_rows(
        [
            _probe(1, TUE_1500, THU_1000, frozenset({STAFF_DAY})),
            _probe(2, TUE_1500, THU_1000),  # another campaign, no staff day
            _probe(3, TUE_1500, THU_1000, frozenset({STAFF_DAY, SQUEEZE})),
            _probe(4, TUE_1500, None, frozenset({STAFF_DAY}), outcome="not_answered"),
        ],
        configured,
        DeadlineRule.OFFICE_HOURS,
    )
    verdicts = {r.probe_id: (r.business_hours, r.within_one_working_day) for r in rows}
    assert verdicts == {1: (4.0, True), 2: (13.0, False), 3: (4.0, True), 4: (None, False)}


def test_the_configured_closed_days_still_count_for_every_probe() -> None:
    # The configuration closes the staff day; the probe's campaign declares nothing.
    configured = WorkCalendar(extra_closed_days=frozenset({STAFF_DAY}))
    [row] = log_rows([_probe(1, TUE_1500, THU_1000)], configured, DeadlineRule.OFFICE_HOURS)
    assert (row.business_hours, row.within_one_working_day) == (4.0, True)

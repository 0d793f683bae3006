"""The other accessibility measures of a stored campaign, for reports, exports and the CLI.

Two sources (kkik-method.md Part B §7): the opening hours outside weekday 08–17, computed from
the weekly schedules in the scenario the campaign was saved from (``Campaign.scenario``), and
the figures a person entered with ``kkik measure set``
(:class:`~harness.store.models.MeasureValue`).
Nothing is stored for the opening hours: change the scenario, save the plan again, and the
figures follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.store.models import Campaign, MeasureValue
from results.other_measures import OtherValue, opening_hours_values, sort_values

__all__ = ["find_campaign", "other_measure_values", "scenario_values"]


def find_campaign(engine: Engine, name: str | None = None) -> Campaign | None:
    """The campaign called ``name``, or the newest one when no name is given."""
    with Session(engine) as session:
        query = select(Campaign)
        if name:
            query = query.where(Campaign.name == name)
        return session.exec(query.order_by(col(Campaign.id).desc())).first()


def scenario_values(scenario: Mapping[str, Any], period: int | None = None) -> list[OtherValue]:
    """Opening-hours figures from a stored scenario snapshot (``Scenario.model_dump``)."""
    # Imported here: find_campaign, below, is on the path of every command that reads a
    # campaign, and the scenario models load the SMTP client and the phone-number library.
    from harness.core.scenario import OpeningHours

    out: list[OtherValue] = []
    for target in scenario.get("targets") or ():
        hours = target.get("opening_hours")
        if not hours:
            continue
        schedules = OpeningHours.model_validate(hours).schedules()
        out += opening_hours_values(str(target["kommunkod"]), schedules, period)
    return out


def other_measure_values(engine: Engine, campaign_id: int) -> list[OtherValue]:
    """Every other-measure value of the campaign: scenario figures and hand-entered ones.

    Sorted by kommunkod, then the report order of :data:`results.measures.OTHER_MEASURES`.
    An unknown campaign id gives an empty list.
    """
    with Session(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return []
        entered = session.exec(
            select(MeasureValue).where(MeasureValue.campaign_id == campaign_id)
        ).all()
    values = scenario_values(campaign.scenario or {}, campaign.year)
    values += [
        OtherValue(
            kommunkod=row.kommunkod,
            measure_id=row.measure,
            value=row.value,
            source="manual",
            period=row.period,
            note=row.note,
            entered_by=row.entered_by,
            entered_at=row.entered_at,
        )
        for row in entered
    ]
    return sort_values(values)

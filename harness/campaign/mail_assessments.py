"""A campaign's e-mail answer assessments as the pure rules read them (results.mail_quality)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, select

from harness.store.models import MailAssessment as Row
from harness.store.models import Probe
from results.mail_quality import MailAssessment


def mail_assessments(
    engine: Engine | Connection, campaign_id: int, targets: Sequence[int] | None = None
) -> dict[str, MailAssessment]:
    """Every assessed answer of the campaign (of these ``targets`` only when given), by probe
    id as the evidence names it."""
    table, probe = Row.__table__, Probe.__table__  # type: ignore[attr-defined]
    query = (
        select(table.c.probe_id, table.c.sender_complete, table.c.answered, table.c.correct,
               table.c.extra_help)
        .join(probe, probe.c.id == table.c.probe_id)
        .where(probe.c.campaign_id == campaign_id)
    )  # fmt: skip
    if targets is not None:
        query = query.where(probe.c.target_id.in_(targets))
    if isinstance(engine, Connection):
        rows = engine.execute(query).all()
    else:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    return {str(r.probe_id): MailAssessment(str(r.probe_id), *r[1:]) for r in rows}

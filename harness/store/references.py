"""Published reference values as stored (``kkik reference import`` / ``fetch``), read back.

The country's figure (``0000``) has its own reader for the national mean line
(:func:`harness.campaign.evidence.imported_national`); this one returns every municipality's
value of the given KPIs, which is what the national best, worst, rank and quartile are computed
from (:mod:`results.national`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, select

from harness.store.models import ReferenceValue
from results.kolada import KoladaValue


def published_values(engine: Engine, kpis: Collection[str]) -> tuple[KoladaValue, ...]:
    """Every stored value of ``kpis``, for every municipality and year."""
    if not kpis:
        return ()
    table = ReferenceValue.__table__  # type: ignore[attr-defined]
    query = select(
        table.c.kpi, table.c.municipality, table.c.period, table.c.value, table.c.count
    ).where(table.c.kpi.in_(sorted(kpis)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return tuple(KoladaValue(*row) for row in rows)

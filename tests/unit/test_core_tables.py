"""harness.store.core_tables describes the tables as the models do (issue 16, item 8).

``kkik status`` reads with these lightweight clauses instead of the model classes; a column
renamed, retyped or dropped in the models (and so in a migration) must fail here, not silently
give wrong counts. The stored values (channels, probe states, the send-in-doubt outcome) are
the models' and the services' own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Table
from sqlalchemy.sql import TableClause
from sqlmodel import SQLModel

from harness.services.sends import SEND_UNKNOWN
from harness.store import core_tables
from harness.store.models import Channel, ProbeState

CLAUSES = [
    core_tables.campaign,
    core_tables.target,
    core_tables.probe,
    core_tables.message,
    core_tables.call_event,
    core_tables.assessment,
]


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda clause: clause.name)
def test_every_column_is_the_models_with_the_same_type(clause: TableClause):
    table = SQLModel.metadata.tables[clause.name]
    assert isinstance(table, Table)
    for column in clause.columns:
        assert column.name in table.columns, f"{clause.name}.{column.name}"
        model = table.columns[column.name].type
        # SQLModel's AutoString is a String; UTCDateTime, JSON, Boolean, Float are themselves.
        assert isinstance(model, type(column.type)), (clause.name, column.name, model)


def test_the_stored_values_are_the_models():
    assert (core_tables.EMAIL, core_tables.PHONE) == (Channel.EMAIL, Channel.PHONE)
    states = (
        core_tables.PLANNED,
        core_tables.SENDING,
        core_tables.SENT,
        core_tables.COMPLETED,
        core_tables.FAILED,
        core_tables.CANCELLED,
    )
    assert states == tuple(ProbeState)
    assert core_tables.SEND_UNKNOWN == SEND_UNKNOWN == "send_unknown"

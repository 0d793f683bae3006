"""Importing Kolada-shaped reference values, and using the country figure in the comparison."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.store.models import ReferenceValue
from results.kolada import KoladaFormatError, parse_kolada_csv, parse_kolada_json
from tests.factories import seed_sent_probe

# The shape Kolada API v3 answers /data/kpi/{kpi}/municipality/{m}/year/{y} with.
API_ANSWER = {
    "values": [
        {
            "kpi": "U00414",
            "municipality": "0000",
            "period": 2018,
            "values": [
                {"gender": "K", "count": 1, "value": 84.0},
                {"gender": "T", "count": 260, "value": 86.0},
            ],
        },
        {
            "kpi": "U00412",
            "municipality": "2380",
            "period": 2017,
            "values": [{"gender": "T", "count": 1, "value": 91.0}],
        },
    ]
}


def test_it_reads_the_api_shape_keeping_only_the_total():
    values = parse_kolada_json(json.dumps(API_ANSWER))
    assert [(v.kpi, v.municipality, v.period, v.value, v.count) for v in values] == [
        ("U00414", "0000", 2018, 86.0, 260),
        ("U00412", "2380", 2017, 91.0, 1),
    ]


def test_it_reads_a_csv_with_swedish_decimal_commas():
    text = 'kpi,municipality,period,value,count\nU00414,0000,2018,"85,5",260\n'
    [value] = parse_kolada_csv(text)
    assert (value.value, value.count) == (85.5, 260)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kpi,municipality,period\n", "missing columns: value"),
        ("kpi,municipality,period,value\nX1,0000,2018,80\n", "line 2: not a Kolada KPI id: 'X1'"),
        ("kpi,municipality,period,value\nU00414,180,2018,80\n", "line 2: not a kommunkod: '180'"),
    ],
)
def test_it_reports_bad_csv_rows(text: str, problem: str):
    with pytest.raises(KoladaFormatError) as info:
        parse_kolada_csv(text)
    assert info.value.problems == [problem]


def test_it_imports_and_the_country_figure_wins_in_the_comparison(
    kkik, tmp_path: Path, sqlite_engine: Engine
):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{sqlite_engine.url.database}"\n')
    seed_sent_probe(sqlite_engine, sent_at=datetime(2026, 10, 6, 7, 0, tzinfo=UTC))
    path = tmp_path / "kolada.json"
    answer = {
        "values": [
            {
                "kpi": "U00412",
                "municipality": "0000",
                "period": 2026,
                "values": [{"gender": "T", "count": 250, "value": 88.0}],
            }
        ]
    }
    path.write_text(json.dumps(answer))
    first = kkik("--lang", "en", "--config", str(config), "reference", "import", str(path))
    assert first.out == f"Imported 1 new and 0 updated values from {path}.\n"
    again = kkik("--lang", "en", "--config", str(config), "reference", "import", str(path))
    assert again.out == f"Imported 0 new and 1 updated values from {path}.\n"
    with Session(sqlite_engine) as session:
        assert len(session.exec(select(ReferenceValue)).all()) == 1
    result = kkik("--lang", "en", "--config", str(config), "score", "--edition", "2016")
    two_days = next(
        line for line in result.out.splitlines() if line.startswith("E-mails answered within two")
    )
    assert "88 (2026)" in two_days
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    failed = kkik("--lang", "en", "--config", str(config), "reference", "import", str(bad))
    assert (failed.code, failed.err) == (
        2,
        f"{bad}: not JSON: Expecting property name enclosed in double quotes (line 1)\n",
    )

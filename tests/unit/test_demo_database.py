"""The demo on a database of the user's choosing refuses one that holds anything (SQLite here;
PostgreSQL in tests/integration/test_demo_postgres.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from harness.store import migrate
from harness.store.db import DatabaseNotEmpty, make_engine, require_empty


def test_a_missing_sqlite_file_counts_as_empty_and_is_not_created(tmp_path: Path):
    path = tmp_path / "new.db"
    require_empty(f"sqlite:///{path}")
    assert not path.exists()


def test_a_database_with_tables_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'kkik.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    with pytest.raises(DatabaseNotEmpty) as caught:
        require_empty(url)
    assert "probe" in caught.value.tables
    assert caught.value.where == url


def test_kkik_demo_refuses_it_in_one_line_and_writes_nothing(kkik, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'kkik.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    n = len(inspect(engine).get_table_names())
    engine.dispose()
    out = tmp_path / "demo"
    result = kkik("demo", "--out", str(out), "--database-url", url)
    assert result.code == 2
    assert result.err == (
        f"Databasen {url} är inte tom ({n} tabeller); använd en ny, tom databas. Inget ändrat.\n"
    )
    assert not out.exists()
    english = kkik("--lang", "en", "demo", "--out", str(out), "--database-url", url)
    assert english.err == (
        f"The database {url} is not empty ({n} tables); use a new, empty database. Nothing "
        "changed.\n"
    )

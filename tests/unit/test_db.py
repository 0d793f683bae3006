"""Storage: the UTC column type, the migrations, and a round-trip of every table on SQLite.

The same round-trip runs against a real PostgreSQL in tests/integration/test_db_postgres.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from harness.core.config import DatabaseSettings
from harness.store import migrate
from harness.store.db import database_url, make_engine
from harness.store.models import Campaign
from tests.storage_roundtrip import assert_schema_matches_models, roundtrip_every_table

CET = timezone(timedelta(hours=1))


def test_it_migrates_an_empty_sqlite_database(sqlite_engine: Engine):
    assert migrate.current_revision(sqlite_engine) == migrate.head_revision()
    tables = set(inspect(sqlite_engine).get_table_names())
    assert {"campaign", "target", "question", "probe", "message", "callevent"} <= tables
    assert {"assessment", "auditentry", "folderstate", "alembic_version"} <= tables


def test_it_upgrades_idempotently_and_downgrades(sqlite_engine: Engine):
    migrate.upgrade(sqlite_engine)
    migrate.downgrade(sqlite_engine, "base")
    assert set(inspect(sqlite_engine).get_table_names()) == {"alembic_version"}
    migrate.upgrade(sqlite_engine)
    assert migrate.current_revision(sqlite_engine) == migrate.head_revision()


def _alembic_current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_schema_check_reads_the_versions_as_alembic_does(tmp_path: Path):
    # migrate reads the head from the scripts and the version from the table without importing
    # Alembic (issue 16, item 8); its answers must be Alembic's own, at every step.
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert migrate.head_revision() == head
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    assert migrate.current_revision(engine) is None  # an empty file: no version table
    for step in ("0001", "0005", "head", "base"):
        if step == "base":
            migrate.downgrade(engine, "base")
        else:
            migrate.upgrade(engine, step)
        assert migrate.current_revision(engine) == _alembic_current(engine), step
    assert _alembic_current(engine) is None  # the table is there, and empty
    engine.dispose()


def test_the_head_is_the_script_no_other_revises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "a.py").write_text('revision: str = "a1"\ndown_revision: str | None = None\n')
    (tmp_path / "b.py").write_text('revision = "b2"\ndown_revision = "a1"\n')
    (tmp_path / "__init__.py").write_text("")
    monkeypatch.setattr(migrate, "VERSIONS", tmp_path)
    migrate.head_revision.cache_clear()
    try:
        assert migrate.head_revision() == "b2"
        (tmp_path / "c.py").write_text('revision = "c3"\ndown_revision = ("a1",)\n')
        migrate.head_revision.cache_clear()
        with pytest.raises(RuntimeError, match="several heads: b2, c3"):
            migrate.head_revision()
        # A merge whose parents span lines, after a docstring that names a revision in words.
        (tmp_path / "d.py").write_text(
            '"""Merge.\n\nrevision = "x0" in a docstring is no assignment.\n"""\n'
            'revision = "d4"\ndown_revision = (\n    "b2",\n    "c3",\n)\n'
        )
        migrate.head_revision.cache_clear()
        assert migrate.head_revision() == "d4"
    finally:
        migrate.head_revision.cache_clear()


def test_it_keeps_the_migrations_in_step_with_the_models(sqlite_engine: Engine):
    assert_schema_matches_models(sqlite_engine)


def test_it_roundtrips_every_table(sqlite_engine: Engine):
    roundtrip_every_table(sqlite_engine)


def test_it_turns_on_wal_and_foreign_keys(sqlite_engine: Engine):
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_it_enforces_foreign_keys(sqlite_engine: Engine):
    from harness.store.models import Target

    with Session(sqlite_engine) as session:
        session.add(Target(campaign_id=999, kommunkod="2380", name="Östersund"))
        with pytest.raises(IntegrityError):
            session.commit()


def _campaign(created_at: datetime) -> Campaign:
    return Campaign(
        name="Hösten 2026",
        year=2026,
        period_start=date(2026, 10, 5),
        period_end=date(2026, 11, 13),
        created_at=created_at,
    )


def test_it_stores_utc_and_reads_back_aware_utc(sqlite_engine: Engine):
    local = datetime(2026, 10, 25, 12, 30, tzinfo=CET)  # the day of the autumn DST switch
    with Session(sqlite_engine) as session:
        session.add(_campaign(local))
        session.commit()
    with Session(sqlite_engine) as session:
        stored = session.exec(select(Campaign)).one().created_at
    assert stored == datetime(2026, 10, 25, 11, 30, tzinfo=UTC)
    assert stored.tzinfo is UTC
    with sqlite_engine.connect() as conn:
        raw = conn.execute(text("SELECT created_at FROM campaign")).scalar()
    assert str(raw).startswith("2026-10-25 11:30:00")


def test_it_refuses_naive_datetimes(sqlite_engine: Engine):
    with Session(sqlite_engine) as session:
        session.add(_campaign(datetime(2026, 10, 25, 12, 30)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime refused"):
            session.commit()


def test_it_finds_a_relative_sqlite_path_next_to_the_config(tmp_path: Path):
    url = database_url(DatabaseSettings(url="sqlite:///data/kkik.db"), tmp_path)
    assert url == f"sqlite:///{tmp_path / 'data' / 'kkik.db'}"
    assert (
        database_url(DatabaseSettings(url="sqlite:///:memory:"), tmp_path) == "sqlite:///:memory:"
    )


def test_it_takes_the_postgres_password_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KKIK_DB_PASSWORD", "s3cret/with@chars")
    settings = DatabaseSettings(
        url="postgresql://kkik@db.example.se:5432/kkik", password_env="KKIK_DB_PASSWORD"
    )
    url = database_url(settings)
    assert url.startswith("postgresql+psycopg://kkik:")
    assert make_engine(url).url.password == "s3cret/with@chars"

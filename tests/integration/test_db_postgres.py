"""Storage on a real PostgreSQL: migrations, schema in step with the models, UTC round-trip."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Campaign
from tests.storage_roundtrip import assert_schema_matches_models, roundtrip_every_table


def test_it_migrates_and_roundtrips_on_postgres(pg_database_url: str):
    engine = make_engine(pg_database_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert_schema_matches_models(engine)
        roundtrip_every_table(engine)
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def test_it_reads_back_utc_whatever_the_session_time_zone(pg_database_url: str):
    engine = make_engine(pg_database_url, connect_args={"options": "-c timezone=Asia/Tokyo"})
    try:
        migrate.upgrade(engine)
        local = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
        with Session(engine) as session:
            session.add(
                Campaign(
                    name="DST",
                    year=2026,
                    period_start=date(2026, 3, 1),
                    period_end=date(2026, 4, 30),
                    created_at=local,
                )
            )
            session.commit()
        with Session(engine) as session:
            stored = session.exec(select(Campaign)).one().created_at
            shown = session.exec(text("SELECT created_at::text FROM campaign")).one()[0]  # type: ignore[call-overload]
        assert stored == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert stored.tzinfo is UTC
        assert shown.endswith("+09")  # the session zone only changes how the server prints it
    finally:
        engine.dispose()


def test_it_upgrades_postgres_through_the_cli(pg_database_url: str, kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{pg_database_url}"\n')
    result = kkik("--lang", "en", "--config", str(config), "db", "upgrade")
    assert result.code == 0, result.err
    assert result.out.endswith(f"is at schema version {migrate.head_revision()}.\n")
    assert "postgresql+psycopg://postgres@127.0.0.1:" in result.out


def test_it_allows_one_runner_per_postgres_database(pg_database_url: str):
    from harness.store.runlock import RunLock, RunnerBusy

    first, second = make_engine(pg_database_url), make_engine(pg_database_url)
    try:
        with RunLock(first), pytest.raises(RunnerBusy):
            RunLock(second).acquire()
        RunLock(second).acquire().release()
    finally:
        first.dispose()
        second.dispose()

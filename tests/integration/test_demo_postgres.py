"""`kkik demo --database-url`: the whole machinery on PostgreSQL equals its truth (CI runs the
default demo on the test rig's throwaway cluster), and the demo never touches a database that
already holds something."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlmodel import Session, func, select

from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Message, Probe


def test_the_default_demo_equals_its_truth_on_postgres(pg_database_url: str, kkik, tmp_path: Path):
    out = tmp_path / "demo"
    result = kkik("demo", "--out", str(out), "--database-url", pg_database_url)
    assert result.code == 0, result.out[-3000:] + result.err[-3000:]
    assert "Plan: 252 frågor och samtal till 7 kommuner" in result.out
    assert result.out.rstrip().endswith("värden stämmer med facit.")
    assert "Alla 35 värden stämmer med facit." in result.out
    # Everything went to PostgreSQL: no SQLite file, and its config names the server.
    assert not (out / "kkik.db").exists()
    assert "kkik.db" not in result.out
    engine = make_engine(pg_database_url)
    try:
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Probe)).one() == 252
            assert session.exec(select(func.count()).select_from(Message)).one() > 100
    finally:
        engine.dispose()
    assert f'url = "{pg_database_url}"' in (out / "config.toml").read_text(encoding="utf-8")
    # The commands that read the demo's outputs afterwards read them from the server.
    score = kkik("--config", str(out / "config.toml"), "score")
    assert score.code == 0, score.err


def test_the_demo_refuses_a_database_that_is_not_empty(pg_database_url: str, kkik, tmp_path: Path):
    engine = make_engine(pg_database_url)
    try:
        migrate.upgrade(engine)
        before = sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    out = tmp_path / "demo"
    result = kkik("demo", "--out", str(out), "--database-url", pg_database_url)
    assert result.code == 2
    shown = pg_database_url.replace("postgresql+psycopg://", "")
    [line] = result.err.splitlines()
    assert line.startswith("Databasen postgresql+psycopg://")
    assert shown in line
    assert line.endswith("använd en ny, tom databas. Inget ändrat.")
    assert not out.exists()  # nothing written
    engine = make_engine(pg_database_url)
    try:
        assert sorted(inspect(engine).get_table_names()) == before
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_the_demo_says_in_one_line_when_the_server_cannot_be_reached(kkik, tmp_path: Path):
    from harness.sandbox.ports import free_port

    url = f"postgresql://kkik@127.0.0.1:{free_port()}/kkik"
    result = kkik("--lang", "en", "demo", "--out", str(tmp_path / "demo"), "--database-url", url)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith(
        "--database-url: cannot open the database: postgresql+psycopg://kkik@127.0.0.1:"
    ), line
    assert not (tmp_path / "demo").exists()


def test_the_demo_refuses_what_is_no_database_url(kkik, tmp_path: Path):
    for url in ("not a url", "mysql://db/kkik"):
        result = kkik("demo", "--out", str(tmp_path / "demo"), "--database-url", url)
        assert result.code == 2
        assert result.err == (
            f"--database-url: {url} är ingen databasadress (t.ex. postgresql+psycopg://värd/db).\n"
        )
        assert not (tmp_path / "demo").exists()

"""``kkik status`` on a planned campaign: a table per channel, why a table is empty, and what
happens without a configuration file (issue 16, items 5 and 10).

The counts against a campaign with evidence (the demo's) are in
tests/integration/test_status.py.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from harness.core.clock import FakeClock
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Probe, ProbeState

ROOT = Path(__file__).resolve().parents[2]


def _campaign(kkik, folder: Path, *, calls: int = 18) -> Path:
    """The template campaign with its addresses filled in (and ``calls`` calls per target),
    planned and saved; returns the config file."""
    folder.mkdir(exist_ok=True)
    shutil.copytree(ROOT / "scenarios" / "questions", folder / "questions")
    template = (ROOT / "scenarios" / "kkik-hosten-2026.toml").read_text(encoding="utf-8")
    text = template.replace("placeholder = true", "placeholder = false")
    assert "calls_per_target = 18\n" in text
    text = text.replace("calls_per_target = 18\n", f"calls_per_target = {calls}\n")
    (folder / "kampanj.toml").write_text(text, encoding="utf-8")
    config = folder / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\n')
    engine = make_engine(f"sqlite:///{folder / 'kkik.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    before = FakeClock(datetime(2026, 9, 28, 8, 0, tzinfo=UTC))  # the template's period is ahead
    saved = kkik("--config", str(config), "plan", str(folder / "kampanj.toml"), "--save",
                 clock=before)  # fmt: skip
    assert saved.code == 0, saved.err
    return config


def test_a_planned_campaign_has_a_table_per_channel_and_says_when_it_starts(kkik, tmp_path):
    config = _campaign(kkik, tmp_path)
    result = kkik("--config", str(config), "status")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "KKiK hösten 2026",
        "[" + "." * 30 + "] 0/108",
        "",
        "E-post         planerade skickade besvarade väntar fel  nästa",
        "2380 Östersund        18        0         0      0   0  2026-10-05 12:45",
        "2309 Krokom           18        0         0      0   0  2026-10-06 13:25",
        "2321 Åre              18        0         0      0   0  2026-10-05 10:30",
        "",
        "Telefon        planerade ringda nådde person att bedöma fel  nästa",
        "2380 Östersund        18      0            0          0   0  2026-10-06 15:55",
        "2309 Krokom           18      0            0          0   0  2026-10-05 15:35",
        "2321 Åre              18      0            0          0   0  2026-10-05 09:30",
        "",
        "Inget skickat ännu: första utskicket är planerat till 2026-10-05 09:30.",
    ]
    english = kkik("--lang", "en", "--config", str(config), "status").out.splitlines()
    assert english[3].split() == ["E-mail", "planned", "sent", "answered", "waiting", "faults",
                                  "next"]  # fmt: skip
    assert english[8].split() == ["Phone", "planned", "placed", "person", "reached", "to",
                                  "assess", "faults", "next"]  # fmt: skip
    assert english[-1] == "Nothing sent yet: the first is planned for 2026-10-05 09:30."


def test_a_paused_campaign_says_so_and_how_to_resume(kkik, tmp_path):
    config = _campaign(kkik, tmp_path)
    assert kkik("--config", str(config), "pause").code == 0
    assert kkik("--config", str(config), "pause", "--target", "2309").code == 0
    lines = kkik("--config", str(config), "status").out.splitlines()
    assert lines[0] == "KKiK hösten 2026 [pausad]"
    assert lines[5].startswith("2309 Krokom (paus)        18        0")
    assert lines[-1] == (
        "Inget skickat ännu, och kampanjen är pausad: `kkik resume` återupptar den."
    )


def test_a_channel_without_probes_says_why_its_table_is_missing(kkik, tmp_path):
    config = _campaign(kkik, tmp_path, calls=0)
    lines = kkik("--config", str(config), "status").out.splitlines()
    assert lines[1] == "[" + "." * 30 + "] 0/54"
    assert lines[3].startswith("E-post")
    assert lines[8] == "Telefon: inga samtal i planen (kampanjen har inga telefonsamtal)."
    english = kkik("--lang", "en", "--config", str(config), "status").out.splitlines()
    assert english[8] == "Phone: no calls in the plan (the campaign has no phone calls)."


def test_a_campaign_with_everything_withdrawn_says_nothing_is_left(kkik, tmp_path):
    config = _campaign(kkik, tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    with Session(engine) as session:
        for probe in session.exec(select(Probe)).all():
            probe.state = ProbeState.CANCELLED
            session.add(probe)
        session.commit()
    engine.dispose()
    lines = kkik("--lang", "en", "--config", str(config), "status").out.splitlines()
    assert lines[1] == "[" + "." * 30 + "] 0/0"
    assert lines[3] == "E-mail: no questions in the plan (the campaign has no e-mail questions)."
    assert lines[-1] == "Every question and call has been withdrawn; nothing is left to send."


def test_a_database_without_a_campaign_says_how_to_save_one(kkik, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\n')
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    result = kkik("--config", str(config), "status")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Ingen kampanj i databasen; spara en plan med `kkik plan SCENARIO --save`.\n"
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", "config.toml: ingen konfigurationsfil i {cwd}; kopiera config.example.toml till "
               "config.toml och fyll i den, eller ange filen med --config FIL eller KKIK_CONFIG"),
        ("en", "config.toml: no configuration file in {cwd}; copy config.example.toml to "
               "config.toml and fill it in, or name the file with --config FILE or KKIK_CONFIG"),
    ],
)  # fmt: skip
def test_without_a_configuration_it_says_so_and_writes_nothing(
    kkik, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, expected: str
):
    # It used to open the default database, creating an empty kkik.db in the current folder.
    monkeypatch.chdir(tmp_path)
    result = kkik("--lang", lang, "status")
    assert (result.code, result.out) == (2, "")
    assert result.err == expected.format(cwd=tmp_path) + "\n"
    assert list(tmp_path.iterdir()) == []

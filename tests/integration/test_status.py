"""``kkik status`` on a database with real evidence: the small demo world's campaign (real SMTP,
IMAP watcher, Twilio simulator and callers), counted per channel and checked against what the
world did (issue 16, item 5: a municipality that answered everything must not look like 50 %).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import Session, col, select

from harness.demo.run import Demo
from harness.store.db import make_engine
from harness.store.models import Assessment, Probe, ProbeState

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
ROW = re.compile(r"^(\d{4}) \S.*?((?: +\d+){5})  (\S.*)$")


@dataclass(frozen=True)
class Campaign:
    folder: Path
    truth: dict[str, Any]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    demo = Demo(tmp_path_factory.mktemp("status") / "demo", seed=7, world_path=SMALL)
    result = await demo.run()
    assert result.mismatches == []
    assert result.unaccounted == []
    return Campaign(demo.out, result.ground_truth)


def _copy(campaign: Campaign, into: Path) -> Path:
    """The demo's database copied (committed state, WAL included) with a config for it."""
    with (
        contextlib.closing(sqlite3.connect(campaign.folder / "kkik.db")) as source,
        contextlib.closing(sqlite3.connect(into / "kkik.db")) as copy,
    ):
        source.backup(copy)
    config = into / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\n', encoding="utf-8")
    return config


def _table(out: str, title: str) -> dict[str, tuple[list[int], str]]:
    """The rows of one channel's table: kommunkod -> (the five counts, next)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title + " "))
    rows = {}
    for line in lines[start + 1 :]:
        if not line:
            break
        found = ROW.match(line)
        assert found is not None, line
        rows[found[1]] = ([int(n) for n in found[2].split()], found[3])
    return rows


def test_the_counts_per_channel_are_what_the_world_did(kkik, campaign: Campaign):
    truth = campaign.truth
    sent = Counter(e["kommunkod"] for e in truth["emails"].values())
    answered = Counter(e["kommunkod"] for e in truth["emails"].values() if e["answered_at"])
    placed = Counter(c["kommunkod"] for c in truth["calls"].values())
    person = Counter(c["kommunkod"] for c in truth["calls"].values() if c["outcome"] == "person")
    assert set(sent) == set(placed) == {"2380", "2326"}
    assert set(answered) == set(person) == set(sent)  # neither column is trivially zero

    result = kkik("--config", str(campaign.folder / "config.toml"), "status")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[:2] == ["KKiK-demo test", "[" + "#" * 30 + "] 20/20"]
    email, phone = _table(result.out, "E-post"), _table(result.out, "Telefon")
    # planned, sent, answered, waiting, faults | planned, placed, person, to assess, faults
    assert email == {k: ([0, sent[k], answered[k], 0, 0], "–") for k in sent}
    assert phone == {k: ([0, placed[k], person[k], 0, 0], "–") for k in placed}
    # Nothing waits for a person: no note follows the tables.
    assert ROW.match(result.out.splitlines()[-1])


def test_waiting_answers_assessments_and_faults_are_counted(kkik, campaign: Campaign, tmp_path):
    config = _copy(campaign, tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    truth = campaign.truth
    unanswered = next(
        int(i) for i, e in truth["emails"].items()
        if e["kommunkod"] == "2326" and e["answered_at"] is None
    )  # fmt: skip
    answered = [int(i) for i, e in truth["emails"].items()
                if e["kommunkod"] == "2380" and e["answered_at"]]  # fmt: skip
    reached = [int(i) for i, c in truth["calls"].items()
               if c["kommunkod"] == "2380" and c["outcome"] == "person"]  # fmt: skip
    with Session(engine) as session:
        # An unanswered question not yet given up; an answered one turned out to be our fault;
        # a call that reached a person whose assessment is still to be made.
        waiting = session.get(Probe, unanswered)
        assert waiting is not None
        assert waiting.state == ProbeState.COMPLETED
        waiting.state = ProbeState.SENT
        fault = session.get(Probe, answered[0])
        assert fault is not None
        fault.state = ProbeState.FAILED
        session.add_all([waiting, fault])
        session.delete(
            session.exec(select(Assessment).where(col(Assessment.probe_id) == reached[0])).one()
        )
        session.commit()
    engine.dispose()

    result = kkik("--config", str(config), "status")
    email, phone = _table(result.out, "E-post"), _table(result.out, "Telefon")
    demo = kkik("--config", str(campaign.folder / "config.toml"), "status")
    before_email = _table(demo.out, "E-post")
    (_, sent, got, _, _), _ = before_email["2326"]
    assert email["2326"][0] == [0, sent, got, 1, 0]
    (_, sent, got, _, _), _ = before_email["2380"]
    assert email["2380"][0] == [0, sent - 1, got - 1, 0, 1]
    assert phone["2380"][0][2:] == [len(reached), 1, 0]
    assert result.out.endswith("\n1 samtal väntar på bedömning: se `kkik call list`.\n")
    english = kkik("--lang", "en", "--config", str(config), "status").out
    assert english.endswith("\n1 call waits for assessment: see `kkik call list`.\n")

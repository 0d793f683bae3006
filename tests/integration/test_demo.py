"""`kkik demo` on a small world: the real code paths on a virtual clock must measure exactly
what the world did, and the same seed must give the same campaign."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from harness.demo.run import Demo
from harness.store.db import make_engine
from harness.store.models import Probe
from results.scoring import round_half_up
from tests.demo_process import serving_demo

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
STHLM = ZoneInfo("Europe/Stockholm")


async def test_a_small_world_is_measured_exactly_and_reproducibly(tmp_path: Path):
    lines: list[str] = []
    first = await Demo(
        tmp_path / "a", seed=7, world_path=SMALL,
        progress=lambda what, **figures: lines.append(f"{figures.get('day', what)}"),
    ).run()  # fmt: skip
    assert first.mismatches == []
    assert first.probes == 20  # 2 municipalities x (5 e-mails + 5 calls)
    assert first.calls == 10
    assert first.mails_delivered > 5
    assert any(line.startswith("2026-10-") for line in lines)  # progress while it runs
    truth = first.ground_truth
    kinds = {kind for e in truth["emails"].values() for kind in e["mails"]}
    assert {"receipt", "answer"} <= kinds
    outcomes = {c["outcome"] for c in truth["calls"].values()}
    assert "person" in outcomes
    assert len(outcomes) >= 3  # the world took several branches

    second = await Demo(tmp_path / "b", seed=7, world_path=SMALL).run()
    assert second.ground_truth == first.ground_truth
    assert [(s.kommunkod, s.measure_id, s.value, s.numerator, s.denominator)
            for s in second.measured] == [
        (s.kommunkod, s.measure_id, s.value, s.numerator, s.denominator) for s in first.measured
    ]  # fmt: skip


async def test_a_worlds_closed_day_is_avoided_by_the_plan_and_honoured_by_the_scores(
    tmp_path: Path,
):
    # The small world with a staff day on Wednesday 7 October. With seed 3 an answer's truth
    # depends on it (its question sent before the day, the answer after), so the measured
    # scores can only equal the truth if scoring uses the campaign's own calendar.
    world = tmp_path / "world.toml"
    text = SMALL.read_text(encoding="utf-8")
    assert "calls_per_target = 5\n" in text
    world.write_text(
        text.replace(
            "calls_per_target = 5\n", "calls_per_target = 5\nextra_closed_days = [2026-10-07]\n"
        ),
        encoding="utf-8",
    )
    result = await Demo(tmp_path / "demo", seed=3, world_path=world).run()
    assert result.mismatches == []
    assert result.unaccounted == []
    assert result.closed_day_verdicts != []
    assert result.ground_truth["extra_closed_days"] == ["2026-10-07"]
    assert result.ground_truth["closed_day_verdicts"] == result.closed_day_verdicts
    for probe_id in result.closed_day_verdicts:
        truth = result.ground_truth["emails"][str(probe_id)]
        sent = datetime.fromisoformat(truth["sent_at"]).astimezone(STHLM).date()
        answered = datetime.fromisoformat(truth["answered_at"]).astimezone(STHLM).date()
        assert sent < date(2026, 10, 7) < answered
    scenario = (tmp_path / "demo" / "scenario.toml").read_text(encoding="utf-8")
    assert "extra_closed_days = [2026-10-07]" in scenario
    engine = make_engine(f"sqlite:///{tmp_path / 'demo' / 'kkik.db'}")
    try:
        with Session(engine) as session:
            probes = session.exec(select(Probe)).all()
    finally:
        engine.dispose()
    days = {p.planned_at.astimezone(STHLM).date() for p in probes}
    days |= {p.sent_at.astimezone(STHLM).date() for p in probes if p.sent_at is not None}
    assert probes
    assert date(2026, 10, 7) not in days


def test_kkik_demo_writes_its_outputs_and_exits_0_when_equal(tmp_path: Path, kkik):
    out = tmp_path / "demo"
    result = kkik("--lang", "en", "demo", "--world", str(SMALL), "--out", str(out), "--seed", "3")
    assert result.code == 0, result.err + result.out
    assert "All 10 values equal the ground truth." in result.out
    for name in ("report.html", "export.csv", "export-excel.csv", "export.xlsx", "export.json",
                 "ground-truth.json", "kkik.db", "config.toml", "scenario.toml"):  # fmt: skip
        assert (out / name).is_file(), name
    rows = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert {r["kommunkod"] for r in rows} == {"2380", "2326"}
    # Bemötande as points of the maximum from so many calls; the value is their share.
    bemotande = [r for r in rows if r["measure"] == "phone_bemotande" and r["calls"]]
    assert bemotande
    for r in bemotande:
        assert (r["numerator"], r["denominator"]) == (r["points"], r["max_points"])
        assert r["max_points"] == 3 * r["calls"]
        assert r["value"] == round_half_up(r["points"], r["max_points"])
    book = load_workbook(out / "export.xlsx")
    assert book.sheetnames == ["By municipality and measure", "By probe"]
    assert book.active.max_row == len(rows) + 1
    assert book["By probe"].max_row == 20 + 1  # every probe of the small world
    text = (out / "export-excel.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    excel = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    by_id = {(r["Municipality code"], r["Measure id"]): r for r in excel}
    for r in bemotande:
        line = by_id[(r["kommunkod"], "phone_bemotande")]
        assert (line["Points"], line["Maximum points"], line["Assessed calls"]) == (
            str(r["points"]), str(r["max_points"]), str(r["calls"]),
        )  # fmt: skip
        assert line["Confidence interval, lower"] == f"{r['ci_low']:.1f}".replace(".", ",")
    assert "<h1>KKiK measurement: KKiK-demo test</h1>" in (out / "report.html").read_text("utf-8")
    truth = json.loads((out / "ground-truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 3


def test_serve_keeps_the_report_and_webhooks_up_until_ctrl_c(tmp_path: Path):
    with serving_demo(tmp_path / "demo", r"(http://127\.0\.0\.1:\d+/)", "--lang", "en") as found:
        url = found.group(1)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "/login?next=" in response.url  # the dashboard asks for a login
            assert b'name="password"' in response.read()
        # The webhooks are there too, and still refuse unsigned requests.
        request = urllib.request.Request(url + "twilio/status", data=b"CallSid=CA1", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        refused.value.close()

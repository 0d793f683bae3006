"""Scenario files: the template is valid, and each validation rule has a bad file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.config import ConfigError
from harness.config_messages import format_problem
from harness.scenario import AREAS, load_scenario, municipalities

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "scenarios"
BAD = sorted(DATA.glob("bad-*.toml"))


def _expected(path: Path, lang: str) -> str:
    match = re.search(rf"^# {lang}: (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no '# {lang}:' line"
    return match.group(1)


def test_it_ships_all_290_municipalities():
    table = municipalities()
    assert len(table) == 290
    assert table["0180"].name == "Stockholm"
    assert table["2380"].county == "Jämtlands län"
    assert all(re.fullmatch(r"\d{4}", code) for code in table)


def test_it_accepts_the_autumn_template_with_part_a_defaults():
    scenario = load_scenario(ROOT / "scenarios" / "kkik-hosten-2026.toml")
    campaign = scenario.campaign
    assert (campaign.emails_per_target, campaign.calls_per_target) == (18, 18)
    assert (campaign.send_window.start.hour, campaign.send_window.end.hour) == (9, 16)
    assert campaign.min_spacing_minutes == 60
    assert campaign.max_calls_per_target_per_day == 2
    assert campaign.give_up_working_days == 10
    assert campaign.areas == AREAS
    assert (campaign.period_end - campaign.period_start).days == 39  # six weeks, Mon to Fri
    assert all(t.placeholder for t in scenario.targets)
    assert scenario.targets[0].switchboard == "+4663143000"  # "063-14 30 00" normalised


def test_it_accepts_a_minimal_scenario():
    scenario = load_scenario(DATA / "good-minimal.toml")
    assert scenario.targets[0].official_name == "Östersund"
    assert scenario.campaign.edition == "2018"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_it_reports_each_bad_scenario_exactly(path: Path, lang: str):
    with pytest.raises(ConfigError) as info:
        load_scenario(str(path))
    lines = [format_problem(p, lang) for p in info.value.problems]  # type: ignore[arg-type]
    assert lines == [f"{path}: {_expected(path, lang)}"]


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("063-14 30 00", "+4663143000"),
        ("0640-161 00", "+4664016100"),
        ("08-508 290 00", "+46850829000"),
    ],
)
def test_it_normalises_switchboard_numbers(tmp_path: Path, typed: str, e164: str):
    text = (DATA / "good-minimal.toml").read_text().replace("063-14 30 00", typed)
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert load_scenario(path).targets[0].switchboard == e164

"""Scenario files: the template is valid, and each validation rule has a bad file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core.config import ConfigError
from harness.core.config_messages import format_problem
from harness.core.questionbank import load_bank
from harness.core.scenario import AREAS, load_scenario, municipalities

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


# Header values and numbers (issue 15, L4).
def _minimal(tmp_path: Path, old: str, new: str, campaign: str = "") -> Path:
    text = (DATA / "good-minimal.toml").read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new).replace("[campaign]\n", f"[campaign]\n{campaign}")
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return [format_problem(p, "en") for p in info.value.problems]


@pytest.mark.parametrize(
    "name",
    ["Anna\nBcc: x@y.se", "Anna\rX", "Anna\tLindqvist", "Anna\x00", "Anna\x85X", "Anna\u2028X"],
)
def test_it_refuses_a_persona_name_a_header_cannot_carry(tmp_path: Path, name: str):
    toml_name = name.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
    path = _minimal(tmp_path, 'name = "Anna Lindqvist"', f'name = "{toml_name}"')
    [problem] = _problems(path)
    assert problem.startswith(f"{path}: personas[0].name: must not contain line breaks")


def test_it_keeps_ordinary_names(tmp_path: Path):
    path = _minimal(tmp_path, 'name = "Anna Lindqvist"', 'name = "Åsa Öberg-Ek (Ekenäs)"')
    assert load_scenario(path).personas[0].name == "Åsa Öberg-Ek (Ekenäs)"


@pytest.mark.parametrize("number", ["0900-123 45 67", "0939-12 34 56", "0944-10 01 00"])
def test_it_refuses_swedish_premium_rate_numbers(tmp_path: Path, number: str):
    path = _minimal(tmp_path, "063-14 30 00", number)
    assert _problems(path) == [
        f"{path}: targets[0].switchboard: is a premium-rate number (like 0900, 0939, 0944) "
        f'and is never called (got "{number}")'
    ]


def test_it_calls_a_shared_cost_number_like_an_ordinary_one(tmp_path: Path):
    # 0771 numbers (phonenumbers: SHARED_COST) are what some municipal contact centres use.
    path = _minimal(tmp_path, "063-14 30 00", "0771-12 34 56")
    assert load_scenario(path).targets[0].switchboard == "+46771123456"


def test_it_calls_abroad_only_when_the_scenario_allows_it(tmp_path: Path):
    path = _minimal(tmp_path, "063-14 30 00", "+358 9 310 1111", "allow_foreign_numbers = true\n")
    scenario = load_scenario(path)
    assert scenario.campaign.allow_foreign_numbers is True
    assert scenario.targets[0].switchboard == "+35893101111"
    premium = _minimal(
        tmp_path, "063-14 30 00", "+1 900 555 1234", "allow_foreign_numbers = true\n"
    )
    assert _problems(premium) == [
        f"{premium}: targets[0].switchboard: is a premium-rate number (like 0900, 0939, 0944) "
        'and is never called (got "+1 900 555 1234")'
    ]


def test_a_setting_that_is_not_true_keeps_foreign_numbers_refused(tmp_path: Path):
    path = _minimal(tmp_path, "063-14 30 00", "+358 9 310 1111", 'allow_foreign_numbers = "ja"\n')
    assert _problems(path) == [
        f'{path}: campaign.allow_foreign_numbers: must be true or false (got "ja")',
        f"{path}: targets[0].switchboard: is a foreign number (FI); set "
        'campaign.allow_foreign_numbers = true to call it (got "+358 9 310 1111")',
    ]


def test_it_refuses_a_question_subject_a_header_cannot_carry(tmp_path: Path):
    text = (ROOT / "scenarios" / "questions" / "bygglov.toml").read_text(encoding="utf-8")
    old = 'subject = "Bygglov för uterum vid radhuset?"'
    assert old in text
    path = tmp_path / "bygglov.toml"
    path.write_text(text.replace(old, 'subject = "Bygglov?\\r\\nBcc: alla@kommun.example.se"'))
    with pytest.raises(ConfigError) as info:
        load_bank(tmp_path)
    assert [format_problem(p, "sv") for p in info.value.problems] == [
        f"{path}: questions[0].subject: får inte innehålla radbrytningar eller andra styrtecken "
        '(det blir ett e-posthuvud) (fick "Bygglov?\\r\\nBcc: alla@kommun.example.se")'
    ]

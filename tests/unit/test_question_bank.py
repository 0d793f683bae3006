"""The question bank in scenarios/questions/: nine areas, five questions each, ready to send.

Every file is read with tomllib only, so these checks hold whatever the loader in the harness does:
the files parse, each is named after its area, every question is complete, the subjects are short,
and nothing a municipality reads gives the measurement away.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

QUESTIONS = Path(__file__).parents[2] / "scenarios" / "questions"

AREAS = {
    "bygglov": "Bygglov",
    "forskola": "Förskola",
    "grundskola": "Grundskola",
    "ifo": "Individ- och familjeomsorg",
    "miljo-och-halsa": "Miljö och hälsa",
    "gator-och-vagar": "Gator och vägar",
    "aldreomsorg": "Äldreomsorg",
    "lss": "Funktionsnedsättning/LSS",
    "ovrigt": "Övrigt – kultur och fritid",
}
FIELDS = ("code", "subject", "body", "spoken", "answered_by", "assessor_notes")
MIN_QUESTIONS = 5  # 2 e-mails + 2 calls per area and target, never the same twice, one spare
MAX_SUBJECT = 70
FORBIDDEN = re.compile(r"\b(test|enkät|kkik|mätning|undersökning)\b", re.IGNORECASE)
PERSONNUMMER = re.compile(r"\b(\d{2})?\d{6}[-+]?\d{4}\b")


def _load(area: str) -> dict[str, Any]:
    return tomllib.loads((QUESTIONS / f"{area}.toml").read_text(encoding="utf-8"))


def _all_questions() -> list[dict[str, Any]]:
    return [q for area in AREAS for q in _load(area)["questions"]]


@pytest.mark.parametrize("area", AREAS)
def test_it_parses_every_file(area: str) -> None:
    data = _load(area)
    assert isinstance(data["questions"], list)


def test_it_has_exactly_the_nine_areas() -> None:
    assert {path.stem for path in QUESTIONS.glob("*.toml")} == set(AREAS)


@pytest.mark.parametrize(("area", "title"), AREAS.items())
def test_it_names_each_file_after_its_area(area: str, title: str) -> None:
    data = _load(area)
    assert data["area"] == area
    assert data["title"] == title
    assert set(data) == {"area", "title", "questions"}


@pytest.mark.parametrize("area", AREAS)
def test_it_has_at_least_five_questions_per_area(area: str) -> None:
    assert len(_load(area)["questions"]) >= MIN_QUESTIONS


@pytest.mark.parametrize("area", AREAS)
def test_it_codes_every_question_with_its_area(area: str) -> None:
    pattern = re.compile(rf"^{re.escape(area)}-\d{{2}}$")
    for question in _load(area)["questions"]:
        assert pattern.fullmatch(question["code"]), question["code"]


def test_it_keeps_codes_unique_across_the_bank() -> None:
    codes = Counter(q["code"] for q in _all_questions())
    assert [code for code, n in codes.items() if n > 1] == []


@pytest.mark.parametrize("area", AREAS)
def test_it_fills_every_field_of_every_question(area: str) -> None:
    for question in _load(area)["questions"]:
        assert set(question) == set(FIELDS), question.get("code")
        for field in FIELDS:
            value = question[field]
            assert isinstance(value, str), (question["code"], field)
            assert value.strip(), (question["code"], field)


@pytest.mark.parametrize("area", AREAS)
def test_it_keeps_subjects_short_and_on_one_line(area: str) -> None:
    for question in _load(area)["questions"]:
        subject = question["subject"]
        assert len(subject) < MAX_SUBJECT, question["code"]
        assert "\n" not in subject, question["code"]
        assert subject == subject.strip(), question["code"]


@pytest.mark.parametrize("area", AREAS)
def test_it_never_reveals_a_measurement(area: str) -> None:
    for question in _load(area)["questions"]:
        for field in ("subject", "body", "spoken"):
            found = FORBIDDEN.search(question[field])
            assert found is None, (question["code"], field, found and found.group(0))


def test_it_catches_forbidden_words_as_whole_words_only() -> None:
    assert FORBIDDEN.search("Det här är ett TEST.")
    assert FORBIDDEN.search("en kort Enkät om kommunen")
    assert FORBIDDEN.search("KKiK")
    assert FORBIDDEN.search("Undersökning av servicen")
    assert not FORBIDDEN.search("Vi vill testa att ringa")
    assert not FORBIDDEN.search("en läkarundersökning")


@pytest.mark.parametrize("area", AREAS)
def test_it_contains_no_personal_identity_numbers(area: str) -> None:
    for question in _load(area)["questions"]:
        for field in ("subject", "body", "spoken"):
            assert not PERSONNUMMER.search(question[field]), (question["code"], field)


def test_it_keeps_swedish_letters_intact() -> None:
    bodies = "".join(q["body"] for q in _all_questions())
    assert {"å", "ä", "ö"} <= set(bodies)
    assert "\ufffd" not in bodies
    assert "Ã" not in bodies  # UTF-8 read as Latin-1


@pytest.mark.parametrize("field", ["subject", "body", "spoken"])
def test_it_has_no_duplicate_texts(field: str) -> None:
    texts = Counter(" ".join(q[field].split()).casefold() for q in _all_questions())
    assert [text for text, n in texts.items() if n > 1] == []

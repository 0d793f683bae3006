"""The question bank: one TOML file per area in ``scenarios/questions/``.

Each question has a stable code (``bygglov-01``), the e-mail subject and body a resident would
write, a short spoken version for calls, the unit that usually answers, and notes for the
assessor on what a correct answer contains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from harness.core.config import ConfigError, Problem, read_toml, validation_problems
from harness.core.scenario import AREAS, HeaderText

Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionSpec(_Model):
    code: Annotated[str, Field(pattern=r"^[a-z-]+-\d{2}$")]
    subject: Annotated[HeaderText, Field(min_length=1, max_length=120)]  # the Subject: header
    body: Text
    spoken: Text
    answered_by: Text
    assessor_notes: Text


class QuestionFile(_Model):
    area: str
    title: Text
    questions: Annotated[tuple[QuestionSpec, ...], Field(min_length=1)]

    @field_validator("area")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in AREAS:
            raise PydanticCustomError(
                "unknown_area", "unknown_area", {"area": value, "known": ", ".join(AREAS)}
            )
        return value


class Question(_Model):
    """A question of the bank with its area (what the planner and the database need)."""

    code: str
    area: str
    subject: str
    body: str
    spoken: str
    answered_by: str
    assessor_notes: str


def load_bank(folder: Path) -> list[Question]:
    """Read every ``*.toml`` in ``folder``; raise ConfigError listing every problem."""
    problems: list[Problem] = []
    questions: list[Question] = []
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ConfigError([Problem(str(folder), (), "file_not_found")])
    for path in files:
        try:
            parsed = QuestionFile.model_validate(read_toml(path))
        except ConfigError as exc:
            problems += exc.problems
            continue
        except ValidationError as exc:
            problems += validation_problems(exc, str(path), QuestionFile)
            continue
        questions += [Question(area=parsed.area, **spec.model_dump()) for spec in parsed.questions]
    seen: set[str] = set()
    for question in questions:
        if question.code in seen:
            problems.append(Problem(str(folder), (question.code,), "duplicate_question"))
        seen.add(question.code)
    if problems:
        raise ConfigError(problems)
    return questions

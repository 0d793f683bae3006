"""Every refusal a service can make has a sentence in both languages (no raw codes shown)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.messages import ERRORS, USAGE, describe
from harness.services.base import ServiceError

SERVICES = Path(__file__).resolve().parents[2] / "harness" / "services"
RAISED = re.compile(r'(?:ServiceError|ReviewError|DecisionRefused)\(\s*"([a-z_]+)"')


def _codes() -> set[str]:
    found: set[str] = set()
    for path in SERVICES.glob("*.py"):
        found |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_services_raise_codes_at_all() -> None:
    assert len(_codes()) >= 20


@pytest.mark.parametrize("code", sorted(_codes()))
def test_each_code_has_a_swedish_and_an_english_sentence(code: str) -> None:
    assert code in ERRORS
    text = ERRORS[code]
    fields = set(re.findall(r"\{(\w+)", text.sv)) | set(re.findall(r"\{(\w+)", text.en))
    error = ServiceError(code, **dict.fromkeys(fields, "X"))
    sv, en = describe(error, "sv"), describe(error, "en")
    assert sv
    assert en
    assert sv != en
    assert not sv.startswith(f"{code}:")
    assert not en.startswith(f"{code}:")


def test_usage_codes_are_codes() -> None:
    assert set(ERRORS) >= USAGE

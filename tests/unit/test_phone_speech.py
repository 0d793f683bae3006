"""The automated mode's person-or-machine rule on recognised speech (probes.phone_speech)."""

from __future__ import annotations

import pytest

from probes.phone_speech import is_person


@pytest.mark.parametrize(
    ("speech", "person"),
    [
        ("Kommunens kontaktcenter, du pratar med Anna.", True),
        ("Växeln, Erik här.", True),
        ("Hej, det är Sara på bygglov.", True),
        ("God morgon, medborgarservice.", True),
        ("Välkommen till Östersunds kommun.", False),
        ("Ditt samtal är placerat i kö.", False),
        ("Du har plats nummer tre i kön.", False),
        ("Tryck 1 för bygglov, tryck 2 för förskola.", False),
        ("Alla våra handläggare är upptagna. Var god dröj.", False),
        ("Hej och välkommen! Samtalet kan spelas in.", False),  # a menu that says hej
        ("Våra öppettider är vardagar 8 till 16.", False),
        ("", False),
        ("mm", False),  # neither: keep listening
    ],
)
def test_person_or_machine(speech: str, person: bool):
    assert is_person(speech) is person

"""Case numbers in municipal mail, found and cited however they are written (pure)."""

from __future__ import annotations

import pytest

from probes.case_numbers import cited, find_case_numbers, normalise_case_number


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Diarienummer: KS 2025/0193", ["KS2025/193"]),
        ("Dnr KS 2025/0193", ["KS2025/193"]),
        ("Ärendet har fått dnr BN 2025-000123.", ["BN2025-123"]),
        ("SBN-2025-1234 gäller bygglovet", ["SBN2025-1234"]),
        ("[Ärende #2025-004211] SV: Läckande brandpost", ["2025-4211"]),
        ("Ärende 4711: Bygglov för garage", ["4711"]),
        ("Ditt ärendenummer är 88213.", ["88213"]),
        ("Re: [#123] Fråga om skolskjuts", ["123"]),
        ("Ticket#2025101010000123 — Your request", ["2025101010000123"]),
        ("Case number: CAS-12345-ABCDE1", ["CAS12345-ABCDE1"]),
        ("Svar i ärende KS 2025/0193 - Bygglov och Dnr MBN 2025/44", ["KS2025/193", "MBN2025/44"]),
        # Not case numbers: dates, times, phone numbers, school years, amounts, short numbers.
        ("Skickat 2025-10-07 kl 10:00. Ring 063-14 30 00.", []),
        ("Läsåret VT 2025/26 och HT 2025-2026", []),
        ("Avgiften är 4 500 kr för 12 veckor.", []),
        ("ärende 12", []),
    ],
)
def test_it_finds_case_numbers(text: str, numbers: list[str]) -> None:
    assert find_case_numbers(text) == numbers


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("KS 2025/0193", "KS2025/193"), ("#2025-004211", "2025-4211"), ("4711", "4711"), ("12", None)],
)
def test_it_normalises_the_spellings_of_one_number(raw: str, normal: str | None) -> None:
    assert normalise_case_number(raw) == normal


@pytest.mark.parametrize(
    ("text", "stored", "found"),
    [
        ("Angående ditt ärende KS 2025/193", ["KS2025/193"], ["KS2025/193"]),
        ("angående ks2025-0193", ["KS2025/193"], ["KS2025/193"]),
        ("Ärende 2025-004211 är avslutat", ["2025-4211"], ["2025-4211"]),
        ("Om ärende 4711 vill vi säga", ["4711"], ["4711"]),
        # A bare number counts only where the text presents it as a case number.
        ("Ring 04711 23 eller betala 4711 kr", ["4711"], []),
        ("KS 2025/1930 är ett annat ärende", ["KS2025/193"], []),
        ("Inget nummer alls", ["KS2025/193"], []),
    ],
)
def test_it_sees_a_stored_number_cited(text: str, stored: list[str], found: list[str]) -> None:
    assert cited(text, stored) == found

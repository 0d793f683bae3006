"""Sender details read from a reply's signature (probes.email_signature): table tests."""

from __future__ import annotations

import pytest

from probes.email_signature import SenderDetails, sender_details

CASES = [
    (
        "outlook, title and unit on one line",
        "Hej!\n\nEtt uterum kräver bygglov.\n\nMed vänliga hälsningar\nKarin Berg\n"
        "Handläggare, Bygglovsenheten\nTel: 063-14 30 00\nÖstersunds kommun\n"
        "Rådhusgatan 42, 831 82 Östersund\n",
        SenderDetails(
            "Karin Berg", "Handläggare", "063-14 30 00", False, "Rådhusgatan 42, 831 82 Östersund"
        ),
    ),
    (
        "name and title on the sign-off line, mobile and switchboard",
        "Ja, det går bra.\n\nMvh Anna-Lena Öberg | Bygglovshandläggare\n"
        "Växel 0771-25 30 00\nMobil 070-123 45 67\n",
        SenderDetails("Anna-Lena Öberg", "Bygglovshandläggare", "070-123 45 67", False, None),
    ),
    (
        "only the switchboard",
        "Svaret är ja.\n\nVänliga hälsningar\nPer Holm\nEnhetschef hemtjänst\n"
        "Kontaktcenter: 08-508 000 00\n",
        SenderDetails("Per Holm", "Enhetschef hemtjänst", "08-508 000 00", True, None),
    ),
    (
        "an organisation signs, no person",
        "Vi återkommer.\n\nMed vänlig hälsning\nKontaktcenter\nUmeå kommun\n090-16 10 00\n",
        SenderDetails(None, None, "090-16 10 00", False, None),
    ),
    (
        "international format and a box address",
        "Here is the answer.\n\nBest regards\nErik Lund\nPlanning Officer\n+46 31 365 00 00\n"
        "Box 2554, 403 17 Göteborg\n",
        SenderDetails(
            "Erik Lund", "Planning Officer", "+46 31 365 00 00", False, "Box 2554, 403 17 Göteborg"
        ),
    ),
    (
        "no sign-off: a last paragraph with a name is a signature",
        "Du behöver inte söka bygglov.\n\nLena Ek\nSocialsekreterare\n026-17 80 00\n",
        SenderDetails("Lena Ek", "Socialsekreterare", "026-17 80 00", False, None),
    ),
    (
        "no sign-off and the last paragraph is answer: nothing is proposed",
        "Ring oss på 026-17 80 00 om du har fler frågor.\n",
        SenderDetails(),
    ),
    (
        "the quoted question's signature is not the answerer's",
        "Det stämmer.\n\n/Maria Svensson\n\n-----Ursprungligt meddelande-----\n"
        "Från: Anna Lindqvist\nSkickat: den 6 oktober 2026\n\nHej! Med vänliga hälsningar\n"
        "Anna Lindqvist\nRektor\n070-999 99 99\n",
        SenderDetails("Maria Svensson", None, None, False, None),
    ),
]


@pytest.mark.parametrize(("about", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sender_details(about: str, text: str, expected: SenderDetails) -> None:
    assert sender_details(text) == expected


def test_complete_needs_name_title_and_phone() -> None:
    assert SenderDetails("Karin Berg", "Handläggare", "063-14 30 00").complete
    assert not SenderDetails("Karin Berg", None, "063-14 30 00").complete
    assert not SenderDetails(None, "Handläggare", "063-14 30 00").complete

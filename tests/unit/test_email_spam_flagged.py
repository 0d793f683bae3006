"""A municipality's answer that our spam filter flagged still counts (probes.email_analysis).

Spam filters tag mail they file in Junk (``X-Spam-Flag: YES``). An answer sent without
threading headers, but to our reply token, is ours whatever the filter thought; a flagged mail
that matches nothing of ours stays unrelated spam.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from probes.email_analysis import TimingRules, analyse
from probes.email_classify import Kind
from tests.unit.test_email_match import BYGGLOV

ARRIVED = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


ANSWER = (
    "Hej Anna! En altan på 25 kvadratmeter 60 cm över marken kräver bygglov. Välkommen "
    "att ringa oss om ansökan.\r\n\r\nMed vänlig hälsning\r\nKarin Berg\r\n"
)
SPAM = "Grattis! Du har vunnit en resa till Kanarieöarna. Klicka här för att hämta priset.\r\n"


def _mail(to: str, subject: str, text: str = ANSWER) -> bytes:
    return (
        f"From: Karin Berg <karin.berg@ostersund.example.se>\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Mon, 05 Oct 2026 13:58:00 +0200\r\n"
        f"Message-ID: <svar.1@ostersund.example.se>\r\n"
        f"X-Spam-Flag: YES\r\n"
        f"X-Spam-Status: Yes, score=6.1\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{text}"
    ).encode()


def test_a_flagged_answer_to_our_reply_token_counts():
    raw = _mail(BYGGLOV.reply_address or "", "Din fråga om altanen")
    result = analyse(raw, [BYGGLOV], TimingRules(), internal_date=ARRIVED)
    assert result.match.matched_by == "reply_token"
    assert result.verdict.kind is Kind.HUMAN_REPLY
    assert result.counts_as_answer


def test_flagged_mail_that_matches_nothing_stays_spam():
    raw = _mail("info@fraga.example.se", "Vinn en resa!", SPAM)
    result = analyse(raw, [BYGGLOV], TimingRules(), internal_date=ARRIVED + timedelta(hours=1))
    assert result.match.probe_id is None
    assert (result.verdict.kind, result.verdict.reason) == (Kind.UNRELATED, "spam")
    assert not result.counts_as_answer


def test_flagged_mail_linked_only_by_its_topic_stays_spam_and_goes_to_review():
    # The text talks about the question, but nothing else ties it to ours: a match by topic is
    # not sure enough to overrule the spam filter, and a person should look at it.
    raw = _mail("info@fraga.example.se", "Vinn en resa!")
    result = analyse(raw, [BYGGLOV], TimingRules(), internal_date=ARRIVED + timedelta(hours=1))
    assert (result.match.probe_id, result.match.matched_by) == (BYGGLOV.id, "topic")
    assert (result.verdict.kind, result.verdict.reason) == (Kind.UNRELATED, "spam")
    assert result.match.needs_review
    assert not result.counts_as_answer

"""The matcher's index of sent probes (probes.email_match.ProbeIndex).

Checked against a plain scan of the probes, which is what the matcher did before the index: every
lookup gives the same probes, an index grown by changes equals one built from scratch, and a mail
is matched the same through either.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.email_match import ProbeIndex, ProbeRef, match_reply, subject_key
from probes.email_parse import ParsedMail, ReceivedHop

SENT = datetime(2026, 10, 5, 7, 15, tzinfo=UTC)
DOMAINS = ("are.example.se", "kommun.are.example.se", "berg.example.se", "Example.SE.", "")
SUBJECTS = ("Fråga om bygglov", "SV: Fråga om bygglov", "Parkering", "Kö till förskola", "")
TOKENS = ("k7x2q9", "K7X2Q9", "h4w7d3", None)


@st.composite
def probe(draw: st.DrawFn, probe_id: int) -> ProbeRef:
    token = draw(st.sampled_from(TOKENS))
    return ProbeRef(
        id=probe_id,
        message_id=draw(
            st.sampled_from([f"<q{probe_id}@fraga.se>", f"<Q{probe_id % 3}@Fraga.se>"])
        ),
        reply_token=token,
        reply_address=f"anna+{token}@fraga.se" if token else "anna@fraga.se",
        target_address="kommun@are.example.se",
        target_domains=tuple(draw(st.lists(st.sampled_from(DOMAINS), max_size=2))),
        subject=draw(st.sampled_from(SUBJECTS)),
        body="Hej! Behöver vi bygglov för en altan på Frösön?",
        sent_at=SENT + timedelta(hours=draw(st.integers(0, 48))),
    )


@st.composite
def probes(draw: st.DrawFn) -> list[ProbeRef]:
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=12))
    return [draw(probe(i)) for i in ids]


def _in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    wanted = [d.casefold().strip(".") for d in domains]
    return bool(domain) and any(domain == d or domain.endswith("." + d) for d in wanted if d)


def _scan_message_id(every: list[ProbeRef], message_id: str) -> ProbeRef | None:
    found = [p for p in every if p.message_id.casefold() == message_id.casefold()]
    return max(found, key=lambda p: p.id) if found else None


def _same_lookups(index: ProbeIndex, every: list[ProbeRef]) -> None:
    assert sorted(p.id for p in index) == sorted(p.id for p in every)
    assert len(index) == len(every)
    for p in every:
        assert index.get(p.id) == p
        assert index.by_message_id(p.message_id) == _scan_message_id(every, p.message_id)
        assert index.by_message_id(p.message_id.upper()) == _scan_message_id(every, p.message_id)
    for token in ("k7x2q9", "H4W7D3", "nothing"):
        want = {
            p.id for p in every if p.reply_token and p.reply_token.casefold() == token.casefold()
        }
        assert {p.id for p in index.by_token(token)} == want
    for domain in (
        "are.example.se",
        "a.kommun.are.example.se",
        "example.se",
        "se",
        "berg.example.se",
    ):
        for subject in ("", subject_key("Fråga om bygglov"), subject_key("Parkering")):
            want_ids = sorted(
                p.id
                for p in every
                if _in_domains(domain, p.target_domains)
                or (subject and subject_key(p.subject) == subject)
            )
            got = index.weak_candidates([domain], {subject} - {""})
            assert [p.id for p in got] == want_ids


@settings(max_examples=200, deadline=None)
@given(probes())
def test_lookups_equal_a_scan(every: list[ProbeRef]) -> None:
    _same_lookups(ProbeIndex(every), every)


@settings(max_examples=200, deadline=None)
@given(probes(), probes(), st.data())
def test_an_index_grown_by_changes_equals_one_built_anew(
    first: list[ProbeRef], later: list[ProbeRef], data: st.DataObject
) -> None:
    # `later` adds probes and replaces those with the same id; some of the first are removed.
    removed = data.draw(st.sets(st.sampled_from([p.id for p in first]))) if first else set()
    start = ProbeIndex(first)
    grown = start.with_changes(later, removed)
    final = {p.id: p for p in first if p.id not in removed}
    final.update({p.id: p for p in later})
    every = [final[k] for k in sorted(final)]
    _same_lookups(grown, every)
    assert list(grown) == every  # once changed, in id order
    assert list(start) == first  # the index changed from is left as it was


def _mail(**fields: object) -> ParsedMail:
    hop = ReceivedHop(by="mx.fraga.se", from_=None, at=SENT + timedelta(days=3), raw="")
    return replace(ParsedMail(received=(hop,), text="Hej, ja det behövs bygglov."), **fields)  # type: ignore[arg-type]


MAILS = st.builds(
    _mail,
    from_address=st.sampled_from(["karin@are.example.se", "x@kommun.are.example.se", "y@other.se"]),
    subject=st.sampled_from(SUBJECTS),
    in_reply_to=st.lists(
        st.sampled_from(["<q3@fraga.se>", "<Q1@FRAGA.SE>", "<x@y>"]), max_size=2
    ).map(tuple),
    to=st.lists(
        st.sampled_from(["anna+k7x2q9@fraga.se", "anna+H4W7D3@fraga.se", "anna@fraga.se"]),
        max_size=2,
    ).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(probes(), probes(), MAILS)
def test_a_mail_is_matched_the_same_through_a_grown_index(
    first: list[ProbeRef], later: list[ProbeRef], mail: ParsedMail
) -> None:
    final = {p.id: p for p in first}
    final.update({p.id: p for p in later})
    every = [final[k] for k in sorted(final)]
    assert match_reply(mail, ProbeIndex(first).with_changes(later)) == match_reply(mail, every)

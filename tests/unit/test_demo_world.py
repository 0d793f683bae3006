"""The demo's simulated mail world (the harness.demo.world* modules), judged by the real pipeline.

Every mail the world writes is run through :func:`probes.email_analysis.analyse`, the function
the mailbox watcher runs, with the question built by the real ``build_question``: it must match
its probe without review, be timed from our server's Received stamp, and count as an answer
exactly when the world says so. The business-time table was worked out by hand from the
calendar facts in the comments, never by asking the code under test.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.core.questionbank import Question, load_bank
from harness.demo.business_time import add_business_time
from harness.demo.mail_model import EmailResponse, MailKind, QuestionSent, answered_within
from harness.demo.world import (
    HOLD_LIMIT_SECONDS,
    EmailProfile,
    PhoneProfile,
    World,
    WorldError,
    WorldMunicipality,
    load_world,
)
from harness.demo.world_calls import sample_call
from harness.demo.world_mail import email_responses
from probes.base import DispatchJob, Persona
from probes.email_analysis import Analysis, TimingRules, analyse
from probes.email_classify import Kind
from probes.email_match import ProbeRef
from probes.email_parse import parse_mail
from probes.email_send import build_question
from results.calendar import WorkCalendar

ROOT = Path(__file__).parents[2]
WORLD_FILE = ROOT / "scenarios" / "demo" / "world.toml"
WORLD = load_world(WORLD_FILE)
BANK = load_bank(ROOT / "scenarios" / "questions")
HOST = "mx.fraga.example.se"
CAL = WorkCalendar()
RULES = TimingRules(calendar=CAL, receiving_hosts=(HOST,))
HOLDING_COUNTS = replace(RULES, count_holding_replies=True)
STHLM = ZoneInfo("Europe/Stockholm")
PERSONAS = (
    Persona("Anna Lindqvist", "anna.lindqvist@fraga.example.se"),
    Persona("Erik Johansson", "erik.johansson@fraga.example.se"),
    Persona("Maria Nilsson", "maria.nilsson@fraga.example.se"),
    Persona("Johan Persson", "johan.persson@fraga.example.se"),
)
TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
STAFF_DAY = date(2026, 10, 21)  # the world file's extra_closed_days: a Wednesday
CAMPAIGN_DAYS = [
    date(2026, 10, 5) + timedelta(days=i)
    for i in range(40)
    if CAL.is_working_day(date(2026, 10, 5) + timedelta(days=i))
]


# --- building questions the way the harness does ------------------------------------------------


def sent_question(
    setup: random.Random,
    probe_id: int,
    target: WorldMunicipality,
    question: Question,
    *,
    inside_office_hours: bool = True,
) -> tuple[QuestionSent, ProbeRef]:
    """A question built by the real build_question, and the matcher's reference to it."""
    day = setup.choice(CAMPAIGN_DAYS)
    if inside_office_hours:  # the planner's send window, 09:00-16:00
        local = datetime(day.year, day.month, day.day, 9, tzinfo=STHLM)
        local += timedelta(seconds=setup.randint(0, 7 * 3600))
    else:  # evenings and weekends too: business time starts at the next opening
        local = datetime(day.year, day.month, day.day, 17, tzinfo=STHLM)
        local += timedelta(seconds=setup.randint(0, 3 * 24 * 3600))
    accepted = local.astimezone(UTC) + timedelta(microseconds=setup.randint(0, 999_999))
    token = "".join(setup.choice(TOKEN_ALPHABET) for _ in range(8))
    job = DispatchJob(
        probe_id=probe_id,
        persona=setup.choice(PERSONAS),
        recipient=target.email,
        subject=question.subject,
        body=question.body,
        send_by=accepted + timedelta(hours=1),
        message_id=f"<{accepted:%Y%m%d%H%M%S}.{token}{probe_id}@fraga.example.se>",
        reply_token=token,
    )
    raw = build_question(job, date=accepted)
    sent = QuestionSent.from_job(job, accepted, area=question.area)
    assert parse_mail(raw).reply_to == (sent.persona_address,)
    ref = ProbeRef(
        id=probe_id,
        message_id=sent.message_id,
        reply_token=token,
        reply_address=sent.persona_address,
        target_address=target.email,
        target_domains=(target.domain,),
        subject=job.subject,
        body=job.body,
        sent_at=accepted,
    )
    return sent, ref


def profile(**shares: float) -> EmailProfile:
    """A profile that forces branches: every share 0 unless given."""
    values: dict[str, float] = {
        "delay_median_hours": 6.0,
        "delay_spread": 1.0,
        "share_receipt": 0.0,
        "share_holding": 0.0,
        "share_never": 0.0,
        "share_officer": 0.5,
        "share_broken_threading": 0.0,
        "share_junk": 0.0,
    }
    values.update(shares)
    return EmailProfile.model_validate(values)


def check_response(
    response: EmailResponse, question: QuestionSent, probes: list[ProbeRef]
) -> list[Analysis]:
    """Judge every mail with the real pipeline and compare with the world's truth."""
    own = next(p for p in probes if p.id == question.probe_id)
    arrivals = [m.arrive_at for m in response.mails]
    assert arrivals == sorted(arrivals)
    analyses = []
    for mail in response.mails:
        got = analyse(mail.raw, probes, RULES)
        where = f"{mail.kind} {mail.variant} of probe {question.probe_id}"
        assert got.match.probe_id == own.id, where
        assert not got.match.needs_review, where
        assert got.arrival.source == "received_header", where
        assert got.arrival.at == mail.arrive_at, where
        assert mail.arrive_at.tzinfo is UTC, where
        assert mail.arrive_at.microsecond == 0, where
        assert not got.date_skewed, where
        assert not got.mail.malformed, where
        assert got.mail.message_id == mail.message_id, where
        assert mail.folder in ("INBOX", "Junk"), where
        if mail.kind is MailKind.RECEIPT:
            assert got.verdict.kind is Kind.AUTO_REPLY, where
        elif mail.kind is MailKind.HOLDING:
            assert got.verdict.kind is Kind.HUMAN_REPLY, where
            assert got.verdict.holding, where
        else:
            assert got.verdict.kind is Kind.HUMAN_REPLY, where
            assert not got.verdict.holding, where
        assert got.counts_as_answer == (mail.kind is MailKind.ANSWER), where
        assert analyse(mail.raw, probes, HOLDING_COUNTS).counts_as_answer == (
            mail.kind is not MailKind.RECEIPT
        ), where
        if mail.kind is not MailKind.RECEIPT:  # a person writes inside office hours
            local = mail.arrive_at.astimezone(STHLM)
            assert CAL.is_working_day(local.date()), where
            assert 8 <= local.hour < 17 or local.time().isoformat() == "17:00:00", where
        analyses.append(got)
    counting = [a for a in analyses if a.counts_as_answer]
    first = min((a.arrival.at for a in counting if a.arrival.at), default=None)
    assert first == response.answered_at
    if counting:
        answer = counting[0]
        assert answer.within_one_working_day == answered_within(response, CAL, 1)
        assert answer.within_two_working_days == answered_within(response, CAL, 2)
        assert response.delay is not None
        assert answer.business_hours is not None
        assert abs(answer.business_hours - response.delay.total_seconds() / 3600) <= 0.006
    else:
        assert response.delay is None
        assert not answered_within(response, CAL, 1)
    return analyses


# --- the world file -----------------------------------------------------------------------------


def test_it_loads_the_seven_municipalities_of_the_county_network() -> None:
    assert {m.kommunkod: m.name for m in WORLD.targets} == {
        "2326": "Berg",
        "2361": "Härjedalen",
        "2309": "Krokom",
        "2303": "Ragunda",
        "2313": "Strömsund",
        "2321": "Åre",
        "2380": "Östersund",
    }
    ostersund = WORLD.municipality("2380")
    assert ostersund.email == "kommun@ostersund.example.se"
    assert ostersund.switchboard == "063-14 30 00"
    assert ostersund.switchboard_e164 == "+4663143000"
    assert ostersund.signs_as == "Östersunds kommun"
    assert WORLD.municipality("2321").signs_as == "Åre kommun"
    assert WORLD.by_address("Kommun@Berg.example.se").kommunkod == "2326"
    area_codes = {m.name: m.switchboard.split("-")[0] for m in WORLD.targets}
    assert area_codes == {
        "Berg": "0687",
        "Härjedalen": "0680",
        "Krokom": "0640",
        "Ragunda": "0696",
        "Strömsund": "0670",
        "Åre": "0647",
        "Östersund": "063",
    }
    with pytest.raises(KeyError):
        WORLD.municipality("0180")
    assert (WORLD.period_start, WORLD.period_end) == (date(2026, 10, 5), date(2026, 11, 13))
    assert (WORLD.emails_per_target, WORLD.calls_per_target) == (18, 18)
    # One staff day inside the period, on a weekday nothing else closes.
    assert WORLD.extra_closed_days == (STAFF_DAY,)
    assert STAFF_DAY.weekday() < 5
    assert CAL.is_working_day(STAFF_DAY)
    assert WORLD.period_start < STAFF_DAY < WORLD.period_end
    assert not WORLD.calendar().is_working_day(STAFF_DAY)
    assert not WORLD.calendar(CAL).is_working_day(STAFF_DAY)


def test_it_makes_the_municipalities_differ_visibly() -> None:
    email = {m.name: m.email_profile for m in WORLD.targets}
    phone = {m.name: m.phone_profile for m in WORLD.targets}
    assert min(email, key=lambda n: email[n].delay_median_hours) == "Åre"
    assert max(email, key=lambda n: email[n].share_never) == "Berg"
    assert max(email, key=lambda n: email[n].share_junk) == "Ragunda"
    assert max(email, key=lambda n: email[n].share_holding) == "Krokom"
    assert max(phone, key=lambda n: phone[n].direct_answer) == "Åre"
    assert min(phone, key=lambda n: phone[n].direct_answer) == "Berg"
    assert len({(p.delay_median_hours, p.share_never) for p in email.values()}) == 7

    def within_share(name: str, n: int = 50) -> float:
        target = next(m for m in WORLD.targets if m.name == name)
        hits = 0
        for seed in range(n):
            question, _ = sent_question(
                random.Random(seed), seed + 1, target, BANK[seed % len(BANK)]
            )
            response = email_responses(question, target, random.Random(seed), CAL, HOST)
            hits += answered_within(response, CAL, 1)
        return hits / n

    assert within_share("Åre") >= 0.9
    assert within_share("Berg") <= 0.5


def world_text(old: str, new: str) -> str:
    text = WORLD_FILE.read_text("utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('kommunkod = "2321"', "kommunkod = 2321", "targets[0].kommunkod: kommunkod must"),
        ('name = "Åre"', 'name = "Are"', "is not the official name of 2321 ('Åre')"),
        (
            'email = "kommun@are.example.se"',
            'email = "kommun@are.se"',
            "targets[0].email: email must be kommun@<slug>.example.se",
        ),
        ('switchboard = "0647-161 00"', 'switchboard = "0647-1"', "must be a valid Swedish"),
        (
            "share_junk = 0.0",
            "share_junk = 1.5",
            "targets[0].email_profile.share_junk: Input should be less than or equal to 1",
        ),
        ("delay_max_hours = 8.0", "delay_max_hours = 0.5", "need delay_min_hours <="),
        ("bemotande = [0.0, 0.05, 0.25, 0.7]", "bemotande = [0.0, 0.05, 0.25, 0.8]", "sum to 1"),
        ("queue_seconds = [5.0, 30.0]", "queue_seconds = [5.0, 300.0]", "high < 300"),
        ("share_busy = 0.0", "share_busy = 0.0\nshare_spam = 0.1", "share_spam: Extra inputs"),
        ('switchboard = "063-14 30 00"', 'switchboard = "0647-161 00"', "appears twice"),
        ("share_receipt = 0.0", "share_receipt = ", "TOML syntax"),
        ("period_end = 2026-11-13", "period_end = 2026-09-01", "is before period_start"),
        ("emails_per_target = 18", "emails_per_target = 0", "emails_per_target: Input should"),
        (
            "extra_closed_days = [2026-10-21]",
            'extra_closed_days = ["den 21 oktober"]',
            "extra_closed_days[0]: Input should be a valid date",
        ),
        (
            "extra_closed_days = [2026-10-21]",
            "extra_closed_days = 2026-10-21",
            "extra_closed_days: Input should be a valid tuple",
        ),
    ],
)
def test_it_explains_what_is_wrong_with_a_world_file(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    path = tmp_path / "world.toml"
    path.write_text(world_text(old, new), encoding="utf-8")
    with pytest.raises(WorldError) as caught:
        load_world(path)
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert str(path) in str(caught.value)


def test_a_world_without_closed_days_closes_nothing_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(world_text("extra_closed_days = [2026-10-21]", ""), encoding="utf-8")
    world = load_world(path)
    assert world.extra_closed_days == ()
    assert world.calendar() == CAL
    squeeze = WorkCalendar(extra_closed_days=frozenset({date(2026, 5, 15)}))
    assert world.calendar(squeeze) is squeeze  # the configured calendar, as it is


def test_the_truth_honours_the_worlds_closed_day() -> None:
    # Åre (answers within the hour, never automatic) with a fixed delay of 3 business hours,
    # asked on Tuesday 20 October at 15:00, the day before the world's staff day. Its people do
    # not work on Wednesday: 2 h on Tuesday, the third on Thursday, 09:00. Within one working day
    # by the world's calendar (3 h); by a calendar that forgot the staff day the same arrival is
    # 2 + 9 + 1 = 12 h after the question, and late. Without the staff day in the world the
    # answer would come on Wednesday at 09:00 instead.
    are = WORLD.municipality("2321")
    fixed = are.model_copy(
        update={
            "email_profile": profile(delay_median_hours=3.0, delay_spread=0.0, share_officer=1.0)
        }
    )
    question, ref = sent_question(random.Random(1), 1, are, BANK[0])
    question = replace(question, accepted_at=s(2026, 10, 20, 15))
    world_calendar = WORLD.calendar(CAL)
    response = email_responses(question, fixed, random.Random(1), world_calendar, HOST)
    assert response.answered_at == s(2026, 10, 22, 9)
    assert answered_within(response, world_calendar, 1)
    assert not answered_within(response, CAL, 1)
    assert CAL.business_seconds(question.accepted_at, s(2026, 10, 22, 9)) == 12 * 3600
    plain = email_responses(question, fixed, random.Random(1), CAL, HOST)
    assert plain.answered_at == s(2026, 10, 21, 9)
    # The harness's pipeline, given the campaign's calendar, agrees with the truth.
    [answer] = [m for m in response.mails if m.kind is MailKind.ANSWER]
    judged = analyse(answer.raw, [replace(ref, sent_at=question.accepted_at)],
                     replace(RULES, calendar=world_calendar))  # fmt: skip
    assert judged.counts_as_answer
    assert judged.within_one_working_day is True
    assert judged.business_hours == 3.0


def test_it_reports_a_missing_world_file(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="file not found"):
        load_world(tmp_path / "nowhere.toml")


def test_it_reports_a_world_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(f"name = {'[' * 10_000}{']' * 10_000}\n")  # RecursionError in tomllib
    with pytest.raises(WorldError) as caught:
        load_world(path)
    assert caught.value.problems == ["TOML syntax: arrays or tables nested too deeply"]


def test_it_refuses_an_empty_world() -> None:
    with pytest.raises(ValueError, match="at least one municipality"):
        World.model_validate({"name": "tom", "targets": []})


# --- every mail judged by the real pipeline -----------------------------------------------------

BRANCHES = {
    "receipt_then_answer": profile(share_receipt=1.0),
    "holding_then_answer": profile(share_holding=1.0),
    "receipt_holding_never": profile(share_receipt=1.0, share_holding=1.0, share_never=1.0),
    "silence": profile(share_never=1.0),
    "officer_broken_threading": profile(share_officer=1.0, share_broken_threading=1.0),
    "mailbox_broken_threading": profile(share_officer=0.0, share_broken_threading=1.0),
    "everything_in_junk": profile(share_receipt=1.0, share_holding=1.0, share_junk=1.0),
}


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_it_writes_mails_the_pipeline_judges_as_the_world_intended(branch: str) -> None:
    email_profile = BRANCHES[branch]
    target = WORLD.municipality("2380")
    kinds: Counter[tuple[MailKind, str, str]] = Counter()
    for seed in range(24):
        setup = random.Random(f"setup-{branch}-{seed}")
        question, ref = sent_question(
            setup, seed + 1, target, setup.choice(BANK), inside_office_hours=seed % 4 != 0
        )
        response = email_responses(
            question,
            email_profile,
            random.Random(seed),
            CAL,
            HOST,
            organisation=target.signs_as,
        )
        check_response(response, question, [ref])
        kinds.update((m.kind, m.variant, m.folder) for m in response.mails)
    seen = {(kind, variant) for kind, variant, _ in kinds}
    folders = {folder for _, _, folder in kinds}
    receipts = {v for k, v in seen if k is MailKind.RECEIPT}
    holdings = {v for k, v in seen if k is MailKind.HOLDING}
    answers = {v for k, v in seen if k is MailKind.ANSWER}
    expected: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {
        "receipt_then_answer": (
            {"public360", "platina", "autoreply", "noreply"},
            set(),
            {"officer_reply", "mailbox_reply"},
            {"INBOX"},
        ),
        "holding_then_answer": (
            set(),
            {"kontaktcenter", "forwarded", "registrar"},
            {"officer_reply", "mailbox_reply"},
            {"INBOX"},
        ),
        "receipt_holding_never": (
            {"public360", "platina", "autoreply", "noreply"},
            {"kontaktcenter", "forwarded", "registrar"},
            set(),
            {"INBOX"},
        ),
        "silence": (set(), set(), set(), set()),
        "officer_broken_threading": (
            set(),
            set(),
            {"officer_new_mail_token", "officer_new_mail_quoted"},
            {"INBOX"},
        ),
        "mailbox_broken_threading": (
            set(),
            set(),
            {"mailbox_new_mail_token", "mailbox_new_mail_quoted"},
            {"INBOX"},
        ),
        "everything_in_junk": (
            {"public360", "platina", "autoreply", "noreply"},
            {"kontaktcenter", "forwarded", "registrar"},
            {"officer_reply", "mailbox_reply"},
            {"Junk"},
        ),
    }
    assert (receipts, holdings, answers, folders) == expected[branch]


@pytest.mark.parametrize("kommunkod", sorted(m.kommunkod for m in WORLD.targets))
def test_it_answers_a_whole_campaign_each_mail_matching_its_own_probe(kommunkod: str) -> None:
    """18 questions to one municipality, every probe known to the matcher (as in the demo)."""
    target = WORLD.municipality(kommunkod)
    setup = random.Random(f"campaign-{kommunkod}")
    world = random.Random(int(kommunkod))
    questions = [
        sent_question(setup, 100 + i, target, q) for i, q in enumerate(setup.sample(BANK, 18))
    ]
    probes = [ref for _, ref in questions]
    message_ids: list[str] = []
    for question, _ in questions:
        response = email_responses(question, target, world, CAL, HOST)
        check_response(response, question, probes)
        message_ids += [m.message_id for m in response.mails]
    assert len(message_ids) == len(set(message_ids))


def test_it_gives_every_mail_a_unique_message_id() -> None:
    seen: list[str] = []
    for target in WORLD.targets:
        for seed in range(10):
            question, _ = sent_question(random.Random(seed), seed, target, BANK[seed % len(BANK)])
            branch = profile(share_receipt=1.0, share_holding=1.0)
            response = email_responses(question, branch, random.Random(seed), CAL, HOST)
            seen += [m.message_id for m in response.mails]
    assert len(seen) == len(set(seen)) == 7 * 10 * 3


def test_it_writes_the_same_bytes_for_the_same_seed() -> None:
    target = WORLD.municipality("2309")
    question, _ = sent_question(random.Random(1), 1, target, BANK[0])
    busy = profile(share_receipt=1.0, share_holding=1.0, share_junk=0.5)
    first = email_responses(question, busy, random.Random(42), CAL, HOST)
    again = email_responses(question, busy, random.Random(42), CAL, HOST)
    other = email_responses(question, busy, random.Random(43), CAL, HOST)
    assert first == again
    assert [m.raw for m in first.mails] == [m.raw for m in again.mails]
    assert [m.raw for m in first.mails] != [m.raw for m in other.mails]


def test_it_stamps_our_receiving_server_and_a_date_a_little_before_arrival() -> None:
    target = WORLD.municipality("2380")
    question, _ = sent_question(random.Random(3), 3, target, BANK[3])
    busy = profile(share_receipt=1.0, share_holding=1.0)
    response = email_responses(question, busy, random.Random(3), CAL, "mx.demo.test")
    for mail in response.mails:
        parsed = parse_mail(mail.raw)
        assert parsed.received[0].by == "mx.demo.test"
        assert parsed.received[0].at == mail.arrive_at
        assert parsed.received[1].by == "mail.ostersund.example.se"
        assert parsed.date is not None
        assert timedelta(0) < mail.arrive_at - parsed.date <= timedelta(seconds=90)
        assert b"\r\n" in mail.raw
        assert b"\n" not in mail.raw.replace(b"\r\n", b"")


def test_it_refuses_a_question_sent_to_another_municipality() -> None:
    question, _ = sent_question(random.Random(1), 1, WORLD.municipality("2380"), BANK[0])
    with pytest.raises(ValueError, match="not to Berg"):
        email_responses(question, WORLD.municipality("2326"), random.Random(1), CAL, HOST)


def test_it_orders_receipt_holding_and_answer() -> None:
    target = WORLD.municipality("2309")
    busy = profile(share_receipt=1.0, share_holding=1.0, delay_median_hours=0.25, delay_spread=0)
    for seed in range(10):
        question, _ = sent_question(random.Random(seed), seed, target, BANK[seed % len(BANK)])
        response = email_responses(question, busy, random.Random(seed), CAL, HOST)
        assert [m.kind for m in response.mails] == [
            MailKind.RECEIPT,
            MailKind.HOLDING,
            MailKind.ANSWER,
        ]
        assert response.answer is response.mails[-1]
        assert response.first_human_reply_at == response.mails[1].arrive_at
        receipt_delay = response.mails[0].arrive_at - question.accepted_at
        assert timedelta(seconds=5) <= receipt_delay <= timedelta(seconds=121)


def test_it_describes_a_question_from_the_dispatch_job() -> None:
    accepted = datetime(2026, 10, 6, 8, 15, tzinfo=UTC)
    job = DispatchJob(
        probe_id=9,
        persona=PERSONAS[0],
        recipient="kommun@krokom.example.se",
        subject="Fråga",
        body="Hej!",
        send_by=accepted,
        message_id="<q9@fraga.example.se>",
        reply_token="k7x2q9ab",
    )
    question = QuestionSent.from_job(job, accepted, area="bygglov")
    raw = build_question(job, date=accepted)
    from_bytes = QuestionSent.from_raw(probe_id=9, raw=raw, accepted_at=accepted, area="bygglov")
    assert from_bytes == replace(question, body=from_bytes.body)
    assert from_bytes.body.strip() == job.body
    with_token = QuestionSent.from_raw(
        probe_id=9, raw=raw, accepted_at=accepted, reply_token="k7x2q9ab", area="bygglov"
    )
    assert with_token == from_bytes
    assert question.persona_address == "anna.lindqvist+k7x2q9ab@fraga.example.se"
    assert question.bare_address == "anna.lindqvist@fraga.example.se"
    assert question.first_name == "Anna"
    with pytest.raises(ValueError, match="aware"):
        replace(question, accepted_at=datetime(2026, 10, 6, 8, 15))  # noqa: DTZ001
    with pytest.raises(ValueError, match="plus-address"):
        replace(question, persona_address="anna.lindqvist@fraga.example.se")
    with pytest.raises(ValueError, match="Message-ID and reply token"):
        QuestionSent.from_job(replace(job, reply_token=None), accepted)


# --- business time -------------------------------------------------------------------------------


def s(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Stockholm wall-clock instant."""
    return datetime(y, mo, d, h, mi, tzinfo=STHLM)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (s(2026, 10, 5, 10), 2, s(2026, 10, 5, 12)),  # Monday, same day
        (s(2026, 10, 5, 8), 9, s(2026, 10, 5, 17)),  # a full day ends at closing, not next 08:00
        (s(2026, 10, 5, 16), 9, s(2026, 10, 6, 16)),  # one working day later
        (s(2026, 10, 6, 7), 1, s(2026, 10, 6, 9)),  # before opening: counts from 08:00
        (s(2026, 10, 6, 18), 1, s(2026, 10, 7, 9)),  # after closing: next morning
        (s(2026, 10, 9, 16), 2, s(2026, 10, 12, 9)),  # Friday 1 h + Monday 1 h over the weekend
        (s(2026, 10, 10, 12), 0.5, s(2026, 10, 12, 8, 30)),  # Saturday: Monday's opening
        # Friday 16:30 CEST; DST ends Sunday 25 Oct; Monday 08:30 CET = 07:30 UTC.
        (s(2026, 10, 23, 16, 30), 1, s(2026, 10, 26, 8, 30)),
        # Thursday 14 May 2026 is Kristi himmelsfärdsdag: Wed 2 h + Fri 2 h.
        (s(2026, 5, 13, 15), 4, s(2026, 5, 15, 10)),
        # Wed 23 Dec 1 h; julafton (Thu), juldagen (Fri), weekend; Monday 28 Dec 2 h.
        (s(2026, 12, 23, 16), 3, s(2026, 12, 28, 10)),
        # Wed 30 Dec 1 h; nyårsafton (Thu), nyårsdagen (Fri), weekend; Monday 4 Jan 1 h.
        (s(2026, 12, 30, 16), 2, s(2027, 1, 4, 9)),
        (s(2026, 10, 5, 10), 0, s(2026, 10, 5, 10)),
        (s(2026, 10, 10, 12), 0, s(2026, 10, 10, 12)),  # nothing to add: the start itself
    ],
)
def test_it_adds_business_hours_across_weekends_and_holidays(
    start: datetime, hours: float, expected: datetime
) -> None:
    got = add_business_time(start, timedelta(hours=hours), CAL)
    assert got == expected
    assert got.tzinfo is UTC
    assert CAL.business_seconds(start, got) == hours * 3600


def test_it_skips_a_campaigns_own_closed_day() -> None:
    squeeze = WorkCalendar(extra_closed_days=frozenset({date(2026, 5, 15)}))
    # Wed 13 May 2 h; Kristi himmelsfärdsdag (Thu); the klämdag (Fri); weekend; Mon 18 May 2 h.
    got = add_business_time(s(2026, 5, 13, 15), timedelta(hours=4), squeeze)
    assert got == s(2026, 5, 18, 10)


def test_it_refuses_naive_or_negative_business_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 10, 5, 10), timedelta(hours=1), CAL)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_business_time(s(2026, 10, 5, 10), timedelta(hours=-1), CAL)


def test_it_lands_every_answer_at_the_sampled_business_delay() -> None:
    target = WORLD.municipality("2361")
    for seed in range(30):
        question, _ = sent_question(
            random.Random(seed),
            seed,
            target,
            BANK[seed % len(BANK)],
            inside_office_hours=seed % 2 == 0,
        )
        response = email_responses(question, target, random.Random(seed), CAL, HOST)
        if response.answered_at is None:
            continue
        assert response.delay is not None
        elapsed = CAL.business_seconds(question.accepted_at, response.answered_at)
        assert response.delay.total_seconds() <= elapsed < response.delay.total_seconds() + 1
        limits = target.email_profile
        assert limits.delay_min_hours * 3600 <= response.delay.total_seconds()
        assert response.delay.total_seconds() <= limits.delay_max_hours * 3600


# --- phone --------------------------------------------------------------------------------------


def test_it_samples_calls_consistent_with_the_phone_profile() -> None:
    for municipality in WORLD.targets:
        phone = municipality.phone_profile
        rng = random.Random(municipality.kommunkod)
        outcomes: Counter[str] = Counter()
        for _ in range(400):
            call = sample_call(phone, rng)
            outcomes[call.outcome if call.person_after is not None else f"{call.outcome}-none"] += 1
            if call.outcome != "answer":
                assert call.ring_seconds is None
                assert call.person_after is None
                continue
            assert call.ring_seconds is not None
            assert phone.ring_seconds[0] <= call.ring_seconds <= phone.ring_seconds[1]
            if call.person_after is None:
                assert call.direct_answer is None
                assert call.bemotande is None
                continue
            assert call.person_after == 0 or (
                phone.queue_seconds[0] <= call.person_after <= phone.queue_seconds[1]
            )
            assert call.person_after < HOLD_LIMIT_SECONDS
            assert call.bemotande in (0, 1, 2, 3)
            assert isinstance(call.direct_answer, bool)
        failed = outcomes["busy-none"] + outcomes["no_answer-none"] + outcomes["answer-none"]
        expected = phone.share_busy + phone.share_unanswered + phone.share_no_person
        assert abs(failed / 400 - expected) < 0.08, municipality.name


def test_it_samples_forced_call_outcomes() -> None:
    base = WORLD.municipality("2380").phone_profile
    rng = random.Random(1)
    busy = base.model_copy(update={"share_busy": 1.0, "share_unanswered": 0.0})
    assert sample_call(busy, rng).outcome == "busy"
    silent = base.model_copy(update={"share_busy": 0.0, "share_unanswered": 1.0})
    assert sample_call(silent, rng).outcome == "no_answer"
    queue = PhoneProfile.model_validate(
        base.model_dump() | {"share_busy": 0.0, "share_unanswered": 0.0, "share_no_person": 1.0}
    )
    call = sample_call(queue, rng)
    assert (call.outcome, call.person_after) == ("answer", None)
    direct = base.model_copy(
        update={"share_busy": 0.0, "share_unanswered": 0.0, "share_no_person": 0.0,
                "share_ivr": 0.0, "direct_answer": 1.0, "bemotande": (0.0, 0.0, 0.0, 1.0)}
    )  # fmt: skip
    call = sample_call(direct, rng)
    assert (call.person_after, call.direct_answer, call.bemotande) == (0.0, True, 3)
    assert sample_call(base, random.Random(5)) == sample_call(base, random.Random(5))

"""The simulated world of the offline demo: how the municipalities answer e-mail (pure).

``scenarios/demo/world.toml`` describes a handful of municipalities, each with an e-mail profile
(how fast a person answers, whether a case-system receipt or a holding reply comes first, how
often nobody answers, ...) and a phone profile. This module reads that file and, for one question
we sent, writes the mails the municipality sends back, with the instants they reach our mailbox
and the truth the harness must measure.

Everything here is pure: no clock, no network, no file I/O except :func:`load_world` reading the
TOML. All randomness comes from the ``random.Random`` the caller passes in, and every question
draws the same number of random values in the same order, so the same seed gives the same bytes.

The e-mail world (:func:`email_responses`), per question, each decision drawn independently:

* with ``share_receipt`` a case-system receipt (or the contact centre's automatic reply) comes
  first, 5–120 seconds after our server accepted the question, at any hour (machines never
  sleep);
* with ``share_never`` no person ever answers;
* with ``share_holding`` a person first sends a holding reply ("vi återkommer"), inside office
  hours: before the answer when there is one (at 15–60 % of its business delay, at least 10
  business minutes in), else 15 minutes to 4 business hours after the question;
* otherwise-answered questions get one answer, written by a person. Its arrival is the question's
  acceptance plus a lognormal delay in *business* hours (08–17 on Swedish working days, the
  :class:`~results.calendar.WorkCalendar` of :meth:`World.calendar`, which closes the world's
  ``extra_closed_days`` too), so it always lands inside office time. With
  ``share_officer`` it comes from the case officer's own address, else from the municipality's
  shared mailbox signed by a person; with ``share_broken_threading`` it carries no In-Reply-To or
  References and a new subject (half of those are sent to our plus-address, the other half to
  the persona's bare address with the question pasted below, so the harness has the token or the
  quoted text and sender domain to go on);
* each mail, independently, lands in the ``Junk`` folder with ``share_junk`` (a spam filter that
  distrusts the municipality's mail server), else in ``INBOX``.

Every mail is a complete RFC 5322 message: our server's ``Received:`` header ``by {our_host}``
stamped at the arrival instant (whole seconds, in Swedish local time), below it the
municipality's own relay hop, a ``Date:`` 2–90 seconds before arrival (well inside the 15-minute
skew the harness tolerates), unique Message-IDs and Swedish text of the shapes the real pipeline
(:func:`probes.email_analysis.analyse`) recognises.

The truth: :attr:`EmailResponse.answered_at` is the arrival of the first mail that counts as an
answer under the default rule (``email.count_holding_replies = false``): the answer, never a
receipt or a holding reply; None when nobody answers. Whether it came "within one working day"
is decided by :func:`answered_within`, which simply asks ``WorkCalendar.within`` with the
question's acceptance and that arrival; both instants are the world's own, never read back from
the harness. The caller passes the same calendar (:meth:`World.calendar`) to both, so a question
sent the day before a declared staff day and answered the day after is within the day in the
truth, as it must be in the harness. :attr:`EmailResponse.first_human_reply_at` is the truth
for a campaign that counts holding replies.

:class:`QuestionSent` describes the question (``from_job`` for a dispatch job, ``from_raw`` for
the bytes our SMTP server received). :func:`add_business_time` is the "instant + N business
hours" the world needs (``WorkCalendar`` only goes the other way).

The phone profile is data for the phone side of the demo; :func:`sample_call` turns it into one
call's behaviour (outcome, ring time, time to a person, assessment), see :class:`PhoneProfile`.
"""

from __future__ import annotations

import email
import email.policy
import math
import random
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.core.config import normalise_phone
from harness.core.scenario import municipalities
from probes.base import DispatchJob
from probes.email_send import plus_address
from results.calendar import DeadlineRule, WorkCalendar

__all__ = [
    "HOLD_LIMIT_SECONDS",
    "RING_TIMEOUT_SECONDS",
    "CallBehaviour",
    "EmailProfile",
    "EmailResponse",
    "MailKind",
    "PhoneProfile",
    "QuestionSent",
    "World",
    "WorldError",
    "WorldMail",
    "WorldMunicipality",
    "add_business_time",
    "answered_within",
    "email_responses",
    "generate_world",
    "load_world",
    "sample_call",
]

#: A call answered by an IVR or queue with no person within this many seconds is "no person"
#: (kkik-method Part A: hold limit 5 min).
HOLD_LIMIT_SECONDS = 300.0
#: A call not picked up within this many seconds is "no answer" (Part A: ring timeout 60 s).
RING_TIMEOUT_SECONDS = 60.0

Folder = Literal["INBOX", "Junk"]
_QUEUE_ID_CHARS = "0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjkmnpqrstvwxz"  # Postfix long queue ids
_SLUG_ADDRESS = re.compile(r"^kommun@([a-z0-9]+(?:-[a-z0-9]+)*)\.example\.se$")


# --- the world file ------------------------------------------------------------------------------


class WorldError(ValueError):
    """The world file cannot be used; ``problems`` holds one readable line per problem."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s) in the demo world:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0)]


def _problem(kind: str, message: str, **ctx: object) -> PydanticCustomError:
    """A validation error whose message is formatted here (pydantic only knows plain {key})."""
    return PydanticCustomError(kind, message.format(**ctx))


class EmailProfile(_Model):
    """How one municipality answers e-mail; every share is a probability per question.

    ``delay_*`` describe the person's answer: its delay counted in business hours (office time
    only, 08–17 on working days) is lognormal with median ``delay_median_hours`` and
    ``delay_spread`` the standard deviation of its logarithm (0 = always the median; 1 = a tenth
    of the answers slower than 3.6 × the median), clamped to ``[delay_min_hours,
    delay_max_hours]``. Keep ``delay_max_hours`` below the campaign's give-up limit (10 working
    days = 90 business hours by default) or a late answer counts as none. ``delay_min_hours`` is
    at least a quarter of an hour so a receipt or holding reply always comes first.
    """

    delay_median_hours: Annotated[float, Field(gt=0.0)]
    delay_spread: Annotated[float, Field(ge=0.0, le=3.0)]
    delay_min_hours: Annotated[float, Field(ge=0.25)] = 0.25
    delay_max_hours: Annotated[float, Field(gt=0.0)] = 80.0
    share_receipt: Share  # an automatic receipt (case system, contact centre auto-reply) first
    share_holding: Share  # a person's holding reply ("vi återkommer") first
    share_never: Share  # no person ever answers (a receipt or holding reply may still come)
    share_officer: Share  # the answer comes from the case officer's own address
    share_broken_threading: Share  # the answer has no In-Reply-To/References and a new subject
    share_junk: Share  # each mail, independently, is filed in Junk by our spam filter

    @model_validator(mode="after")
    def _delay_order(self) -> Self:
        if not self.delay_min_hours <= self.delay_median_hours <= self.delay_max_hours:
            raise _problem(
                "delay_order",
                "need delay_min_hours <= delay_median_hours <= delay_max_hours "
                "(got {low} <= {median} <= {high})",
                low=self.delay_min_hours,
                median=self.delay_median_hours,
                high=self.delay_max_hours,
            )
        return self


class PhoneProfile(_Model):
    """How one municipality's switchboard behaves; see :func:`sample_call` for the sampling.

    Outcomes of a call, shares of *all* calls placed: ``share_busy`` (busy signal),
    ``share_unanswered`` (rings out: nobody picks up within the 60 s ring timeout) and
    ``share_no_person`` (an IVR or queue picks up but no person comes within the 5-minute hold
    limit); the rest reach a person. ``ring_seconds`` is the uniform range of ringing before
    pick-up (answered calls). Of the calls that reach a person, ``share_ivr`` pass an IVR or
    queue first, for a uniform ``queue_seconds`` from pick-up to the person (below 5 min); the
    others are picked up by a person at once. ``direct_answer`` is the probability that the
    person answers the question in the call (kkik-method: transfers allowed, no call-back), and
    ``bemotande`` the weights of the assessment levels 0 (dålig), 1 (medelgod), 2 (god) and
    3 (mycket god), summing to 1.
    """

    ring_seconds: tuple[Seconds, Seconds]
    share_busy: Share
    share_unanswered: Share
    share_no_person: Share
    share_ivr: Share
    queue_seconds: tuple[Seconds, Seconds]
    direct_answer: Share
    bemotande: tuple[Share, Share, Share, Share]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, limit in (
            ("ring_seconds", RING_TIMEOUT_SECONDS),
            ("queue_seconds", HOLD_LIMIT_SECONDS),
        ):
            low, high = getattr(self, name)
            if not low <= high < limit:
                raise _problem(
                    "range",
                    "{name} must be [low, high] with low <= high < {limit:g} (got [{low}, {high}])",
                    name=name,
                    limit=limit,
                    low=low,
                    high=high,
                )
        failed = self.share_busy + self.share_unanswered + self.share_no_person
        if failed > 1.0 + 1e-9:
            raise _problem(
                "shares_sum",
                "share_busy + share_unanswered + share_no_person must be at most 1 (got {sum:g})",
                sum=failed,
            )
        if abs(sum(self.bemotande) - 1.0) > 1e-6:
            raise _problem(
                "weights_sum",
                "bemotande weights for 0, 1, 2, 3 must sum to 1 (got {sum:g})",
                sum=sum(self.bemotande),
            )
        return self


class WorldMunicipality(_Model):
    """One municipality of the demo world: identity, addresses and its two profiles."""

    kommunkod: str
    name: str
    organisation: str | None = None  # how it signs: "Östersunds kommun" (derived when left out)
    email: str  # kommun@<slug>.example.se: the world must never mail a real address
    switchboard: str  # Swedish format, "063-14 30 00"; see switchboard_e164
    summary: str = ""
    email_profile: EmailProfile
    phone_profile: PhoneProfile

    @field_validator("kommunkod", mode="before")
    @classmethod
    def _code(cls, value: object) -> str:
        if not isinstance(value, str) or value not in municipalities():
            raise _problem(
                "kommunkod",
                "kommunkod must be a known 4-digit SCB code written as a string, e.g. "
                '"2380" (got {value!r})',
                value=value,
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _SLUG_ADDRESS.fullmatch(value):
            raise _problem(
                "world_email",
                "email must be kommun@<slug>.example.se (got {value!r})",
                value=value,
            )
        return value

    @field_validator("switchboard")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            normalise_phone(value)
        except PydanticCustomError:
            raise _problem(
                "phone_number",
                "switchboard must be a valid Swedish number, e.g. 063-14 30 00 (got {value!r})",
                value=value,
            ) from None
        return value

    @model_validator(mode="after")
    def _official_name(self) -> Self:
        official = municipalities()[self.kommunkod].name
        if self.name != official:
            raise _problem(
                "kommun_name",
                "name {name!r} is not the official name of {code} ({official!r})",
                name=self.name,
                code=self.kommunkod,
                official=official,
            )
        return self

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def slug(self) -> str:
        return self.domain.partition(".")[0]

    @property
    def signs_as(self) -> str:
        """The organisation's name in signatures: "Östersunds kommun", "Åre kommun"."""
        if self.organisation:
            return self.organisation
        vowel_or_s = self.name[-1].casefold() in "aeiouyåäös"
        return f"{self.name}{'' if vowel_or_s else 's'} kommun"

    @property
    def switchboard_e164(self) -> str:
        return normalise_phone(self.switchboard)


class World(_Model):
    """The demo world: the campaign it is meant for and its municipalities (``[[targets]]``)."""

    name: str
    description: str = ""
    campaign: Annotated[str, Field(min_length=1)] = "KKiK-demo hösten 2026"
    period_start: date = date(2026, 10, 5)
    period_end: date = date(2026, 11, 13)
    emails_per_target: Annotated[int, Field(ge=1)] = 18
    calls_per_target: Annotated[int, Field(ge=1)] = 18
    # The campaign's own closed days (a staff day, a klämdag): written into the demo's scenario
    # so the plan avoids them, and nobody in the world answers on them.
    extra_closed_days: tuple[date, ...] = ()
    targets: tuple[WorldMunicipality, ...]

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: tuple[WorldMunicipality, ...]) -> tuple[WorldMunicipality, ...]:
        if not value:
            raise _problem("empty", "the world needs at least one municipality in [[targets]]")
        for key in ("kommunkod", "email", "switchboard"):
            seen: set[str] = set()
            for municipality in value:
                item = getattr(municipality, key)
                if item in seen:
                    raise _problem("duplicate", "{key} {item!r} appears twice", key=key, item=item)
                seen.add(item)
        return value

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.period_end < self.period_start:
            raise _problem(
                "period_order",
                "period_end {end} is before period_start {start}",
                end=self.period_end.isoformat(),
                start=self.period_start.isoformat(),
            )
        return self

    def calendar(self, base: WorkCalendar | None = None) -> WorkCalendar:
        """The calendar the world's people work by: ``base`` (the configured one, the default
        Swedish calendar without it) with the world's own closed days added.

        The same calendar decides when they answer (:func:`add_business_time`) and whether that
        was in time (:func:`answered_within`), so the truth honours the closed days the harness
        must honour too.
        """
        return (base if base is not None else WorkCalendar()).with_closed_days(
            self.extra_closed_days
        )

    def municipality(self, kommunkod: str) -> WorldMunicipality:
        """The municipality with this kommunkod; KeyError when the world has none."""
        for municipality in self.targets:
            if municipality.kommunkod == kommunkod:
                return municipality
        raise KeyError(kommunkod)

    def by_address(self, address: str) -> WorldMunicipality:
        """The municipality whose e-mail address this is (case-insensitive); KeyError if none."""
        for municipality in self.targets:
            if municipality.email == address.strip().casefold():
                return municipality
        raise KeyError(address)


def _where(location: tuple[int | str, ...]) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_world(path: str | Path) -> World:
    """Read and validate a world file; :class:`WorldError` lists every problem found."""
    shown = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorldError(shown, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorldError(shown, [f"cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise WorldError(shown, [f"TOML syntax: {exc}"]) from None
    except RecursionError:  # a = [[[[...]]]]: tomllib recurses once per level
        raise WorldError(shown, ["TOML syntax: arrays or tables nested too deeply"]) from None
    try:
        return World.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _where(tuple(err["loc"]))
            message = err["msg"].removeprefix("Value error, ")
            got = "" if err["type"] in {"missing", "extra_forbidden"} else err.get("input")
            shown_value = f" (got {got!r})" if isinstance(got, str | int | float) else ""
            if "(got" in message:
                shown_value = ""
            problems.append(f"{where}: {message}{shown_value}" if where else message)
        raise WorldError(shown, problems) from None


def _ascii_slug(name: str) -> str:
    """ "Upplands Väsby" -> "upplands-vasby": the name folded to the address's slug alphabet."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.casefold()).strip("-")


def generate_world(
    seed: int,
    kommunkoder: Iterable[str] | None = None,
    *,
    name: str = "Generated national world",
    campaign: str = "KKiK-demo nationell",
    period_start: date = date(2026, 10, 5),
    period_end: date = date(2026, 11, 13),
    emails_per_target: int = 18,
    calls_per_target: int = 18,
    extra_closed_days: tuple[date, ...] = (),
) -> World:
    """A world of many municipalities (all 290 by default) with profiles drawn from ``seed``.

    For benchmarks and scale tests, where writing a profile per municipality by hand is
    pointless: each municipality gets plausible shares and delays drawn from ranges wide enough
    that every branch of the world (receipts, holding replies, junk, broken threading, no reply;
    busy, unanswered, queues, no person) occurs. Switchboards are unique 010 numbers built from
    the kommunkod (010-1AB CD 00) and addresses ``kommun@<name>.example.se``, so the world passes
    the same validation as a world file. The same seed gives the same world.
    """
    rng = random.Random(f"{seed}-world")
    known = municipalities()
    codes = sorted(known) if kommunkoder is None else list(kommunkoder)
    slugs: set[str] = set()
    targets = []
    for code in codes:
        official = known[code].name
        slug = _ascii_slug(official) or f"k{code}"
        if slug in slugs:  # two names folding to one slug: keep addresses unique
            slug = f"{slug}-{code}"
        slugs.add(slug)
        weights = [rng.uniform(0.0, 1.0) for _ in range(4)]
        total = sum(weights)
        median = rng.uniform(1.0, 12.0)
        email_profile = EmailProfile(
            delay_median_hours=round(median, 2),
            delay_spread=round(rng.uniform(0.2, 1.0), 2),
            delay_max_hours=round(max(median, rng.uniform(20.0, 80.0)), 2),
            share_receipt=round(rng.uniform(0.0, 0.9), 2),
            share_holding=round(rng.uniform(0.0, 0.5), 2),
            share_never=round(rng.uniform(0.0, 0.2), 2),
            share_officer=round(rng.uniform(0.2, 0.8), 2),
            share_broken_threading=round(rng.uniform(0.0, 0.3), 2),
            share_junk=round(rng.uniform(0.0, 0.1), 2),
        )
        ring_low = rng.uniform(2.0, 10.0)
        queue_low = rng.uniform(5.0, 60.0)
        phone_profile = PhoneProfile(
            ring_seconds=(round(ring_low, 1), round(ring_low + rng.uniform(0.0, 20.0), 1)),
            share_busy=round(rng.uniform(0.0, 0.1), 2),
            share_unanswered=round(rng.uniform(0.0, 0.1), 2),
            share_no_person=round(rng.uniform(0.0, 0.1), 2),
            share_ivr=round(rng.uniform(0.0, 1.0), 2),
            queue_seconds=(round(queue_low, 1), round(queue_low + rng.uniform(0.0, 200.0), 1)),
            direct_answer=round(rng.uniform(0.4, 0.95), 2),
            bemotande=(
                weights[0] / total,
                weights[1] / total,
                weights[2] / total,
                1.0 - (weights[0] + weights[1] + weights[2]) / total,
            ),
        )
        targets.append(
            WorldMunicipality(
                kommunkod=code,
                name=official,
                email=f"kommun@{slug}.example.se",
                switchboard=f"010-1{code[:2]} {code[2:]} 00",
                email_profile=email_profile,
                phone_profile=phone_profile,
            )
        )
    return World(
        name=name,
        campaign=campaign,
        period_start=period_start,
        period_end=period_end,
        emails_per_target=emails_per_target,
        calls_per_target=calls_per_target,
        extra_closed_days=extra_closed_days,
        targets=tuple(targets),
    )


# --- business time -------------------------------------------------------------------------------


def add_business_time(start: datetime, delta: timedelta, calendar: WorkCalendar) -> datetime:
    """The earliest instant at which ``delta`` of office time has passed since ``start`` (UTC).

    Office time is the calendar's: ``office_start``–``office_end`` on working days, in its zone.
    A start outside office hours begins counting at the next opening; a budget that runs out
    exactly at closing time ends there, not at the next opening. For any ``delta`` > 0,
    ``calendar.business_seconds(start, result) == delta``.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be time-zone aware (got naive {start.isoformat()})")
    if delta < timedelta(0):
        raise ValueError(f"delta must not be negative (got {delta})")
    start_utc = start.astimezone(UTC)
    if delta == timedelta(0):
        return start_utc
    remaining = delta
    day = start_utc.astimezone(calendar.tz).date()
    for _ in range(3700):  # ten years of days: a calendar with no working day is a bug
        if calendar.is_working_day(day):
            opening, closing = (t.astimezone(UTC) for t in calendar.office_interval(day))
            begin = max(opening, start_utc)
            if begin < closing:
                available = closing - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("the calendar has no working day in ten years")


def _ceil_second(instant: datetime) -> datetime:
    if instant.microsecond == 0:
        return instant
    return instant.replace(microsecond=0) + timedelta(seconds=1)


# --- questions and mails -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSent:
    """One question that left our server, as the world sees it.

    ``persona_address`` is the plus-address the question's Reply-To carried
    (``anna.lindqvist+TOKEN@domain``); ``accepted_at`` is when our server accepted it (aware).
    ``area`` (question bank area, e.g. "bygglov") only flavours the answer's text and title.
    """

    probe_id: int
    message_id: str
    reply_token: str
    persona_name: str
    persona_address: str
    subject: str
    body: str
    target_address: str
    accepted_at: datetime
    area: str | None = None

    def __post_init__(self) -> None:
        if self.accepted_at.tzinfo is None or self.accepted_at.utcoffset() is None:
            raise ValueError("accepted_at must be time-zone aware")
        if not (self.message_id.startswith("<") and self.message_id.endswith(">")):
            raise ValueError(f"message_id must be written with <>: {self.message_id!r}")
        local = self.persona_address.partition("@")[0]
        if local.partition("+")[2] != self.reply_token:
            raise ValueError(
                f"persona_address {self.persona_address!r} must be the plus-address "
                f"carrying the reply token {self.reply_token!r}"
            )

    @classmethod
    def from_job(
        cls, job: DispatchJob, accepted_at: datetime, *, area: str | None = None
    ) -> QuestionSent:
        """The question a :class:`~probes.base.DispatchJob` became once our server took it."""
        if job.message_id is None or job.reply_token is None:
            raise ValueError("the job needs its Message-ID and reply token")
        return cls(
            probe_id=job.probe_id,
            message_id=job.message_id,
            reply_token=job.reply_token,
            persona_name=job.persona.name,
            persona_address=plus_address(job.persona.address, job.reply_token),
            subject=job.subject,
            body=job.body,
            target_address=job.recipient,
            accepted_at=accepted_at,
            area=area,
        )

    @classmethod
    def from_raw(
        cls,
        *,
        probe_id: int,
        raw: bytes,
        accepted_at: datetime,
        reply_token: str | None = None,
        area: str | None = None,
    ) -> QuestionSent:
        """The question as it left our server (the bytes ``build_question`` wrote).

        The reply token is read from the Reply-To plus-address when not given.
        """
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        sender = msg["From"].addresses[0] if msg["From"] else None
        reply_to = msg["Reply-To"].addresses[0].addr_spec if msg["Reply-To"] else None
        if sender is None or reply_to is None:
            raise ValueError("the question needs a From and a Reply-To (plus-address) header")
        token = reply_token or reply_to.partition("@")[0].partition("+")[2]
        body = msg.get_body(("plain",))
        return cls(
            probe_id=probe_id,
            message_id=str(msg["Message-ID"] or "").strip(),
            reply_token=token,
            persona_name=sender.display_name,
            persona_address=reply_to,
            subject=str(msg["Subject"] or ""),
            body=body.get_content() if isinstance(body, EmailMessage) else "",
            target_address=msg["To"].addresses[0].addr_spec if msg["To"] else "",
            accepted_at=accepted_at,
            area=area,
        )

    @property
    def bare_address(self) -> str:
        """The persona's address without the token."""
        local, _, domain = self.persona_address.rpartition("@")
        return f"{local.partition('+')[0]}@{domain}"

    @property
    def first_name(self) -> str:
        return self.persona_name.split()[0] if self.persona_name.split() else ""


class MailKind(StrEnum):
    RECEIPT = "receipt"  # automatic: case-system receipt or contact centre auto-reply
    HOLDING = "holding"  # a person defers ("vi återkommer"): not an answer by default
    ANSWER = "answer"  # a person answers: the one that counts


@dataclass(frozen=True)
class WorldMail:
    """One mail the municipality sends us, and where and when it lands."""

    kind: MailKind
    arrive_at: datetime  # UTC, whole seconds: our server's Received stamp
    folder: Folder
    raw: bytes
    message_id: str
    sender: str
    to: str
    threaded: bool  # carries In-Reply-To/References with our Message-ID
    variant: str  # which template wrote it (for humans reading a demo log)


@dataclass(frozen=True)
class EmailResponse:
    """Everything the world does with one question, and the truth the harness must find."""

    probe_id: int
    accepted_at: datetime
    mails: tuple[WorldMail, ...]  # in arrival order
    answered_at: datetime | None  # arrival of the first counting answer (holding never counts)
    delay: timedelta | None  # the sampled business delay of the answer

    @property
    def answer(self) -> WorldMail | None:
        return next((m for m in self.mails if m.kind is MailKind.ANSWER), None)

    @property
    def first_human_reply_at(self) -> datetime | None:
        """The truth when holding replies count (``email.count_holding_replies = true``)."""
        human = [m.arrive_at for m in self.mails if m.kind is not MailKind.RECEIPT]
        return min(human, default=None)


def answered_within(
    response: EmailResponse,
    calendar: WorkCalendar,
    days: int = 1,
    rule: DeadlineRule = DeadlineRule.OFFICE_HOURS,
) -> bool:
    """The world's truth for "answered within ``days`` working days" (False when unanswered).

    Computed from the world's own instants (acceptance and the answer's arrival) with
    ``WorkCalendar.within``; nothing the harness stored is read.
    """
    if response.answered_at is None:
        return False
    return calendar.within(response.accepted_at, response.answered_at, days, rule)


# --- text material -------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Karin", "Eva", "Lena", "Maria", "Helena", "Ulrika", "Malin", "Åsa", "Ingrid", "Sofia",
    "Camilla", "Therese", "Erik", "Johan", "Mikael", "Peter", "Fredrik", "Jonas", "Björn",
    "Göran", "Magnus", "Stefan", "Daniel", "Per",
)  # fmt: skip
_LAST_NAMES = (
    "Ström", "Nilsson", "Persson", "Olsson", "Eriksson", "Jonsson", "Lund", "Hägglund",
    "Sjöberg", "Öberg", "Åslund", "Bäckström", "Forsberg", "Lindqvist", "Hansson", "Wikström",
    "Jämtgård", "Mattsson", "Sundqvist", "Holmgren",
)  # fmt: skip
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})

# (title under the officer's name, the unit a holding reply forwards to, one answering sentence)
_AREAS: dict[str, tuple[str, str, str]] = {
    "bygglov": (
        "Bygglovshandläggare",
        "bygglovsenheten",
        "Det du beskriver räknas normalt som en lovpliktig åtgärd, men i vissa fall räcker det "
        "med en anmälan om åtgärden uppfyller villkoren för attefallsåtgärder.",
    ),
    "forskola": (
        "Placeringshandläggare, förskola",
        "förskoleavdelningen",
        "Du ansöker om förskoleplats i e-tjänsten, och vi erbjuder en plats senast fyra månader "
        "efter det datum då din ansökan kom in.",
    ),
    "grundskola": (
        "Skoladministratör",
        "barn- och utbildningsförvaltningen",
        "Skolvalet görs i e-tjänsten under januari, och alla elever som bor i kommunen har rätt "
        "till en plats i en skola nära hemmet.",
    ),
    "ifo": (
        "Socialsekreterare",
        "socialtjänsten",
        "Du kan ansöka om ekonomiskt bistånd i socialtjänstens e-tjänst eller på blankett, och "
        "vi gör då en bedömning utifrån hela hushållets situation.",
    ),
    "miljo-och-halsa": (
        "Miljö- och hälsoskyddsinspektör",
        "miljö- och hälsoskyddsenheten",
        "Verksamheten ska anmälas till miljöenheten innan den startar, och avgiften tas ut "
        "enligt kommunens taxa för tillsyn.",
    ),
    "gator-och-vagar": (
        "Gatuingenjör",
        "gatuenheten",
        "Gatorna snöröjs i den ordning kommunen har bestämt, där huvudgator och busslinjer "
        "plogas först och lokalgatorna därefter.",
    ),
    "aldreomsorg": (
        "Biståndshandläggare",
        "biståndsenheten",
        "Hemtjänst söker du hos biståndshandläggaren, som utreder ditt behov tillsammans med dig "
        "innan beslut fattas.",
    ),
    "lss": (
        "LSS-handläggare",
        "LSS-enheten",
        "En ansökan om insats enligt LSS görs skriftligt, och en handläggare utreder sedan vilka "
        "insatser som kan bli aktuella i ditt fall.",
    ),
    "ovrigt": (
        "Bibliotekarie",
        "kultur- och fritidsförvaltningen",
        "Biblioteket har öppet även kvällar och helger, och du kan låna om dina böcker själv "
        "via webbplatsen eller appen.",
    ),
}
_DEFAULT_AREA = ("Handläggare", "rätt förvaltning", "")
_ANSWER_SENTENCES = (
    "Handläggningstiden är normalt två till fyra veckor från det att vi har fått in alla "
    "handlingar.",
    "Avgiften bestäms av den taxa som kommunfullmäktige har beslutat och framgår av beslutet.",
    "Blanketten och mer information finns på kommunens webbplats, där du även kan se hur långt "
    "handläggningen har kommit.",
    "Om du bifogar en enkel skiss eller beskrivning blir det lättare för oss att ge ett snabbt "
    "och korrekt besked.",
    "Beslutet kan överklagas inom tre veckor, och hur det går till står alltid i slutet av "
    "beslutet.",
    "Det finns ingen särskild kö för detta, utan vi tar ärendena i den ordning de kommer in.",
    "Reglerna är desamma i hela kommunen, så det spelar ingen roll i vilken del av kommunen du "
    "bor.",
)
_OPENERS = ("Tack för din fråga.", "Tack för ditt mejl.", "")
_CLOSERS = ("Hör gärna av dig igen om något är oklart.", "Lycka till!", "")
_NEW_SUBJECTS = (
    "Svar på din fråga",
    "Din fråga till kommunen",
    "Information om det du frågade",
    "Angående din fråga",
)
_SIGN_OFFS = ("Med vänlig hälsning", "Med vänliga hälsningar", "Vänliga hälsningar", "Hälsningar")
_WEEKDAYS = ("mån", "tis", "ons", "tors", "fre", "lör", "sön")
_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
_MONTHS_SHORT = (
    "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec.",
)  # fmt: skip


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    domain: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def address(self) -> str:
        local = f"{self.first}.{self.last}".casefold().translate(_FOLD)
        return f"{local}@{self.domain}"


@dataclass(frozen=True)
class _Draft:
    """What a template decided: the rest of the message is the same for every kind."""

    variant: str
    sender: Address
    to: str
    subject: str
    text: str
    host: str  # the municipality's machine that wrote it (Message-ID, relay hop)
    threaded: bool
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class _Writer:
    """Writes one question's mails; holds what every template needs."""

    question: QuestionSent
    rng: random.Random
    calendar: WorkCalendar
    our_host: str
    organisation: str
    switchboard: str | None
    domain: str
    sequence: int = 0

    # --- helpers ---

    def person(self) -> _Person:
        return _Person(self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES), self.domain)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.calendar.tz)

    def message_id(self, kind: MailKind, at: datetime, host: str) -> str:
        self.sequence += 1
        tag = f"{self.question.probe_id}{kind.value[0]}{self.sequence}"
        return f"<{self.local(at):%Y%m%d%H%M%S}.{tag}.{self.rng.getrandbits(40):010x}@{host}>"

    def case_number(self, prefix: str) -> str:
        year = self.local(self.question.accepted_at).year
        return f"{prefix} {year}/{self.rng.randint(100, 2999)}"

    def greeting(self) -> str:
        first = self.question.first_name
        options = (f"Hej {first}!", f"Hej {first},", "Hej!") if first else ("Hej!", "Hej,")
        return self.rng.choice(options)

    def area(self) -> tuple[str, str, str]:
        return _AREAS.get(self.question.area or "", _DEFAULT_AREA)

    def quote(self, style: str) -> str:
        """The question below the reply, as a mail client quotes it."""
        q = self.question
        sent = self.local(q.accepted_at)
        body = q.body.strip("\n")
        if style == "outlook":
            return (
                "\n\n________________________________\n"
                f"Från: {q.persona_name} <{q.persona_address}>\n"
                f"Skickat: den {sent.day} {_MONTHS[sent.month - 1]} {sent.year} {sent:%H:%M}\n"
                f"Till: {q.target_address}\n"
                f"Ämne: {q.subject}\n\n{body}\n"
            )
        if style == "forwarded":  # the officer got it from the registry and pasted it below
            return (
                "\n\n-----Ursprungligt meddelande-----\n"
                f"Från: {q.persona_name} <{q.persona_address}>\n"
                f"Skickat: den {sent.day} {_MONTHS[sent.month - 1]} {sent.year} {sent:%H:%M}\n"
                f"Till: {q.target_address}\n"
                f"Ämne: {q.subject}\n\n{body}\n"
            )
        if style == "gmail":
            quoted = "\n".join(f"> {line}".rstrip() for line in body.split("\n"))
            wrote = (
                f"Den {_WEEKDAYS[sent.weekday()]} {sent.day} {_MONTHS_SHORT[sent.month - 1]} "
                f"{sent.year} kl. {sent:%H:%M} skrev {q.persona_name} <{q.persona_address}>:"
            )
            return f"\n\n{wrote}\n{quoted}\n"
        return "\n"

    def signature(self, person: _Person, title: str) -> str:
        lines = [self.rng.choice(_SIGN_OFFS), person.name, title, self.organisation]
        if self.switchboard and self.rng.random() < 0.5:
            lines.append(f"Växel: {self.switchboard}")
        return "\n".join(lines)

    def build(
        self, kind: MailKind, arrive_at: datetime, folder: Folder, draft: _Draft
    ) -> WorldMail:
        """A complete message as our server stores it, with both Received hops."""
        rng = self.rng
        written = arrive_at - timedelta(seconds=rng.randint(2, 90))
        relay = f"mail.{self.domain}"
        relay_ip = f"192.0.2.{rng.randint(10, 250)}"
        queue_id = "".join(rng.choice(_QUEUE_ID_CHARS) for _ in range(14))
        message_id = self.message_id(kind, written, draft.host)
        msg = EmailMessage(policy=SMTP)
        msg["Return-Path"] = f"<{draft.sender.addr_spec}>"
        msg["Delivered-To"] = draft.to
        if folder == "Junk":
            # What a spam filter that files mail in Junk adds; the harness must still see an
            # answer to our question in it (probes.email_classify, ``ours``).
            msg["X-Spam-Flag"] = "YES"
            msg["X-Spam-Score"] = f"{rng.uniform(5.1, 9.5):.1f}"
            msg["X-Spam-Level"] = "*****"
        msg["Received"] = (
            f"from {relay} ({relay} [{relay_ip}]) by {self.our_host} (Postfix) with ESMTPS id "
            f"{queue_id} for <{draft.to}>; {format_datetime(self.local(arrive_at))}"
        )
        msg["Received"] = (
            f"from {draft.host} (10.20.{rng.randint(1, 9)}.{rng.randint(10, 99)}) by {relay} "
            f"(10.20.1.10) with Microsoft SMTP Server id 15.2.1544.11; "
            f"{format_datetime(self.local(written + timedelta(seconds=1)))}"
        )
        msg["From"] = draft.sender
        msg["To"] = Address(self.question.persona_name, addr_spec=draft.to)
        msg["Subject"] = draft.subject
        msg["Date"] = format_datetime(self.local(written))
        msg["Message-ID"] = message_id
        if draft.threaded:
            msg["In-Reply-To"] = self.question.message_id
            msg["References"] = self.question.message_id
        for name, value in draft.extra:
            msg[name] = value
        msg.set_content(draft.text, charset="utf-8", cte=rng.choice(("quoted-printable", "8bit")))
        return WorldMail(
            kind=kind,
            arrive_at=arrive_at,
            folder=folder,
            raw=msg.as_bytes(),
            message_id=message_id,
            sender=draft.sender.addr_spec,
            to=draft.to,
            threaded=draft.threaded,
            variant=draft.variant,
        )

    # --- the three kinds ---

    def receipt(self, arrive_at: datetime, folder: Folder) -> WorldMail:
        return self.build(MailKind.RECEIPT, arrive_at, folder, self._receipt())

    def _receipt(self) -> _Draft:
        q, org, rng, domain = self.question, self.organisation, self.rng, self.domain
        variant = rng.choice(("public360", "platina", "autoreply", "noreply"))
        if variant == "public360":
            number = self.case_number("KS")
            return _Draft(
                variant=variant,
                sender=Address(f"{org} Registrator", addr_spec=f"registrator@{domain}"),
                to=q.persona_address,
                subject=f"Ditt ärende har registrerats - {number}",
                text=(
                    f"Hej!\n\nDitt ärende har registrerats med ärendenummer {number}. Ange "
                    "ärendenumret om du kontaktar oss igen.\n\nDetta är ett automatiskt "
                    f"genererat meddelande och går inte att svara på.\n\n{org}\n"
                ),
                host=f"p360.{domain}",
                threaded=False,
                extra=(("Auto-Submitted", "auto-generated"), ("X-Mailer", "Public 360")),
            )
        if variant == "platina":
            number = self.case_number("KS")
            return _Draft(
                variant=variant,
                sender=Address(org, addr_spec=f"registrator@{domain}"),
                to=q.persona_address,
                subject=f"Bekräftelse: {q.subject}",
                text=(
                    f"Tack för ditt meddelande till {org}.\n\nDitt ärende har registrerats med "
                    f"ärendenummer {number} och lämnats till berörd handläggare.\n\n"
                    f"Med vänliga hälsningar\n{org}\nKommunkansliet\n"
                ),
                host=f"platina.{domain}",
                threaded=True,
            )
        if variant == "autoreply":
            phone = f" på {self.switchboard}" if self.switchboard else ""
            return _Draft(
                variant=variant,
                sender=Address(org, addr_spec=q.target_address),
                to=q.persona_address,
                subject=f"Automatiskt svar: {q.subject}",
                text=(
                    f"Tack för ditt mejl till {org}!\n\nVi har tagit emot ditt meddelande och "
                    "besvarar det så snart vi kan, i regel inom två arbetsdagar. Är det "
                    f"brådskande är du välkommen att ringa kontaktcenter{phone}.\n\n"
                    f"Detta är ett automatiskt svar.\n\n{org}\nKontaktcenter\n"
                ),
                host=f"exch01.{domain}",
                threaded=True,
                extra=(("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")),
            )
        number = f"KC-{rng.randint(10000, 99999)}"
        return _Draft(
            variant=variant,
            sender=Address(f"Kontaktcenter {org}", addr_spec=f"noreply@{domain}"),
            to=q.persona_address,
            subject="Vi har tagit emot ditt meddelande",
            text=(
                f"Hej!\n\nVi har tagit emot ditt meddelande och det har fått nummer {number}. "
                "Vi besvarar normalt e-post inom två arbetsdagar.\n\nSvara inte på detta "
                f"meddelande.\n\nVänliga hälsningar\nKontaktcenter\n{org}\n"
            ),
            host=f"crm.{domain}",
            threaded=False,
        )

    def holding(self, arrive_at: datetime, folder: Folder) -> WorldMail:
        return self.build(MailKind.HOLDING, arrive_at, folder, self._holding())

    def _holding(self) -> _Draft:
        q, org, rng = self.question, self.organisation, self.rng
        person = self.person()
        _, unit, _ = self.area()
        variant = rng.choice(("kontaktcenter", "forwarded", "registrar"))
        subject = f"{rng.choice(('SV', 'Re', 'RE'))}: {q.subject}"
        host = f"exch01.{self.domain}"
        if variant == "kontaktcenter":
            sender = Address(f"Kontaktcenter {org}", addr_spec=q.target_address)
            text = (
                f"{self.greeting()}\n\nTack för ditt mejl. Vi har skickat din fråga vidare "
                f"till {unit}. Vi återkommer så snart vi kan.\n\n"
                f"Med vänlig hälsning\n{person.name}\nKontaktcenter\n{org}\n"
                f"{self.quote(rng.choice(('outlook', 'none')))}"
            )
        elif variant == "forwarded":
            sender = Address(person.name, addr_spec=person.address)
            text = (
                f"{self.greeting()}\n\nJag har vidarebefordrat ditt mejl till en handläggare "
                f"på {unit} som kommer att kontakta dig.\n\n"
                f"{rng.choice(_SIGN_OFFS)}\n{person.name}\n{org}\n"
                f"{self.quote(rng.choice(('outlook', 'gmail', 'none')))}"
            )
        else:  # a registrar types the registry wording herself: a person's holding reply
            number = self.case_number("Dnr")
            sender = Address(person.name, addr_spec=person.address)
            text = (
                f"{self.greeting()}\n\nDitt ärende har registrerats med diarienummer {number}. "
                "En handläggare kommer att kontakta dig inom en vecka.\n\n"
                f"Med vänlig hälsning\n{person.name}\nRegistrator\n{org}\n"
            )
        return _Draft(variant, sender, q.persona_address, subject, text, host, threaded=True)

    def answer(
        self, arrive_at: datetime, folder: Folder, *, officer: bool, broken: bool
    ) -> WorldMail:
        return self.build(MailKind.ANSWER, arrive_at, folder, self._answer(officer, broken))

    def _answer(self, officer: bool, broken: bool) -> _Draft:
        q, org, rng = self.question, self.organisation, self.rng
        person = self.person()
        title, _, area_sentence = self.area()
        pool = list(_ANSWER_SENTENCES)
        rng.shuffle(pool)
        sentences = [area_sentence] if area_sentence else []
        sentences += pool[: rng.randint(1, 2) if area_sentence else rng.randint(2, 3)]
        paragraph = " ".join(s for s in (rng.choice(_OPENERS), *sentences) if s)
        closer = rng.choice(_CLOSERS)
        body = f"{self.greeting()}\n\n{paragraph}\n\n" + (f"{closer}\n\n" if closer else "")
        if officer:
            sender = Address(person.name, addr_spec=person.address)
            signature = self.signature(person, title)
        else:
            sender = Address(org, addr_spec=q.target_address)
            signature = self.signature(person, "Kontaktcenter")
        to_token = rng.random() < 0.5
        style = rng.choice(("outlook", "gmail", "none"))
        who = "officer" if officer else "mailbox"
        if broken:
            # A new mail: to our plus-address (the token finds the probe), or to the bare address
            # with the question pasted below (the quoted text and sender domain find it).
            subject = rng.choice(_NEW_SUBJECTS)
            to = q.persona_address if to_token else q.bare_address
            quote = "\n" if to_token else self.quote("forwarded")
            variant = f"{who}_new_mail_{'token' if to_token else 'quoted'}"
        else:
            subject = f"{rng.choice(('SV', 'Re', 'RE'))}: {q.subject}"
            to = q.persona_address
            quote = self.quote(style)
            variant = f"{who}_reply"
        extra: tuple[tuple[str, str], ...] = (("Content-Language", "sv-SE"),)
        if style == "outlook":
            extra += (("X-Mailer", "Microsoft Outlook 16.0"),)
        return _Draft(
            variant,
            sender,
            to,
            subject,
            f"{body}{signature}\n{quote}",
            f"exch0{rng.randint(1, 3)}.{self.domain}",
            threaded=not broken,
            extra=extra,
        )


def _sample_delay(profile: EmailProfile, rng: random.Random) -> timedelta:
    hours = rng.lognormvariate(math.log(profile.delay_median_hours), profile.delay_spread)
    hours = min(max(hours, profile.delay_min_hours), profile.delay_max_hours)
    return timedelta(seconds=round(hours * 3600))


def email_responses(
    question: QuestionSent,
    profile: EmailProfile | WorldMunicipality,
    rng: random.Random,
    calendar: WorkCalendar,
    our_host: str,
    *,
    organisation: str | None = None,
) -> EmailResponse:
    """The mails the municipality sends back to ``question``, and the truth (module docstring).

    ``profile`` is an :class:`EmailProfile`, or a :class:`WorldMunicipality` (then its profile,
    its signing name and switchboard are used). ``organisation`` is how people sign ("Östersunds
    kommun"); without it, and without a municipality, signatures say "Kommunen".
    ``our_host`` is the name our receiving server stamps in ``Received: ... by {our_host}``.
    """
    switchboard = None
    if isinstance(profile, WorldMunicipality):
        if question.target_address.casefold() != profile.email:
            raise ValueError(
                f"question {question.probe_id} went to {question.target_address}, "
                f"not to {profile.name} ({profile.email})"
            )
        organisation = organisation or profile.signs_as
        switchboard = profile.switchboard
        profile = profile.email_profile
    accepted = question.accepted_at.astimezone(UTC)
    writer = _Writer(
        question=question,
        rng=rng,
        calendar=calendar,
        our_host=our_host,
        organisation=organisation or "Kommunen",
        switchboard=switchboard,
        domain=question.target_address.rpartition("@")[2].casefold(),
    )
    # Every decision is drawn every time, in this order, so one question's draws never depend on
    # which branches the previous questions took more than through the shared generator.
    receipt = rng.random() < profile.share_receipt
    holding = rng.random() < profile.share_holding
    never = rng.random() < profile.share_never
    officer = rng.random() < profile.share_officer
    broken = rng.random() < profile.share_broken_threading
    delay = _sample_delay(profile, rng)
    receipt_after = timedelta(seconds=rng.uniform(5.0, 120.0))
    holding_share = rng.uniform(0.15, 0.6)
    holding_alone = timedelta(hours=rng.uniform(0.25, 4.0))
    folders: list[Folder] = [
        "Junk" if rng.random() < profile.share_junk else "INBOX" for _ in "rha"
    ]

    mails: list[WorldMail] = []
    if receipt:
        mails.append(writer.receipt(_ceil_second(accepted + receipt_after), folders[0]))
    if holding:
        after = max(timedelta(minutes=10), delay * holding_share) if not never else holding_alone
        at = _ceil_second(add_business_time(accepted, after, calendar))
        mails.append(writer.holding(at, folders[1]))
    answered_at = None
    if not never:
        answered_at = _ceil_second(add_business_time(accepted, delay, calendar))
        mails.append(writer.answer(answered_at, folders[2], officer=officer, broken=broken))
    mails.sort(key=lambda m: m.arrive_at)
    return EmailResponse(
        probe_id=question.probe_id,
        accepted_at=accepted,
        mails=tuple(mails),
        answered_at=answered_at,
        delay=None if never else delay,
    )


# --- phone ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallBehaviour:
    """How the switchboard treats one call (maps onto the Twilio simulator's script).

    ``ring_seconds`` is None for a busy line and for a call nobody picks up (it rings until the
    caller's timeout). ``person_after`` counts from pick-up: 0 is a person answering at once, more
    an IVR or queue first, None nobody within the hold limit. ``direct_answer`` and ``bemotande``
    (0–3) are the assessment, None when no person was reached.
    """

    outcome: Literal["busy", "no_answer", "answer"]
    ring_seconds: float | None
    person_after: float | None
    direct_answer: bool | None
    bemotande: int | None


def sample_call(profile: PhoneProfile, rng: random.Random) -> CallBehaviour:
    """One call's behaviour under ``profile``; always draws the same number of values."""
    outcome_draw = rng.random()
    ring = rng.uniform(*profile.ring_seconds)
    via_ivr = rng.random() < profile.share_ivr
    queue = rng.uniform(*profile.queue_seconds)
    direct = rng.random() < profile.direct_answer
    level = rng.choices((0, 1, 2, 3), weights=profile.bemotande)[0]
    busy = profile.share_busy
    unanswered = busy + profile.share_unanswered
    no_person = unanswered + profile.share_no_person
    if outcome_draw < busy:
        return CallBehaviour("busy", None, None, None, None)
    if outcome_draw < unanswered:
        return CallBehaviour("no_answer", None, None, None, None)
    if outcome_draw < no_person:
        return CallBehaviour("answer", ring, None, None, None)
    return CallBehaviour("answer", ring, queue if via_ivr else 0.0, direct, level)

"""The simulated world of the offline demo: the world file, its model and validation (pure).

``scenarios/demo/world.toml`` describes a handful of municipalities, each with an e-mail profile
(how fast a person answers, whether a case-system receipt or a holding reply comes first, how
often nobody answers, ...) and a phone profile. This module holds that file's model
(:class:`World`, :class:`WorldMunicipality`, :class:`EmailProfile`, :class:`PhoneProfile`) and
:func:`load_world`, which reads and validates it. What the world does with it lives beside it:
:mod:`harness.demo.world_mail` writes, for one question we sent, the mails the municipality
sends back, with the instants they reach our mailbox and the truth the harness must measure;
:mod:`harness.demo.world_calls` turns the phone profile into one call's behaviour;
:mod:`harness.demo.world_generate` builds a world in code.

Everything in the world is pure: no clock, no network, no file I/O except :func:`load_world`
reading the TOML. All randomness comes from the ``random.Random`` the caller passes in, and every
question draws the same number of random values in the same order, so the same seed gives the
same bytes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.core.config import normalise_phone
from harness.core.scenario import municipalities
from results.calendar import WorkCalendar

__all__ = [
    "HOLD_LIMIT_SECONDS",
    "RING_TIMEOUT_SECONDS",
    "EmailProfile",
    "PhoneProfile",
    "World",
    "WorldError",
    "WorldMunicipality",
    "load_world",
]

#: A call answered by an IVR or queue with no person within this many seconds is "no person"
#: (kkik-method Part A: hold limit 5 min).
HOLD_LIMIT_SECONDS = 300.0
#: A call not picked up within this many seconds is "no answer" (Part A: ring timeout 60 s).
RING_TIMEOUT_SECONDS = 60.0

_SLUG_ADDRESS = re.compile(r"^kommun@([a-z0-9]+(?:-[a-z0-9]+)*)\.example\.se$")


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
    """How one municipality's switchboard behaves; each call is sampled from it by
    :func:`~harness.demo.world_calls.sample_call`.

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

        The same calendar decides when they answer
        (:func:`~harness.demo.business_time.add_business_time`) and whether that was in time
        (:func:`~harness.demo.mail_model.answered_within`), so the truth honours the closed days
        the harness must honour too.
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

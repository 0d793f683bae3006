"""Campaign scenario files: what quality staff write to describe an autumn measurement.

A scenario (TOML, in ``scenarios/``) has a ``[campaign]`` table (period, weekdays, windows,
counts, spacing, give-up limit, question bank), ``[[personas]]`` (the residents who ask) and
``[[targets]]`` (municipalities by SCB kommunkod, optionally with the weekly opening hours of the
main library, swimming hall and recycling centre in ``[targets.opening_hours.FACILITY]``, one
list of ``"HH:MM-HH:MM"`` spans per day). It is read into frozen pydantic models that
reject unknown keys; problems are reported like configuration problems, one line each with file,
field, problem and value, in the user's language.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.core.config import ConfigError, normalise_phone, read_toml, validation_problems
from probes.email_headers import header_safe
from results.measures import FACILITIES, Facility
from results.other_measures import DAYS, Span

Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
AREAS = (
    "bygglov",
    "forskola",
    "grundskola",
    "ifo",
    "miljo-och-halsa",
    "gator-och-vagar",
    "aldreomsorg",
    "lss",
    "ovrigt",
)
FOREIGN_NUMBERS = "allow_foreign_numbers"
_SPAN = re.compile(r"(\d{2}):(\d{2}) *[-–] *(\d{2}):(\d{2})")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    county_code: str
    county: str


@cache
def municipalities() -> dict[str, Municipality]:
    """The 290 municipalities by kommunkod (SCB), shipped as data."""
    text = resources.files("harness").joinpath("data/kommuner.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        r["municipality_code"]: Municipality(
            r["municipality_code"], r["municipality_name"], r["county_code"], r["county_name"]
        )
        for r in rows
    }


def _fail(kind: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, kind, ctx)


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    # HH:MM as people write it; HH:MM:SS is how a stored scenario snapshot reads back.
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}(:00)?", value):
        hours, minutes = int(value[:2]), int(value[3:5])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise _fail("clock_time")


def header_text(value: str) -> str:
    """Text that goes into a mail header: no line break or other control character (L4)."""
    if not header_safe(value):
        raise _fail("control_characters")
    return value


HeaderText = Annotated[str, AfterValidator(header_text)]


def valid_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.fullmatch(value) or len(value) > 254:
        raise _fail("email_address")
    return value.lower()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Model):
    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse(cls, value: object) -> time:
        return _clock(value)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.end <= self.start:
            raise _fail("window_order", start=self.start.strftime("%H:%M"))
        return self


class CampaignSpec(_Model):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    edition: Literal["2011", "2016", "2018"] = "2018"
    period_start: date
    period_end: date
    weekdays: tuple[Weekday, ...] = WEEKDAYS
    send_window: Window = Window(start=time(9), end=time(16))
    call_window: Window = Window(start=time(9), end=time(16))
    emails_per_target: Annotated[int, Field(ge=0, le=200)] = 18
    calls_per_target: Annotated[int, Field(ge=0, le=200)] = 18
    min_spacing_minutes: Annotated[int, Field(ge=0, le=1440)] = 60
    max_calls_per_target_per_day: Annotated[int, Field(ge=1, le=20)] = 2
    max_emails_per_target_per_day: Annotated[int, Field(ge=1, le=20)] = 2
    give_up_working_days: Annotated[int, Field(ge=1, le=60)] = 10
    extra_closed_days: tuple[date, ...] = ()
    question_bank: str = "questions"
    areas: tuple[str, ...] = AREAS
    seed: int = 2026
    # A switchboard abroad is called only when the scenario says so (issue 15, L4).
    allow_foreign_numbers: bool = False

    @field_validator("period_end")
    @classmethod
    def _after_start(cls, value: date, info: Any) -> date:
        start = info.data.get("period_start")
        if start is not None and value < start:
            raise _fail("period_order", start=start.isoformat())
        return value

    @field_validator("weekdays")
    @classmethod
    def _some_day(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise _fail("empty_list")
        return value

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for area in value:
            if area not in AREAS:
                raise _fail("unknown_area", area=area, known=", ".join(AREAS))
        return value


class PersonaSpec(_Model):
    name: Annotated[HeaderText, Field(min_length=1, max_length=200)]  # the From: display name
    address: str

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return valid_email(value)


def _opening_span(value: object) -> str:
    """``"08:00-19:00"`` (a hyphen or an en dash) as ``"08:00-19:00"``; 24:00 ends a day."""
    match = _SPAN.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sh < 24 and sm < 60 and em < 60 and (eh < 24 or (eh, em) == (24, 0)):
            if eh * 60 + em <= sh * 60 + sm:
                raise _fail("opening_span_order")
            return f"{sh:02d}:{sm:02d}-{eh:02d}:{em:02d}"
    raise _fail("opening_span")


def span_minutes(span: str) -> Span:
    """A validated ``"HH:MM-HH:MM"`` as minutes since midnight."""
    start, end = span.split("-")
    return int(start[:2]) * 60 + int(start[3:]), int(end[:2]) * 60 + int(end[3:])


def _known_keys(value: object, known: tuple[str, ...], kind: str) -> None:
    if isinstance(value, dict):
        for key in value:
            if key not in known:
                raise _fail(kind, name=key, known=", ".join(known))


OpeningSpan = Annotated[str, BeforeValidator(_opening_span)]


class WeeklyHours(_Model):
    """One facility's opening spans in a normal week; a day left out is closed."""

    monday: tuple[OpeningSpan, ...] = ()
    tuesday: tuple[OpeningSpan, ...] = ()
    wednesday: tuple[OpeningSpan, ...] = ()
    thursday: tuple[OpeningSpan, ...] = ()
    friday: tuple[OpeningSpan, ...] = ()
    saturday: tuple[OpeningSpan, ...] = ()
    sunday: tuple[OpeningSpan, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        _known_keys(value, DAYS, "unknown_day")
        return value

    @field_validator(*DAYS)
    @classmethod
    def _no_overlap(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spans = sorted(value, key=span_minutes)
        for first, second in pairwise(spans):
            if span_minutes(second)[0] < span_minutes(first)[1]:
                raise _fail("opening_overlap", first=first, second=second)
        return value

    def schedule(self) -> dict[str, tuple[Span, ...]]:
        """Minutes since midnight per day, for :mod:`results.other_measures`."""
        return {day: tuple(span_minutes(s) for s in getattr(self, day)) for day in DAYS}


class OpeningHours(_Model):
    """Weekly opening hours per facility; a facility left out is not known (no value)."""

    library: WeeklyHours | None = None
    swimming_hall: WeeklyHours | None = None
    recycling_centre: WeeklyHours | None = None

    @model_validator(mode="before")
    @classmethod
    def _facilities(cls, value: object) -> object:
        _known_keys(value, FACILITIES, "unknown_facility")
        return value

    def schedules(self) -> dict[Facility, dict[str, tuple[Span, ...]]]:
        out: dict[Facility, dict[str, tuple[Span, ...]]] = {}
        for facility in FACILITIES:
            week: WeeklyHours | None = getattr(self, facility)
            if week is not None:
                out[facility] = week.schedule()
        return out


class TargetSpec(_Model):
    kommunkod: str
    name: str | None = None
    email: str | None = None
    extra_reply_domains: tuple[str, ...] = ()
    switchboard: str | None = None
    placeholder: bool = False
    opening_hours: OpeningHours | None = None

    @field_validator("kommunkod", mode="before")
    @classmethod
    def _code(cls, value: object) -> str:
        # A TOML integer 180 is how "0180" gets mangled; refuse it rather than guess.
        if not isinstance(value, str) or value not in municipalities():
            raise _fail("kommunkod")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else valid_email(value)

    @field_validator("switchboard")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        number = normalise_phone(value)  # refuses premium-rate numbers too
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
        # load_scenario passes the campaign's setting; validated without it, refuse: a call
        # abroad costs more and is rarely meant.
        if region != "SE" and not (info.context or {}).get(FOREIGN_NUMBERS):
            raise _fail("foreign_number", region=region)
        return number

    @model_validator(mode="after")
    def _name_matches(self) -> Self:
        official = municipalities()[self.kommunkod].name
        if self.name is not None and self.name.casefold() != official.casefold():
            raise _fail("kommun_name", code=self.kommunkod, official=official, name=self.name)
        if self.email is None and self.switchboard is None:
            raise _fail("target_no_channel")
        return self

    @property
    def official_name(self) -> str:
        return municipalities()[self.kommunkod].name


class Scenario(_Model):
    campaign: CampaignSpec
    # Not Field(min_length=1): pydantic would also report an empty list when an item failed.
    personas: tuple[PersonaSpec, ...]
    targets: tuple[TargetSpec, ...]

    @field_validator("personas", "targets")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise _fail("empty_list")
        return value

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, value: tuple[TargetSpec, ...]) -> tuple[TargetSpec, ...]:
        seen: set[str] = set()
        for target in value:
            if target.kommunkod in seen:
                raise _fail("duplicate_target", code=target.kommunkod)
            seen.add(target.kommunkod)
        return value

    @property
    def min_spacing(self) -> timedelta:
        return timedelta(minutes=self.campaign.min_spacing_minutes)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ConfigError listing every problem."""
    data = read_toml(path)
    # A target's number is judged by a campaign setting; a value that is not true (or not a
    # boolean: reported on campaign.allow_foreign_numbers) keeps foreign numbers refused.
    campaign = data.get("campaign")
    allow = isinstance(campaign, dict) and campaign.get(FOREIGN_NUMBERS) is True
    try:
        return Scenario.model_validate(data, context={FOREIGN_NUMBERS: allow})
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, str(path), Scenario)) from None

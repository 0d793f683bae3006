"""The campaigns side of ``kkik doctor``: are the saved campaigns' targets real, and is there
time left to contact them?

Per campaign with contacts still to make: its period must not be over, no target may be a
placeholder from the template (the runner would refuse every contact with it), every target
with e-mail questions planned needs an address and every one with calls planned a switchboard
number, the channel itself must be configured, and each address and number must pass the
scenario's own rules again (a valid address, a Swedish number unless the campaign allows
foreign ones, never a premium-rate number).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from harness.campaign.doctor.check import Check
from harness.campaign.readiness import CampaignState, campaign_states
from harness.core.config import Settings, validation_problems
from harness.core.config_messages import format_problem
from harness.core.i18n import Lang, Text
from harness.core.scenario import FOREIGN_NUMBERS, TargetSpec
from harness.store.models import Campaign, Channel, Probe, ProbeState, Target

T = {
    "none": Text(
        "ingen kampanj sparad ännu: spara en plan med `kkik plan SCENARIO --save`",
        "no campaign saved yet: save a plan with `kkik plan SCENARIO --save`",
    ),
    "ready": Text(
        "{campaign}: perioden {start}–{end}, {targets}, kvar: {left}",
        "{campaign}: period {start}–{end}, {targets}, still to go: {left}",
    ),
    "finished": Text(
        "{campaign}: perioden {start}–{end}, inget kvar att skicka",
        "{campaign}: period {start}–{end}, nothing left to send",
    ),
    "left": Text("{emails} och {calls}", "{emails} and {calls}"),
    "period_over": Text(
        "{campaign}: perioden slutade {end}, men {left} är kvar och kommer aldrig att skickas: "
        "ge scenariot en ny period (campaign.period_start och period_end) och spara planen igen",
        "{campaign}: the period ended {end}, but {left} are left and will never be sent: give "
        "the scenario a new period (campaign.period_start and period_end) and save the plan "
        "again",
    ),
    "placeholders": Text(
        "{campaign}: {names}: platshållare från mallen, kontaktas aldrig; skriv in kommunernas "
        "riktiga adresser och växelnummer i scenariot, ta bort placeholder = true och spara "
        "planen igen",
        "{campaign}: {names}: placeholder from the template, never contacted; put the "
        "municipalities' real addresses and switchboard numbers in the scenario, remove "
        "placeholder = true and save the plan again",
    ),
    "no_address": Text(
        "{campaign}: {target}: ingen e-postadress, med {planned} kvar att skicka: ange email i "
        "scenariot och spara planen igen",
        "{campaign}: {target}: no e-mail address, with {planned} still to send: set email in "
        "the scenario and save the plan again",
    ),
    "no_switchboard": Text(
        "{campaign}: {target}: inget växelnummer, med {planned} kvar att ringa: ange "
        "switchboard i scenariot och spara planen igen",
        "{campaign}: {target}: no switchboard number, with {planned} still to make: set "
        "switchboard in the scenario and save the plan again",
    ),
    "no_mail": Text(
        "{campaign}: {planned} kvar att skicka, men konfigurationen har ingen [mail]-del",
        "{campaign}: {planned} still to send, but the configuration has no [mail] section",
    ),
    "no_phone": Text(
        "{campaign}: {planned} kvar att ringa, men konfigurationen har ingen [phone]-del",
        "{campaign}: {planned} still to make, but the configuration has no [phone] section",
    ),
}


# "1 samtal", "2 e-postfrågor": one and many, per thing counted.
COUNTED = {
    Channel.EMAIL: (
        Text("e-postfråga", "e-mail question"),
        Text("e-postfrågor", "e-mail questions"),
    ),
    Channel.PHONE: (Text("samtal", "call"), Text("samtal", "calls")),
    "target": (Text("kommun", "municipality"), Text("kommuner", "municipalities")),
}


def counted(n: int, what: Channel | str, lang: Lang) -> str:
    return f"{n} {COUNTED[what][n != 1](lang)}"


# Probes still planned, per (target id, channel).
Planned = dict[tuple[int | None, Channel], int]


@dataclass(frozen=True)
class Campaigns:
    checks: list[Check]
    addresses: list[str]  # the real targets' e-mail addresses, for the MX check


def campaigns(engine: Engine, settings: Settings, lang: Lang, today: date) -> Campaigns:
    # What kkik run itself checks before it starts (placeholders with work left, the period),
    # read the same way; and, per target and channel, what is still planned.
    states = {state.name: state for state in campaign_states(engine)}
    with Session(engine) as session:
        saved = list(
            session.exec(
                select(Campaign).where(Campaign.status != "cancelled").order_by(col(Campaign.id))
            ).all()
        )
        targets = list(session.exec(select(Target).order_by(col(Target.kommunkod))).all())
        rows = session.exec(
            select(Probe.target_id, Probe.channel, func.count())
            .where(Probe.state == ProbeState.PLANNED)
            .group_by(col(Probe.target_id), col(Probe.channel))
        ).all()
    planned: Planned = {(target_id, Channel(channel)): n for target_id, channel, n in rows}
    if not saved:
        return Campaigns([Check("campaign", "warning", T["none"](lang))], [])
    checks: list[Check] = []
    for campaign in saved:
        own = [t for t in targets if t.campaign_id == campaign.id]
        state = states[campaign.name]
        checks += _campaign(campaign, state, own, planned, settings, lang, today)
    addresses = [t.email_address for t in targets if t.email_address and not t.placeholder]
    return Campaigns(checks, addresses)


def _campaign(
    campaign: Campaign,
    state: CampaignState,
    targets: list[Target],
    planned: Planned,
    settings: Settings,
    lang: Lang,
    today: date,
) -> list[Check]:
    name = campaign.name
    period = {"start": campaign.period_start.isoformat(), "end": campaign.period_end.isoformat()}
    if not state.planned:
        return [Check("campaign", "ok", T["finished"](lang, campaign=name, **period))]
    to_go = Counter[Channel]()
    for target in targets:
        for channel in Channel:
            to_go[channel] += planned.get((target.id, channel), 0)
    left = T["left"](
        lang,
        emails=counted(to_go[Channel.EMAIL], Channel.EMAIL, lang),
        calls=counted(to_go[Channel.PHONE], Channel.PHONE, lang),
    )
    problems: list[str] = []
    if state.period_over(today):
        problems.append(T["period_over"](lang, campaign=name, left=left, end=period["end"]))
    for channel, missing, key in (
        (Channel.EMAIL, settings.mail is None, "no_mail"),
        (Channel.PHONE, settings.phone is None, "no_phone"),
    ):
        if missing and to_go[channel]:
            planned_here = counted(to_go[channel], channel, lang)
            problems.append(T[key](lang, campaign=name, planned=planned_here))
    if state.placeholders:
        names = ", ".join(state.placeholders)
        problems.append(T["placeholders"](lang, campaign=name, names=names))
    allow_foreign = campaign.scenario.get("campaign", {}).get(FOREIGN_NUMBERS) is True
    for target in targets:
        if not target.placeholder:
            problems += _target(name, target, planned, allow_foreign, lang)
    if problems:
        return [Check("campaign", "error", text) for text in problems]
    municipalities = counted(len(targets), "target", lang)
    ready = T["ready"](lang, campaign=name, targets=municipalities, left=left, **period)
    return [Check("campaign", "ok", ready)]


def _target(
    campaign: str,
    target: Target,
    planned: Planned,
    allow_foreign: bool,
    lang: Lang,
) -> list[str]:
    shown = _shown(target)
    problems = []
    emails, calls = planned.get((target.id, Channel.EMAIL)), planned.get((target.id, Channel.PHONE))
    if emails and not target.email_address:
        planned_here = counted(emails, Channel.EMAIL, lang)
        problems.append(
            T["no_address"](lang, campaign=campaign, target=shown, planned=planned_here)
        )
    if calls and not target.switchboard_number:
        planned_here = counted(calls, Channel.PHONE, lang)
        problems.append(
            T["no_switchboard"](lang, campaign=campaign, target=shown, planned=planned_here)
        )
    # The scenario's own rules for an address and a number, as when the plan was saved.
    spec = {
        "kommunkod": target.kommunkod,
        "email": target.email_address,
        "switchboard": target.switchboard_number,
    }
    if target.email_address or target.switchboard_number:
        try:
            TargetSpec.model_validate(spec, context={FOREIGN_NUMBERS: allow_foreign})
        except ValidationError as exc:
            where = f"{campaign}: {shown}"
            found = validation_problems(exc, where, TargetSpec)
            problems += [format_problem(problem, lang) for problem in found]
    return problems


def _shown(target: Target) -> str:
    return f"{target.name} ({target.kommunkod})"

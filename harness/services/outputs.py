"""Outputs: a campaign's scores, its exports (CSV, CSV for Swedish Excel, XLSX, JSON, Kolada JSON,
the evidence) and its report, as data and bytes. Nothing is written to a file here: the CLI
writes where it was told (or to :attr:`Exported.filename`), the dashboard sends the bytes as a
download. Columns and formats: ``docs/exports.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from harness.campaign.evidence import NoCampaign, campaign_evidence, imported_national
from harness.campaign.mail_assessments import mail_assessments
from harness.campaign.pending import PendingReview, pending_review
from harness.campaign.reportdata import report_data
from harness.channels.email.settle import replies_by_probe
from harness.core.i18n import Lang
from harness.rules.measurement import scoring_rules, timeline_rules, timing_rules
from harness.services.base import Context, ServiceError
from harness.store.models import Campaign, Message, Probe, ProbeState, Target
from harness.store.othermeasures import find_campaign, other_measure_values
from harness.store.references import published_values
from results.counts import Empty, why_empty
from results.email_log import answer
from results.kolada import KoladaValue
from results.mail_quality import OwnValue, mail_quality
from results.measures import EDITIONS, MEASURES
from results.national import Place, places
from results.reference import Reference, bundled
from results.scoring import Evidence, Score, score

__all__ = [
    "EVIDENCE_COLUMNS",
    "PERSONAL_COLUMNS",
    "CampaignScores",
    "ExportRequest",
    "Exported",
    "Report",
    "campaign_report",
    "campaign_scores",
    "export_campaign",
    "export_filename",
    "report_html",
    "review_pending",
]

#: "csv" and "json" for machines; "csv-excel" and "xlsx" for people (Swedish Excel).
Format = Literal["csv", "csv-excel", "xlsx", "json"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "csv-excel": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EVIDENCE_COLUMNS = (
    "probe_id", "kommunkod", "kommun", "channel", "planned_at", "sent_at", "answered_at",
    "state", "outcome", "fault_reason", "replies", "fault_code",
)  # fmt: skip
PERSONAL_COLUMNS = ("reply_from_name", "reply_from_address")


@dataclass(frozen=True)
class CampaignScores:
    campaign: Campaign
    edition: str
    evidence: list[Evidence]
    scores: list[Score]
    national: tuple[Reference, ...]  # imported figures first, then the bundled ones
    empty: Empty | None  # why no measure has a value; None when some has
    # Every municipality's stored Kolada value of the edition's KPIs (results.national).
    published: tuple[KoladaValue, ...] = ()
    # Replies a person has yet to decide on: until then the scores may change.
    pending: PendingReview = field(default_factory=PendingReview)
    # Our own e-mail measures: sender details, answer quality, unanswered, reply hours.
    own: tuple[OwnValue, ...] = ()

    def places(self) -> dict[tuple[str, str], Place]:
        """Each score beside the country (the campaign's year) and the network."""
        return places(self.scores, MEASURES, self.campaign.year, self.published)


def _no_campaign(name: str | None) -> ServiceError:
    # Without a name the database has no campaign at all: say how to make one.
    return ServiceError("no_campaign", name=name) if name else ServiceError("no_campaign_saved")


def campaign_scores(ctx: Context, name: str | None, edition: str | None = None) -> CampaignScores:
    """Score a stored campaign (the latest when ``name`` is None) by its own rules."""
    if edition is not None and edition not in EDITIONS:
        raise ServiceError("no_edition", edition=edition)
    settings = ctx.settings
    try:
        evidence, campaign = campaign_evidence(
            ctx.engine, name, settings.email.count_holding_replies, timeline_rules(settings)
        )
    except NoCampaign:
        raise _no_campaign(name) from None
    with Session(ctx.engine) as session:  # the plan's size, for why nothing has a value yet
        planned = session.exec(
            select(func.count())
            .select_from(Probe)
            .where(Probe.campaign_id == campaign.id, Probe.state != ProbeState.CANCELLED)
        ).one()
    rules = scoring_rules(settings, campaign, edition)
    scores = score(evidence, rules)
    return CampaignScores(
        campaign=campaign,
        edition=rules.edition,
        evidence=evidence,
        scores=scores,
        national=imported_national(ctx.engine) + bundled(),
        empty=why_empty(evidence, scores, planned),
        published=published_values(
            ctx.engine, {m.kolada_id for m in EDITIONS[rules.edition] if m.kolada_id}
        ),
        pending=pending_review(ctx.engine, campaign),
        own=tuple(
            mail_quality(evidence, mail_assessments(ctx.engine, campaign.id or 0), rules.calendar)
        ),
    )


def review_pending(ctx: Context, name: str | None) -> PendingReview:
    """What awaits review for a stored campaign (the latest when ``name`` is None); nothing when
    there is no campaign. Cheap: for pages that warn before anything is scored."""
    campaign = find_campaign(ctx.engine, name)
    return PendingReview() if campaign is None else pending_review(ctx.engine, campaign)


@dataclass(frozen=True)
class ExportRequest:
    format: Format
    kolada: bool = False  # Kolada-shaped JSON, measures with a Kolada id only
    evidence: bool = False  # one row per probe instead of per municipality and measure
    include_personal_data: bool = False  # the answering sender's name and address
    campaign: str | None = None
    edition: str | None = None
    lang: Lang = "sv"  # of the measure titles in the rows, and of csv-excel's and xlsx's words
    # Write the results although replies await review (the rows then say how many, per
    # municipality); without it such a file is refused, since its values may still change.
    allow_pending: bool = False


@dataclass(frozen=True)
class Exported:
    data: bytes
    rows: int  # rows of the level asked for (per municipality and measure, or per probe)
    media_type: str
    filename: str  # the default file name, also the dashboard's download name
    probe_rows: int = 0  # the XLSX's second sheet: one row per probe beside the results
    campaign: str = ""
    empty: Empty | None = None  # why there is no result to export; None when there is
    pending: PendingReview = field(default_factory=PendingReview)  # written with allow_pending


def export_filename(request: ExportRequest) -> str:
    """The default file name: ``kkik-export.csv``, ``kkik-export-excel.csv``,
    ``kkik-evidence.xlsx``, ``kkik-kolada.json`` …"""
    stem = (
        "kkik-kolada" if request.kolada else "kkik-evidence" if request.evidence else "kkik-export"
    )
    return f"{stem}-excel.csv" if request.format == "csv-excel" else f"{stem}.{request.format}"


def export_campaign(ctx: Context, request: ExportRequest) -> Exported:
    """A campaign's results (or the evidence behind them) in the requested format.

    The XLSX holds a sheet per level: the results and, beside them, the probes (personal data
    only on request); with ``evidence`` only the probes.
    """
    # The writers load openpyxl and Babel: only when a file is made, not for `kkik score`.
    from results.excel import Sheet, excel_csv, workbook
    from results.excel_columns import PERSONAL_COLUMNS as PERSONAL_EXCEL
    from results.excel_columns import PROBE_COLUMNS, RESULT_COLUMNS
    from results.exports import kolada_json, score_rows, to_csv, to_json

    if request.format not in MEDIA:
        raise ServiceError("no_format", format=request.format)
    if request.kolada and request.format != "json":
        raise ServiceError("kolada_format")
    scored = campaign_scores(ctx, request.campaign, request.edition)
    campaign = scored.campaign
    if scored.pending and not request.evidence and not request.allow_pending:
        # The evidence is what it is, pending or not; results may change with a decision.
        raise ServiceError(
            "pending_review",
            replies=scored.pending.replies,
            municipalities=tuple(scored.pending.named()),
            unassigned=scored.pending.unassigned,
        )
    with Session(ctx.engine) as session:
        targets = session.exec(select(Target).where(Target.campaign_id == campaign.id)).all()
    names = {t.kommunkod: t.name for t in targets}
    # Opening hours from the scenario and hand-entered figures: reported, not scored.
    others = other_measure_values(ctx.engine, campaign.id or 0)
    personal = request.include_personal_data
    probes: list[dict[str, Any]] = []
    if request.evidence or request.format == "xlsx":
        probes = _evidence_rows(ctx, campaign.id or 0, names, personal)
    results = score_rows(
        scored.scores, names, campaign.year, scored.edition, request.lang, others,
        placed=scored.places(), awaiting_review=scored.pending.by_municipality, own=scored.own,
    )  # fmt: skip
    rows = probes if request.evidence else results
    probe_columns = PROBE_COLUMNS + (PERSONAL_EXCEL if personal else ())
    lang = request.lang
    if request.kolada:
        data = kolada_json(scored.scores, campaign.year, others)
    elif request.format == "csv":
        machine = EVIDENCE_COLUMNS + (PERSONAL_COLUMNS if personal else ())
        data = to_csv(rows, machine) if request.evidence else to_csv(rows)
    elif request.format == "csv-excel":
        data = excel_csv(rows, probe_columns if request.evidence else RESULT_COLUMNS, lang)
    elif request.format == "xlsx":
        probe_sheet = Sheet("probes", probe_columns, probes)
        sheets = (
            [probe_sheet]
            if request.evidence
            else [Sheet("results", RESULT_COLUMNS, results), probe_sheet]
        )
        data = workbook(sheets, lang)
    else:
        data = to_json(rows)
    # The probe level is empty only without probes; the results say why they have no value.
    empty = (None if probes else Empty("no_probes")) if request.evidence else scored.empty
    return Exported(
        data=data,
        rows=len(rows),
        media_type=MEDIA[request.format],
        filename=export_filename(request),
        probe_rows=len(probes) if request.format == "xlsx" and not request.evidence else 0,
        campaign=campaign.name,
        empty=empty,
        pending=scored.pending,
    )


def _evidence_rows(
    ctx: Context, campaign_id: int, names: dict[str, str], personal: bool
) -> list[dict[str, Any]]:
    """One row per probe; the answer is the reply that counts (results.answer_rule), the same
    one the scores and the e-mail log use."""
    zone = ZoneInfo(ctx.settings.timezone)
    review_below = timing_rules(ctx.settings).review_below
    count_holding = ctx.settings.email.count_holding_replies
    with Session(ctx.engine) as session:
        probes = session.exec(
            select(Probe, Target)
            .join(Target, col(Probe.target_id) == col(Target.id))
            .where(Probe.campaign_id == campaign_id)
            .order_by(col(Probe.planned_at))
        ).all()
        replies = replies_by_probe(session, [p.id for p, _ in probes], review_below)
        counted = {
            found.message_id
            for evidence in replies.values()
            if (found := answer(evidence, count_holding_replies=count_holding)) is not None
        }
        senders = {
            m.id: (m.from_name, m.from_address)
            for m in session.exec(select(Message).where(col(Message.id).in_(counted))).all()
        }
    rows = []
    for probe, target in probes:
        found = answer(replies.get(probe.id or 0, []), count_holding_replies=count_holding)
        row: dict[str, Any] = {
            "probe_id": probe.id,
            "kommunkod": target.kommunkod,
            "kommun": names.get(target.kommunkod, target.name),
            "channel": probe.channel,
            # Aware, in the configured zone: ISO 8601 for machines, wall time for Excel.
            "planned_at": probe.planned_at.astimezone(zone),
            "sent_at": probe.sent_at.astimezone(zone) if probe.sent_at else None,
            "answered_at": found.arrived_at.astimezone(zone)
            if found and found.arrived_at
            else None,
            "state": probe.state,
            "outcome": probe.outcome,
            "fault_reason": probe.fault_reason,  # English, as stored (rows before codes)
            "replies": len(replies.get(probe.id or 0, [])),
            # The reason as a code with parameters (harness.core.labels): worded for people.
            "fault_code": probe.fault_code,
            "fault_params": probe.fault_params,
        }
        if personal:
            name, address = senders.get(found.message_id if found else None, (None, None))
            row["reply_from_name"] = name
            row["reply_from_address"] = address
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Report:
    html: str
    campaign: str  # the campaign's name (the latest one when none was asked for)
    generated_at: datetime


def campaign_report(ctx: Context, campaign: str | None, lang: Lang) -> Report:
    """The campaign's report: one self-contained HTML document (results.report)."""
    try:
        data = report_data(ctx.engine, ctx.settings, campaign, ctx.now())
    except NoCampaign:
        raise _no_campaign(campaign) from None
    from results.report import render  # matplotlib, only when a report is drawn

    return Report(render(data, lang), data.campaign, data.generated_at)


def report_html(ctx: Context, campaign: str | None, lang: Lang) -> str:
    """The campaign's report as HTML text (see :func:`campaign_report`)."""
    return campaign_report(ctx, campaign, lang).html

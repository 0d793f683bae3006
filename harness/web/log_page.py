"""The dashboard's e-mail log: every question with its answer, business hours and verdict;
filtered by municipality (name or code) and verdict, sorted, in pages, and as CSV.

The log is recomputed from the stored evidence once per data version (:mod:`harness.web.derived`):
a national campaign's 5,220 questions take seconds to time, a page of them milliseconds.
"""

from __future__ import annotations

import io
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine, Text, cast, select
from sqlmodel import col

from harness.campaign.by_target import TargetPieces, everything_else, fingerprints
from harness.campaign.evidence import target_email_evidence
from harness.core.config import Settings
from harness.core.labels import MAIL_KINDS, area_label, label
from harness.core.mail_labels import MATCH_METHODS
from harness.rules.measurement import timing_rules
from harness.store.models import Campaign
from harness.web.derived import derived
from harness.web.lang import page_lang
from harness.web.listing import MAX_QUERY, known_targets, match_municipalities, page_of
from harness.web.page_base import engine_of, settings_of, viewer, zone_of
from harness.web.render import localtime, render
from results.calendar import DeadlineRule, WorkCalendar
from results.email_log import LogRow, ProbeEvidence, log_rows
from results.spreadsheet import csv_writer

router = APIRouter()

LOG_COLUMNS = ["probe_id", "kommunkod", "kommun", "area", "sent_at", "answered_at",
               "business_hours", "within_one_working_day", "reply_kind", "matched_by",
               "match_confidence", "acknowledged_at", "case_numbers"]  # fmt: skip


@dataclass(frozen=True)
class _Filtered:
    rows: list[LogRow]
    any_rows: bool  # the log has rows before filtering
    unknown_kommun: bool  # the municipality filter named none of the campaign's
    targets: dict[str, str]


def _log(request: Request, kommun: str, within: str | None, sort: str) -> _Filtered:
    """The e-mail log (made once per data version), filtered by municipality (name or code)
    and verdict, sorted."""
    engine, settings = engine_of(request), settings_of(request)
    pieces: TargetPieces[list[LogRow]] = request.app.state.log_pieces
    rows = derived(request, "email_log", None, lambda: log_of(engine, settings, pieces))
    targets = known_targets(engine)
    wanted = match_municipalities(kommun, targets)
    shown = [r for r in rows if r.kommunkod in wanted] if kommun.strip() else list(rows)
    if within in ("yes", "no"):
        shown = [r for r in shown if r.within_one_working_day is (within == "yes")]
    keys: dict[str, Callable[[LogRow], Any]] = {
        "sent": lambda r: (r.sent_at is None, r.sent_at),
        "hours": lambda r: (r.business_hours is None, r.business_hours or 0.0),
        "kommun": lambda r: (r.kommunkod, r.sent_at),
    }
    shown.sort(key=keys.get(sort, keys["sent"]))
    return _Filtered(shown, bool(rows), bool(kommun.strip()) and not wanted, targets)


def log_of(
    engine: Engine, settings: Settings, pieces: TargetPieces[list[LogRow]] | None = None
) -> list[LogRow]:
    """Every sent e-mail's log row, in the order sent (then by probe), assembled from pieces per
    municipality (:mod:`harness.campaign.by_target`): with ``pieces`` (the app's memo) only the
    municipalities whose evidence changed are made again; without, every one is made."""
    memo: TargetPieces[list[LogRow]] = pieces if pieces is not None else TargetPieces()
    rules = timing_rules(settings)
    # The configured calendar: log_rows adds each probe's own campaign's closed days.
    calendar, rule = rules.calendar, DeadlineRule(settings.email.deadline_rule)
    holding, zone = settings.email.count_holding_replies, settings.timezone
    with engine.connect() as connection:
        prints = fingerprints(connection, None)
        # Beside a municipality's own evidence, its rows depend on the settings, its campaign's
        # closed days (the saved scenarios) and what every piece depends on.
        scenarios = tuple(
            (campaign_id, zlib.crc32((text or "").encode()))
            for campaign_id, text in connection.execute(
                select(col(Campaign.id), cast(col(Campaign.scenario), Text)).order_by(
                    col(Campaign.id)
                )
            )
        )
        context = (calendar, rule, holding, zone, rules.review_below, scenarios,
                   everything_else(connection))  # fmt: skip

    def make(targets: Sequence[int]) -> dict[int, list[LogRow]]:
        found = target_email_evidence(engine, None, None, zone, rules.review_below, targets)
        rows = _log_rows([p for _, p in found], calendar, rule, holding)
        out: dict[int, list[LogRow]] = {target: [] for target in targets}
        for (target, _), row in zip(found, rows, strict=True):
            out[target].append(row)
        return out

    got = memo.pieces(("email_log",), context, prints, make)
    return sorted(
        (row for piece in got.values() for row in piece),
        key=lambda r: (r.sent_at is None, r.sent_at, r.probe_id),
    )


# A log row is a pure function of its probe's evidence (replies, closed days and all) and the
# calendar, deadline rule and holding-reply setting: the rows of the last logs on those settings
# are reused for every probe whose evidence is equal, so a new reply recomputes one row, not
# 3,500 walks through working days, even when every piece is made again (a correction). Keyed
# by content, so it cannot mix databases up.
_LogSettings = tuple[WorkCalendar, DeadlineRule, bool]
_LOG_ROWS: dict[_LogSettings, dict[ProbeEvidence, LogRow]] = {}
_LOG_LOCK = threading.Lock()
_ROWS_KEPT = 100_000  # rows kept per settings at most (a changed probe leaves its old behind)


def _log_rows(
    probes: list[ProbeEvidence], calendar: WorkCalendar, rule: DeadlineRule, holding: bool
) -> list[LogRow]:
    """These probes' rows (some municipalities' pieces): those of equal evidence from the memo,
    the others made; all of them kept in the memo beside the other municipalities' rows."""
    key = (calendar, rule, holding)
    with _LOG_LOCK:
        known = _LOG_ROWS.get(key, {})
    new = [p for p in probes if p not in known]
    made = dict(zip(new, log_rows(new, calendar, rule, count_holding_replies=holding), strict=True))
    rows = [known[p] if p in known else made[p] for p in probes]
    with _LOG_LOCK:
        kept = _LOG_ROWS.pop(key, {})
        if len(kept) > _ROWS_KEPT:
            kept = {}
        kept.update(zip(probes, rows, strict=True))
        _LOG_ROWS[key] = kept
        while len(_LOG_ROWS) > 2:  # the current settings (a changed closed day is a new one)
            del _LOG_ROWS[next(iter(_LOG_ROWS))]
    return rows


@router.get("/email", dependencies=[viewer])
def email_log(
    request: Request, kommun: str = "", within: str = "", sort: str = "sent", page: str = "1"
) -> HTMLResponse:
    found = _log(request, kommun, within, sort)
    zone = zone_of(request)
    lang = page_lang(request)
    paged = page_of(found.rows, page)
    shown = [
        {
            "probe": r.probe_id,
            "kommun": f"{r.kommunkod} {r.target}",
            "area": area_label(r.area, lang),
            "sent": localtime(r.sent_at, zone),
            "answered": localtime(r.answered_at, zone),
            "hours": "–" if r.business_hours is None else f"{r.business_hours:.2f}",
            "within": r.within_one_working_day,
            "kind": label(MAIL_KINDS, r.reply_kind, lang),
            "matched_by": label(MATCH_METHODS, r.matched_by, lang),
            "confidence": r.confidence,
            "replies": r.replies,
            "acknowledged": localtime(r.acknowledged_at, zone),
            "case_numbers": ", ".join(r.case_numbers) or "–",
        }
        for r in paged.rows
    ]
    filters = {"kommun": kommun[:MAX_QUERY], "within": within, "sort": sort}
    return render(
        request,
        "email.html",
        {
            "rows": shown,
            "page": paged,
            "filters": filters,
            "any_rows": found.any_rows,
            "unknown_kommun": found.unknown_kommun,
            "targets": found.targets,
            **filters,
        },
    )


@router.get("/email.csv", dependencies=[viewer])
def email_csv(request: Request, kommun: str = "", within: str = "", sort: str = "sent") -> Response:
    rows = _log(request, kommun, within, sort).rows
    zone = zone_of(request)
    buffer = io.StringIO()
    writer = csv_writer(buffer)  # no cell a spreadsheet runs as a formula (issue 15, M4)
    writer.writerow(LOG_COLUMNS)
    for r in rows:
        writer.writerow([
            r.probe_id, r.kommunkod, r.target, r.area or "",
            r.sent_at.astimezone(zone).isoformat() if r.sent_at else "",
            r.answered_at.astimezone(zone).isoformat() if r.answered_at else "",
            "" if r.business_hours is None else r.business_hours,
            "" if r.within_one_working_day is None else str(r.within_one_working_day).lower(),
            r.reply_kind or "", r.matched_by or "",
            "" if r.confidence is None else f"{r.confidence:.2f}",
            r.acknowledged_at.astimezone(zone).isoformat() if r.acknowledged_at else "",
            " ".join(r.case_numbers),
        ])  # fmt: skip
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="e-postlogg.csv"'},
    )

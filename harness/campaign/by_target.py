"""Derived data kept in pieces per municipality (target), so a change recomputes one, not 290.

During a live campaign every reply and every callback touches one probe, hence one target. The
dashboard's expensive data (the report's scoring rows, evidence lines, scores and own e-mail
measures; the e-mail log's rows) is made per target and assembled from the pieces; a piece is
kept with the *fingerprint* of its target's evidence and made again only when that changes.

A target's fingerprint is read for all targets at once by a few aggregate queries grouped by
target over indexes (nationally 290 rows each, some tens of milliseconds in all):

* its probes, per state: how many, the highest id, and how many have been sent, claimed, given
  an outcome and a CallSid (the runner settles a probe by changing these);
* the replies linked to its probes: how many, the highest and summed ids, the summed probe ids
  (a reply the watcher matches late, or moves, changes them);
* its call events: how many and the highest id (only ever added);
* its calls' assessments, with each answer's values weighted by the row's id (so a changed
  answer shows even without the audit entry that a person's change writes);
* its replies' case numbers and its answers' e-mail assessments: how many, the highest id.

What is not per target goes into the *context* a caller gives with the pieces (the rules, the
campaign's saved scenario, the targets, the newest audit entry: every correction, purge or pause
a person makes): when the context changes, every piece is made again. A fingerprint is read
before the rows its piece is made from, so a piece is never older than the fingerprint it is
kept with: a change between the two reads only makes the next assembly make it again.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, Table, case, func, select
from sqlalchemy.sql import ColumnElement

from harness.store.models import (
    Assessment,
    AuditEntry,
    CallEvent,
    CaseNumber,
    MailAssessment,
    Message,
    Probe,
    Target,
)

P = TypeVar("P")
Fingerprint = tuple[Hashable, ...]
SCOPES = 8  # the newest few scopes (the current campaign, the trend's earlier ones, the log)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def fingerprints(connection: Connection, campaign_id: int | None) -> dict[int, Fingerprint]:
    """Each target's fingerprint (see the module doc), of one campaign's targets or all
    campaigns' (``None``); a target without probes has none (and no evidence)."""
    probe, message, event = _table(Probe), _table(Message), _table(CallEvent)
    assessment, number, mail = _table(Assessment), _table(CaseNumber), _table(MailAssessment)

    def scoped(query: Select[Any]) -> Select[Any]:
        return query if campaign_id is None else query.where(probe.c.campaign_id == campaign_id)

    def per_target(child: Table, *columns: ColumnElement[Any]) -> Select[Any]:
        return scoped(
            select(probe.c.target_id, func.count(child.c.id), func.max(child.c.id), *columns)
            .select_from(child)
            .join(probe, probe.c.id == child.c.probe_id)
            .group_by(probe.c.target_id)
        )

    def weighted(column: ColumnElement[Any]) -> ColumnElement[Any]:
        # The row's id times a code of the value (0: none, 1: false or 0, 2: true or 1, ...):
        # portable between SQLite and PostgreSQL (no arithmetic on booleans).
        return func.sum(assessment.c.id * column)

    def flag(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((column.is_(None), 0), (column.is_(True), 2), else_=1)

    def level(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((column.is_(None), 0), else_=column + 1)

    prints: dict[int, list[Hashable]] = {}
    for row in connection.execute(
        scoped(
            select(
                probe.c.target_id,
                probe.c.state,
                func.count(),
                func.max(probe.c.id),
                func.count(probe.c.sent_at),
                func.count(probe.c.claimed_at),
                func.count(probe.c.outcome),
                func.count(probe.c.call_sid),
            )
            .group_by(probe.c.target_id, probe.c.state)
            .order_by(probe.c.target_id, probe.c.state)
        )
    ):
        prints.setdefault(row[0], ["probes"]).append(tuple(row[1:]))
    queries: list[tuple[str, Select[Any]]] = [
        ("replies", per_target(message, func.sum(message.c.id), func.sum(message.c.probe_id))),
        ("events", per_target(event)),
        (
            "assessments",
            per_target(
                assessment,
                weighted(flag(assessment.c.direct_answer)),
                weighted(level(assessment.c.bemotande)),
                weighted(level(assessment.c.bemotande_2011)),
                weighted(flag(assessment.c.case_officer)),
            ),
        ),
        ("case_numbers", per_target(number)),
        ("mail_assessments", per_target(mail)),
    ]
    for name, query in queries:
        for row in connection.execute(query):
            found = prints.get(row[0])
            if found is not None:  # a probe of another campaign's target: not in the scope
                found.append((name, *row[1:]))
    return {target: tuple(parts) for target, parts in prints.items()}


def everything_else(connection: Connection) -> Fingerprint:
    """What every piece depends on beside its own target's evidence, read from the database:
    the newest audit entry (every correction, assessment, purge or pause a person makes) and
    the targets (codes and names)."""
    audit, target = _table(AuditEntry), _table(Target)
    return (
        tuple(connection.execute(select(func.max(audit.c.id))).one()),
        tuple(connection.execute(select(func.count(), func.max(target.c.id))).one()),
    )


class TargetPieces(Generic[P]):
    """Pieces per target, each kept with its target's fingerprint, per *scope* (what they are
    pieces of: a campaign's report data, the e-mail log) and *context* (what every piece of the
    scope depends on beside its own evidence).

    Per process and database (the dashboard keeps one on its app). Thread-safe: concurrent
    assemblies may both make a piece; each is kept with the fingerprint read before it was
    made, so the memo never holds a piece older than its fingerprint.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[Hashable, tuple[Hashable, dict[int, tuple[Fingerprint, P]]]] = {}
        self.made: Counter[int] = Counter()  # pieces made, by target id (for tests, benchmarks)

    def pieces(
        self,
        scope: Hashable,
        context: Hashable,
        prints: Mapping[int, Fingerprint],
        make: Callable[[Sequence[int]], Mapping[int, P]],
    ) -> dict[int, P]:
        """Every target's piece (the targets of ``prints``): kept ones whose fingerprint and
        context are the same, the others made by ``make(target ids)`` (once, together)."""
        with self._lock:
            kept_context, kept = self._kept.get(scope, (None, {}))
            if kept_context != context:
                kept = {}
        stale = sorted(t for t, fp in prints.items() if t not in kept or kept[t][0] != fp)
        made = make(stale) if stale else {}
        out: dict[int, tuple[Fingerprint, P]] = {
            t: (fp, made[t]) if t in made else kept[t] for t, fp in prints.items()
        }
        with self._lock:
            self.made.update(stale)
            self._kept.pop(scope, None)
            self._kept[scope] = (context, out)
            while len(self._kept) > SCOPES:
                del self._kept[next(iter(self._kept))]
        return {t: piece for t, (_, piece) in out.items()}

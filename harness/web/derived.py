"""What the dashboard derives from the evidence (scores, charts, the e-mail log, the call rows),
computed once per *data version* and kept in a small per-process cache.

The data version is a cheap fingerprint of everything the derived data is computed from: counts
and highest ids of the evidence tables (a new reply, a callback, an assessment, a mark), the
probes' counts per state and their latest claim, send and completion (the runner settling a
probe), the messages' links to probes and review flags (the watcher matching an early reply),
the newest audit entry (every correction, assessment, purge or pause a person makes), the
campaigns' saved scenarios (closed days) and the imported national figures. Reading it is a
handful of aggregate queries over indexes: a few milliseconds even nationally, against seconds
for the scores and charts themselves. A change to any of those makes the next page compute
afresh, so a correction in the review queue or a new reply shows at once; nothing is ever
served from an older version.

The cache is per process (every ``kkik serve`` has its own), bounded (the newest few entries),
and computes each entry once even when several requests ask at the same moment: the others
wait for it rather than repeating seconds of work on a shared machine.

A new version does not mean making everything again: the report data, the e-mail log and the
call rows are assembled from pieces per municipality, each kept (on the app: ``report_pieces``,
``log_pieces``, ``call_pieces``) with a fingerprint of its municipality's evidence
(:mod:`harness.campaign.by_target`), so the first view after a reply or a callback makes one
municipality's piece again and puts the 290 together.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Engine, Text, cast, func, select
from sqlmodel import col
from starlette.background import BackgroundTask
from starlette.responses import Response

from harness.store.models import (
    Assessment,
    AuditEntry,
    CallEvent,
    Campaign,
    MeasureValue,
    Message,
    Probe,
    ReferenceValue,
    Target,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R", bound=Response)
DataVersion = tuple[Hashable, ...]
ENTRIES = 12  # a few kinds of derived data × the two languages, with room for a second version
# What is made in the background waits for the page that asked to be sent, at most this long
# (a page whose sending fails does not hold it up for longer).
AFTER_PAGE_SECONDS = 2.0


def data_version(engine: Engine) -> DataVersion:
    """The fingerprint of the evidence and everything scored from it (see the module doc).

    Only aggregates an index answers: reading the probes' timestamps would scan a table of
    10,000 rows on every page. Call events are only ever added (a purge, which edits them,
    writes an audit entry), so their number and highest id are enough: the number too, since
    two web workers may commit events out of id order on PostgreSQL, and an event committed
    after a higher id leaves the highest id as it was (asked apart: SQLite counts a table from
    its b-tree at once, but not beside a MAX, 0.04 against 4 ms nationally); a probe
    is claimed, sent, completed or failed only by changing its state, so the counts per state
    follow it (a person's reopening is audited)."""
    with engine.connect() as connection:

        def one(*columns: Any) -> tuple[Hashable, ...]:
            return tuple(connection.execute(select(*columns)).one())

        states = tuple(
            tuple(row)
            for row in connection.execute(
                select(col(Probe.state), func.count())
                .group_by(col(Probe.state))
                .order_by(col(Probe.state))
            )
        )
        # The saved scenario holds the campaign's closed days: a checksum of its stored text.
        campaigns = tuple(
            (campaign_id, status, zlib.crc32((text or "").encode()))
            for campaign_id, status, text in connection.execute(
                select(
                    col(Campaign.id), col(Campaign.status), cast(col(Campaign.scenario), Text)
                ).order_by(col(Campaign.id))
            )
        )
        return (
            states,
            one(func.max(Probe.id)),
            one(func.count(), func.max(Message.id)),
            # Over the probe_id index alone: a late match or a reassignment moves these.
            one(func.count(col(Message.probe_id)), func.sum(Message.probe_id)),
            tuple(connection.execute(select(func.count()).where(col(Message.needs_review))).one()),
            one(func.max(CallEvent.id)),
            tuple(connection.execute(select(func.count()).select_from(CallEvent)).one()),
            one(func.count(), func.max(Assessment.id)),
            one(func.max(AuditEntry.id)),
            one(func.count(), func.max(Target.id)),
            campaigns,
            one(
                func.count(),
                func.max(ReferenceValue.id),
                func.sum(ReferenceValue.value),
                func.max(ReferenceValue.imported_at),
            ),
            one(func.count(), func.max(MeasureValue.id)),
        )


class DerivedCache:
    """A bounded, thread-safe cache of derived data by (what, data version, parameters).

    When an entry of a newer version is stored, the entries of older versions of the same kind
    are dropped: they can never be asked for again. A miss is computed by the first request only;
    concurrent requests for the same key wait for its result.
    """

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._values: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Hashable, ...], threading.Lock] = {}
        self.computed = 0  # how many entries were computed (for tests and benchmarks)

    def get(self, what: str, version: DataVersion, params: Hashable, make: Callable[[], T]) -> T:
        key = (what, version, params)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[no-any-return]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._values:  # made by the request this one waited for
                    self._values.move_to_end(key)
                    return self._values[key]  # type: ignore[no-any-return]
            value = make()
            with self._lock:
                for old in [k for k in self._values if k[0] == what and k[1] != version]:
                    del self._values[old]
                self._values[key] = value
                while len(self._values) > self.entries:
                    self._values.popitem(last=False)
                self._computing.pop(key, None)
                self.computed += 1
        return value

    def ready(
        self,
        what: str,
        version: DataVersion,
        params: Hashable,
        make: Callable[[], T],
        after: threading.Event | None = None,
    ) -> T | None:
        """The entry if it is made; otherwise None, and ``make()`` runs in a thread of its own
        (once, however many ask: :meth:`get`'s gate), so a later request finds it made.

        ``after``: the thread waits for it to be set (the page that asked was sent), at most
        :data:`AFTER_PAGE_SECONDS`, so the page does not share the interpreter with its own
        charts while it is made."""
        key = (what, version, params)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[no-any-return]
            if key in self._computing:
                return None  # being made
            self._computing[key] = threading.Lock()

        def draw() -> None:
            if after is not None:
                after.wait(AFTER_PAGE_SECONDS)
            try:
                self.get(what, version, params, make)
            except Exception:  # a request asking for it again will see the error itself
                log.exception("making %s in the background failed", what)
                with self._lock:
                    self._computing.pop(key, None)

        threading.Thread(target=draw, name=f"derived-{what}", daemon=True).start()
        return None


def derived(request: Request, what: str, params: Hashable, make: Callable[[], T]) -> T:
    """``make()``'s value for this request's data version, from the app's cache when it has it.

    The version is read once per request, so every part of one page is of the same version."""
    cache: DerivedCache = request.app.state.derived
    return cache.get(what, _version(request), params, make)


def derived_ready(request: Request, what: str, params: Hashable, make: Callable[[], T]) -> T | None:
    """``make()``'s value for this request's data version if it is made; otherwise None, and it
    is made in the background (:meth:`DerivedCache.ready`), starting once the page is sent
    (:func:`after_page`): for what a page can show later without holding up the rest of it (the
    overview's charts)."""
    cache: DerivedCache = request.app.state.derived
    sent: threading.Event | None = getattr(request.state, "page_sent", None)
    if sent is None:
        sent = request.state.page_sent = threading.Event()
    return cache.ready(what, _version(request), params, make, after=sent)


def after_page(request: Request, response: R) -> R:
    """``response``, which lets what :func:`derived_ready` started for this request begin once
    it is sent (a background task of the response)."""
    sent: threading.Event | None = getattr(request.state, "page_sent", None)
    if sent is not None:
        response.background = BackgroundTask(sent.set)
    return response


def _version(request: Request) -> DataVersion:
    version: DataVersion | None = getattr(request.state, "data_version", None)
    if version is None:
        version = data_version(request.app.state.engine)
        request.state.data_version = version
    return version

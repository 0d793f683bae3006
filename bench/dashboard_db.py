"""The databases the dashboard benchmark serves: the demo's, and a national one made from it.

The demo database is what ``kkik demo`` leaves (seven municipalities × 36 probes, six simulated
weeks through the real runner, mail servers, Twilio simulator and webhooks).

A national campaign run the same way takes about 50 minutes (``bench/bench_national.py``), far
beyond a page benchmark's budget, so the national database is *seeded*: every one of the 290
municipalities gets a copy of one demo municipality's whole evidence (in turn), so its rows have
exactly the shape the real pipeline writes: probes in every end state with their plan keys and
Message-IDs, every stored reply (raw mail, classification, match, arrival), every Twilio callback
and tester mark, the assessments, case numbers and audit entries. Values that must be unique
(Message-IDs, reply tokens, CallSids, dedupe keys, IMAP UIDs) get a per-municipality suffix, and
the sender domains become the municipality's own. One reply in 50 is flagged for review, as a
national campaign's weak matches would be, so the review queue is not empty. The result:
290 × 36 = 10,440 probes, about 7,300 messages and 66,000 call events.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, insert, select

from harness.core.scenario import municipalities
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import (
    Assessment,
    AuditEntry,
    CallEvent,
    Campaign,
    CaseNumber,
    FolderState,
    Message,
    Probe,
    Question,
    Target,
)

REVIEW_EVERY = 50  # one human reply in this many is flagged for review
_ADDRESS = re.compile(r"<([^<>@\s]+)@([^<>\s]+)>")


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(_table(model)))]


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


class _Copy:
    """One municipality's copy of a template municipality's evidence: ids and unique values."""

    def __init__(self, index: int, domain: str, old_domain: str) -> None:
        self.suffix = f"n{index}"
        self.domain = domain
        self.old_domain = old_domain

    def message_ids(self, value: str | None) -> str | None:
        """Every ``<local@host>`` in a header made unique to this copy."""
        if value is None:
            return None
        return _ADDRESS.sub(lambda m: f"<{m.group(1)}.{self.suffix}@{m.group(2)}>", value)

    def sid(self, value: str | None) -> str | None:
        return None if value is None else value + self.suffix

    def host(self, value: str | None) -> str | None:
        return None if value is None else value.replace(self.old_domain, self.domain)


def build_national(demo_db: Path, out: Path, count: int = 290) -> dict[str, int]:
    """Seed a national database at ``out`` from the demo database; return its row counts."""
    source = make_engine(f"sqlite:///{demo_db}")
    engine = make_engine(f"sqlite:///{out}")
    migrate.upgrade(engine)
    campaigns = _rows(source, Campaign)
    questions = _rows(source, Question)
    templates = sorted(_rows(source, Target), key=lambda t: t["id"])
    probes = _rows(source, Probe)
    messages = _rows(source, Message)
    events = _rows(source, CallEvent)
    assessments = _rows(source, Assessment)
    numbers = _rows(source, CaseNumber)
    audit = _rows(source, AuditEntry)
    folders = _rows(source, FolderState)
    source.dispose()
    by_target: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in probes:
        by_target[p["target_id"]].append(p)
    out_rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    out_rows[Campaign] = campaigns
    out_rows[Question] = questions
    next_id = {"probe": 1, "message": 1, "event": 1}
    human = 0
    for index, (code, place) in enumerate(sorted(municipalities().items())[:count]):
        template = templates[index % len(templates)]
        old_domain = str(template["email_address"]).partition("@")[2]
        copy = _Copy(index, f"{_slug(place.name)}.example.se", old_domain)
        target_id = index + 1
        out_rows[Target].append({
            **template, "id": target_id, "kommunkod": code, "name": place.name,
            "email_address": f"kommun@{copy.domain}",
        })  # fmt: skip
        probe_ids: dict[int, int] = {}
        for p in sorted(by_target[template["id"]], key=lambda p: p["id"]):
            probe_ids[p["id"]] = next_id["probe"]
            next_id["probe"] += 1
        for p in by_target[template["id"]]:
            out_rows[Probe].append({
                **p, "id": probe_ids[p["id"]], "target_id": target_id,
                "message_id": copy.message_ids(p["message_id"]),
                "reply_token": p["reply_token"] and p["reply_token"] + copy.suffix,
                "call_sid": copy.sid(p["call_sid"]),
                "plan_key": p["plan_key"] and code + "/" + p["plan_key"].partition("/")[2],
                "replaces_probe_id": probe_ids.get(p["replaces_probe_id"] or -1),
            })  # fmt: skip
        message_ids: dict[int, int] = {}
        for m in messages:
            if m["probe_id"] not in probe_ids:
                continue
            new_id = message_ids[m["id"]] = next_id["message"]
            next_id["message"] += 1
            flagged = False
            if m["classification"] == "human_reply":
                human += 1
                flagged = human % REVIEW_EVERY == 0
            out_rows[Message].append({
                **m, "id": new_id, "probe_id": probe_ids[m["probe_id"]], "uid": new_id,
                "message_id_header": copy.message_ids(m["message_id_header"]),
                "in_reply_to": copy.message_ids(m["in_reply_to"]),
                "references": copy.message_ids(m["references"]),
                "from_address": copy.host(m["from_address"]),
                "needs_review": m["needs_review"] or flagged,
                "review_note": m["review_note"] or ("low_confidence" if flagged else None),
            })  # fmt: skip
        for e in events:
            if e["probe_id"] not in probe_ids:
                continue
            payload = dict(e["payload"])
            for key in ("CallSid", "ParentCallSid"):
                if isinstance(payload.get(key), str):
                    payload[key] = payload[key] + copy.suffix
            out_rows[CallEvent].append({
                **e, "id": next_id["event"], "probe_id": probe_ids[e["probe_id"]],
                "call_sid": copy.sid(e["call_sid"]),
                "parent_call_sid": copy.sid(e["parent_call_sid"]),
                "dedupe_key": f"{e['dedupe_key']}/{copy.suffix}", "payload": payload,
            })  # fmt: skip
            next_id["event"] += 1
        for a in assessments:
            if a["probe_id"] in probe_ids:
                out_rows[Assessment].append({**a, "id": None, "probe_id": probe_ids[a["probe_id"]]})
        for n in numbers:
            if n["probe_id"] in probe_ids:
                out_rows[CaseNumber].append({
                    **n, "id": None, "probe_id": probe_ids[n["probe_id"]],
                    "message_id": message_ids.get(n["message_id"] or -1),
                })  # fmt: skip
        for entry in audit:
            if entry["entity"] == "probe" and int(entry["entity_id"]) in probe_ids:
                new = str(probe_ids[int(entry["entity_id"])])
                out_rows[AuditEntry].append({**entry, "id": None, "entity_id": new})
    out_rows[FolderState] = [{**f, "highest_uid": next_id["message"]} for f in folders]
    with engine.begin() as connection:
        for model in (Campaign, Question, Target, Probe, Message, CallEvent, Assessment,
                      CaseNumber, AuditEntry, FolderState):  # fmt: skip
            rows = out_rows[model]
            for chunk in _chunks(rows, 2000):
                connection.execute(insert(_table(model)), chunk)
    engine.dispose()
    return {model.__name__.lower(): len(rows) for model, rows in out_rows.items()}


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]

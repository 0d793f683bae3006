"""Sentences for what the services report, in Swedish and English, shared by both faces.

The services (``harness.services``) return typed results and raise
:class:`~harness.services.base.ServiceError` with a stable ``code``; they never word anything.
The CLI and the dashboard word it from this table, so a refusal reads the same in a terminal
and in a browser. Each code also says whether it is the user's mistake (exit code 2 in the CLI)
or a state of the world that refuses the action (exit code 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from harness.core.i18n import Lang, Text
from harness.core.labels import CALL_OUTCOMES, PROBE_STATES
from harness.services.base import ServiceError
from harness.services.retention import Purged

if TYPE_CHECKING:
    from harness.campaign.pending import PendingReview

__all__ = ["ERRORS", "LEVELS", "USAGE", "describe"]

LEVELS = {
    3: Text("mycket god", "very good"),
    2: Text("god", "good"),
    1: Text("medelgod", "fair"),
    0: Text("dålig", "poor"),
}
#: Edition 2011's own three-level bemötande scale (the share "god" is its KPI).
LEVELS_2011 = {
    2: Text("god", "good"),
    1: Text("medelgod", "fair"),
    0: Text("dålig", "poor"),
}
OUTCOMES = CALL_OUTCOMES  # how a call ended, worded in harness.core.labels
ERRORS: dict[str, Text] = {
    # calls
    "no_call": Text("Inget samtal med id {probe}.", "No call with id {probe}."),
    "not_call": Text("Mätning {probe} är inget samtal.", "Probe {probe} is not a call."),
    "bad_mark": Text(
        "Okänd markering {what!r}: person eller transfer.",
        "Unknown mark {what!r}: person or transfer.",
    ),
    "not_placed": Text(
        "Samtal {probe} är inte uppringt ({state}).", "Call {probe} has not been placed ({state})."
    ),
    "bad_bemotande": Text(
        "Bemötande ska vara 0–3, inte {value}.", "Treatment must be 0–3, not {value}."
    ),
    "bad_bemotande_2011": Text(
        "Kampanjen följer 2011 års utgåva: bemötandet bedöms som god, medelgod eller dålig "
        "(2, 1 eller 0), inte {value}.",
        "The campaign follows the 2011 edition: treatment is assessed as good, fair or poor "
        "(2, 1 or 0), not {value}.",
    ),
    "automated": Text(
        "Samtal {probe} var automatiskt: direkt svar och bemötande bedöms bara i kopplade samtal.",
        "Call {probe} was automated: direct answer and treatment are assessed on bridged calls "
        "only.",
    ),
    "unfinished": Text(
        "Samtal {probe} pågår eller saknar slutstatus; bedöm när det är klart.",
        "Call {probe} is running or has no final status; assess it when it has ended.",
    ),
    "no_person": Text(
        "Samtal {probe} nådde ingen person ({outcome}); det finns inget att bedöma.",
        "Call {probe} reached no person ({outcome}); there is nothing to assess.",
    ),
    "not_live": Text("Samtal {probe} pågår inte.", "Call {probe} is not live."),
    "hangup_failed": Text(
        "Samtal {probe} kunde inte avslutas: {why}", "Call {probe} could not be ended: {why}"
    ),
    # outputs
    "no_campaign": Text(
        "Ingen kampanj {name!r} i databasen.", "No campaign {name!r} in the database."
    ),
    "no_edition": Text(
        "Okänd KKiK-utgåva {edition!r}: 2011, 2016 eller 2018.",
        "Unknown KKiK edition {edition!r}: 2011, 2016 or 2018.",
    ),
    "no_format": Text(
        "Okänt filformat {format!r}: csv, csv-excel, xlsx eller json.",
        "Unknown file format {format!r}: csv, csv-excel, xlsx or json.",
    ),
    "kolada_format": Text(
        "--kolada skriver JSON; välj --format json", "--kolada writes JSON; use --format json"
    ),
    "pending_review": Text(
        "{replies} svar väntar på granskning och kan ändra resultaten ({municipalities}); "
        "granska dem under Granska i webbgränssnittet först.",
        "{replies} replies await review and may change the results ({municipalities}); "
        "review them under Review in the dashboard first.",
    ),
    # campaign operations
    "no_campaign_saved": Text(
        "Ingen kampanj i databasen; spara en plan med `kkik plan SCENARIO --save`.",
        "No campaign in the database; store a plan with `kkik plan SCENARIO --save`.",
    ),
    "no_target": Text(
        "Kommunkod {code} finns inte i kampanjen.", "No kommunkod {code} in the campaign."
    ),
    "no_probe": Text("Fråga {probe} finns inte.", "No probe {probe}."),
    "not_planned": Text(
        "Fråga {probe} kan inte strykas ({state}); bara planerade frågor kan det.",
        "Probe {probe} cannot be withdrawn ({state}); only planned ones can.",
    ),
    # sends in doubt
    "unknown_probe": Text("Det finns ingen mätning {probe}.", "There is no probe {probe}."),
    "not_flagged": Text(
        "Mätning {probe} väntar inte på ett beslut (läge {state}).",
        "Probe {probe} is not waiting for a decision (state {state}).",
    ),
    "before_claim": Text(
        "Mätning {probe} lämnades över {claimed}; den kan inte ha skickats före det.",
        "Probe {probe} was handed over at {claimed}; it cannot have been sent before that.",
    ),
    "future": Text("{when} ligger i framtiden.", "{when} is in the future."),
    # review
    "no_reason": Text("Ange ett skäl.", "Give a reason."),
    "reason_too_long": Text(
        "Skälet får vara högst {limit} tecken.", "The reason may be at most {limit} characters."
    ),
    "bad_kind": Text("Okänt slag {kind!r}.", "Unknown kind {kind!r}."),
    "no_message": Text("Inget meddelande med id {message}.", "No message with id {message}."),
    "no_email_probe": Text(
        "Ingen e-postmätning med id {probe}.", "No e-mail probe with id {probe}."
    ),
    # e-mail answers judged by a person
    "not_answered": Text(
        "Fråga {probe} har inget svar som räknas; det finns inget att bedöma.",
        "Probe {probe} has no reply that counts; there is nothing to assess.",
    ),
    "field_too_long": Text(
        "{field} får vara högst {limit} tecken.", "{field} may be at most {limit} characters."
    ),
    # retention
    "purge_future": Text(
        "Kan inte rensa det som kommer efter nu ({before}).",
        "Cannot purge what comes after now ({before}).",
    ),
}
# Codes that mean the user asked for something that does not exist or cannot be (exit 2).
USAGE = frozenset(
    {"no_call", "not_call", "bad_mark", "bad_bemotande", "bad_bemotande_2011", "automated"}
    | {"no_campaign", "no_edition", "no_format", "kolada_format", "purge_future"}
    | {"no_reason", "reason_too_long", "bad_kind", "no_message", "no_email_probe"}
    | {"no_target", "no_probe", "not_answered", "field_too_long"}
)


def describe(error: ServiceError, lang: Lang, zone: str = "Europe/Stockholm") -> str:
    """The sentence for ``error`` in ``lang``: an outcome code inside is worded too, and an
    instant is shown on the clock of ``zone``."""
    fields = dict(error.fields)
    outcome = fields.get("outcome")
    if isinstance(outcome, str) and outcome in OUTCOMES:
        fields["outcome"] = OUTCOMES[outcome](lang)
    state = fields.get("state")
    if isinstance(state, str) and state in PROBE_STATES:
        fields["state"] = PROBE_STATES[state](lang)
    field = fields.get("field")
    if isinstance(field, str) and field in SENDER_FIELDS:
        fields["field"] = SENDER_FIELDS[field](lang)
    if error.code == "pending_review":
        unassigned = fields.get("unassigned")
        fields["municipalities"] = pending_text(
            fields.get("municipalities", ()), unassigned if isinstance(unassigned, int) else 0, lang
        )
    for key, value in fields.items():
        if isinstance(value, datetime):
            fields[key] = value.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    text = ERRORS.get(error.code)
    if text is None:  # a code without a sentence is a bug; still say something useful
        return f"{error.code}: {fields}"
    return text(lang, **fields)


_PENDING_NOTE = Text(
    "Obs: {replies} svar väntar på granskning ({municipalities}); värdena kan ändras när de är "
    "granskade.",
    "Note: {replies} replies await review ({municipalities}); the values may change once they "
    "are reviewed.",
)


def pending_note(pending: PendingReview, lang: Lang) -> str:
    """The warning beside results while replies await review (scores, exports, dashboard)."""
    return pending_note_of(pending.replies, pending.named(), pending.unassigned, lang)


def pending_note_of(replies: int, named: Sequence[str], unassigned: int, lang: Lang) -> str:
    """The same from its parts (the report data carries them)."""
    who = pending_text(list(named), unassigned, lang)
    return _PENDING_NOTE(lang, replies=replies, municipalities=who)


_UNASSIGNED = Text("{n} utan kopplad fråga", "{n} matched to no question")


def pending_text(municipalities: object, unassigned: int, lang: Lang) -> str:
    """Who replies awaiting review concern: "0180 Stockholm, 2380 Östersund, 1 utan kopplad
    fråga"."""
    parts = [str(m) for m in municipalities] if isinstance(municipalities, list | tuple) else []
    if unassigned:
        parts.append(_UNASSIGNED(lang, n=unassigned))
    return ", ".join(parts)


MARKS = {
    "person": Text("Person nådd", "Person reached"),
    "transfer": Text("Vidarekoppling", "Transfer"),
    "case_officer": Text("Handläggare nådd", "Case officer reached"),
}
_MARKED = Text(
    "{what} markerat för samtal {probe} kl. {at}.", "{what} marked for call {probe} at {at}."
)
_ASSESSED = Text(
    "Samtal {probe}: direkt svar {direct}, bemötande {level} ({points}).",
    "Call {probe}: direct answer {direct}, treatment {level} ({points}).",
)
YES_NO = {True: Text("ja", "yes"), False: Text("nej", "no")}


def marked(lang: Lang, probe: int, what: str, at: str) -> str:
    """The confirmation of a mark; ``at`` already shown in the user's zone."""
    return _MARKED(lang, what=MARKS[what](lang), probe=probe, at=at)


_ASSESSED_2011 = Text(
    "Samtal {probe}: direkt svar {direct}, bemötande {level} (2011 års skala){officer}.",
    "Call {probe}: direct answer {direct}, treatment {level} (the 2011 scale){officer}.",
)
_OFFICER = {
    True: Text(", handläggare nådd", ", case officer reached"),
    False: Text(", ingen handläggare nådd", ", no case officer reached"),
}


def assessed(
    lang: Lang,
    probe: int,
    direct: bool,
    bemotande: int | None,
    bemotande_2011: int | None = None,
    case_officer: bool | None = None,
) -> str:
    officer = "" if case_officer is None else _OFFICER[case_officer](lang)
    if bemotande_2011 is not None or bemotande is None:
        level = "–" if bemotande_2011 is None else LEVELS_2011[bemotande_2011](lang)
        return _ASSESSED_2011(
            lang, probe=probe, direct=YES_NO[direct](lang), level=level, officer=officer
        )
    text = _ASSESSED(
        lang,
        probe=probe,
        direct=YES_NO[direct](lang),
        level=LEVELS[bemotande](lang),
        points=bemotande,
    )
    return text[:-1] + officer + "." if officer else text


#: The sender details of an e-mail answer's assessment, as a person reads them.
SENDER_FIELDS = {
    "name": Text("Namnet", "The name"),
    "title": Text("Titeln", "The title"),
    "phone": Text("Telefonnumret", "The phone number"),
    "address": Text("Adressen", "The address"),
}
_MAIL_ASSESSED = Text(
    "Svaret på fråga {probe} är bedömt: avsändaruppgifter {complete}, svarskvalitet {quality}.",
    "The answer to probe {probe} is assessed: sender details {complete}, answer quality {quality}.",
)
_COMPLETE = {True: Text("fullständiga", "complete"), False: Text("ofullständiga", "incomplete")}
_QUALITY_OPEN = Text("ej färdigbedömd", "not fully assessed")


def mail_assessed(lang: Lang, probe: int, complete: bool, points: int | None) -> str:
    quality = _QUALITY_OPEN(lang) if points is None else f"{points}/3"
    return _MAIL_ASSESSED(lang, probe=probe, complete=_COMPLETE[complete](lang), quality=quality)


_PURGED = Text(
    "{verb}: {messages} meddelanden, {answers} svarsbedömningar med avsändaruppgifter, "
    "{assessments} bedömningsanteckningar, {details} samtalshändelser med nummer eller tal, "
    "{audit} loggposter, {events} inspelningslänkar (före {before}).{twilio}",
    "{verb}: {messages} messages, {answers} answer assessments with sender details, "
    "{assessments} assessment notes, {details} call events with numbers or speech, "
    "{audit} audit entries, {events} recording links (before {before}).{twilio}",
)
_TWILIO_DELETED = Text(
    " {n} inspelningar raderade hos Twilio.", " {n} recordings deleted at Twilio."
)
_TWILIO_KEPT = Text(
    " {n} inspelningar kunde inte raderas hos Twilio (telefonkanalen eller dess token saknas, "
    "eller Twilio svarade inte); de försöks igen vid nästa rensning.",
    " {n} recordings could not be deleted at Twilio (the phone channel or its token is "
    "missing, or Twilio did not answer); the next purge tries again.",
)
_PURGE_VERB = {True: Text("Skulle rensas", "Would be purged"), False: Text("Rensat", "Purged")}


def purged(lang: Lang, done: Purged) -> str:
    return _PURGED(
        lang,
        verb=_PURGE_VERB[done.dry_run](lang),
        messages=done.counts.messages,
        answers=done.counts.mail_assessments,
        assessments=done.counts.assessments,
        details=done.counts.call_details,
        audit=done.counts.audit_entries,
        events=done.counts.call_events,
        before=done.before.isoformat(timespec="minutes"),
        twilio=(
            (
                _TWILIO_DELETED(lang, n=done.counts.recordings_deleted)
                if done.counts.recordings_deleted
                else ""
            )
            + (
                _TWILIO_KEPT(lang, n=done.counts.recordings_kept)
                if done.counts.recordings_kept
                else ""
            )
        ),
    )

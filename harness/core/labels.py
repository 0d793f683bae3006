"""The text table of codes a person can meet: each code the harness stores or shows has a
Swedish and an English label here, so no face ever prints a raw code.

Reasons the harness itself gives (why a question was not sent, why a campaign was paused) are
stored as a code with parameters and worded here in the reader's language when shown. What
came from outside (an SMTP server's reply, Twilio's message, a person's own words) travels as a
parameter and is shown quoted, as evidence, never translated.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from harness.core.i18n import Lang, Text

__all__ = [
    "ANSWERED_BY",
    "AREAS",
    "CALL_EVENTS",
    "CALL_MODES",
    "CALL_NOTES",
    "CALL_OUTCOMES",
    "CALL_STATUSES",
    "CHANNELS",
    "FAULTS",
    "MAIL_KINDS",
    "PAUSES",
    "PROBE_OUTCOMES",
    "PROBE_STATES",
    "SIGNALS",
    "WEEKDAYS",
    "area_label",
    "call_note_text",
    "fault_text",
    "label",
    "pause_text",
]

# The channels, as a word in a sentence.
CHANNELS: dict[str, Text] = {
    "email": Text("e-post", "e-mail"),
    "phone": Text("telefon", "phone"),
}

# What a received mail is (probes.email_classify.Kind).
MAIL_KINDS: dict[str, Text] = {
    "human_reply": Text("svar från en person", "a person's answer"),
    "auto_reply": Text("automatsvar eller kvitto", "an automatic reply or receipt"),
    "bounce": Text("studs (kom inte fram)", "a bounce (not delivered)"),
    "unrelated": Text("ovidkommande", "unrelated"),
}

# How a call ended (results.phone_timeline.Outcome).
CALL_OUTCOMES: dict[str, Text] = {
    "busy": Text("upptaget", "busy"),
    "no_answer": Text("inget svar", "no answer"),
    "failed": Text("misslyckat (vårt fel)", "failed (our side)"),
    "no_person": Text("ingen person inom spärrtiden", "no person within the hold limit"),
    "person": Text("person nådd", "person reached"),
}

# Why a probe failed on our side, was refused by a safety rule, or waits for a person.
FAULTS: dict[str, Text] = {
    "header_unsafe": Text(
        "inte skickad: {header} innehåller en radbrytning eller ett styrtecken",
        "not sent: {header} holds a line break or control character",
    ),
    "smtp_login_refused": Text(
        "utgående e-postserver nekade inloggningen (servern svarade ”{reply}”)",
        "the outgoing mail server refused the login (the server said “{reply}”)",
    ),
    "smtp_relay_refused": Text(
        "utgående e-postserver vägrade skicka vidare (servern svarade ”{reply}”)",
        "the outgoing mail server refused to relay (the server said “{reply}”)",
    ),
    "smtp_message_refused": Text(
        "utgående e-postserver vägrade ta emot frågan (servern svarade ”{reply}”)",
        "the outgoing mail server refused the question (the server said “{reply}”)",
    ),
    "smtp_deferred": Text(
        "utgående e-postserver bad oss vänta (servern svarade ”{reply}”)",
        "the outgoing mail server asked us to wait (the server said “{reply}”)",
    ),
    "smtp_unreachable": Text(
        "utgående e-postserver gick inte att nå ({error})",
        "the outgoing mail server could not be reached ({error})",
    ),
    "smtp_failed": Text(
        "sändningen till utgående e-postserver misslyckades ({error})",
        "sending to the outgoing mail server failed ({error})",
    ),
    "smtp_recipient_refused": Text(
        "mottagarens adress avvisades (servern svarade ”{reply}”)",
        "the recipient's address was refused (the server said “{reply}”)",
    ),
    "connection_lost_in_data": Text(
        "förbindelsen bröts medan frågan lämnades över; servern kan ha tagit emot den ({error})",
        "the connection broke while the question was handed over; the server may have taken it "
        "({error})",
    ),
    "oauth_timeout": Text(
        "kommandot som hämtar OAuth-token svarade inte inom {seconds} s",
        "the OAuth token command did not answer within {seconds} s",
    ),
    "oauth_command_failed": Text(
        "kommandot som hämtar OAuth-token misslyckades (slutkod {exit}{detail})",
        "the OAuth token command failed (exit code {exit}{detail})",
    ),
    "oauth_empty": Text("OAuth-token är tom", "the OAuth token is empty"),
    "send_window_ended": Text(
        "sändfönstret tog slut efter {attempts} försök; senast: {cause_text}",
        "the send window ended after {attempts} attempts; last: {cause_text}",
    ),
    "call_window_ended": Text(
        "samtalsfönstret tog slut; senast: {cause_text}",
        "the call window ended; last: {cause_text}",
    ),
    "no_caller_number": Text(
        "läget ”testaren ringer” kräver phone.caller_number (testarens telefon)",
        "bridged mode needs phone.caller_number (the tester's phone)",
    ),
    "twilio_number_refused": Text(
        "Twilio avvisade numret (Twilio svarade ”{reply}”)",
        "Twilio refused the number (Twilio said “{reply}”)",
    ),
    "twilio_call_refused": Text(
        "Twilio vägrade ringa (felkod {twilio_code}: ”{reply}”)",
        "Twilio refused the call (error {twilio_code}: “{reply}”)",
    ),
    "twilio_error": Text(
        "Twilio svarade med fel {status} (”{reply}”)", "Twilio answered error {status} (“{reply}”)"
    ),
    "twilio_unreachable": Text(
        "Twilios API gick inte att nå ({error})", "the Twilio API could not be reached ({error})"
    ),
    "no_free_slot": Text(
        "ingen ledig tid kvar i kampanjperioden", "no free slot left in the campaign period"
    ),
    "retries_escaped": Text(
        "ett tillfälligt fel bestod efter kanalens omförsök ({error})",
        "a temporary failure outlasted the channel's retries ({error})",
    ),
    "refused_placeholder": Text(
        "inte skickad: {target} är en platshållare i scenariot",
        "not sent: {target} is a placeholder in the scenario",
    ),
    "refused_no_email": Text(
        "inte skickad: {target} saknar e-postadress", "not sent: {target} has no e-mail address"
    ),
    "refused_no_phone": Text(
        "inte ringt: {target} saknar växelnummer", "not called: {target} has no switchboard number"
    ),
    "crashed_while_sending": Text(
        "körningen avbröts under sändningen och inget bevis visar att frågan gick iväg; "
        "kontrollera med mottagaren innan den skickas igen",
        "the run stopped while sending and no evidence shows that the question left; check with "
        "the recipient before sending again",
    ),
    "not_sent_by_person": Text(
        "inte skickad (kontrollerat av {actor}: ”{reason}”)",
        "not sent (checked by {actor}: “{reason}”)",
    ),
    "call_never_reached": Text(
        "samtalet nådde aldrig växeln", "the call never reached the switchboard"
    ),
    "tester_not_answering": Text(
        "testarens telefon svarade inte ({status})", "the tester's phone did not answer ({status})"
    ),
    "call_failed": Text("samtalet till växeln misslyckades", "the call to the switchboard failed"),
    "call_canceled": Text(
        "samtalet till växeln avbröts", "the call to the switchboard was canceled"
    ),
    "tester_hung_up_early": Text(
        "testaren lade på innan en person svarade", "the tester hung up before a person answered"
    ),
}

# Twilio's call statuses (a callback's CallStatus), also as words inside a fault.
CALL_STATUSES: dict[str, Text] = {
    "queued": Text("köat", "queued"),
    "initiated": Text("rings upp", "dialling"),
    "ringing": Text("ringer", "ringing"),
    "in-progress": Text("pågår", "in progress"),
    "completed": Text("avslutat", "ended"),
    "busy": Text("upptaget", "busy"),
    "no-answer": Text("inget svar", "no answer"),
    "failed": Text("misslyckades", "failed"),
    "canceled": Text("avbrutet", "canceled"),
}

# How a call is made (Probe.mode, phone.mode).
# How a call is made (Probe.mode, phone.mode).
CALL_MODES: dict[str, Text] = {
    "bridged": Text("kopplat via testarens telefon", "bridged through the tester's phone"),
    "automated": Text("automatiskt (bara tider)", "automated (timing only)"),
}

# What a stored call event is (CallEvent.event: harness.channels.phone.store).
CALL_EVENTS: dict[str, Text] = {
    "status": Text("statusrapport från Twilio", "status report from Twilio"),
    "voice": Text("samtalet kopplades upp", "the call was connected"),
    "recording": Text("inspelning klar", "recording ready"),
    "mark_person": Text("testaren: en person svarade", "tester: a person answered"),
    "mark_transfer": Text("testaren: kopplades vidare", "tester: transferred"),
    "mark_case_officer": Text("testaren: nådde en handläggare", "tester: reached a case officer"),
    "reconcile": Text("avstämt med Twilio i efterhand", "reconciled with Twilio afterwards"),
    "speech_person": Text("en person hördes säga något", "a person was heard speaking"),
    "dial_ended": Text("kopplingen till växeln tog slut", "the dial to the switchboard ended"),
}

# Where a probe is in its life (harness.store.models.ProbeState), for either channel.
PROBE_STATES: dict[str, Text] = {
    "planned": Text("planerad", "planned"),
    "sending": Text("skickas eller rings upp", "being sent or placed"),
    "sent": Text("skickad eller ringd, väntar på utfall", "sent or placed, awaiting the outcome"),
    "completed": Text("klar", "completed"),
    "failed": Text("mätfel hos oss (ersätts)", "harness fault (replaced)"),
    "cancelled": Text("struken", "cancelled"),
}

# What a probe came to (Probe.outcome): an e-mail's, or a call's (CALL_OUTCOMES).
PROBE_OUTCOMES: dict[str, Text] = {
    "answered": Text("besvarad", "answered"),
    "bounced": Text("studsade", "bounced"),
    "not_answered": Text("obesvarad inom tidsgränsen", "not answered within the limit"),
    "rejected": Text("mottagaren avvisades", "the recipient was refused"),
    "refused": Text("inte skickad (en säkerhetsregel)", "not sent (a safety rule)"),
    "send_unknown": Text("ovisst om den skickades", "unknown whether it was sent"),
    "harness_fault": Text("mätfel hos oss", "harness fault"),
    **CALL_OUTCOMES,
}

# The question bank's areas (scenarios/questions/*.toml): the Swedish label is the bank's title.
AREAS: dict[str, Text] = {
    "bygglov": Text("Bygglov", "Building permits"),
    "forskola": Text("Förskola", "Preschool"),
    "grundskola": Text("Grundskola", "Compulsory school"),
    "ifo": Text("Individ- och familjeomsorg", "Individual and family care"),
    "miljo-och-halsa": Text("Miljö och hälsa", "Environment and health"),
    "gator-och-vagar": Text("Gator och vägar", "Streets and roads"),
    "aldreomsorg": Text("Äldreomsorg", "Elderly care"),
    "lss": Text("Funktionsnedsättning/LSS", "Disability support (LSS)"),
    "ovrigt": Text("Övrigt – kultur och fritid", "Other – culture and leisure"),
}

WEEKDAYS: dict[str, Text] = {
    "mon": Text("måndag", "Monday"),
    "tue": Text("tisdag", "Tuesday"),
    "wed": Text("onsdag", "Wednesday"),
    "thu": Text("torsdag", "Thursday"),
    "fri": Text("fredag", "Friday"),
    "sat": Text("lördag", "Saturday"),
    "sun": Text("söndag", "Sunday"),
}


def label(table: Mapping[str, Text], code: str | None, lang: Lang, *, none: str = "–") -> str:
    """``code``'s label from ``table``; ``none`` for no code, the code itself when unknown (a
    gap in the table shows, and the tests that look for raw codes find it)."""
    if code is None or code == "":
        return none
    text = table.get(code)
    return text(lang) if text is not None else code


def area_label(area: str | None, lang: Lang) -> str:
    """An area by its title in the question bank (English on request)."""
    return label(AREAS, area, lang)


# Why the runner paused a campaign by itself.
PAUSES: dict[str, Text] = {
    "repeated_fault": Text(
        "samma fel hos oss {count} gånger i rad: {fault_text}. Inga fler frågor skickas förrän "
        "felet är rättat och kampanjen återupptas (`kkik resume`).",
        "the same fault on our side {count} times in a row: {fault_text}. No more questions are "
        "sent until the fault is fixed and the campaign is resumed (`kkik resume`).",
    ),
}


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "–"


def _fill(text: Text, lang: Lang, params: Mapping[str, object]) -> str:
    template = text.sv if lang == "sv" else text.en
    return string.Formatter().vformat(template, (), _Blank(params))


def fault_text(
    code: str | None,
    params: Mapping[str, object] | None,
    lang: Lang,
    *,
    fallback: str | None = None,
) -> str:
    """A stored fault in the reader's language; ``fallback`` (rows stored before faults had
    codes) is shown as it was stored."""
    if code is None or code not in FAULTS:
        return fallback or "–"
    values: dict[str, object] = dict(params or {})
    cause = values.pop("cause", None)
    if isinstance(cause, str) and cause in FAULTS:
        # The cause's own details travel in the same parameters (the send window's last error).
        values["cause_text"] = fault_text(cause, values, lang)
    status = values.get("status")
    if code == "tester_not_answering" and isinstance(status, str) and status in CALL_STATUSES:
        values["status"] = CALL_STATUSES[status](lang)
    return _fill(FAULTS[code], lang, values)


def pause_text(code: str | None, params: Mapping[str, object] | None, lang: Lang) -> str:
    """Why a campaign was paused by the runner, in the reader's language."""
    if code is None or code not in PAUSES:
        return "–"
    values: dict[str, object] = dict(params or {})
    fault = values.get("fault")
    if isinstance(fault, str):
        values["fault_text"] = fault_text(fault, values, lang)
    return _fill(PAUSES[code], lang, values)


# Who answered, by Twilio's answering-machine detection (AnsweredBy).
ANSWERED_BY: dict[str, Text] = {
    "human": Text("en person", "a person"),
    "machine_start": Text("en telefonsvarare eller röstmeny", "a machine or voice menu"),
    "machine_end_beep": Text("en telefonsvarare (pip)", "a machine (beep)"),
    "machine_end_silence": Text("en telefonsvarare (tystnad)", "a machine (silence)"),
    "machine_end_other": Text("en telefonsvarare", "a machine"),
    "fax": Text("en fax", "a fax"),
    "unknown": Text("okänt", "unknown"),
}

# The signals a call's timeline is read from.
SIGNALS: dict[str, Text] = {
    "person_mark": Text("Testarens markering ”person”", "The tester's person mark"),
    "transfer_mark": Text("Testarens markering ”kopplad”", "The tester's transfer mark"),
    "case_officer_mark": Text(
        "Testarens markering ”handläggare”", "The tester's case officer mark"
    ),
    "detected_speech": Text("Tal som en person", "Speech as of a person"),
}

# Remarks on how a call's timeline was read (results.phone_timeline notes).
CALL_NOTES: dict[str, Text] = {
    "unknown_status": Text(
        "okänd status {status} för benet {leg} kl. {at} har lämnats utan avseende",
        "unknown status {status} of the {leg} leg at {at} ignored",
    ),
    "signal_no_answer": Text(
        "{signal_text} kl. {at} räknas inte: växeln svarade aldrig",
        "{signal_text} at {at} ignored: the switchboard never answered",
    ),
    "signal_after_end": Text(
        "{signal_text} kl. {at} räknas inte: efter att samtalet slutat",
        "{signal_text} at {at} ignored: after the call ended",
    ),
    "signal_moved": Text(
        "{signal_text} kl. {at} flyttad till svaret kl. {to}",
        "{signal_text} at {at} moved to the answer at {to}",
    ),
    "amd_without_answer": Text(
        "Twilio hörde en person men inget svar registrerades; bortsett från",
        "Twilio heard a person but no answer was recorded; ignored",
    ),
    "person_after_hold_limit": Text(
        "en person nåddes {seconds} s efter svaret, efter spärrtiden",
        "a person was reached {seconds} s after the answer, beyond the hold limit",
    ),
    "waiting_for_tester_leg": Text(
        "samtalet slutade tidigt; väntar på testarens ben för att se vem som lade på",
        "the call ended early; waiting for the tester's leg to tell who hung up",
    ),
}


def call_note_text(note: Mapping[str, object], lang: Lang) -> str:
    """One remark on a call's timeline, in the reader's language."""
    code = str(note.get("code"))
    if code not in CALL_NOTES:
        return code
    values: dict[str, object] = dict(note)
    signal = values.get("signal")
    if isinstance(signal, str) and signal in SIGNALS:
        values["signal_text"] = SIGNALS[signal](lang)
    return _fill(CALL_NOTES[code], lang, values)

"""The text table of codes a person can meet: each code the harness stores or shows has a
Swedish and an English label here, so no face ever prints a raw code.

Reasons the harness itself gives (why a question was not sent, why a campaign was paused) are
stored as a code with parameters and worded here in the reader's language when shown. What
came from outside (an SMTP server's reply, Twilio's message, a person's own words) travels as a
parameter and is shown quoted, as evidence, never translated.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from harness.core.i18n import Lang, Text

__all__ = [
    "ANSWERED_BY",
    "AREA_TITLES",
    "ARRIVAL_SOURCES",
    "CALL_NOTES",
    "CALL_OUTCOMES",
    "CHANNELS",
    "FAULTS",
    "MAIL_KINDS",
    "MAIL_REASONS",
    "MATCH_METHODS",
    "MODES",
    "PAUSES",
    "PROBE_OUTCOMES",
    "PROBE_STATES",
    "REVIEW_NOTES",
    "SIGNALS",
    "WEEKDAYS",
    "call_note_text",
    "fault_text",
    "label",
    "pause_text",
    "review_text",
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

# Twilio's call statuses, as words inside a fault.
CALL_STATUSES: dict[str, Text] = {
    "busy": Text("upptaget", "busy"),
    "no-answer": Text("inget svar", "no answer"),
    "failed": Text("misslyckades", "failed"),
    "canceled": Text("avbrutet", "canceled"),
}

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


# Where a probe is in its life (harness.store.models.ProbeState).
PROBE_STATES: dict[str, Text] = {
    "planned": Text("planerad", "planned"),
    "sending": Text("skickas", "sending"),
    "sent": Text("skickad, väntar på bevis", "sent, awaiting evidence"),
    "completed": Text("klar", "completed"),
    "failed": Text("fel hos oss", "failed on our side"),
    "cancelled": Text("struken", "withdrawn"),
}

# How a probe ended (Probe.outcome): e-mail outcomes, then the call outcomes above.
PROBE_OUTCOMES: dict[str, Text] = {
    "answered": Text("besvarad", "answered"),
    "not_answered": Text("obesvarad inom tidsgränsen", "not answered in time"),
    "bounced": Text("kom inte fram (studs)", "not delivered (bounced)"),
    "rejected": Text("avvisad av mottagaren", "refused by the recipient"),
    "harness_fault": Text("fel hos oss (räknas inte)", "fault on our side (not counted)"),
    "refused": Text("stoppad av en säkerhetsregel", "stopped by a safety rule"),
    "send_unknown": Text("ovisst om den skickades", "unknown whether it was sent"),
    **CALL_OUTCOMES,
}

# How a received mail was tied to a question (probes.email_match).
MATCH_METHODS: dict[str, Text] = {
    "in_reply_to": Text("svar på vårt meddelande (In-Reply-To)", "a reply to our message"),
    "references": Text("hänvisar till vårt meddelande (References)", "refers to our message"),
    "reply_token": Text("skickat till frågans svarsadress", "sent to the question's reply address"),
    "bounce_original": Text(
        "innehåller vår fråga (en retur, aldrig ett svar)",
        "encloses our question (a return, never an answer)",
    ),
    "case_number": Text("nämner frågans ärendenummer", "cites the question's case number"),
    "thread_topic": Text("samma tråd (Thread-Topic)", "the same thread (Thread-Topic)"),
    "quoted_text_and_domain": Text(
        "citerar frågan, från kommunens domän", "quotes the question, from the municipality"
    ),
    "subject_and_domain": Text(
        "samma ämne, från kommunens domän", "the same subject, from the municipality"
    ),
    "subject_contained": Text(
        "vårt ämne i deras ämnesrad, från kommunens domän",
        "our subject within theirs, from the municipality",
    ),
    "topic": Text(
        "handlar om frågans ämne, från kommunens domän",
        "about the question's topic, from the municipality",
    ),
    "subject_only": Text(
        "samma ämne, från en annan domän", "the same subject, from another domain"
    ),
    "manual": Text("kopplad för hand", "assigned by hand"),
}

# Why a received mail was judged as it was (probes.email_classify's reason codes).
MAIL_REASONS: dict[str, Text] = {
    "feedback_report": Text("klagomålsrapport om skräppost", "a spam-complaint report"),
    "dsn": Text("leveransrapport: kom inte fram", "delivery report: not delivered"),
    "dsn_delayed": Text("leveransrapport: försenad", "delivery report: delayed"),
    "dsn_success": Text("leveransrapport: levererad", "delivery report: delivered"),
    "delay_text": Text("e-postsystemet meddelar försening", "the mail system reports a delay"),
    "delivery_success": Text(
        "e-postsystemet meddelar leverans", "the mail system reports delivery"
    ),
    "mailer_daemon": Text("meddelande från ett e-postsystem", "a message from a mail system"),
    "nondelivery_text": Text(
        "ämnesraden säger att den inte kom fram", "the subject says not delivered"
    ),
    "mdn": Text("läskvitto", "a read receipt"),
    "read_receipt_subject": Text("läskvitto (ämnesraden)", "a read receipt (subject)"),
    "auto_submitted": Text("märkt som automatiskt (Auto-Submitted)", "marked automatic"),
    "x_autoreply": Text("märkt som autosvar", "marked as an auto-reply"),
    "precedence": Text("märkt som autosvar (Precedence)", "marked as an auto-reply (Precedence)"),
    "challenge_response": Text(
        "ett filter ber oss bevisa att vi är människor", "a filter asks us to prove we are human"
    ),
    "spam": Text("märkt som skräppost", "flagged as spam"),
    "bulk": Text("massutskick eller e-postlista", "a bulk mailing or list"),
    "ooo_subject": Text("frånvaromeddelande (ämnesraden)", "an out-of-office notice (subject)"),
    "ooo_body": Text("frånvaromeddelande (texten)", "an out-of-office notice (text)"),
    "case_receipt_subject": Text("ärendekvitto (ämnesraden)", "a case receipt (subject)"),
    "case_receipt_body": Text("ärendekvitto (texten)", "a case receipt (text)"),
    "noreply_sender": Text("avsändaren tar inte emot svar", "a no-reply sender"),
    "null_sender": Text("autosvar utan avsändaradress", "an auto-reply without a return address"),
    "personal": Text("skrivet av en person", "written by a person"),
    "unreadable": Text("kunde inte läsas", "could not be read"),
}

# Where a reply's arrival time comes from (probes.email_analysis.Arrival.source).
ARRIVAL_SOURCES: dict[str, Text] = {
    "received_header": Text("vår e-postservers mottagningsstämpel", "our mail server's stamp"),
    "internaldate": Text("brevlådans ankomsttid", "the mailbox's arrival time"),
    "given": Text("angiven", "given"),
}

# Why a stored mail waits in the review queue (Message.review_codes).
REVIEW_NOTES: dict[str, Text] = {
    "ambiguous": Text("oklart: flera frågor passar", "ambiguous: several questions fit"),
    "no_probe": Text("ingen fråga hittad", "no question found"),
    "link_only": Text(
        "läses som ett svar men hänger bara ihop med frågan genom den bifogade kopian",
        "reads as a reply, linked only by the returned original",
    ),
    "spam_about_ours": Text(
        "märkt som skräppost men handlar om en av våra frågor",
        "flagged as spam, yet about one of our questions",
    ),
    "low_confidence": Text("osäker koppling ({confidence})", "low confidence ({confidence})"),
    "date_skewed": Text("Date: ligger långt från ankomsttiden", "Date: far from the arrival time"),
    "malformed": Text("felformat meddelande", "malformed message"),
    "analysis_failed": Text("kunde inte analyseras", "could not be analysed"),
}


def label(table: Mapping[str, Text], code: str | None, lang: Lang) -> str:
    """A code's label from ``table``; a code nobody labelled is shown as it is (never hidden)."""
    if not code:
        return "–"
    text = table.get(code)
    return text(lang) if text is not None else code


def review_text(
    codes: Sequence[Mapping[str, object]] | None, lang: Lang, *, fallback: str | None = None
) -> str:
    """Why a mail waits for review, in the reader's language (``fallback``: rows stored before
    review notes had codes)."""
    if not codes:
        return fallback or ""
    parts = []
    for entry in codes:
        code = str(entry.get("code"))
        if code in REVIEW_NOTES:
            parts.append(_fill(REVIEW_NOTES[code], lang, entry))
    return "; ".join(parts) or (fallback or "")


# How a call is placed (Probe.mode).
MODES: dict[str, Text] = {
    "bridged": Text("testaren ringer via Twilio", "the tester calls through Twilio"),
    "automated": Text("automatiskt samtal", "an automated call"),
}

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


# Question areas (harness.core.scenario.AREAS) by the question bank's titles (a test checks
# they agree with scenarios/questions).
AREA_TITLES: dict[str, Text] = {
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

# The weekdays of a campaign (harness.core.scenario.WEEKDAYS).
WEEKDAYS: dict[str, Text] = {
    "mon": Text("mån", "Mon"),
    "tue": Text("tis", "Tue"),
    "wed": Text("ons", "Wed"),
    "thu": Text("tor", "Thu"),
    "fri": Text("fre", "Fri"),
    "sat": Text("lör", "Sat"),
    "sun": Text("sön", "Sun"),
}

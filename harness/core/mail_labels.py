"""Labels for what the mail pipeline stores about a received mail: why it was classified as it
was, how it was matched to a question, where its arrival time came from, which folder it was
found in, and the notes that send it to review. The kinds themselves are in
:mod:`harness.core.labels` (``MAIL_KINDS``).

The codes are those of ``probes.email_classify`` (reasons), ``probes.email_match`` (match
signals) and ``probes.email_analysis`` (arrival sources); tests check that every code those
modules can produce has both labels here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from harness.core.i18n import Lang, Text

__all__ = ["ARRIVAL_SOURCES", "CLASSIFICATION_REASONS", "MATCH_METHODS", "REVIEW_NOTES",
           "folder_label", "review_note_text", "review_text"]  # fmt: skip

# Why a mail got its kind (probes.email_classify's reason codes).
CLASSIFICATION_REASONS: dict[str, Text] = {
    "feedback_report": Text("klagomål på skräppost", "a spam complaint report"),
    "dsn": Text("leveransrapport: kom inte fram", "delivery report: not delivered"),
    "dsn_delayed": Text("leveransrapport: försenad", "delivery report: delayed"),
    "dsn_success": Text("leveransrapport: levererad", "delivery report: delivered"),
    "delay_text": Text("e-postsystemet säger att leveransen dröjer",
                       "the mail system says delivery is delayed"),
    "delivery_success": Text("e-postsystemet säger att den levererades",
                             "the mail system says it was delivered"),
    "mailer_daemon": Text("meddelande från ett e-postsystem", "a message from a mail system"),
    "nondelivery_text": Text("ämnesraden säger att den inte kom fram",
                             "the subject says it was not delivered"),
    "mdn": Text("läskvitto", "a read receipt"),
    "read_receipt_subject": Text("läskvitto (enligt ämnesraden)",
                                 "a read receipt (by its subject)"),
    "auto_submitted": Text("märkt som automatiskt skickat", "marked as sent automatically"),
    "x_autoreply": Text("märkt som autosvar", "marked as an auto-reply"),
    "precedence": Text("märkt som autosvar (Precedence)", "marked as an auto-reply (Precedence)"),
    "challenge_response": Text("ber oss bevisa att vi är människor",
                               "asks us to prove we are human"),
    "spam": Text("märkt som skräppost", "marked as spam"),
    "bulk": Text("massutskick eller e-postlista", "bulk mail or a mailing list"),
    "ooo_subject": Text("frånvaromeddelande (enligt ämnesraden)", "out of office (by its subject)"),
    "ooo_body": Text("frånvaromeddelande (enligt texten)", "out of office (by its text)"),
    "case_receipt_subject": Text("ärendekvitto (enligt ämnesraden)",
                                 "a case receipt (by its subject)"),
    "case_receipt_body": Text("ärendekvitto (enligt texten)", "a case receipt (by its text)"),
    "noreply_sender": Text("från en noreply-adress", "from a no-reply address"),
    "null_sender": Text("utan avsändaradress (autosvar)", "with no return address (auto-reply)"),
    "personal": Text("skrivet av en person", "written by a person"),
}  # fmt: skip

# How a mail was tied to one of our questions (probes.email_match's signals), or by a person.
MATCH_METHODS: dict[str, Text] = {
    "in_reply_to": Text("svar på vårt meddelande", "a reply to our message"),
    "bounce_original": Text("innehåller vårt meddelande (länk, inget svar)",
                            "encloses our message (a link, not an answer)"),
    "references": Text("hänvisar till vårt meddelande", "refers to our message"),
    "reply_token": Text("skickat till frågans svarsadress", "sent to the question's reply address"),
    "case_number": Text("samma ärendenummer", "the same case number"),
    "thread_topic": Text("samma tråd (Outlook)", "the same thread (Outlook)"),
    "quoted_text_and_domain": Text("citerar frågan, från kommunen",
                                   "quotes the question, from the municipality"),
    "subject_and_domain": Text("samma ämne, från kommunen",
                               "the same subject, from the municipality"),
    "subject_contained": Text("vårt ämne i deras ämnesrad", "our subject within theirs"),
    "topic": Text("frågans ämne i texten", "the question's topic in the text"),
    "subject_only": Text("samma ämne, annan avsändare", "the same subject, another sender"),
    "manual": Text("kopplat av en person", "assigned by a person"),
}  # fmt: skip

# Where a reply's arrival time came from (probes.email_analysis.Arrival.source).
ARRIVAL_SOURCES: dict[str, Text] = {
    "received_header": Text("vår e-postservers mottagningstid", "our mail server's receipt time"),
    "internaldate": Text("brevlådans ankomsttid", "the mailbox's arrival time"),
    "given": Text("angiven tid", "a given time"),
}

_INBOX = Text("inkorgen", "the inbox")
_FOLDER = Text("mappen ”{name}”", "the folder “{name}”")


def folder_label(folder: str, lang: Lang) -> str:
    """A mailbox folder: the inbox by name, any other folder quoted as the server calls it."""
    if folder.upper() == "INBOX":
        return _INBOX(lang)
    return _FOLDER(lang, name=folder)


# The notes the mail store writes when it sends a mail to review (harness.channels.email.
# message_row), as stored; a person's own reason (a correction) is shown as written.
_NOTES: dict[str, Text] = {
    "Ambiguous: several probes fit": Text("flera frågor passar", "several questions fit"),
    "No probe found": Text("ingen fråga hittades", "no question found"),
    "Reads as a reply, linked only by the returned original": Text(
        "ser ut som ett svar men är bara kopplat via det returnerade originalet",
        "reads as a reply, linked only by the returned original",
    ),
    "Flagged as spam, yet about one of our questions": Text(
        "märkt som skräppost men handlar om en av våra frågor",
        "flagged as spam, yet about one of our questions",
    ),
    "Date: far from arrival": Text(
        "avsändarens datum skiljer sig mycket från ankomsten",
        "the sender's date is far from the arrival",
    ),
    "Malformed message": Text("trasigt meddelande", "a malformed message"),
}
_LOW = re.compile(r"^Low confidence \((\d+(?:\.\d+)?)\)$")
_LOW_TEXT = Text("osäker koppling (säkerhet {value})", "an uncertain match (confidence {value})")
_FAILED = "Analysis failed: "
_FAILED_TEXT = Text("analysen misslyckades: ”{why}”", "the analysis failed: “{why}”")


def review_note_text(stored: str | None, lang: Lang) -> str:
    """A stored review note in the reader's language: the store's own notes worded, anything
    else (a person's reason given with a correction) as it was written."""
    if not stored:
        return ""
    if stored.startswith(_FAILED):
        return _FAILED_TEXT(lang, why=stored[len(_FAILED) :])
    parts = [part.strip() for part in stored.split(";")]
    worded: list[str] = []
    for part in parts:
        known = _NOTES.get(part)
        low = _LOW.match(part)
        if known is not None:
            worded.append(known(lang))
        elif low is not None:
            worded.append(_LOW_TEXT(lang, value=low.group(1)))
        else:
            return stored  # not the store's notes: a person's words, shown as they are
    return "; ".join(worded)


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


def review_text(
    codes: Sequence[Mapping[str, object]] | None, lang: Lang, *, fallback: str | None = None
) -> str:
    """Why a mail waits for review, in the reader's language (``fallback``: rows stored before
    review notes had codes)."""
    if not codes:
        return review_note_text(fallback, lang)
    parts = []
    for entry in codes:
        code = str(entry.get("code"))
        if code in REVIEW_NOTES:
            parts.append(
                REVIEW_NOTES[code](lang, **{k: v for k, v in entry.items() if k != "code"})
            )
    return "; ".join(parts) or review_note_text(fallback, lang)

"""What kind of mail arrived: a person's reply, an automatic reply, a bounce, or something else.

Pure: :func:`classify` looks only at the :class:`~probes.email_parse.ParsedMail`. KKiK counts
only "the first reply written by a person" (kkik-method Part A), so every automatic message must
be recognised, including the many municipal case-system receipts that carry no automatic header
at all (peers.md §5.7). Evidence is checked strongest first; the first hit decides.

Output of a mail system is decided by who sent it and how it is built, not by its wording: no
list of phrases covers every MTA, gateway and language. A mail system's message is one with a
delivery-status part or a ``multipart/report`` (other than a read receipt or a feedback report),
from a daemon address (MAILER-DAEMON, postmaster, post_master, mail.delivery.system, Mail Delivery
Subsystem, MicrosoftExchange…, a list server's -owner/-request/-bounces), with an MTA's own header
(X-Failed-Recipients, X-MS-Exchange-Message-Is-Ndr), or with the null return path ``<>`` and
nothing that marks a mailbox's own auto-responder (RFC 3834 headers, threading, out-of-office,
receipt or challenge wording). Such a message is a bounce unless it is a success notice; the
wording only refines that: a delay when the text says delivery is postponed or will be retried
(unless it also says it has given up), a success notice when it says the mail was delivered. An
SMTP error code (``550``, ``5.1.1``) near the top is failure evidence.

===========================  ===========  ==============================================
reason                       kind         evidence
===========================  ===========  ==============================================
``feedback_report``          unrelated    a spam-complaint report: report-type feedback-report,
                                          a message/feedback-report part, or Hotmail's
                                          "complaint about message from"
``dsn``                      bounce       delivery-status part, a recipient failed (or a
                                          multipart/report delivery-status without fields)
``dsn_delayed``              bounce       the same, every recipient "delayed" (final=False)
``dsn_success``              auto_reply   the same, only delivered/deliverable/relayed/expanded
                                          (or only 2.x.x status codes)
``delay_text``               bounce       a mail system's text or a subject says delayed /
                                          postponed / will be retried (final=False)
``delivery_success``         auto_reply   a mail system's text says the mail was delivered
``mailer_daemon``            bounce       any other message from a mail system (see above):
                                          a bounce by default
``nondelivery_text``         bounce       failure wording in the subject, any other sender
``mdn``                      auto_reply   multipart/report disposition-notification
``read_receipt_subject``     auto_reply   subject starts "Läst:"/"Read:" (no MDN part)
``auto_submitted``           auto_reply   RFC 3834 Auto-Submitted other than "no"
``x_autoreply``              auto_reply   X-Autoreply / X-Autorespond and similar
``precedence``               auto_reply   Precedence: auto_reply
``challenge_response``       auto_reply   a challenge-response filter asks us to prove we are
                                          human (Boxbe, Bluebottle, SpamArrest style)
``spam``                     unrelated    X-Spam-Flag: YES and not a reply
``bulk``                     unrelated    List-Id/List-Unsubscribe (or Precedence bulk/list/
                                          junk with nothing automatic found) and not a reply
``ooo_subject``              auto_reply   out-of-office subject ("Automatiskt svar:")
``ooo_body``                 auto_reply   out-of-office wording at the top of a short text,
                                          or of any text with X-Auto-Response-Suppress
``case_receipt_subject``     auto_reply   receipt subject ("Ditt ärende har registrerats")
``case_receipt_body``        auto_reply   receipt wording at the top of the text
``noreply_sender``           auto_reply   noreply/do-not-reply sender, nothing personal
``null_sender``              auto_reply   Return-Path <> from a mailbox's auto-responder
``personal``                 human_reply  nothing automatic found
===========================  ===========  ==============================================

Receipt wording is weighed against the text: a person's reply may thank for the mail or mention
a diarienummer and still answer. The text written now (quotes stripped) is cut at the sign-off;
"substance" is the length of the clauses before it that are not greetings, receipt, holding or
referral boilerplate. Receipt wording wins unless the text has substance *and* a personal
signature (a name, not "Östersunds kommun"), or a lot of substance. A personal signature alone
overrides registry wording ("ditt ärende har registrerats ... Mvh Eva Nilsson"): a person wrote
it, so it is a human holding reply. X-Auto-Response-Suppress is weak (Outlook adds it to ordinary
mail): it only lets out-of-office wording count in a longer text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from probes.email_parse import ParsedMail, strip_reply_prefixes
from probes.email_signature import NAME_WORD, ORG_WORDS, SIGN_OFF, split_signature
from probes.email_wording import (
    AUTO_MACHINE,
    BOILERPLATE,
    CHALLENGE,
    DELAY,
    DELAY_SUBJECT_PREFIX,
    DELAY_SYSTEM,
    FEEDBACK_SUBJECT,
    FINAL,
    HOLDING,
    NONDELIVERY,
    NONDELIVERY_SYSTEM,
    OOO_BODY,
    OOO_SUBJECT,
    OOO_SUBJECT_WEAK,
    READ_RECEIPT_SUBJECT,
    RECEIPT_STRONG,
    RECEIPT_SUBJECT,
    RECEIPT_WEAK,
    SUCCESS,
    SUCCESS_SUBJECT_PREFIX,
    new_text,
)

__all__ = ["Kind", "Verdict", "classify"]

HEAD = 600  # characters at the top of the new text where receipt/bounce wording must appear
SUBSTANCE_MIN = 80  # about one sentence of real answer
SUBSTANCE_LONG = 300  # so much answer that no signature is needed

# Local parts (without "-", "_" and ".") and display names (letters only) of mail systems.
_DAEMONS = frozenset(
    {"mailerdaemon", "maildaemon", "postmaster", "maildeliverysystem", "maildeliverysubsystem"}
    | {"mdaemon", "mailadministrator", "mailsystem", "deliverystatusnotification"}
)
_DAEMON_NAMES = _DAEMONS | {"systemadministrator", "maildeliverysystemservice"}
_LIST_SERVERS = frozenset({"listserv", "majordomo", "mailman", "sympa", "lyris", "ecartis"})
_LIST_ROLE = re.compile(r"^owner-|-(?:owner|request|bounces?)$")
# Headers only an MTA writes on its own reports.
_SYSTEM_HEADERS = ("x-failed-recipients", "x-ms-exchange-message-is-ndr")
# An SMTP reply or enhanced status code of a permanent failure: "550 5.1.1", "554 ", "#5.1.1".
_SMTP_FAILURE = re.compile(
    r"(?<![\w.,])(?:5[0-5]\d[ -](?:5\.\d{1,3}\.\d{1,3}|[a-z<#(\"'])|5\.\d{1,3}\.\d{1,3}(?![\w.]))",
    re.IGNORECASE,
)
_SUCCESS_ACTIONS = frozenset({"delivered", "deliverable", "relayed", "expanded"})
_NOREPLY = re.compile(r"no[-_.]?reply|do[-_.]?not[-_.]?reply|svara[-_.]?inte|inte[-_.]?svara")
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")
_GREETING = re.compile(
    r"^\s*(?:hej|hejsan|hallå|god (?:morgon|dag|eftermiddag)|hello|hi|dear)\b[^.!?,\n]{0,40}",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"(?<=[.!?;:])\s+|,\s+|\n")
# Bounded repeats: an unbounded \S+@ rescans the rest of the text from every position, which
# turned a 200 kB line without "@" into minutes of work.
_CONTACT = re.compile(
    r"\S{1,64}@\S{1,255}|https?://\S{1,2000}|www\.\S{1,2000}|\+?\d[\d \-]{6,20}\d"
)
# A person's answer is in its first lines; the rest (pasted documents, junk) adds no evidence.
MAX_WEIGHED = 20_000
_NOT_SUBSTANCE = (RECEIPT_STRONG, RECEIPT_WEAK, AUTO_MACHINE, OOO_BODY, HOLDING, BOILERPLATE)


class Kind(StrEnum):
    HUMAN_REPLY = "human_reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNRELATED = "unrelated"


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str  # a stable snake_case code from the module docstring's table
    holding: bool  # only meaningful for human_reply: the reply defers, it does not answer
    final: bool = True  # False for delay notices: the real outcome is still to come


@dataclass(frozen=True)
class _Text:
    """The reply text written now, split at the sign-off and weighed."""

    fresh: str
    personal: bool
    substance: int

    @property
    def head(self) -> str:
        return self.fresh[:HEAD]


def _weigh(mail: ParsedMail) -> _Text:
    fresh = new_text((mail.text or "")[:MAX_WEIGHED])
    body, signature = split_signature(fresh)
    return _Text(fresh, _personal(signature), _substance("\n".join(body)))


def _personal(signature: list[str]) -> bool:
    """True when the sign-off is followed by a person's name rather than an organisation."""
    if not signature:
        return False
    first = SIGN_OFF.sub("", signature[0], count=1)
    candidates = [first, *(line for line in signature[1:] if line.strip())][:3]
    for candidate in candidates:
        name = re.split(r",|\||\s[–-]\s", candidate)[0]  # "Karin Berg | Bygglovshandläggare"
        words = name.strip(" ./").split()
        is_name = 2 <= len(words) <= 4 and all(NAME_WORD.fullmatch(w) for w in words)
        if is_name and not ORG_WORDS.search(name):
            return True
    return False


def _substance(body: str) -> int:
    """Characters of clauses that could be an answer (see the module docstring)."""
    total = 0
    for clause in _CLAUSES.split(body):
        cleaned = _CONTACT.sub(" ", _GREETING.sub("", clause)).strip()
        if len(cleaned.split()) < 4 or any(p.find(cleaned) for p in _NOT_SUBSTANCE):
            continue
        total += len(cleaned)
    return total


def _value(mail: ParsedMail, name: str) -> str:
    return " ".join((mail.header(name) or "").casefold().split())


def _local_part(address: str | None) -> str:
    return (address or "").partition("@")[0].casefold()


def _is_reply_subject(subject: str | None) -> bool:
    folded = " ".join((subject or "").split())
    return bool(folded) and strip_reply_prefixes(folded) != folded


def classify(mail: ParsedMail, *, ours: bool = False) -> Verdict:
    """The verdict for one received mail; see the module docstring for the evidence order.

    ``ours``: the mail is already known to answer one of our probes (matched with confidence,
    e.g. by our reply token). Then a spam filter's verdict (X-Spam-Flag) does not make it
    unrelated: a municipality's answer filed as spam is still its answer. List and bulk headers
    still do: a newsletter sent to our address is not an answer.
    """
    text = _weigh(mail)
    return (
        _feedback(mail)
        or _from_mail_system(mail, text)
        or _auto_by_header(mail)
        or _challenge(mail, text)
        or _bulk(mail, hard=True, spam_filter=not ours)
        or _auto_by_wording(mail, text)
        or _bulk(mail, hard=False)
        or Verdict(Kind.HUMAN_REPLY, "personal", _holding(text))
    )


def _holding(text: _Text) -> bool:
    return text.substance < SUBSTANCE_MIN and HOLDING.find(text.fresh) is not None


def _feedback(mail: ParsedMail) -> Verdict | None:
    """A spam complaint about our mail (ARF, or Hotmail's older format): says nothing of the
    municipality's answer, and its enclosed copy of our question must not be read as a bounce."""
    subject = strip_reply_prefixes(mail.subject)
    if (
        mail.report_type == "feedback-report"
        or "message/feedback-report" in mail.parts
        or FEEDBACK_SUBJECT.starts(subject)
    ):
        return Verdict(Kind.UNRELATED, "feedback_report", holding=False)
    return None


def _compact(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").casefold())


def _daemon_address(address: str | None) -> bool:
    local = _local_part(address)
    compact = _compact(local)
    return (
        compact in _DAEMONS
        or compact.startswith("microsoftexchange")
        or compact in _LIST_SERVERS
        or _LIST_ROLE.search(local) is not None
    )


def _daemon_sender(mail: ParsedMail) -> bool:
    return (
        _daemon_address(mail.from_address)
        or _daemon_address(mail.sender)
        or _compact(mail.from_name) in _DAEMON_NAMES
    )


def _responder_marks(mail: ParsedMail, text: _Text) -> bool:
    """Signs that a mailbox's own auto-responder (or a person) wrote a null-sender mail."""
    if mail.in_reply_to or mail.references or text.personal:
        return True
    if mail.header("auto-submitted") or any(mail.header(h) for h in _AUTOREPLY_HEADERS):
        return True
    subject = mail.subject or ""
    wording = (OOO_SUBJECT, RECEIPT_SUBJECT, OOO_SUBJECT_WEAK)
    return any(w.find(subject) for w in wording) or any(
        w.find(text.head) for w in (OOO_BODY, RECEIPT_STRONG, AUTO_MACHINE, CHALLENGE)
    )


# Where a mail system's explanation ends and the copy of the returned message begins: a
# separator line, or the first header line of the copy.
_COPY_STARTS = re.compile(
    r"^[\s>*-]*(?:(?:return-path|received|message-id|dkim-signature|mime-version|x-[\w-]+)\s*:"
    r"|[-=_ ]*(?:original message|below this line is a copy|this is a copy of"
    r"|original message headers|ursprungliga meddelandehuvuden|ursprungligt meddelande"
    r"|the original message|copy of the original|--- original))",
    re.IGNORECASE | re.MULTILINE,
)


def _system_text(mail: ParsedMail, text: _Text) -> tuple[str, str]:
    """The subject (without reply prefixes) and the explanation of a mail system's message.

    The explanation is the top of the body up to the returned copy, not the fresh text: a
    bounce's reason often sits under what reads as a quote header ("Original message headers:"
    is a separator, but "Diagnostic information for administrators" is not). The copy is cut off
    because it holds our own question, whose words must not decide the verdict.
    """
    body = (mail.text or "")[: HEAD * 4]
    copy = _COPY_STARTS.search(body)
    explanation = body[: copy.start()] if copy else body
    return strip_reply_prefixes(mail.subject), explanation or text.head


def _from_mail_system(mail: ParsedMail, text: _Text) -> Verdict | None:
    """Bounces, delays and success notices; see the module docstring."""
    has_dsn = mail.dsn is not None or mail.report_type == "delivery-status"
    if mail.dsn is not None and mail.dsn.recipients:
        by_fields = _by_dsn_fields(mail)
        if by_fields is not None:
            return by_fields
    structure = has_dsn or (
        mail.content_type == "multipart/report"
        and mail.report_type not in ("disposition-notification", "feedback-report")
    )
    headers = any(mail.header(name) is not None for name in _SYSTEM_HEADERS)
    system = structure or headers or _daemon_sender(mail)
    if not system and mail.return_path != "":
        return _nondelivery_subject(mail)  # most mail: a person's or a mailbox's, not a system's
    subject, head = _system_text(mail, text)
    failure = (
        headers
        or _SMTP_FAILURE.search(head) is not None
        or NONDELIVERY_SYSTEM.find(subject) is not None
        or NONDELIVERY_SYSTEM.find(head) is not None
    )
    if not system:  # the null return path: a system unless an auto-responder's marks say not
        returned = mail.original_message_id is not None or any(
            t in mail.parts
            for t in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers")
        )
        if not (failure or returned or not _responder_marks(mail, text)):
            return _nondelivery_subject(mail)
    reason = "dsn" if has_dsn else "mailer_daemon"
    # Exim writes X-Failed-Recipients only when it has given up on them.
    if FINAL.find(head) or FINAL.find(subject) or mail.header("x-failed-recipients"):
        return Verdict(Kind.BOUNCE, reason, holding=False)
    delay_subject = DELAY_SYSTEM.find(subject) or DELAY_SUBJECT_PREFIX.starts(subject)
    if delay_subject or DELAY_SYSTEM.find(head):
        return Verdict(Kind.BOUNCE, "delay_text", holding=False, final=False)
    if failure:
        return Verdict(Kind.BOUNCE, reason, holding=False)
    if SUCCESS_SUBJECT_PREFIX.starts(subject) or SUCCESS.find(subject) or SUCCESS.find(head):
        return Verdict(Kind.AUTO_REPLY, "delivery_success", holding=False)
    if not has_dsn and (_challenge(mail, text) or OOO_SUBJECT.find(subject)):
        return None  # a daemon address's own auto-responder: the rules below decide
    return Verdict(Kind.BOUNCE, reason, holding=False)


def _by_dsn_fields(mail: ParsedMail) -> Verdict | None:
    """Decide by the DSN's per-recipient Action (Status when Action is missing), or None."""
    assert mail.dsn is not None
    outcomes = set()
    for recipient in mail.dsn.recipients:
        action, status = recipient.action or "", recipient.status or ""
        if action == "failed" or (not action and status.startswith("5")):
            outcomes.add("failed")
        elif action in _SUCCESS_ACTIONS or (not action and status.startswith("2")):
            outcomes.add("success")
        elif action == "delayed" or (not action and status.startswith("4")):
            outcomes.add("delayed")
        else:
            outcomes.add("unknown")
    if "failed" in outcomes:
        return Verdict(Kind.BOUNCE, "dsn", holding=False)
    if outcomes == {"success"}:
        return Verdict(Kind.AUTO_REPLY, "dsn_success", holding=False)
    if "delayed" in outcomes and "unknown" not in outcomes:
        return Verdict(Kind.BOUNCE, "dsn_delayed", holding=False, final=False)
    return None


def _nondelivery_subject(mail: ParsedMail) -> Verdict | None:
    """Failure or delay wording in the subject of a mail from an ordinary sender (a filtering
    gateway's notice). NDR subjects never start with "SV:": a person's reply with such a
    subject is not a bounce."""
    subject = "" if _is_reply_subject(mail.subject) else (mail.subject or "")
    if DELAY.find(subject) or DELAY_SUBJECT_PREFIX.starts(subject):
        return Verdict(Kind.BOUNCE, "delay_text", holding=False, final=False)
    if NONDELIVERY.find(subject):
        return Verdict(Kind.BOUNCE, "nondelivery_text", holding=False)
    return None


# "Confirm that you are a real sender" in any words: a verb of confirming near a word for the
# sender or a human, in a text that gives a link to click.
_CONFIRM_SENDER = re.compile(
    r"\b(?:bekräfta|bekräftar|verifiera|verifierar|confirm|verify|bestätigen|bekreft|bekræft"
    r"|vahvista)\w*\b.{0,80}?\b(?:avsändare|sender|människa|human|robot|datorprogram|absender"
    r"|mensch|afsender|avsender|lähettäjä|real person|riktig person)",
    re.IGNORECASE | re.DOTALL,
)


def _challenge(mail: ParsedMail, text: _Text) -> Verdict | None:
    """A challenge-response filter's request to prove we are human: automatic, never an answer.

    Known wording, or the shape of the request: confirm that you are a real sender, with a link
    to click. A person may mention a robot or a confirmation in passing; only the top of a text
    without a personal signature, or the subject, is read.
    """
    head = "" if text.personal else text.head
    asks = _CONFIRM_SENDER.search(head) is not None and "http" in head.casefold()
    if CHALLENGE.find(mail.subject or "") or CHALLENGE.find(head) or asks:
        return Verdict(Kind.AUTO_REPLY, "challenge_response", holding=False)
    return None


def _auto_by_header(mail: ParsedMail) -> Verdict | None:
    if (mail.report_type or "") == "disposition-notification":
        return Verdict(Kind.AUTO_REPLY, "mdn", holding=False)
    if READ_RECEIPT_SUBJECT.starts(mail.subject or ""):
        return Verdict(Kind.AUTO_REPLY, "read_receipt_subject", holding=False)
    auto_submitted = _value(mail, "auto-submitted").split(";")[0].strip()
    if auto_submitted and auto_submitted != "no":
        return Verdict(Kind.AUTO_REPLY, "auto_submitted", holding=False)
    for name in _AUTOREPLY_HEADERS:
        value = _value(mail, name)
        if mail.header(name) is not None and value not in ("no", "false", "0"):
            return Verdict(Kind.AUTO_REPLY, "x_autoreply", holding=False)
    if _value(mail, "x-autogenerated") == "reply":
        return Verdict(Kind.AUTO_REPLY, "x_autoreply", holding=False)
    if _value(mail, "precedence") == "auto_reply":
        return Verdict(Kind.AUTO_REPLY, "precedence", holding=False)
    return None


def _bulk(mail: ParsedMail, *, hard: bool, spam_filter: bool = True) -> Verdict | None:
    """Newsletters and spam, as long as nothing says the mail answers something of ours."""
    if mail.in_reply_to or mail.references or _is_reply_subject(mail.subject):
        return None
    if hard:
        flagged = _value(mail, "x-spam-flag") == "yes" or _value(mail, "x-spam-status")[:3] == "yes"
        spam = spam_filter and flagged
        if spam:
            return Verdict(Kind.UNRELATED, "spam", holding=False)
        if mail.header("list-id") is not None or mail.header("list-unsubscribe") is not None:
            return Verdict(Kind.UNRELATED, "bulk", holding=False)
    elif _value(mail, "precedence") in ("bulk", "list", "junk"):
        return Verdict(Kind.UNRELATED, "bulk", holding=False)
    return None


def _auto_by_wording(mail: ParsedMail, text: _Text) -> Verdict | None:
    subject = mail.subject or ""
    reply_subject = _is_reply_subject(subject)
    ooo_text = OOO_BODY.find(text.head) is not None
    if OOO_SUBJECT.starts(subject) or (not reply_subject and OOO_SUBJECT.find(subject)):
        return Verdict(Kind.AUTO_REPLY, "ooo_subject", holding=False)
    if not reply_subject and ooo_text and OOO_SUBJECT_WEAK.find(subject):
        return Verdict(Kind.AUTO_REPLY, "ooo_subject", holding=False)
    suppress = _value(mail, "x-auto-response-suppress")
    corroborated = any(flag in suppress for flag in ("oof", "autoreply", "all"))
    if ooo_text and (text.substance < SUBSTANCE_MIN or corroborated):
        return Verdict(Kind.AUTO_REPLY, "ooo_body", holding=False)
    receipt = _receipt(mail, text, reply_subject)
    if receipt:
        return Verdict(Kind.AUTO_REPLY, receipt, holding=False)
    if mail.return_path == "":
        return Verdict(Kind.AUTO_REPLY, "null_sender", holding=False)
    return None


def _receipt(mail: ParsedMail, text: _Text, reply_subject: bool) -> str | None:
    subject_hit = not reply_subject and RECEIPT_SUBJECT.find(mail.subject or "") is not None
    machine = AUTO_MACHINE.find(text.fresh) is not None
    noreply = _NOREPLY.search(_local_part(mail.from_address)) is not None
    strong = RECEIPT_STRONG.find(text.head) is not None
    answered = text.substance >= SUBSTANCE_MIN
    if subject_hit or strong or machine or noreply:
        if answered and (text.personal or text.substance >= SUBSTANCE_LONG):
            return None  # an answer that also mentions the case or the system it came from
        if text.personal and not (machine or noreply):
            return None  # a person wrote the registry wording: a human (holding) reply
        if subject_hit:
            return "case_receipt_subject"
        return "case_receipt_body" if strong or machine else "noreply_sender"
    if RECEIPT_WEAK.find(text.head) and not answered and not text.personal:
        return "case_receipt_body"
    return None

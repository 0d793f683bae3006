"""Raw e-mail bytes -> :class:`ParsedMail`, for the reply classifier and matcher.

:func:`parse_mail` never raises: mail from 290 municipal systems arrives in every state of
disrepair, and one broken reply must not stop a campaign. Whatever cannot be read is recorded in
``defects``; ``malformed`` is True when a defect means the content may be wrong or incomplete
(see :data:`SERIOUS_DEFECTS`).

The parser uses the ``compat32`` policy: the modern policy raises on some broken headers while
compat32 keeps going. Every header is decoded here, one at a time, so one bad header cannot lose
the rest. Attachments are counted, never decoded.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import quopri
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import Message

from probes.email_decode import (
    HEADER_MESSAGE_ID,
    addresses,
    after_type,
    decode_bytes,
    decode_words,
    html_to_text,
    lenient_b64decode,
    message_ids,
    normalise_message_id,
    parse_date,
    received_hop,
    repair_header,
    split_field_blocks,
)
from probes.email_wording import strip_reply_prefixes

__all__ = [
    "SERIOUS_DEFECTS",
    "DeliveryStatus",
    "ParsedMail",
    "ReceivedHop",
    "RecipientStatus",
    "arrival_time",
    "message_ids",
    "normalise_message_id",
    "parse_date",
    "parse_mail",
    "strip_reply_prefixes",
]

MAX_PARSE = 25 * 1024 * 1024  # bytes handed to the MIME parser; the rest is dropped
HUGE = 5 * 1024 * 1024
MAX_TEXT = 1024 * 1024  # characters kept of the text and of the HTML
MAX_PARTS = 500
MAX_DEPTH = 20

SERIOUS_DEFECTS = frozenset(
    {
        "parse_error",
        "broken_mime",
        "broken_headers",
        "bad_base64",
        "8bit_headers",
        "charset_unknown",
        "charset_wrong",
        "truncated_parse",
        "part_error",
    }
)
# email-package defect classes that say the structure or the content is damaged.
_PACKAGE_DEFECTS = {
    "NoBoundaryInMultipartDefect": "broken_mime",
    "StartBoundaryNotFoundDefect": "broken_mime",
    "CloseBoundaryNotFoundDefect": "broken_mime",
    "MultipartInvariantViolationDefect": "broken_mime",
    "InvalidMultipartContentTransferEncodingDefect": "broken_mime",
    "FirstHeaderLineIsContinuationDefect": "broken_headers",
    "MissingHeaderBodySeparatorDefect": "broken_headers",
    "InvalidBase64PaddingDefect": "bad_base64",
    "InvalidBase64CharactersDefect": "bad_base64",
    "InvalidBase64LengthDefect": "bad_base64",
}


@dataclass(frozen=True)
class ReceivedHop:
    """One Received: header; ``at`` is the time after its last ";" (aware UTC)."""

    by: str | None
    from_: str | None
    at: datetime | None
    raw: str


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a message/delivery-status part (RFC 3464)."""

    final_recipient: str | None
    action: str | None  # failed, delayed, delivered, relayed, expanded
    status: str | None  # "5.1.1"
    diagnostic_code: str | None


@dataclass(frozen=True)
class DeliveryStatus:
    reporting_mta: str | None
    recipients: tuple[RecipientStatus, ...]


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_address: str | None = None
    from_name: str | None = None
    sender: str | None = None
    return_path: str | None = None  # "" for the null sender <>
    reply_to: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()
    subject: str | None = None
    date: datetime | None = None
    received: tuple[ReceivedHop, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    text: str | None = None
    html: str | None = None
    report_type: str | None = None
    dsn: DeliveryStatus | None = None
    original_message_id: str | None = None
    # Content types of every part walked, in order (bounded by MAX_PARTS): the structure a
    # mail system's report has (message/delivery-status, message/feedback-report, an enclosed
    # message/rfc822 original) whatever its top-level type says.
    parts: tuple[str, ...] = ()
    attachments: int = 0
    size: int = 0
    defects: tuple[str, ...] = ()
    malformed: bool = False

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively, decoded."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> tuple[str, ...]:
        wanted = name.casefold()
        return tuple(value for key, value in self.headers if key.casefold() == wanted)


# --- arrival -------------------------------------------------------------------------------------


def arrival_time(mail: ParsedMail, receiving_hosts: tuple[str, ...] = ()) -> datetime | None:
    """When the mail reached us: the newest Received hop stamped by one of our hosts.

    With no hosts given, the newest hop with a readable time. None when no hop qualifies; the
    caller then falls back to the mailbox's INTERNALDATE (kkik-method Part A), never to Date:.
    """
    wanted = tuple(h.casefold().strip(".") for h in receiving_hosts)
    for hop in mail.received:
        if hop.at is None:
            continue
        by = (hop.by or "").casefold()
        if not wanted or any(by == h or by.endswith("." + h) for h in wanted):
            return hop.at
    return None


# --- bodies --------------------------------------------------------------------------------------


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: int = 0
    parts: int = 0
    dsn: DeliveryStatus | None = None
    original_ids: list[str] = field(default_factory=list)
    # Text attachments (a bounce's "details.txt" holding the original headers): read for a
    # returned Message-ID only when no enclosed original gave one.
    attached_texts: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _note_defects(part: Message, defects: list[str]) -> None:
    for defect in part.defects:
        name = type(defect).__name__
        defects.append(re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Defect")).lower())
        if name in _PACKAGE_DEFECTS:
            defects.append(_PACKAGE_DEFECTS[name])
        if name == "CloseBoundaryNotFoundDefect":
            defects.append("truncated")


def _part_text(part: Message, body: _Body) -> str:
    data = part.get_payload(decode=True)
    _note_defects(part, body.defects)  # decoding adds base64 defects to the part
    if not isinstance(data, bytes):
        return ""
    text, defect = decode_bytes(data, part.get_content_charset())
    if defect:
        body.defects.append(defect)
    return text


_REPORT_FIELDS = frozenset(
    {"reporting-mta", "reporting-ua", "final-recipient", "action", "status", "disposition"}
    | {"original-recipient", "original-message-id"}
)


def _field_blocks(part: Message, body: _Body) -> list[dict[str, str]]:
    """The "Name: value" blocks of a message/delivery-status or disposition-notification part."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return split_field_blocks(_part_text(part, body))
    # compat32 parses each block as a header-only message.
    messages = [block for block in payload if isinstance(block, Message)]
    blocks = [{k.casefold(): " ".join(str(v).split()) for k, v in m.raw_items()} for m in messages]
    if any(_REPORT_FIELDS & block.keys() for block in blocks):
        return blocks
    # Not fields after all: an encoded part. Put its text back together and decode it.
    text = "\n\n".join(
        "".join(f"{k}: {v}\n" for k, v in m.raw_items()) + str(m.get_payload() or "")
        for m in messages
    )
    encoding = str(part.get("content-transfer-encoding", "")).strip().casefold()
    if encoding == "base64":
        text, _ = decode_bytes(lenient_b64decode(text), "utf-8")
    elif encoding == "quoted-printable":
        text, _ = decode_bytes(quopri.decodestring(text.encode("ascii", "replace")), "utf-8")
    return split_field_blocks(text)


def _delivery_status(part: Message, body: _Body) -> DeliveryStatus:
    blocks = _field_blocks(part, body)
    mta = next((after_type(b["reporting-mta"]) for b in blocks if "reporting-mta" in b), None)
    recipients = []
    for block in blocks:
        if not {"action", "final-recipient", "status"} & block.keys():
            continue
        status = re.search(r"\b[245]\.\d{1,3}\.\d{1,3}\b", block.get("status", ""))
        recipient = after_type(block.get("final-recipient") or block.get("original-recipient"))
        action = block.get("action", "").split()
        recipients.append(
            RecipientStatus(
                final_recipient=recipient.strip("<>").casefold() if recipient else None,
                action=action[0].casefold() if action else None,
                status=status.group(0) if status else None,
                diagnostic_code=after_type(block.get("diagnostic-code")),
            )
        )
    return DeliveryStatus(reporting_mta=mta, recipients=tuple(recipients))


ATTACHED_TEXT = 64 * 1024  # characters of a text attachment searched for returned headers


def _enclosed_original(part: Message, body: _Body) -> None:
    """The Message-ID of an enclosed original (message/rfc822, message/rfc822-headers).

    Python parses both as a list holding one message. When the enclosed part starts with a
    blank line (some gateways write one), the original's headers end up in that message's body,
    so its text is searched for a Message-ID header line as well.
    """
    inner = part.get_payload()
    if isinstance(inner, list):
        for sub in inner[:1]:
            if not isinstance(sub, Message):
                continue
            original = normalise_message_id(str(sub.get("Message-ID", "")))
            if original is None:
                payload = sub.get_payload()
                text = payload if isinstance(payload, str) else ""
                original = next(iter(HEADER_MESSAGE_ID.findall(text[:ATTACHED_TEXT])), None)
            body.original_ids += [original] if original else []
        return
    text = _part_text(part, body)  # not parsed as a message (an odd transfer encoding)
    body.original_ids += HEADER_MESSAGE_ID.findall(text[:ATTACHED_TEXT])[:1]


def _walk(part: Message, body: _Body, depth: int) -> None:
    body.parts += 1
    if body.parts > MAX_PARTS or depth > MAX_DEPTH:
        body.defects.append("too_many_parts")
        return
    ctype = part.get_content_type()
    body.types.append(ctype)
    if ctype == "message/delivery-status":
        body.dsn = _delivery_status(part, body)
        return
    if ctype == "message/disposition-notification":
        for block in _field_blocks(part, body):
            original = normalise_message_id(block.get("original-message-id"))
            body.original_ids += [original] if original else []
        return
    if ctype in ("message/rfc822", "message/global", "message/rfc822-headers"):
        body.attachments += ctype != "message/rfc822-headers"
        _enclosed_original(part, body)
        return
    if ctype in ("text/rfc822-headers", "message/global-headers"):
        body.original_ids += HEADER_MESSAGE_ID.findall(_part_text(part, body))[:1]
        return
    if part.is_multipart():
        _note_defects(part, body.defects)
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _walk(sub, body, depth + 1)
        return
    if part.get_content_maintype() == "multipart":
        # The boundary is missing or never appears: the raw body is all there is to read.
        body.defects.append("broken_mime")
        ctype = "text/plain"
    elif part.get_content_disposition() == "attachment" or ctype not in ("text/plain", "text/html"):
        body.attachments += 1
        if part.get_content_maintype() == "text" and len(body.attached_texts) < 5:
            body.attached_texts.append(_part_text(part, body)[:ATTACHED_TEXT])
        return
    text = _part_text(part, body)
    if len(text) > MAX_TEXT:
        body.defects.append("text_truncated")
        text = text[:MAX_TEXT]
    (body.plain if ctype == "text/plain" else body.html).append(text)


# --- the parser ----------------------------------------------------------------------------------


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one message as received; never raises (see the module docstring)."""
    defects: list[str] = []
    try:
        data = bytes(raw)
    except Exception:  # not bytes-like at all: still answer with an empty, malformed mail
        return ParsedMail(defects=("parse_error",), malformed=True)
    if len(data) > HUGE:
        defects.append("huge")
    if len(data) > MAX_PARSE:
        defects.append("truncated_parse")
    try:
        message = email.message_from_bytes(data[:MAX_PARSE], policy=email.policy.compat32)
        mail = _from_headers(message, defects)
    except Exception:  # the header stage broke: keep what the body can still give
        defects.append("parse_error")
        mail, message = ParsedMail(), None
    if message is not None:
        try:
            mail = _with_body(mail, message, defects, data[:MAX_PARSE])
        except Exception:  # one broken part must not lose the headers
            defects.append("part_error")
    unique = tuple(dict.fromkeys(defects))
    malformed = any(d in SERIOUS_DEFECTS for d in unique)
    return replace(mail, size=len(data), defects=unique, malformed=malformed)


def _from_headers(message: Message, defects: list[str]) -> ParsedMail:
    raw: list[tuple[str, str]] = []  # unfolded, 8-bit repaired, RFC 2047 words left as written
    headers: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        try:
            repaired = repair_header(str(value), defects)
            raw.append((name, repaired))
            headers.append((name, decode_words(repaired, defects)))
        except Exception:  # one bad header is dropped, the others stay
            defects.append("broken_headers")

    def every(wanted: str) -> list[str]:
        return [value for name, value in raw if name.casefold() == wanted]

    def first(wanted: str) -> str | None:
        values = every(wanted)
        return values[0] if values else None

    message_id = normalise_message_id(first("message-id"))
    if message_id is None:
        defects.append("no_message_id")
    senders = addresses(every("from"), defects)
    return_path = first("return-path")
    if return_path is not None:
        null = re.fullmatch(r"\s*<?\s*>?\s*", return_path) is not None
        found = addresses([return_path], defects)
        return_path = "" if null else found[0][1] if found else None
    date_value = first("date")
    date = parse_date(date_value)
    if date_value is None:
        defects.append("no_date")
    elif date is None:
        defects.append("unparseable_date")
    subject = first("subject")
    ctype = message.get_content_type()
    report_type = message.get_param("report-type") if ctype == "multipart/report" else None
    return ParsedMail(
        message_id=message_id,
        in_reply_to=tuple(i for v in every("in-reply-to") for i in message_ids(v)),
        references=tuple(i for v in every("references") for i in message_ids(v)),
        from_address=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        sender=next((a for _, a in addresses(every("sender"), defects)), None),
        return_path=return_path,
        reply_to=tuple(a for _, a in addresses(every("reply-to"), defects)),
        to=tuple(a for _, a in addresses(every("to"), defects)),
        cc=tuple(a for _, a in addresses(every("cc"), defects)),
        delivered_to=tuple(
            a for _, a in addresses(every("delivered-to") + every("x-original-to"), defects)
        ),
        subject=" ".join(decode_words(subject, defects).split()) if subject is not None else None,
        date=date,
        received=tuple(ReceivedHop(*received_hop(v), raw=v) for v in every("received")),
        headers=tuple(headers),
        content_type=ctype,
        report_type=report_type.casefold() if isinstance(report_type, str) else None,
    )


def _with_body(mail: ParsedMail, message: Message, defects: list[str], raw: bytes) -> ParsedMail:
    body = _Body()
    _note_defects(message, body.defects)
    try:
        _walk(message, body, 0)
    finally:
        defects.extend(body.defects)
    plain = "\n".join(p for p in body.plain if p.strip())
    html = "\n".join(body.html) or None
    text = plain or (html_to_text(html) if html else "")
    own = (mail.message_id or "").casefold()
    # Only a part that was not read as text can hide returned headers from the steps below.
    unread = bool(body.attachments or body.defects or mail.content_type == "multipart/report")
    # Where a returned original's Message-ID may be, surest first: an enclosed original, the
    # text quoting its headers, a text attachment holding them, and, when parsing found none of
    # these, the raw body (a part the parser could not make sense of).
    places = (
        lambda: body.original_ids,
        lambda: HEADER_MESSAGE_ID.findall(text),
        lambda: [i for t in body.attached_texts for i in HEADER_MESSAGE_ID.findall(t)],
        lambda: HEADER_MESSAGE_ID.findall(_raw_body(raw)) if unread else [],
    )
    originals: list[str] = []
    for place in places:
        originals = [i for i in place() if i.casefold() != own]
        if originals:
            break
    return replace(
        mail,
        text=text or None,
        html=html,
        dsn=body.dsn,
        original_message_id=originals[0] if originals else None,
        parts=tuple(body.types),
        attachments=body.attachments,
    )


def _raw_body(raw: bytes) -> str:
    """The raw text after the header block, bounded, for a last look for returned headers."""
    _, _, rest = raw[: MAX_TEXT * 2].partition(b"\r\n\r\n")
    if not rest:
        _, _, rest = raw[: MAX_TEXT * 2].partition(b"\n\n")
    return rest.decode("latin-1")

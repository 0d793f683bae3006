"""Low-level decoders for received mail: charsets, RFC 2047 headers, dates, addresses, HTML.

Each function tolerates garbage and reports trouble as defect names (strings) instead of
raising, so :func:`probes.email_parse.parse_mail` can keep its never-raises promise.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

__all__ = [
    "HEADER_MESSAGE_ID",
    "addresses",
    "after_type",
    "decode_bytes",
    "decode_header_value",
    "decode_words",
    "html_to_text",
    "lenient_b64decode",
    "message_ids",
    "normalise_message_id",
    "parse_date",
    "received_hop",
    "repair_header",
    "split_field_blocks",
    "strip_comments",
]

# --- charsets ------------------------------------------------------------------------------------

_LATIN1 = frozenset({"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819"})
_ASCII = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968"})
# Codecs Python knows that are not text charsets a mail could legitimately declare.
_NOT_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
    | {"charmap", "base64", "bz2", "hex", "quopri", "uu", "zlib", "rot-13"}
)


def _fallback(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text from bytes in the declared charset, and a defect name when that did not work.

    Declared iso-8859-1 with bytes 0x80-0x9f is really windows-1252 (what Outlook sends; the
    WHATWG encoding standard reads it the same way). Unknown charsets ("x-unknown", "utf8mb4")
    and failed decodes fall back to utf-8, then windows-1252 with replacement characters.
    """
    name = (charset or "").strip().strip("\"'").casefold()
    if name in _LATIN1:
        real = "cp1252" if re.search(rb"[\x80-\x9f]", data) else "latin-1"
        return data.decode(real, "replace"), None
    codec: str | None = None
    if name and name not in _ASCII:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            codec = None
        if codec in _NOT_CHARSETS:
            codec = None
    if codec is not None:
        try:
            return data.decode(codec), None
        except (UnicodeError, LookupError):
            return _fallback(data), "charset_wrong"
    if data.isascii():
        return data.decode("ascii"), None
    defect = "charset_missing" if not name else "charset_wrong" if name in _ASCII else None
    return _fallback(data), defect or "charset_unknown"


# --- dates ---------------------------------------------------------------------------------------

_TZ_NAMES = {
    "ut": "+0000", "utc": "+0000", "gmt": "+0000", "z": "+0000", "wet": "+0000",
    "west": "+0100", "bst": "+0100", "cet": "+0100", "met": "+0100", "cest": "+0200",
    "mest": "+0200", "eet": "+0200", "eest": "+0300", "est": "-0500", "edt": "-0400",
    "cst": "-0600", "cdt": "-0500", "mst": "-0700", "mdt": "-0600", "pst": "-0800",
    "pdt": "-0700",
}  # fmt: skip


def strip_comments(text: str) -> str:
    """Text without RFC 5322 (comments): "(CEST)" and "(Postfix)" confuse dates and hop names."""
    for _ in range(10):  # nested comments: peel the innermost level each round
        stripped = re.sub(r"\([^()]*\)", " ", text)
        if stripped == text:
            break
        text = stripped
    return text


def parse_date(text: str | None) -> datetime | None:
    """An aware UTC datetime from RFC 5322 dates as real servers write them, else None.

    Handles "(CEST)" comments, missing day names, named zones (CEST, CET, GMT), "+02:00"
    offsets, fractional seconds, ctime style and ISO 8601. A date without a zone is read as UTC.
    """
    if not text:
        return None
    value = " ".join(strip_comments(text).replace(",", ", ").split())
    value = re.sub(r"(\d{1,2}:\d{2}:\d{2})[.,]\d+", r"\1", value)
    value = re.sub(r"([+-])(\d{2}):(\d{2})$", r"\1\2\3", value)
    words = value.split(" ")
    if words and words[-1].casefold() in _TZ_NAMES:
        words[-1] = _TZ_NAMES[words[-1].casefold()]
        value = " ".join(words)
    parsed: datetime | None = None
    try:
        parts = email.utils.parsedate_tz(value)
        if parts is not None:
            offset = timedelta(seconds=parts[9] or 0)
            parsed = datetime(*parts[:6], tzinfo=timezone(offset))
    except (ValueError, TypeError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    if not 1990 <= parsed.year <= 2200:
        return None
    return parsed.astimezone(UTC)


# --- headers -------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")


def lenient_b64decode(text: str) -> bytes:
    """Base64 that ignores stray characters, missing padding and a dangling last character."""
    bare = re.sub(r"[^A-Za-z0-9+/]", "", text)
    bare = bare[: len(bare) - 1] if len(bare) % 4 == 1 else bare
    return base64.b64decode(bare + "=" * (-len(bare) % 4))


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    """The bytes of one encoded word, or None when it is not decodable (kept as written)."""
    try:
        if encoding in "Bb":
            if re.search(r"[^A-Za-z0-9+/=]", payload) or not payload.strip("="):
                return None
            return lenient_b64decode(payload)
        raw = payload.replace("_", " ").encode("ascii", "replace")
        return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    except (ValueError, binascii.Error):
        return None


def decode_header_value(value: str, defects: list[str]) -> str:
    """Unfold, repair raw 8-bit bytes and decode RFC 2047 words (Q and B) in one header value.

    Adjacent encoded words in the same charset are joined before decoding, because senders
    split multi-byte UTF-8 characters across words.
    """
    return decode_words(repair_header(value, defects), defects)


def repair_header(value: str, defects: list[str]) -> str:
    """Unfold a raw header value and turn raw 8-bit bytes (surrogates) into text."""
    value = re.sub(r"\r?\n[ \t]*", " ", value).replace("\r", "")
    if re.search(r"[\udc80-\udcff]", value):
        value, defect = decode_bytes(value.encode("ascii", "surrogateescape"), "utf-8")
        # Raw UTF-8 in headers is legitimate since RFC 6532 (SMTPUTF8) and common from
        # Swedish senders; only other 8-bit bytes (old latin-1 clients) make a message malformed.
        defects.append("utf8_headers" if defect is None else "8bit_headers")
    return value


def decode_words(value: str, defects: list[str]) -> str:
    """RFC 2047 decoding; an undecodable word stays as written and is recorded as a defect."""
    out: list[str] = []
    pending: tuple[str, bytes] | None = None  # (charset, bytes) of adjacent encoded words
    pos = 0
    previous_encoded = False
    for hit in _ENCODED_WORD.finditer(value):
        gap = value[pos : hit.start()]
        drop_gap = previous_encoded and not gap.strip()  # RFC 2047 §6.2
        charset = hit.group(1).split("*")[0].casefold()
        data = _word_bytes(hit.group(2), hit.group(3))
        if pending and (not drop_gap or data is None or pending[0] != charset):
            out.append(_decode_word(pending, defects))
            pending = None
        if not drop_gap:
            out.append(gap)
        if data is None:
            defects.append("bad_encoded_word")
            out.append(hit.group(0))
        elif pending:
            pending = (charset, pending[1] + data)
        else:
            pending = (charset, data)
        previous_encoded = data is not None
        pos = hit.end()
    if pending:
        out.append(_decode_word(pending, defects))
    out.append(value[pos:])
    return "".join(out)


def _decode_word(pending: tuple[str, bytes], defects: list[str]) -> str:
    text, defect = decode_bytes(pending[1], pending[0])
    if defect:
        defects.append(defect)
    return text


def addresses(values: list[str], defects: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lowercased address) pairs from raw address header values."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        unfolded = re.sub(r"\s+", " ", value)
        try:
            found = email.utils.getaddresses([unfolded])
        except Exception:  # the address parser has raised on hostile input before
            found = []
        good = [(n, a) for n, a in found if "@" in a]
        if not good:  # fall back to anything that looks like an address
            good = [("", a) for a in re.findall(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+\w", unfolded)]
        for name, address in good:
            pairs.append((decode_header_value(name, defects).strip(), address.strip().casefold()))
    return pairs


# --- message-ids and Received --------------------------------------------------------------------

HEADER_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID\s*:\s*(<[^<>\s]+>)", re.I | re.M)
_ID_IN_BRACKETS = re.compile(r"<\s*([^<>\s]+?)\s*>")


def normalise_message_id(text: str | None) -> str | None:
    """``<id@host>`` from a Message-ID-like value; tolerates missing brackets and comments."""
    if not text:
        return None
    hit = _ID_IN_BRACKETS.search(text)
    if hit:
        return f"<{hit.group(1)}>"
    tokens = [t.strip("\"'<>,;()") for t in text.split()]
    with_at = [t for t in tokens if "@" in t]
    candidate = with_at[0] if with_at else (tokens[0] if len(tokens) == 1 else "")
    return f"<{candidate}>" if len(candidate) >= 3 else None


def message_ids(text: str | None) -> tuple[str, ...]:
    """Every message-id in a References/In-Reply-To value, in order, without duplicates."""
    if not text:
        return ()
    found = [f"<{m}>" for m in _ID_IN_BRACKETS.findall(text)]
    if not found:
        found = [f"<{t.strip(',;')}>" for t in text.split() if "@" in t and "<" not in t]
    return tuple(dict.fromkeys(found))


def received_hop(value: str) -> tuple[str | None, str | None, datetime | None]:
    """(by, from, time) of one Received: value; the time is what follows the last ";"."""
    head, semicolon, tail = value.rpartition(";")
    body = strip_comments(head if semicolon else value)
    source = re.search(r"(?:^|\s)from\s+([^\s;]+)", body, re.IGNORECASE)
    by = re.search(r"(?:^|\s)by\s+([^\s;]+)", body, re.IGNORECASE)
    return (
        by.group(1).casefold() if by else None,
        source.group(1).casefold() if source else None,
        parse_date(tail) if semicolon else None,
    )


def split_field_blocks(text: str) -> list[dict[str, str]]:
    """Blocks of "Name: value" fields separated by blank lines (DSN/MDN parts read as text)."""
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        unfolded = re.sub(r"\r?\n[ \t]+", " ", chunk)
        fields = re.findall(r"^([\w-]+)\s*:\s*(.*)$", unfolded, re.MULTILINE)
        blocks.append({k.casefold(): " ".join(v.split()) for k, v in fields})
    return blocks


def after_type(value: str | None) -> str | None:
    """The value after its type prefix: "rfc822; user@x" -> "user@x"."""
    if not value:
        return None
    return value.partition(";")[2].strip() if ";" in value else value.strip()


# --- HTML to text --------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "table", "ul", "ol", "pre", "hr", "dd", "dt", "center"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "address"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_QUOTE_MARK = "\x00q"  # sentinel lines around <blockquote>, turned into "> " prefixes later


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag == "body":
            self.skip = 0  # a <head> that was never closed must not swallow the body
        elif tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "blockquote":
            self.parts.append(f"\n{_QUOTE_MARK}+\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.parts.append(f"\n{_QUOTE_MARK}-\n")
        elif tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"[ \t\r\n\f\u00a0]+", " ", data))


def html_to_text(html: str) -> str:
    """Readable text from HTML: drops script/style, keeps block breaks, unescapes entities.

    Text inside <blockquote> comes out prefixed with "> " so quote stripping works the same on
    HTML-only replies as on plain text ones.
    """
    parser = _TextExtractor()
    # A broken document still yields what was parsed before the parser gave up.
    with contextlib.suppress(Exception):
        parser.feed(html)
        parser.close()
    depth = 0
    lines: list[str] = []
    for raw_line in "".join(parser.parts).split("\n"):
        if raw_line.startswith(_QUOTE_MARK):
            depth = depth + 1 if raw_line.endswith("+") else max(0, depth - 1)
            continue
        line = raw_line.strip()
        if depth and line:
            line = "> " * depth + line
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()

"""Messages analysed per second by ``probes.email_analysis.analyse``, before and after, in one run.

The issue: "the mail analysis stays at its current speed or better". Both sides analyse the same
corpus against the same probe references in the same run:

* **before** is the code at a git revision (``--baseline``, default the last commit before the
  rewrite of the classifier and matcher): its ``probes``, ``results`` and ``harness`` packages
  are extracted with ``git archive`` into a temporary directory and imported from there;
* **after** is this working tree.

Each measurement runs in a fresh child interpreter (this file with ``--child``) whose PYTHONPATH
holds only one of the two trees; the child checks that every ``probes``, ``results`` and
``harness`` module it loaded came from that tree (the virtualenv's editable install would
otherwise fill gaps silently). The children alternate, the order swapped every round (before,
after; after, before; ...), and the best rate of each side counts, so machine noise hits both.
The rate is messages per second of wall-clock time (the figure the issue asks for); the same
rate per second of the child's CPU time is reported beside it (``*_cpu_msgs_per_s``,
``cpu_ratio``), because on a shared machine other processes' load moves the wall-clock rate by
tens of per cent and the CPU-time rate by a few.

The corpus is generated once and written to a temporary directory both sides read: every
``.eml`` under ``tests/data/mail/`` (recursively) as it is, then variations of those files up to
``--messages``: fresh Message-IDs; threaded messages re-pointed at one of the synthetic probes
(its Message-ID, reply token, domain and subject); most human replies lengthened by the
municipality's disclaimer and older messages of the thread; some HTML replies blown up to
100-400 KB of Outlook markup. The mix is mostly threaded human
replies, then unthreaded replies that fall through to the weak matchers, auto-replies and
receipts, bounces and large HTML mails (``mix`` in the output). The probe references are the
eight of ``tests/data/mail/probes.json`` plus 290 municipalities (``harness/data/kommuner.csv``)
times 18 questions from the question bank (``scenarios/questions/``).

Which messages changed kind or matched probe between before and after is reported for
information (the rewrite changes some on purpose); it never fails the benchmark. Without git or
without the baseline revision (a source tarball) the "before" side is skipped and said so.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import json
import os
import platform
import quopri
import random
import re
import resource
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "2f5ef231777a3e0eea429ceda1640860ba1250be"
CORPUS = ROOT / "tests" / "data" / "mail"
QUESTIONS = ROOT / "scenarios" / "questions"
RECEIVING_HOSTS = ("mx.fraga.example.se",)
PACKAGES = ("probes", "results", "harness")  # what the baseline child imports, nothing else
TOLERANCE = 0.95  # "after" meets the target at 95 % of "before" or better (noise)
WARMUP = 50  # messages analysed untimed first in every child (imports, regex caches)
CHILD_TIMEOUT = 3600.0
SYNTHETIC_IDS = 10_001  # the campaign's probe ids start here; the fixtures' are 101-108
# The ProbeRef fields of the baseline; the rewrite may add more, with defaults.
REF_FIELDS = ("id", "message_id", "reply_token", "reply_address", "target_address",
              "target_domains", "subject", "body", "sent_at")  # fmt: skip

# Share of the generated variations per category (the corpus files themselves come first).
MIX = {
    "threaded": 0.60,
    "unthreaded": 0.14,
    "automatic": 0.12,
    "bounce": 0.08,
    "large_html": 0.06,
}
PERSONAS = (
    "anna.lindqvist",
    "erik.holm",
    "maria.sjoberg",
    "johan.ek",
    "sara.nilsson",
    "lars.berg",
    "fatima.haddad",
    "oskar.nyberg",
    "elin.wallin",
    "ahmed.yusuf",
)
TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # as probes.email_send.new_reply_token
DISCLAIMER = (
    "När du skickar e-post till {town} kommun behandlar vi dina personuppgifter enligt "
    "dataskyddsförordningen (GDPR). Läs mer om hur vi behandlar personuppgifter på "
    "www.{domain}/personuppgifter. E-post till kommunen blir normalt en allmän handling som kan "
    "lämnas ut till den som begär det, om inte uppgifterna omfattas av sekretess enligt "
    "offentlighets- och sekretesslagen. Tänk på miljön innan du skriver ut det här meddelandet."
)
OLDER = (  # an older message further down an Outlook thread
    "Från: Kontaktcenter <kontaktcenter@{domain}>\nSkickat: den {day} september 2026 {hour}:14\n"
    "Till: {town} kommun <kommun@{domain}>\nÄmne: Information från {town} kommun\n"
)
ANSWER = (
    "Handläggningstiden är normalt fyra till sex veckor från det att ansökan är komplett. "
    "Blanketter och e-tjänster finns på kommunens webbplats under rubriken Självservice. "
    "Avgifterna för 2026 beslutades av kommunfullmäktige i november och gäller från den första "
    "januari. Mer information om taxor och regler finns i kommunens författningssamling. "
)
_ASCII = str.maketrans("åäöÅÄÖéÉü–", "aaoAAOeEu-")
_SPLIT = re.compile(rb"\r?\n\r?\n")


# --- the probe references --------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold().translate(_ASCII)).strip("-")


def _questions() -> list[tuple[str, str]]:
    """(subject, body) of every question in the bank; the corpus probes' if it cannot be read."""
    try:
        from harness.core.questionbank import load_bank

        return [(q.subject, q.body) for q in load_bank(QUESTIONS)]
    except Exception:  # a trimmed checkout: the benchmark still runs on the fixtures' texts
        items = json.loads((CORPUS / "probes.json").read_text(encoding="utf-8"))
        return [(str(i["subject"]), str(i["body"])) for i in items]


def _municipalities(count: int) -> list[str]:
    from harness.core.scenario import municipalities

    names = [m.name for _, m in sorted(municipalities().items())]
    return (names * (count // len(names) + 1))[:count]


def probe_refs(
    rng: random.Random, municipalities: int, per_municipality: int
) -> list[dict[str, Any]]:
    """ProbeRef fields (JSON-ready) for the corpus probes and the synthetic campaign.

    Only :data:`REF_FIELDS`, which both versions of ``ProbeRef`` have.
    """
    refs: list[dict[str, Any]] = []
    for item in json.loads((CORPUS / "probes.json").read_text(encoding="utf-8")):
        refs.append({key: item[key] for key in REF_FIELDS})
    questions = _questions()
    per = min(per_municipality, len(questions))
    start = datetime(2026, 9, 7, 6, 0, tzinfo=UTC)  # four weeks before the corpus replies
    next_id = SYNTHETIC_IDS
    for m, name in enumerate(_municipalities(municipalities)):
        slug = f"{_slug(name)}{'' if m < 290 else m}"
        domains = [f"{slug}.example.se"]
        if m % 7 == 3:  # some answer from a joint service's domain as well
            domains.append(f"{slug}vatten.example.se")
        for k in range(per):
            subject, body = questions[(m * 5 + k) % len(questions)]
            day = rng.randrange(20)  # weekdays, 7 Sep - 2 Oct 2026
            sent = start + timedelta(days=day + 2 * (day // 5), seconds=rng.randrange(8 * 3600))
            token = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(8))
            persona = rng.choice(PERSONAS)
            refs.append(
                {
                    "id": next_id,
                    "message_id": f"<{sent:%Y%m%d%H%M%S}.{rng.getrandbits(64):016x}"
                    "@fraga.example.se>",
                    "reply_token": token,
                    "reply_address": f"{persona}+{token}@fraga.example.se",
                    "target_address": f"kommun@{domains[0]}",
                    "target_domains": domains,
                    "subject": subject,
                    "body": body,
                    "sent_at": sent.isoformat(),
                }
            )
            next_id += 1
    return refs


# --- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str  # path under tests/data/mail
    raw: bytes
    category: str  # threaded | unthreaded | automatic | bounce
    probe: dict[str, Any] | None  # the corpus probe it names by Message-ID or reply token
    paddable: bool  # one text part in 7bit, 8bit or quoted-printable: text can be added
    html: bool


def _inner(message_id: str) -> str:
    return message_id.strip().strip("<>")


def _header_block(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(headers, separator, body) of a raw message; no separator if there is no body."""
    found = _SPLIT.search(raw)
    if found is None:
        return raw, b"", b""
    return raw[: found.start()], found.group(0), raw[found.end() :]


def _newline(raw: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in raw[:2000] else b"\n"


def _categorise(message: email.message.Message) -> str:
    sender = str(message.get("From", "")).casefold()
    subject = str(message.get("Subject", "")).casefold()
    if (
        message.get_content_type() == "multipart/report"
        or re.search(r"mailer-daemon|postmaster", sender)
        or re.search(r"undeliver|olevererbar|failure|delivery status|leverera", subject)
    ):
        return "bounce"
    auto = str(message.get("Auto-Submitted", "no")).casefold() != "no"
    precedence = str(message.get("Precedence", "")).casefold() in {
        "bulk",
        "junk",
        "list",
        "auto_reply",
    }
    flagged = any(h in message for h in ("X-Autoreply", "X-Autorespond", "List-Unsubscribe"))
    worded = re.match(
        r"\s*(automatiskt svar|autosvar|automatic reply|auto|out of office|frånvaro|kvittens"
        r"|bekräftelse|mottagningsbekräftelse|vi har tagit emot)",
        subject,
    )
    if auto or precedence or flagged or worded:
        return "automatic"
    if message.get("In-Reply-To") or message.get("References"):
        return "threaded"
    targets = " ".join(str(message.get(h, "")) for h in ("To", "Cc", "Delivered-To"))
    return "threaded" if re.search(r"\+[a-z0-9]+@", targets, re.IGNORECASE) else "unthreaded"


def _labelled(folder: Path) -> dict[str, str]:
    """Categories from the fixtures' expected.json (kind, matched_by) where it lists the file."""
    try:
        expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    categories = {}
    for name, entry in expected.items():
        kind, signal = entry.get("kind"), entry.get("matched_by")
        if kind == "bounce":
            categories[name] = "bounce"
        elif kind == "human_reply":
            strong = signal in {"in_reply_to", "references", "reply_token", "bounce_original"}
            categories[name] = "threaded" if strong else "unthreaded"
        elif kind is not None:  # auto-replies, receipts, bulk and spam
            categories[name] = "automatic"
    return categories


def load_templates(folder: Path, corpus_probes: Sequence[dict[str, Any]]) -> list[Template]:
    """Every .eml under ``folder`` with its category (expected.json, else its headers)."""
    labelled = _labelled(folder)
    templates = []
    for path in sorted(folder.rglob("*.eml")):
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        name = str(path.relative_to(folder))
        category = labelled.get(name) or _categorise(message)
        # The probe it names: in its headers (a token quoted in the body links nothing), or for
        # a bounce anywhere (the returned headers are in the body).
        where = raw if category == "bounce" else _header_block(raw)[0]
        probe = None
        if category != "unthreaded":
            probe = next(
                (r for r in corpus_probes if _inner(r["message_id"]).encode() in where), None
            )
            probe = probe or next(
                (r for r in corpus_probes if f"+{r['reply_token']}@".encode() in where), None
            )
        encoding = str(message.get("Content-Transfer-Encoding", "7bit")).strip().casefold()
        paddable = (
            not message.is_multipart()
            and message.get_content_maintype() == "text"
            and encoding in {"7bit", "8bit", "quoted-printable"}
        )
        templates.append(
            Template(
                name=name,
                raw=raw,
                category=category,
                probe=probe,
                paddable=paddable,
                html=message.get_content_type() == "text/html",
            )
        )
    return templates


def _set_header(headers: bytes, name: str, value: bytes, newline: bytes) -> bytes:
    """Replace a header's first occurrence (with its continuation lines), or add it."""
    pattern = re.compile(
        rb"^" + re.escape(name.encode()) + rb":[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*",
        re.IGNORECASE | re.MULTILINE,
    )
    line = name.encode() + b": " + value
    if pattern.search(headers):
        return pattern.sub(lambda _: line, headers, count=1)
    return headers + newline + line


def _subject(headers: bytes) -> str | None:
    found = re.search(
        rb"^Subject:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", headers, re.IGNORECASE | re.MULTILINE
    )
    if found is None:
        return None
    try:
        value = found.group(1).decode("ascii")
        return str(email.header.make_header(email.header.decode_header(value)))
    except (UnicodeDecodeError, ValueError, LookupError, email.errors.HeaderParseError):
        return None  # raw 8-bit or broken encoded words: leave that subject alone


def _encode_subject(text: str) -> bytes:
    if text.isascii():
        return text.encode()
    return email.header.Header(text, "utf-8").encode(maxlinelen=76).encode()


def _retarget(raw: bytes, old: dict[str, Any], new: dict[str, Any]) -> bytes:
    """Point a message at another probe: Message-ID, reply token, domain, subject."""
    raw = raw.replace(_inner(old["message_id"]).encode(), _inner(new["message_id"]).encode())
    raw = raw.replace(f"+{old['reply_token']}@".encode(), f"+{new['reply_token']}@".encode())
    raw = raw.replace(old["target_domains"][0].encode(), new["target_domains"][0].encode())
    headers, separator, body = _header_block(raw)
    subject = _subject(headers)
    if subject is not None and subject.casefold().endswith(old["subject"].casefold()):
        changed = subject[: len(subject) - len(old["subject"])] + new["subject"]
        headers = _set_header(headers, "Subject", _encode_subject(changed), _newline(raw))
    return headers + separator + body


def _charset(raw: bytes) -> str:
    message = email.message_from_bytes(
        _header_block(raw)[0] + b"\n\n", policy=email.policy.compat32
    )
    charset = message.get_content_charset() or "us-ascii"
    try:
        "x".encode(charset)
    except LookupError:
        return "us-ascii"
    return charset


def _pad(raw: bytes, text: str, html: bool) -> bytes:
    """Add ``text`` (plain, or an HTML block) to a single-part text message's body."""
    headers, separator, body = _header_block(raw)
    newline = _newline(raw)
    message = email.message_from_bytes(headers + b"\n\n", policy=email.policy.compat32)
    encoding = str(message.get("Content-Transfer-Encoding", "7bit")).strip().casefold()
    charset = _charset(raw)
    if encoding == "7bit" or charset in {"us-ascii", "ascii"}:
        text = text.translate(_ASCII).encode("ascii", "replace").decode("ascii")
    data = text.encode(charset, "replace")
    if encoding == "quoted-printable":
        data = quopri.encodestring(data)
    data = data.replace(b"\r\n", b"\n").replace(b"\n", newline)
    if html:
        at = body.lower().rfind(b"</body>")
        if at >= 0:
            return headers + separator + body[:at] + newline + data + newline + body[at:]
    if body and not body.endswith(b"\n"):
        body += newline
    return headers + separator + body + newline + data


def _plain_padding(rng: random.Random, probe: dict[str, Any] | None, length: int) -> str:
    """The municipality's disclaimer, then older messages of the thread: ``length`` or more."""
    domain = probe["target_domains"][0] if probe else "kommun.example.se"
    town = domain.partition(".")[0].replace("-", " ").title()
    text = textwrap.fill(DISCLAIMER.format(town=town, domain=domain), 72)
    while len(text) < length:
        header = OLDER.format(
            domain=domain, town=town, day=rng.randrange(1, 29), hour=rng.randrange(8, 17)
        )
        paragraphs = (textwrap.fill(ANSWER, 72) for _ in range(rng.randrange(1, 5)))
        text += "\n\n" + header + "\n" + "\n\n".join(paragraphs)
    return text + "\n"


def _html_block(rng: random.Random, size: int) -> str:
    """Outlook-style HTML: styled paragraphs and a signature table, about ``size`` characters."""
    span = (
        '<p class=MsoNormal><span style=\'font-size:11.0pt;font-family:"Calibri",sans-serif;'
        "color:#1F497D;mso-fareast-language:SV'>{}<o:p></o:p></span></p>\n"
    )
    row = (
        "<tr><td width=120 valign=top style='width:90.0pt;padding:0cm 5.4pt 0cm 5.4pt'>"
        "<p class=MsoNormal>{}</p></td><td style='padding:0cm 5.4pt'><p class=MsoNormal>"
        "{}</p></td></tr>\n"
    )
    parts = []
    total = 0
    while total < size:
        if rng.random() < 0.7:
            chunk = span.format(ANSWER)
        else:
            cells = "".join(
                row.format(f"Rad {i}", ANSWER[: rng.randrange(40, 200)])
                for i in range(rng.randrange(3, 12))
            )
            chunk = f"<table class=MsoNormalTable border=0 cellpadding=0>{cells}</table>\n"
        parts.append(chunk)
        total += len(chunk)
    return "".join(parts)


def _message_id(rng: random.Random, index: int, raw: bytes) -> bytes:
    found = re.search(rb"^From:[^\r\n]*@([A-Za-z0-9.-]+)", raw, re.MULTILINE | re.IGNORECASE)
    domain = found.group(1).decode() if found else "mail.example.se"
    return f"<{index:06d}.{rng.getrandbits(48):012x}.bench@{domain}>".encode()


def _variation(
    rng: random.Random,
    index: int,
    category: str,
    template: Template,
    refs: Sequence[dict[str, Any]],
) -> bytes:
    raw = template.raw
    probe = template.probe
    if template.probe is not None:  # linked by Message-ID or token: any synthetic probe will do
        probe = rng.choice(refs)
        raw = _retarget(raw, template.probe, probe)
    size = 0
    if category == "large_html":
        size = rng.randrange(100_000, 400_000)
    elif category in {"threaded", "unthreaded"} and template.paddable and rng.random() < 0.7:
        # A person's answer is short or long; receipts and bounces keep their length.
        size = int(min(rng.lognormvariate(6.5, 1.0), 12_000))  # median 670 characters
    if size:
        text = _html_block(rng, size) if template.html else _plain_padding(rng, probe, size)
        raw = _pad(raw, text, html=template.html)
    headers, separator, body = _header_block(raw)
    headers = _set_header(headers, "Message-ID", _message_id(rng, index, raw), _newline(raw))
    return headers + separator + body


def _internal_date(raw: bytes, fallback: datetime) -> datetime:
    """The mailbox's INTERNALDATE: a little after the sender's Date:, or the fallback."""
    found = re.search(rb"^Date:([^\r\n]*)", raw, re.MULTILINE | re.IGNORECASE)
    try:
        if found is not None:
            parsed = email.utils.parsedate_to_datetime(found.group(1).decode("ascii").strip())
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC) + timedelta(seconds=20)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    return fallback


def build_corpus(
    messages: int, refs: Sequence[dict[str, Any]], templates: Sequence[Template], seed: int
) -> tuple[list[tuple[str, str, bytes]], Counter[str]]:
    """(template name, category, raw) for every message: the files, then their variations."""
    rng = random.Random(seed)
    synthetic = [r for r in refs if int(r["id"]) >= SYNTHETIC_IDS] or list(refs)
    corpus: list[tuple[str, str, bytes]] = [(t.name, "file", t.raw) for t in templates[:messages]]
    by_category = {c: [t for t in templates if t.category == c] for c in MIX}
    html = [t for t in templates if t.paddable and t.html and t.probe is not None]
    by_category["large_html"] = html or [t for t in templates if t.paddable and t.probe]
    available = {c: ts for c, ts in by_category.items() if ts}
    mix: Counter[str] = Counter()
    while len(corpus) < messages and available:
        category = rng.choices(list(available), [MIX[c] for c in available])[0]
        template = rng.choice(available[category])
        raw = _variation(rng, len(corpus), category, template, synthetic)
        corpus.append((template.name, category, raw))
        mix[category] += 1
    mix["corpus_files"] = min(len(templates), messages)
    return corpus, mix


def write_corpus(
    folder: Path, corpus: Sequence[tuple[str, str, bytes]], refs: Sequence[dict[str, Any]]
) -> None:
    fallback = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    manifest = []
    with (folder / "corpus.bin").open("wb") as out:
        offset = 0
        for name, category, raw in corpus:
            out.write(raw)
            manifest.append(
                {
                    "template": name,
                    "category": category,
                    "offset": offset,
                    "length": len(raw),
                    "internal_date": _internal_date(raw, fallback).isoformat(),
                }
            )
            offset += len(raw)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "probes.json").write_text(json.dumps(refs), encoding="utf-8")
    (folder / "rules.json").write_text(
        json.dumps({"receiving_hosts": RECEIVING_HOSTS}), encoding="utf-8"
    )


# --- the child: one measurement with one tree's code -----------------------------------------


def _check_origin(root: Path) -> None:
    """Every probes/results/harness module loaded must come from ``root`` (not the venv's)."""
    strays = []
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in PACKAGES:
            continue
        where = getattr(module, "__file__", None) or next(
            iter(getattr(module, "__path__", []) or []), None
        )
        if where is None or not Path(where).resolve().is_relative_to(root):
            strays.append(f"{name} from {where}")
    if strays:
        raise SystemExit(f"modules outside {root}: {', '.join(sorted(strays))}")


def _cpu_seconds() -> float:
    """CPU time of this process: what a busy shared machine disturbs least."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(folder: Path, root: Path, out: Path) -> None:
    # The clock from wherever the code under test keeps it: harness/core/ since the layout by
    # layer (issue 15), harness/ before; importing the other path would load this tree's.
    if (root / "harness" / "core" / "clock.py").exists():
        from harness.core.clock import SystemClock
    else:  # a baseline from before the layout by layer
        from harness.clock import SystemClock  # type: ignore[import-not-found, no-redef]
    from probes.email_analysis import TimingRules, analyse
    from probes.email_match import ProbeRef

    _check_origin(root)
    blob = (folder / "corpus.bin").read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    items = [
        (
            blob[m["offset"] : m["offset"] + m["length"]],
            datetime.fromisoformat(m["internal_date"]),
            str(m["category"]),
        )
        for m in manifest
    ]
    probes = [
        ProbeRef(
            id=int(p["id"]),
            message_id=str(p["message_id"]),
            reply_token=p["reply_token"],
            reply_address=str(p["reply_address"]),
            target_address=str(p["target_address"]),
            target_domains=tuple(p["target_domains"]),
            subject=str(p["subject"]),
            body=str(p["body"]),
            sent_at=datetime.fromisoformat(p["sent_at"]),
        )
        for p in json.loads((folder / "probes.json").read_text(encoding="utf-8"))
    ]
    hosts = json.loads((folder / "rules.json").read_text(encoding="utf-8"))["receiving_hosts"]
    rules = TimingRules(receiving_hosts=tuple(hosts))
    # As the watcher gives them, where the code has it: indexed once for every message
    # (probes.email_match.ProbeIndex); a revision before it scans the list itself.
    try:
        from probes.email_match import ProbeIndex
    except ImportError:
        pass
    else:
        probes = ProbeIndex(probes)  # type: ignore[assignment]
    for raw, internal, _ in items[:WARMUP]:
        with contextlib.suppress(Exception):  # counted in the timed pass
            analyse(raw, probes, rules, internal_date=internal)
    outcomes: list[list[Any]] = []
    errors = 0
    spent: dict[str, float] = defaultdict(float)
    counted: Counter[str] = Counter()
    clock = SystemClock()
    cpu_began = _cpu_seconds()
    tick = clock.monotonic()
    for raw, internal, category in items:
        try:
            result = analyse(raw, probes, rules, internal_date=internal)
            kind = getattr(result.verdict.kind, "value", result.verdict.kind)
            outcomes.append([str(kind), result.match.probe_id, result.match.matched_by])
        except Exception as exc:
            errors += 1
            outcomes.append([f"error: {type(exc).__name__}", None, None])
        now = clock.monotonic()
        spent[category] += now - tick
        counted[category] += 1
        tick = now
    seconds = sum(spent.values())
    cpu = _cpu_seconds() - cpu_began
    _check_origin(root)  # lazy imports during the run count too
    out.write_text(json.dumps(outcomes), encoding="utf-8")
    print(
        json.dumps(
            {
                "code_root": str(root),
                "messages": len(items),
                "probe_refs": len(probes),
                "seconds": round(seconds, 3),
                "msgs_per_s": round(len(items) / seconds, 1),
                "cpu_seconds": round(cpu, 3),
                "cpu_msgs_per_s": round(len(items) / cpu, 1),
                "errors": errors,
                "ms_per_msg_by_category": {
                    c: round(1000 * spent[c] / counted[c], 2) for c in sorted(counted)
                },
            }
        )
    )


# --- the parent ------------------------------------------------------------------------------


def _working_tree() -> str | None:
    # Only the parent uses git: a child runs with nothing but the code under test on its path.
    from bench.baseline import git

    try:
        head = git("rev-parse", "HEAD").decode().strip()
        dirty = git("status", "--porcelain", "--", *PACKAGES).strip()
    except (FileNotFoundError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    return head + (" with uncommitted changes" if dirty else "")


def run_child(code: Path, folder: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(folder),
        "--code-root",
        str(code),
        "--outcomes",
        str(out),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=folder, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT:.0f} s"}
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        return {"error": f"exit {done.returncode}", "stderr": done.stderr[-2000:]}
    return result


def compare(
    before: Sequence[Sequence[Any]], after: Sequence[Sequence[Any]], manifest: Sequence[Any]
) -> dict[str, Any]:
    """How many messages changed kind, matched probe or signal (information only)."""
    kind = probe = signal = changed = 0
    by_category: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        if list(b) == list(a):
            continue
        changed += 1
        kind += b[0] != a[0]
        probe += b[1] != a[1]
        signal += b[2] != a[2]
        by_category[manifest[i]["category"]] += 1
        if len(examples) < 10:
            examples.append(
                {
                    "message": i,
                    "template": manifest[i]["template"],
                    "before": list(b),
                    "after": list(a),
                }
            )
    return {
        "compared": len(before),
        "changed": changed,
        "changed_kind": kind,
        "changed_probe": probe,
        "changed_matched_by": signal,
        "changed_by_category": dict(by_category),
        "examples": examples,
    }


@dataclass
class Side:
    """One side of the comparison: its code and what its children measured."""

    code: Path
    runs: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[list[Any]] | None = None
    error: dict[str, Any] | None = None

    def best(self, key: str) -> float | None:
        return max((run[key] for run in self.runs), default=None)

    def figures(self, name: str) -> dict[str, Any]:
        fastest = max(self.runs, key=lambda run: run["msgs_per_s"], default=None)
        return {
            f"{name}_runs": [run["msgs_per_s"] for run in self.runs],
            f"{name}_cpu_runs": [run["cpu_msgs_per_s"] for run in self.runs],
            f"{name}_ms_per_msg_by_category": fastest and fastest["ms_per_msg_by_category"],
            f"{name}_errors": fastest and fastest["errors"],
        }


def measure(sides: dict[str, Side], folder: Path, rounds: int) -> None:
    """Alternate the sides' children, the order swapped every round."""
    for round_ in range(rounds):
        order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
        for name in order:
            side = sides.get(name)
            if side is None or side.error is not None:
                continue
            out = folder.parent / f"outcomes-{name}.json"
            result = run_child(side.code, folder, out)
            if "error" in result:
                side.error = result
                continue
            side.runs.append(result)
            if side.outcomes is None:
                side.outcomes = json.loads(out.read_text(encoding="utf-8"))


def _ratio(after: float | None, before: float | None) -> float | None:
    return round(after / before, 3) if after and before else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="corpus size (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="before/after pairs (default 3)")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--questions", type=int, default=18, help="sent per municipality")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.code_root.resolve(), args.outcomes)
        return
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")

    if not (CORPUS / "probes.json").is_file():
        print(json.dumps({"benchmark": "mail_analysis", "error": f"no {CORPUS}/probes.json"}))
        sys.exit(1)
    rng = random.Random(args.seed)
    refs = probe_refs(rng, args.municipalities, args.questions)
    templates = load_templates(CORPUS, [r for r in refs if int(r["id"]) < SYNTHETIC_IDS])
    corpus, mix = build_corpus(args.messages, refs, templates, args.seed + 1)
    output: dict[str, Any] = {
        "benchmark": "mail_analysis",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "messages": len(corpus),
        "probe_refs": len(refs),
        "corpus_files": len(templates),
        "corpus_mb": round(sum(len(raw) for _, _, raw in corpus) / 1e6, 1),
        "mix": dict(mix),
        "rounds": args.rounds,
        "target": f"after >= before (met when after >= {TOLERANCE} x before: noise)",
        "baseline": args.baseline,
        "after_code": _working_tree() or str(ROOT),
    }
    with tempfile.TemporaryDirectory(prefix="kkik-bench-mail-") as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        write_corpus(folder, corpus, refs)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        extracted = Path(tmp) / "baseline"
        extracted.mkdir()
        # Only the parent uses git: a child runs with nothing but the code under test on its path.
        from bench.baseline import extract_baseline

        commit, skipped = extract_baseline(args.baseline, extracted, PACKAGES)
        sides = {"after": Side(ROOT)}
        if commit is not None:
            sides["before"] = Side(extracted)
            output["baseline_commit"] = commit
        measure(sides, folder, args.rounds)
    after, before = sides["after"], sides.get("before")
    if before is not None and before.error is not None:
        output["before_error"] = before.error
        skipped, before = "the 'before' child failed (before_error): 'before' skipped", None
    if before is None:
        output["before_skipped"] = skipped
    if after.error is not None or not after.runs or after.outcomes is None:
        output["after_error"] = after.error
        print(json.dumps(output))
        sys.exit(1)
    rate, cpu = after.best("msgs_per_s"), after.best("cpu_msgs_per_s")
    rate_before = before.best("msgs_per_s") if before else None
    cpu_before = before.best("cpu_msgs_per_s") if before else None
    ratio, cpu_ratio = _ratio(rate, rate_before), _ratio(cpu, cpu_before)
    output.update(
        {
            "before_msgs_per_s": rate_before,
            "after_msgs_per_s": rate,
            "ratio": ratio,
            "met": None if not (rate and rate_before) else rate >= TOLERANCE * rate_before,
            "before_cpu_msgs_per_s": cpu_before,
            "after_cpu_msgs_per_s": cpu,
            "cpu_ratio": cpu_ratio,
            "met_on_cpu_time": None if not (cpu and cpu_before) else cpu >= TOLERANCE * cpu_before,
            **(before.figures("before") if before else {}),
            **after.figures("after"),
            "after_outcomes": {
                "kind": dict(Counter(o[0] for o in after.outcomes)),
                "matched_by": dict(Counter(str(o[2]) for o in after.outcomes)),
            },
        }
    )
    if before is not None and before.outcomes is not None:
        output["equivalence"] = compare(before.outcomes, after.outcomes, manifest)
    print(json.dumps(output))


if __name__ == "__main__":
    main()

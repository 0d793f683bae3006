"""Writes the demo world's mails to one question: receipts, holding replies, answers (pure).

Every mail is a complete RFC 5322 message: our server's ``Received:`` header ``by {our_host}``
stamped at the arrival instant (whole seconds, in Swedish local time), below it the
municipality's own relay hop, a ``Date:`` 2–90 seconds before arrival (well inside the 15-minute
skew the harness tolerates), unique Message-IDs and Swedish text (:mod:`harness.demo.mail_text`)
of the shapes the real pipeline (:func:`probes.email_analysis.analyse`) recognises.

:class:`_Writer` writes them; :func:`harness.demo.world_mail.email_responses` decides which
mails a question gets and when they arrive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from harness.demo.mail_model import Folder, MailKind, QuestionSent, WorldMail
from harness.demo.mail_text import (
    _ANSWER_SENTENCES,
    _AREAS,
    _CLOSERS,
    _DEFAULT_AREA,
    _FIRST_NAMES,
    _FOLD,
    _LAST_NAMES,
    _MONTHS,
    _MONTHS_SHORT,
    _NEW_SUBJECTS,
    _OPENERS,
    _SIGN_OFFS,
    _WEEKDAYS,
)
from results.calendar import WorkCalendar

_QUEUE_ID_CHARS = "0123456789BCDFGHJKLMNPQRSTVWXZbcdfghjkmnpqrstvwxz"  # Postfix long queue ids


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    domain: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def address(self) -> str:
        local = f"{self.first}.{self.last}".casefold().translate(_FOLD)
        return f"{local}@{self.domain}"


@dataclass(frozen=True)
class _Draft:
    """What a template decided: the rest of the message is the same for every kind."""

    variant: str
    sender: Address
    to: str
    subject: str
    text: str
    host: str  # the municipality's machine that wrote it (Message-ID, relay hop)
    threaded: bool
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class _Writer:
    """Writes one question's mails; holds what every template needs."""

    question: QuestionSent
    rng: random.Random
    calendar: WorkCalendar
    our_host: str
    organisation: str
    switchboard: str | None
    domain: str
    sequence: int = 0

    # --- helpers ---

    def person(self) -> _Person:
        return _Person(self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES), self.domain)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.calendar.tz)

    def message_id(self, kind: MailKind, at: datetime, host: str) -> str:
        self.sequence += 1
        tag = f"{self.question.probe_id}{kind.value[0]}{self.sequence}"
        return f"<{self.local(at):%Y%m%d%H%M%S}.{tag}.{self.rng.getrandbits(40):010x}@{host}>"

    def case_number(self, prefix: str) -> str:
        year = self.local(self.question.accepted_at).year
        return f"{prefix} {year}/{self.rng.randint(100, 2999)}"

    def greeting(self) -> str:
        first = self.question.first_name
        options = (f"Hej {first}!", f"Hej {first},", "Hej!") if first else ("Hej!", "Hej,")
        return self.rng.choice(options)

    def area(self) -> tuple[str, str, str]:
        return _AREAS.get(self.question.area or "", _DEFAULT_AREA)

    def quote(self, style: str) -> str:
        """The question below the reply, as a mail client quotes it."""
        q = self.question
        sent = self.local(q.accepted_at)
        body = q.body.strip("\n")
        if style == "outlook":
            return (
                "\n\n________________________________\n"
                f"Från: {q.persona_name} <{q.persona_address}>\n"
                f"Skickat: den {sent.day} {_MONTHS[sent.month - 1]} {sent.year} {sent:%H:%M}\n"
                f"Till: {q.target_address}\n"
                f"Ämne: {q.subject}\n\n{body}\n"
            )
        if style == "forwarded":  # the officer got it from the registry and pasted it below
            return (
                "\n\n-----Ursprungligt meddelande-----\n"
                f"Från: {q.persona_name} <{q.persona_address}>\n"
                f"Skickat: den {sent.day} {_MONTHS[sent.month - 1]} {sent.year} {sent:%H:%M}\n"
                f"Till: {q.target_address}\n"
                f"Ämne: {q.subject}\n\n{body}\n"
            )
        if style == "gmail":
            quoted = "\n".join(f"> {line}".rstrip() for line in body.split("\n"))
            wrote = (
                f"Den {_WEEKDAYS[sent.weekday()]} {sent.day} {_MONTHS_SHORT[sent.month - 1]} "
                f"{sent.year} kl. {sent:%H:%M} skrev {q.persona_name} <{q.persona_address}>:"
            )
            return f"\n\n{wrote}\n{quoted}\n"
        return "\n"

    def signature(self, person: _Person, title: str) -> str:
        lines = [self.rng.choice(_SIGN_OFFS), person.name, title, self.organisation]
        if self.switchboard and self.rng.random() < 0.5:
            lines.append(f"Växel: {self.switchboard}")
        return "\n".join(lines)

    def build(
        self, kind: MailKind, arrive_at: datetime, folder: Folder, draft: _Draft
    ) -> WorldMail:
        """A complete message as our server stores it, with both Received hops."""
        rng = self.rng
        written = arrive_at - timedelta(seconds=rng.randint(2, 90))
        relay = f"mail.{self.domain}"
        relay_ip = f"192.0.2.{rng.randint(10, 250)}"
        queue_id = "".join(rng.choice(_QUEUE_ID_CHARS) for _ in range(14))
        message_id = self.message_id(kind, written, draft.host)
        msg = EmailMessage(policy=SMTP)
        msg["Return-Path"] = f"<{draft.sender.addr_spec}>"
        msg["Delivered-To"] = draft.to
        if folder == "Junk":
            # What a spam filter that files mail in Junk adds; the harness must still see an
            # answer to our question in it (probes.email_classify, ``ours``).
            msg["X-Spam-Flag"] = "YES"
            msg["X-Spam-Score"] = f"{rng.uniform(5.1, 9.5):.1f}"
            msg["X-Spam-Level"] = "*****"
        msg["Received"] = (
            f"from {relay} ({relay} [{relay_ip}]) by {self.our_host} (Postfix) with ESMTPS id "
            f"{queue_id} for <{draft.to}>; {format_datetime(self.local(arrive_at))}"
        )
        msg["Received"] = (
            f"from {draft.host} (10.20.{rng.randint(1, 9)}.{rng.randint(10, 99)}) by {relay} "
            f"(10.20.1.10) with Microsoft SMTP Server id 15.2.1544.11; "
            f"{format_datetime(self.local(written + timedelta(seconds=1)))}"
        )
        msg["From"] = draft.sender
        msg["To"] = Address(self.question.persona_name, addr_spec=draft.to)
        msg["Subject"] = draft.subject
        msg["Date"] = format_datetime(self.local(written))
        msg["Message-ID"] = message_id
        if draft.threaded:
            msg["In-Reply-To"] = self.question.message_id
            msg["References"] = self.question.message_id
        for name, value in draft.extra:
            msg[name] = value
        msg.set_content(draft.text, charset="utf-8", cte=rng.choice(("quoted-printable", "8bit")))
        return WorldMail(
            kind=kind,
            arrive_at=arrive_at,
            folder=folder,
            raw=msg.as_bytes(),
            message_id=message_id,
            sender=draft.sender.addr_spec,
            to=draft.to,
            threaded=draft.threaded,
            variant=draft.variant,
        )

    # --- the three kinds ---

    def receipt(self, arrive_at: datetime, folder: Folder) -> WorldMail:
        return self.build(MailKind.RECEIPT, arrive_at, folder, self._receipt())

    def _receipt(self) -> _Draft:
        q, org, rng, domain = self.question, self.organisation, self.rng, self.domain
        variant = rng.choice(("public360", "platina", "autoreply", "noreply"))
        if variant == "public360":
            number = self.case_number("KS")
            return _Draft(
                variant=variant,
                sender=Address(f"{org} Registrator", addr_spec=f"registrator@{domain}"),
                to=q.persona_address,
                subject=f"Ditt ärende har registrerats - {number}",
                text=(
                    f"Hej!\n\nDitt ärende har registrerats med ärendenummer {number}. Ange "
                    "ärendenumret om du kontaktar oss igen.\n\nDetta är ett automatiskt "
                    f"genererat meddelande och går inte att svara på.\n\n{org}\n"
                ),
                host=f"p360.{domain}",
                threaded=False,
                extra=(("Auto-Submitted", "auto-generated"), ("X-Mailer", "Public 360")),
            )
        if variant == "platina":
            number = self.case_number("KS")
            return _Draft(
                variant=variant,
                sender=Address(org, addr_spec=f"registrator@{domain}"),
                to=q.persona_address,
                subject=f"Bekräftelse: {q.subject}",
                text=(
                    f"Tack för ditt meddelande till {org}.\n\nDitt ärende har registrerats med "
                    f"ärendenummer {number} och lämnats till berörd handläggare.\n\n"
                    f"Med vänliga hälsningar\n{org}\nKommunkansliet\n"
                ),
                host=f"platina.{domain}",
                threaded=True,
            )
        if variant == "autoreply":
            phone = f" på {self.switchboard}" if self.switchboard else ""
            return _Draft(
                variant=variant,
                sender=Address(org, addr_spec=q.target_address),
                to=q.persona_address,
                subject=f"Automatiskt svar: {q.subject}",
                text=(
                    f"Tack för ditt mejl till {org}!\n\nVi har tagit emot ditt meddelande och "
                    "besvarar det så snart vi kan, i regel inom två arbetsdagar. Är det "
                    f"brådskande är du välkommen att ringa kontaktcenter{phone}.\n\n"
                    f"Detta är ett automatiskt svar.\n\n{org}\nKontaktcenter\n"
                ),
                host=f"exch01.{domain}",
                threaded=True,
                extra=(("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")),
            )
        number = f"KC-{rng.randint(10000, 99999)}"
        return _Draft(
            variant=variant,
            sender=Address(f"Kontaktcenter {org}", addr_spec=f"noreply@{domain}"),
            to=q.persona_address,
            subject="Vi har tagit emot ditt meddelande",
            text=(
                f"Hej!\n\nVi har tagit emot ditt meddelande och det har fått nummer {number}. "
                "Vi besvarar normalt e-post inom två arbetsdagar.\n\nSvara inte på detta "
                f"meddelande.\n\nVänliga hälsningar\nKontaktcenter\n{org}\n"
            ),
            host=f"crm.{domain}",
            threaded=False,
        )

    def holding(self, arrive_at: datetime, folder: Folder) -> WorldMail:
        return self.build(MailKind.HOLDING, arrive_at, folder, self._holding())

    def _holding(self) -> _Draft:
        q, org, rng = self.question, self.organisation, self.rng
        person = self.person()
        _, unit, _ = self.area()
        variant = rng.choice(("kontaktcenter", "forwarded", "registrar"))
        subject = f"{rng.choice(('SV', 'Re', 'RE'))}: {q.subject}"
        host = f"exch01.{self.domain}"
        if variant == "kontaktcenter":
            sender = Address(f"Kontaktcenter {org}", addr_spec=q.target_address)
            text = (
                f"{self.greeting()}\n\nTack för ditt mejl. Vi har skickat din fråga vidare "
                f"till {unit}. Vi återkommer så snart vi kan.\n\n"
                f"Med vänlig hälsning\n{person.name}\nKontaktcenter\n{org}\n"
                f"{self.quote(rng.choice(('outlook', 'none')))}"
            )
        elif variant == "forwarded":
            sender = Address(person.name, addr_spec=person.address)
            text = (
                f"{self.greeting()}\n\nJag har vidarebefordrat ditt mejl till en handläggare "
                f"på {unit} som kommer att kontakta dig.\n\n"
                f"{rng.choice(_SIGN_OFFS)}\n{person.name}\n{org}\n"
                f"{self.quote(rng.choice(('outlook', 'gmail', 'none')))}"
            )
        else:  # a registrar types the registry wording herself: a person's holding reply
            number = self.case_number("Dnr")
            sender = Address(person.name, addr_spec=person.address)
            text = (
                f"{self.greeting()}\n\nDitt ärende har registrerats med diarienummer {number}. "
                "En handläggare kommer att kontakta dig inom en vecka.\n\n"
                f"Med vänlig hälsning\n{person.name}\nRegistrator\n{org}\n"
            )
        return _Draft(variant, sender, q.persona_address, subject, text, host, threaded=True)

    def answer(
        self, arrive_at: datetime, folder: Folder, *, officer: bool, broken: bool
    ) -> WorldMail:
        return self.build(MailKind.ANSWER, arrive_at, folder, self._answer(officer, broken))

    def _answer(self, officer: bool, broken: bool) -> _Draft:
        q, org, rng = self.question, self.organisation, self.rng
        person = self.person()
        title, _, area_sentence = self.area()
        pool = list(_ANSWER_SENTENCES)
        rng.shuffle(pool)
        sentences = [area_sentence] if area_sentence else []
        sentences += pool[: rng.randint(1, 2) if area_sentence else rng.randint(2, 3)]
        paragraph = " ".join(s for s in (rng.choice(_OPENERS), *sentences) if s)
        closer = rng.choice(_CLOSERS)
        body = f"{self.greeting()}\n\n{paragraph}\n\n" + (f"{closer}\n\n" if closer else "")
        if officer:
            sender = Address(person.name, addr_spec=person.address)
            signature = self.signature(person, title)
        else:
            sender = Address(org, addr_spec=q.target_address)
            signature = self.signature(person, "Kontaktcenter")
        to_token = rng.random() < 0.5
        style = rng.choice(("outlook", "gmail", "none"))
        who = "officer" if officer else "mailbox"
        if broken:
            # A new mail: to our plus-address (the token finds the probe), or to the bare address
            # with the question pasted below (the quoted text and sender domain find it).
            subject = rng.choice(_NEW_SUBJECTS)
            to = q.persona_address if to_token else q.bare_address
            quote = "\n" if to_token else self.quote("forwarded")
            variant = f"{who}_new_mail_{'token' if to_token else 'quoted'}"
        else:
            subject = f"{rng.choice(('SV', 'Re', 'RE'))}: {q.subject}"
            to = q.persona_address
            quote = self.quote(style)
            variant = f"{who}_reply"
        extra: tuple[tuple[str, str], ...] = (("Content-Language", "sv-SE"),)
        if style == "outlook":
            extra += (("X-Mailer", "Microsoft Outlook 16.0"),)
        return _Draft(
            variant,
            sender,
            to,
            subject,
            f"{body}{signature}\n{quote}",
            f"exch0{rng.randint(1, 3)}.{self.domain}",
            threaded=not broken,
            extra=extra,
        )

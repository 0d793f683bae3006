"""Rows and messages for tests: a campaign with one target, a question and a sent probe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.core.config import ImapSettings
from harness.store.models import Campaign, Channel, Probe, ProbeState, Question, Target

PERSONA = "anna.lindqvist@fraga.example.se"


@dataclass(frozen=True)
class SentProbe:
    probe_id: int
    target_id: int
    message_id: str
    reply_token: str
    sent_at: datetime
    subject: str


def seed_sent_probe(
    engine: Engine,
    *,
    sent_at: datetime,
    token: str = "k7x2q9ab",
    kommunkod: str = "2380",
    name: str = "Östersund",
    address: str = "kommun@ostersund.example.se",
    campaign_name: str = "KKiK hösten 2026",
) -> SentProbe:
    subject = f"Bygglov för uterum? ({token})"
    message_id = f"<20261006091500.{token}@fraga.example.se>"
    with Session(engine) as session:
        campaign = session.exec(select(Campaign).where(Campaign.name == campaign_name)).first()
        if campaign is None:
            campaign = Campaign(
                name=campaign_name,
                year=2026,
                period_start=date(2026, 10, 5),
                period_end=date(2026, 11, 13),
                created_at=sent_at - timedelta(days=7),
            )
            session.add(campaign)
            session.flush()
        target = session.exec(
            select(Target).where(Target.campaign_id == campaign.id, Target.kommunkod == kommunkod)
        ).first()
        if target is None:
            target = Target(
                campaign_id=campaign.id,  # type: ignore[arg-type]
                kommunkod=kommunkod,
                name=name,
                email_address=address,
            )
            session.add(target)
            session.flush()
        question = Question(
            code=f"bygglov-{token}",
            area="bygglov",
            subject=subject,
            body="Hej! Behöver jag bygglov för ett uterum på 12 kvadratmeter vid mitt radhus?",
        )
        session.add(question)
        session.flush()
        probe = Probe(
            campaign_id=campaign.id,  # type: ignore[arg-type]
            target_id=target.id,  # type: ignore[arg-type]
            question_id=question.id,
            channel=Channel.EMAIL,
            planned_at=sent_at,
            state=ProbeState.SENT,
            persona_name="Anna Lindqvist",
            persona_address=PERSONA,
            message_id=message_id,
            reply_token=token,
            sent_at=sent_at,
            send_response="250 2.0.0 OK: queued",
            attempts=1,
        )
        session.add(probe)
        session.commit()
        return SentProbe(
            probe_id=probe.id,  # type: ignore[arg-type]
            target_id=target.id,  # type: ignore[arg-type]
            message_id=message_id,
            reply_token=token,
            sent_at=sent_at,
            subject=subject,
        )


def _reply_id(probe: SentProbe, written_at: datetime) -> str:
    return f"<svar.{probe.reply_token}.{written_at:%H%M%S}@ostersund.example.se>"


def reply_to(
    probe: SentProbe,
    *,
    written_at: datetime,
    body: str = "Hej Anna!\n\nEtt uterum på 12 kvm kräver i regel bygglov. Välkommen att "
    "ringa bygglovsenheten på 063-14 30 00 om du vill ha hjälp med ansökan.\n\n"
    "Med vänliga hälsningar\nKarin Berg\nHandläggare, Bygglovsenheten\n",
    sender: str = "karin.berg@ostersund.example.se",
    threaded: bool = True,
    message_id: str | None = None,
    received_by: str | None = None,
    received_at: datetime | None = None,
) -> bytes:
    """A plain human answer to ``probe``, as a municipal case officer's client would send it."""
    lines = []
    if received_by and received_at:
        lines.append(
            f"Received: from mail.ostersund.example.se (mail.ostersund.example.se [192.0.2.10])\r\n"
            f"\tby {received_by} with ESMTPS id 4F1ab; {format_datetime(received_at)}"
        )
    lines += [
        f"From: Karin Berg <{sender}>",
        f"To: Anna Lindqvist <anna.lindqvist+{probe.reply_token}@fraga.example.se>",
        f"Subject: SV: {probe.subject}",
        f"Date: {format_datetime(written_at)}",
        f"Message-ID: {message_id or _reply_id(probe, written_at)}",
    ]
    if threaded:
        lines += [f"In-Reply-To: {probe.message_id}", f"References: {probe.message_id}"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
              "Content-Transfer-Encoding: 8bit", "", body.replace("\n", "\r\n")]  # fmt: skip
    return "\r\n".join(lines).encode("utf-8")


START_OF_CAMPAIGN = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def write_mail_config(
    path: Path,
    *,
    smtp_port: int,
    imap_port: int,
    ca_file: Path | None = None,
    smtp_password_env: str = "KKIK_TEST_SMTP_PW",
    imap_username: str = "fraga@fraga.example.se",
    imap_password_env: str = "KKIK_TEST_IMAP_PW",
    folders: tuple[str, ...] = ("INBOX",),
    mail_extra: str = "",
) -> Path:
    """A config.toml for the loopback test servers: STARTTLS SMTP, plaintext IMAP, SQLite."""
    ca = f'ca_file = "{ca_file}"\n' if ca_file else ""
    folder_list = ", ".join(f'"{f}"' for f in folders)
    path.write_text(
        f"""
[database]
url = "sqlite:///kkik.db"

[mail]
{mail_extra}

[mail.smtp]
host = "127.0.0.1"
port = {smtp_port}
username = "matning@kkik.test"
password_env = "{smtp_password_env}"
{ca}
[mail.imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{imap_username}"
password_env = "{imap_password_env}"
folders = [{folder_list}]
""",
        encoding="utf-8",
    )
    return path


def loopback_imap(port: int, username: str, **changes: object) -> ImapSettings:
    """IMAP settings for a sandbox server on 127.0.0.1: plaintext, password from IMAP_PW."""
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": username,
        "password_env": "IMAP_PW",
        "timeout_seconds": 5,
    }
    values.update(changes)
    return ImapSettings.model_validate(values)

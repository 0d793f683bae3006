"""``kkik doctor`` against real local servers and a local DNS server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aioimaplib
import pytest
from sqlmodel import Session

from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dns import DnsSandbox
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Campaign, Target
from tests.factories import START_OF_CAMPAIGN, write_mail_config

USER = Account("fraga@fraga.example.se", "imap-pw")


def _setup(tmp_path: Path, smtp: SmtpSandbox, imap: PymapSandbox, ca: Path) -> Path:
    config = write_mail_config(
        tmp_path / "config.toml",
        smtp_port=smtp.port,
        imap_port=imap.port,
        ca_file=ca,
        smtp_password_env="KKIK_DOC_SMTP_PW",
        imap_username=USER.username,
        imap_password_env="KKIK_DOC_IMAP_PW",
        mail_extra="save_to_sent = true",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        campaign = Campaign(
            name="Doktor",
            year=2026,
            period_start=START_OF_CAMPAIGN.date(),
            period_end=START_OF_CAMPAIGN.date(),
            created_at=START_OF_CAMPAIGN,
        )
        session.add(campaign)
        session.flush()
        for code, address in (
            ("2380", "kommunen@ostersund.example.se"),
            ("2309", "x@krokom.invalid"),
        ):
            assert campaign.id is not None
            session.add(
                Target(campaign_id=campaign.id, kommunkod=code, name=code, email_address=address)
            )
        session.commit()
    engine.dispose()
    return config


async def test_it_checks_servers_secrets_and_mail_domains(
    kkik,
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("KKIK_DOC_SMTP_PW", "smtp-losen-1")
    monkeypatch.setenv("KKIK_DOC_IMAP_PW", USER.password)
    monkeypatch.setenv("KKIK_SESSION_SECRET", "s" * 32)
    async with (
        PymapSandbox([USER]) as imap,
        DnsSandbox({"ostersund.example.se": ["mx1.ostersund.example.se"]}) as dns,
    ):
        config = _setup(tmp_path, smtp_server, imap, tls_ca.write_ca_pem(tmp_path / "ca.pem"))
        args = (
            "--lang",
            "en",
            "--config",
            str(config),
            "doctor",
            "--dns-server",
            f"127.0.0.1:{dns.port}",
        )
        # No Sent folder yet, and krokom.invalid has no MX: two problems.
        first = await asyncio.to_thread(kkik, *args)
        client = aioimaplib.IMAP4(host=imap.host, port=imap.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(USER.username, USER.password)
        await client.create('"Skickat"')
        await client.logout()
        second = await asyncio.to_thread(kkik, *args)
        imap_port = imap.port
    assert first.code == 1
    lines = first.out.splitlines()
    assert "OK   secret   mail.smtp.password: secret present (KKIK_DOC_SMTP_PW)" in lines
    assert f"OK   database database at newest schema ({migrate.head_revision()})" in lines
    assert (
        f"OK   smtp     127.0.0.1:{smtp_server.port}: connection, STARTTLS and login work" in lines
    )
    assert (
        f"ERR  imap     127.0.0.1:{imap_port}: the folder \\Sent does not exist in the mailbox"
    ) in lines
    assert "OK   mx       ostersund.example.se: MX mx1.ostersund.example.se" in lines
    assert (
        "ERR  mx       krokom.invalid: no MX record; mail to x@krokom.invalid cannot be delivered"
        in lines
    )
    assert first.err == "2 problem(s) to fix.\n"
    assert second.code == 1  # krokom.invalid still has no MX
    assert (
        f"OK   imap     127.0.0.1:{imap_port}: login works; watching INBOX, Skickat" in second.out
    )


async def test_it_names_a_refused_login_in_plain_words(
    kkik,
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("KKIK_DOC_SMTP_PW", "wrong")
    monkeypatch.setenv("KKIK_DOC_IMAP_PW", "wrong")
    async with PymapSandbox([USER]) as imap, DnsSandbox({}) as dns:
        config = _setup(tmp_path, smtp_server, imap, tls_ca.write_ca_pem(tmp_path / "ca.pem"))
        result = await asyncio.to_thread(
            kkik,
            "--lang",
            "en",
            "--config",
            str(config),
            "doctor",
            "--dns-server",
            f"127.0.0.1:{dns.port}",
        )
        imap_port = imap.port
    assert result.code == 1
    assert (
        f"ERR  smtp     127.0.0.1:{smtp_server.port}: the outgoing mail server refused the login "
        "(the server said “535"
    ) in result.out
    assert f"ERR  imap     127.0.0.1:{imap_port}: IMAP login refused" in result.out


async def test_a_failing_oauth_token_command_is_named_not_a_traceback(
    kkik,
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    script = tmp_path / "token.py"
    script.write_text("import sys\nsys.stderr.write('token store locked\\n')\nsys.exit(3)\n")
    monkeypatch.setenv("KKIK_DOC_IMAP_PW", USER.password)
    async with PymapSandbox([USER]) as imap:
        config = _setup(tmp_path, smtp_server, imap, tls_ca.write_ca_pem(tmp_path / "ca.pem"))
        text = config.read_text(encoding="utf-8").replace(
            'password_env = "KKIK_DOC_SMTP_PW"',
            f'auth = "xoauth2"\noauth_token_command = ["{sys.executable}", "{script}"]',
        )
        config.write_text(text, encoding="utf-8")
        result = await asyncio.to_thread(kkik, "--config", str(config), "doctor")
    assert result.code == 1
    assert (
        f"FEL smtp      127.0.0.1:{smtp_server.port}: kommandot som hämtar OAuth-token "
        "misslyckades (slutkod 3: token store locked)"
    ) in result.out.splitlines()

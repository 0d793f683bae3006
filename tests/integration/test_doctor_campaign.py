"""``kkik doctor``: the session secret, the saved campaigns' targets and periods, and every line
in the reader's language with nothing English in the Swedish."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import Session

from harness.campaign.doctor import check, local, mail, phone, targets
from harness.cli import doctor_cmd
from harness.core.clock import FakeClock
from harness.core.config import SECRET_REASONS
from harness.core.config_messages import MESSAGES
from harness.core.i18n import Text
from harness.core.labels import FAULTS
from harness.sandbox.accounts import Account
from harness.sandbox.certs import SandboxCA
from harness.sandbox.dns import DnsSandbox
from harness.sandbox.ports import free_port
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from harness.sandbox.twilio_sim import TwilioSimulator
from harness.store import db, migrate
from harness.store.db import make_engine
from harness.store.models import Campaign, Channel, Probe, Target
from tests.factories import write_mail_config

ACCOUNT = "AC" + "f" * 32
DURING = datetime(2026, 10, 6, 8, tzinfo=UTC)  # Tuesday of the campaign's first week
AFTER = datetime(2026, 12, 1, 8, tzinfo=UTC)
USER = Account("fraga@fraga.example.se", "imap-pw")


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KKIK_DOC_SESSION", "k" * 40)
    monkeypatch.setenv("KKIK_DOC_TWILIO", "twilio-token")


def _database(tmp_path: Path) -> None:
    """A campaign saved before today's rules, as an edited template can leave it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        campaign = Campaign(
            name="KKiK hösten 2026",
            year=2026,
            period_start=date(2026, 10, 5),
            period_end=date(2026, 11, 13),
            scenario={"campaign": {"allow_foreign_numbers": False}},
            created_at=DURING - timedelta(days=7),
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        rows = [
            # kommunkod, name, e-mail, switchboard, placeholder, planned e-mails, planned calls
            ("2380", "Östersund", "kommunen@ostersund.example.se", "+46631430000", False, 2, 1),
            ("2309", "Krokom", "kommun@example.se", "+46640160000", True, 2, 1),
            ("2361", "Härjedalen", "kommun@herjedalen.example.se", "+469001234567", False, 0, 1),
            ("2303", "Ragunda", "kommun@ragunda.example.se", None, False, 1, 2),
        ]
        for code, name, address, number, placeholder, emails, calls in rows:
            target = Target(
                campaign_id=campaign.id,
                kommunkod=code,
                name=name,
                email_address=address,
                switchboard_number=number,
                placeholder=placeholder,
            )
            session.add(target)
            session.flush()
            assert target.id is not None
            for channel, count in ((Channel.EMAIL, emails), (Channel.PHONE, calls)):
                for n in range(count):
                    session.add(
                        Probe(
                            campaign_id=campaign.id,
                            target_id=target.id,
                            channel=channel,
                            planned_at=DURING + timedelta(days=n + 1),
                            plan_key=f"{code}/{channel}/{n:02d}",
                        )
                    )
        session.commit()
    engine.dispose()


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///kkik.db"

{extra}
[web]
session_secret_env = "KKIK_DOC_SESSION"
public_url = "http://127.0.0.1:{free_port()}"
""",
        encoding="utf-8",
    )
    return path


async def test_a_short_session_secret_fails(kkik, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KKIK_DOC_SESSION", "kort-hemlis")
    config = _config(tmp_path)
    migrate.upgrade(make_engine(f"sqlite:///{tmp_path / 'kkik.db'}"))
    result = await asyncio.to_thread(kkik, "--config", str(config), "doctor")
    assert result.code == 1
    assert (
        "FEL hemlighet web.session_secret_env: hemligheten i KKIK_DOC_SESSION har 11 tecken; "
        "inloggningen till webbpanelen kräver minst 32: skapa en ny, t.ex. med "
        "`openssl rand -base64 32`"
    ) in result.out.splitlines()
    monkeypatch.setenv("KKIK_DOC_SESSION", "")
    empty = await asyncio.to_thread(kkik, "--config", str(config), "doctor")
    assert (
        "FEL hemlighet web.session_secret_env: hemligheten saknas: KKIK_DOC_SESSION är tom"
        in empty.out.splitlines()
    )


async def _doctor(kkik, config: Path, now: datetime, *args: str):
    """Doctor on a clock, with the targets' mail domains asked of a local DNS server."""
    mx = {"ostersund.example.se": ["mx.ostersund.example.se"]}
    async with DnsSandbox(mx) as dns:
        command = (
            *args,
            "--config",
            str(config),
            "doctor",
            "--dns-server",
            f"127.0.0.1:{dns.port}",
        )
        return await asyncio.to_thread(partial(kkik, clock=FakeClock(now)), *command)


async def test_placeholders_and_unreal_targets_fail(kkik, tmp_path: Path):
    _database(tmp_path)
    result = await _doctor(kkik, _config(tmp_path), DURING)
    lines = [line for line in result.out.splitlines() if line.startswith("FEL kampanj")]
    assert result.code == 1
    assert lines == [
        "FEL kampanj   KKiK hösten 2026: 5 e-postfrågor kvar att skicka, men konfigurationen har "
        "ingen [mail]-del",
        "FEL kampanj   KKiK hösten 2026: 5 samtal kvar att ringa, men konfigurationen har ingen "
        "[phone]-del",
        "FEL kampanj   KKiK hösten 2026: 2309 Krokom: platshållare från mallen, kontaktas "
        "aldrig; skriv in kommunernas riktiga adresser och växelnummer i scenariot, ta bort "
        "placeholder = true och spara planen igen",
        "FEL kampanj   KKiK hösten 2026: Ragunda (2303): inget växelnummer, med 2 samtal kvar att "
        "ringa: ange switchboard i scenariot och spara planen igen",
        "FEL kampanj   KKiK hösten 2026: Härjedalen (2361): switchboard: är ett betalnummer "
        '(som 0900, 0939, 0944) och rings aldrig (fick "+469001234567")',
    ]
    assert "OK  mx        ostersund.example.se: MX mx.ostersund.example.se" in result.out
    # The placeholder's example address is not looked up: its line above says what to do.
    assert "kommun@example.se" not in result.out


async def test_a_period_that_is_over_fails(kkik, tmp_path: Path):
    _database(tmp_path)
    result = await _doctor(kkik, _config(tmp_path), AFTER)
    assert result.code == 1
    assert (
        "FEL kampanj   KKiK hösten 2026: perioden slutade 2026-11-13, men 5 e-postfrågor och "
        "5 samtal är kvar och kommer aldrig att skickas: ge scenariot en ny period "
        "(campaign.period_start och period_end) och spara planen igen"
    ) in result.out.splitlines()


async def test_a_real_campaign_passes(kkik, tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kkik.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        campaign = Campaign(
            name="Våren 2027",
            year=2027,
            period_start=date(2027, 3, 1),
            period_end=date(2027, 4, 9),
            created_at=DURING,
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        target = Target(
            campaign_id=campaign.id,
            kommunkod="2380",
            name="Östersund",
            switchboard_number="+46631430000",
        )
        session.add(target)
        session.flush()
        assert target.id is not None
        session.add(
            Probe(
                campaign_id=campaign.id,
                target_id=target.id,
                channel=Channel.PHONE,
                planned_at=datetime(2027, 3, 2, 9, tzinfo=UTC),
            )
        )
        session.commit()
    engine.dispose()
    sim = TwilioSimulator(FakeClock(DURING))
    sim.add_account(ACCOUNT, "twilio-token")
    sim.add_number(ACCOUNT, "+46101380000")
    async with sim:
        config = _config(tmp_path, _phone(sim))
        swedish = await _doctor(kkik, config, DURING)
        english = await _doctor(kkik, config, DURING, "--lang", "en")
    assert (
        "OK  kampanj   Våren 2027: perioden 2027-03-01–2027-04-09, 1 kommun, kvar: "
        "0 e-postfrågor och 1 samtal"
    ) in swedish.out.splitlines()
    assert (
        "OK   campaign Våren 2027: period 2027-03-01–2027-04-09, 1 municipality, still to go: "
        "0 e-mail questions and 1 call"
    ) in english.out.splitlines()
    assert "FEL" not in swedish.out


def _phone(sim: TwilioSimulator) -> str:
    return f"""
[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_env = "KKIK_DOC_TWILIO"
from_number = "010-138 00 00"
api_base_url = "{sim.base_url}"
"""


# --- nothing English in the Swedish ---------------------------------------------------------

# What leaked before the labels: the library's and the harness's own English.
LEAKED = (
    "environment variable is not set",
    "No such file",
    "login refused",
    "secret present",
    "unreachable",
    "ConnectionRefusedError",
)


def _tables() -> Iterator[Text]:
    """Every text doctor's lines are made of."""
    for table in (
        local.T,
        mail.T,
        mail.SECURITY,
        phone.T,
        targets.T,
        check.AREAS,
        check.LEVELS,
        check.NETWORK,
        SECRET_REASONS,
        db.WHY_UNAVAILABLE,
        doctor_cmd.T,
        MESSAGES,
        FAULTS,
    ):
        yield from table.values()
    yield db.CANNOT_OPEN
    for one, many in targets.COUNTED.values():
        yield from (one, many)


def _words(text: str) -> set[str]:
    """The words of running text: not placeholders, code, setting names, addresses, numbers, nor
    what a server said (quoted ”…”)."""
    text = re.sub(r"\{[^}]*\}|`[^`]*`|”[^”]*”", " ", text)
    tokens = [t.strip(".,;:()[]'\"!?") for t in text.split()]
    tokens = [t for t in tokens if not re.search(r"[._@:/=+\d\\]", t)]
    return {w.lower() for t in tokens for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]{3,}", t)}


def english_words() -> set[str]:
    """Words of the English texts that no Swedish text uses ("kkik", "Twilio" and "SMTP" are
    both); built from the tables, so a new text is covered the day it is written."""
    texts = list(_tables())
    english = set().union(*(_words(t.en) for t in texts))
    swedish = set().union(*(_words(t.sv) for t in texts))
    return english - swedish


def test_the_word_list_is_the_english_of_the_tables():
    words = english_words()
    assert {"secret", "missing", "refused", "account", "answers", "template"} <= words
    assert not {"kkik", "twilio", "smtp", "imap", "ok"} & words


async def test_no_swedish_line_holds_an_english_word(
    kkik,
    smtp_server: SmtpSandbox,
    tls_ca: SandboxCA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """Everything that can go wrong at once, read by a Swedish-speaking quality officer."""
    monkeypatch.setenv("KKIK_DOC_SMTP_PW", "fel-losen")
    monkeypatch.setenv("KKIK_DOC_IMAP_PW", "fel-losen")
    monkeypatch.delenv("KKIK_DOC_GONE", raising=False)
    monkeypatch.delenv("KKIK_DOC_GONE_FILE", raising=False)
    sim = TwilioSimulator(FakeClock(DURING))
    sim.add_account(ACCOUNT, "ett-annat-token")
    async with sim, PymapSandbox([USER]) as imap, DnsSandbox({}) as dns:
        config = write_mail_config(
            tmp_path / "config.toml",
            smtp_port=smtp_server.port,
            imap_port=imap.port,
            ca_file=tls_ca.write_ca_pem(tmp_path / "ca.pem"),
            smtp_password_env="KKIK_DOC_SMTP_PW",
            imap_username=USER.username,
            imap_password_env="KKIK_DOC_IMAP_PW",
            mail_extra="save_to_sent = true",
        )
        with config.open("a", encoding="utf-8") as file:
            file.write(
                f"""
[phone]
mode = "automated"
account_sid = "{ACCOUNT}"
auth_token_env = "KKIK_DOC_TWILIO"
from_number = "010-138 00 00"
api_base_url = "{sim.base_url}"

[web]
public_url = "http://127.0.0.1:{free_port()}"
session_secret_env = "KKIK_DOC_GONE"
"""
            )
        _database(tmp_path)
        args = ("--config", str(config), "doctor", "--dns-server", f"127.0.0.1:{dns.port}")
        result = await asyncio.to_thread(kkik, *args, clock=FakeClock(AFTER))
        other = await asyncio.to_thread(kkik, "--lang", "en", *args, clock=FakeClock(AFTER))
    lines = result.out.splitlines() + result.err.splitlines()
    assert result.code == 1
    assert len(lines) == len(other.out.splitlines() + other.err.splitlines()) >= 14
    marks = {line.split()[0] for line in lines[:-1]}
    assert "FEL" in marks
    assert marks <= {"OK", "OBS", "FEL"}
    words = english_words()
    for line in lines:
        found = _words(line) & words
        assert not found, f"English in {line!r}: {sorted(found)}"
        for phrase in LEAKED:
            assert phrase not in line, line
    # Every line differs from its English twin but in what came from outside.
    for swedish, english in zip(
        lines, other.out.splitlines() + other.err.splitlines(), strict=True
    ):
        assert swedish != english

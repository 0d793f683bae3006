"""Configured secrets never appear in logs, pages, downloads, files or command output.

The site ran a whole demo campaign with distinctive secrets (IMAP password, Twilio auth token,
session secret); here the CLI also runs as real processes with SMTP and database passwords in
the environment, against a live IMAP server, a closed SMTP port and an unreachable database
(the error paths). Everything they printed, every log record of the session, every dashboard
page an admin can open, every export (the XLSX unzipped), the raw mails and every file the
demo left are searched for each secret, plain and base64-, URL- or hex-encoded.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import zipfile
from io import BytesIO
from pathlib import Path

from harness.sandbox.accounts import Account
from harness.sandbox.dns import DnsSandbox
from harness.sandbox.ports import free_port
from harness.sandbox.pymap import PymapSandbox
from tests.security.site import (
    DATABASE_SECRET,
    IMAP_SECRET,
    SECRETS,
    SMTP_SECRET,
    TWILIO_SECRET,
    Site,
    leaks,
    routes,
)


def _scan(where: str, data: str | bytes) -> list[str]:
    return [f"{where}: {secret[:12]}…" for secret in leaks(data)]


async def test_no_page_or_download_shows_a_secret(site: Site):
    admin = await site.login("admin")
    found: list[str] = []
    paths = [p for m, p in routes(site.app) if m == "GET" and "{" not in p]
    paths += [f"/probe/{site.matched_probe}", f"/probe/{site.phone_probe}", "/static/style.css"]
    paths += [f"/message/{m}.eml" for m in site.hostile_messages]
    # The site's mail has replies awaiting review: the downloads the report page then offers.
    paths += [f"/export.{fmt}?allow_pending=1" for fmt in ("csv", "xlsx", "json")]
    for path in paths:
        reply = await admin.get(path)
        assert reply.status == 200, path
        found += _scan(path, reply.body)
        found += _scan(f"{path} headers", repr(reply.headers))
        if ".xlsx" in path:
            with zipfile.ZipFile(BytesIO(reply.body)) as book:
                for name in book.namelist():
                    found += _scan(f"{path}:{name}", book.read(name))
    assert found == []
    # The session cookie is signed with the secret, never made of it.
    assert leaks(admin.session_cookie() or "") == []


async def test_no_file_the_campaign_left_holds_a_secret(site: Site):
    found: list[str] = []
    for path in sorted(site.out.rglob("*")):
        if path.is_file():
            found += _scan(str(path.relative_to(site.out)), path.read_bytes())
    assert found == []


def _config(site: Site, tmp: Path, *, smtp_port: int, imap_port: int, database: str) -> Path:
    text = site.config.read_text(encoding="utf-8")
    head, _, _ = text.partition("[mail.smtp]")
    _, _, tail = text.partition("[phone]")
    database_section = f'[database]\nurl = "{database}"\npassword_env = "KKIK_SEC_DB"\n\n'
    head = head.replace(head[head.index("[database]") : head.index("[mail]")], database_section)
    mail = f"""[mail.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "matning@kkik.test"
password_env = "KKIK_SEC_SMTP"

[mail.imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "fraga@fraga.example.se"
password_env = "KKIK_DEMO_IMAP_PASSWORD"
folders = ["INBOX"]

"""
    path = tmp / f"config-{database.partition(':')[0]}.toml"
    path.write_text(head + mail + "[phone]" + tail, encoding="utf-8")
    return path


async def _kkik(config: Path, *args: str) -> tuple[int, str]:
    env = os.environ | {
        "KKIK_SEC_SMTP": SMTP_SECRET,
        "KKIK_SEC_DB": DATABASE_SECRET,
        "KKIK_DEMO_IMAP_PASSWORD": IMAP_SECRET,
        "KKIK_DEMO_TWILIO_TOKEN": TWILIO_SECRET,
        "KKIK_LANG": "en",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness", "--config", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, (out + err).decode("utf-8", "replace")


async def test_commands_and_their_errors_print_no_secret(site: Site, tmp_path: Path):
    mx = {"ostersund.example.se": ["mx.ostersund.example.se"],
          "berg.example.se": ["mx.berg.example.se"]}  # fmt: skip
    closed = free_port()  # nothing listens: the SMTP login fails on connect
    async with (
        PymapSandbox([Account("fraga@fraga.example.se", IMAP_SECRET)]) as imap,
        DnsSandbox(mx) as dns,
    ):
        # A copy: another process on the site's live WAL database upset its connections.
        copy = tmp_path / "kkik.db"
        with sqlite3.connect(site.out / "kkik.db") as source, sqlite3.connect(copy) as target:
            source.backup(target)
        source.close()
        target.close()
        sqlite = _config(site, tmp_path, smtp_port=closed, imap_port=imap.port,
                         database=f"sqlite:///{copy}")  # fmt: skip
        postgres = _config(site, tmp_path, smtp_port=closed, imap_port=imap.port,
                           database=f"postgresql://kkik@127.0.0.1:{free_port()}/kkik")  # fmt: skip
        dns_server = f"127.0.0.1:{dns.port}"
        runs = await asyncio.gather(
            _kkik(sqlite, "config", "check", str(sqlite)),
            _kkik(sqlite, "doctor", "--dns-server", dns_server),
            _kkik(postgres, "doctor", "--dns-server", dns_server),
            _kkik(postgres, "status"),
        )
    (check, _), (doctor, doctor_out), (pg_doctor, _pg_out), (status, _status_out) = runs
    assert check == 0
    assert doctor == 1  # SMTP is down: a failure, reported
    assert "imap" in doctor_out.lower()
    assert pg_doctor == 1
    assert status != 0  # the database cannot be reached
    found: list[str] = []
    for n, (_, output) in enumerate(runs):
        found += _scan(f"run {n}", output)
    assert found == [], "\n\n".join(output for _, output in runs)
    assert len(SECRETS) == 5


async def test_no_log_record_holds_a_secret(site: Site):
    # A failed login, a refused webhook and a server error path, on top of the campaign.
    client = await site.client()
    await client.post("/login", {"name": "anna", "password": "fel-lösenord-1"}, token=True)
    await client.post("/twilio/status", {"CallSid": "CA1"}, headers={"X-Twilio-Signature": "x"})
    admin = await site.login("admin")
    assert (await admin.get("/probe/99999999999999999999999999")).status == 404
    lines = site.logs.lines
    assert any("login failed" in line for line in lines)
    assert any("bad signature" in line for line in lines)
    assert any("no such row" in line for line in lines)
    found = [f"log line {n}" for n, line in enumerate(lines) if leaks(line)]
    assert found == []

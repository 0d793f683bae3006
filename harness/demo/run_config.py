"""The offline demo's configuration: the loopback servers' fixed names and secrets, and the
``scenario.toml`` and ``config.toml`` a run writes for the real commands to read.

The files are written from the world (:mod:`harness.demo.world`) and the ports the run's
servers got; they stay in the output directory, so ``kkik --config DIR/config.toml score`` (or
``report``, ``export``, ``call list``) reads the demo's database afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from harness.demo.world import World

__all__ = [
    "ACCOUNT_SID",
    "ENV",
    "HOLD_LIMIT",
    "MAILBOX",
    "OUR_HOST",
    "QUESTIONS",
    "ROOT",
    "TESTER",
    "write_config",
    "write_scenario",
]

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "scenarios" / "questions"
MAILBOX = "fraga@fraga.example.se"
OUR_HOST = "mx.kkik-demo.example.se"
ACCOUNT_SID = "AC" + "d3" * 16
TESTER = "+46701234567"
HOLD_LIMIT = 300
ENV = {"KKIK_DEMO_IMAP_PASSWORD": "demo-brevlada", "KKIK_DEMO_TWILIO_TOKEN": "demo-twilio-token"}


def write_scenario(out: Path, world: World, *, source: str, seed: int, weeks: int | None) -> None:
    """``out/scenario.toml``: the world's campaign (cut to ``weeks`` when given) and targets.

    ``source`` names the world in the file's comment.
    """
    period_end = world.period_end
    if weeks is not None:
        period_end = world.period_start + timedelta(weeks=weeks) - timedelta(days=3)
    targets = "".join(
        f'\n[[targets]]\nkommunkod = "{t.kommunkod}"\nemail = "{t.email}"\n'
        f'switchboard = "{t.switchboard}"\n'
        for t in world.targets
    )
    # The world's closed days are the campaign's own: the plan avoids them and the harness
    # judges the answers around them (harness.rules.calendars.campaign_calendar).
    closed = ", ".join(d.isoformat() for d in world.extra_closed_days)
    (out / "scenario.toml").write_text(
        f"""# The demo's campaign, written by `kkik demo` from {source}.
[campaign]
name = "{world.campaign}"
year = {world.period_start.year}
period_start = {world.period_start.isoformat()}
period_end = {period_end.isoformat()}
emails_per_target = {world.emails_per_target}
calls_per_target = {world.calls_per_target}
question_bank = "{QUESTIONS}"
seed = {seed}
extra_closed_days = [{closed}]

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"

[[personas]]
name = "Erik Johansson"
address = "erik.johansson@fraga.example.se"
{targets}""",
        encoding="utf-8",
    )


def write_config(
    out: Path,
    *,
    lang: str,
    smtp_port: int,
    imap_port: int,
    api: str,
    web_port: int,
    database_url: str | None = None,
) -> Path:
    """``out/config.toml``: the run's loopback servers, and the environment variables that
    hold the demo's secrets (:data:`ENV`).

    ``database_url`` (default: ``out/kkik.db``) is written without its password, if it has
    one: a secret does not belong in a file; libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
    """
    config = out / "config.toml"
    url = f"sqlite:///{out / 'kkik.db'}"
    if database_url is not None:
        url = make_url(database_url).set(password=None).render_as_string(hide_password=False)
    config.write_text(
        f"""# Written by `kkik demo`: the demo's loopback servers (gone when the demo ends).
# `kkik --config {config} score` (or report, export, call list) reads the demo's database.
language = "{lang}"

[database]
url = "{url}"

[mail]
receiving_hosts = ["{OUR_HOST}"]

[mail.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
auth = "none"

[mail.imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{MAILBOX}"
password_env = "KKIK_DEMO_IMAP_PASSWORD"
folders = ["INBOX", "\\\\Junk"]

[phone]
mode = "bridged"
account_sid = "{ACCOUNT_SID}"
auth_token_env = "KKIK_DEMO_TWILIO_TOKEN"
from_number = "063-10 00 00"
caller_number = "{TESTER}"
api_base_url = "{api}"
hold_limit_seconds = {HOLD_LIMIT}

[web]
port = {web_port}
public_url = "http://127.0.0.1:{web_port}"
""",
        encoding="utf-8",
    )
    return config

"""What `kkik run` says (issue 16): one line per event, in the operator's language, with the
reason from the text table and what happens next; never a raw code or an unfilled field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import get_args

import pytest
from sqlalchemy import Engine

from harness.cli.common import CliContext
from harness.cli.run_output import RunPrinter
from harness.core.clock import FakeClock
from harness.core.events import EventKind, RunEvent
from harness.core.i18n import LANGS, Lang
from harness.core.labels import CALL_OUTCOMES, FAULTS, MAIL_KINDS, fault_text, pause_text

NOW = datetime(2026, 10, 6, 8, 30, tzinfo=UTC)
# A parameter of every name a fault or event may carry, so an unfilled one would show.
PARAMS = {
    "header": "From name", "reply": "535 5.7.8 Authentication failed", "error": "timeout",
    "seconds": "30", "exit": "1", "detail": ": no token", "attempts": 4,
    "cause": "smtp_unreachable", "twilio_code": "21215", "status": "busy", "target": "2309 Krokom",
    "actor": "cli:anna", "reason": "kommunen fick den aldrig", "folder": "INBOX",
    "count": 5, "fault": "smtp_login_refused",
}  # fmt: skip
RAW = re.compile(
    r"\{|\}|(?<![.\w])[a-z]+_[a-z_]+\b"
)  # a field left, a snake_case code (not a setting)


def _printer(lang: Lang, sqlite_engine: Engine) -> RunPrinter:
    cli = CliContext(lang=lang, clock=FakeClock(NOW))
    return RunPrinter(cli, sqlite_engine, __import__("zoneinfo").ZoneInfo("Europe/Stockholm"),
                      quiet=False)  # fmt: skip


def _events() -> list[RunEvent]:
    events = []
    for kind in get_args(EventKind):
        codes: list[str | None] = [None]
        if kind in ("failed", "flagged", "refused", "rejected"):
            codes = list(FAULTS)
        elif kind == "reply":
            codes = list(MAIL_KINDS)
        elif kind == "call_ended":
            codes = list(CALL_OUTCOMES)
        elif kind == "paused":
            codes = ["repeated_fault"]
        for code in codes:
            events.append(RunEvent(kind, probe_id=17, target="2380 Östersund", channel="email",
                                   code=code, params=dict(PARAMS), at=NOW))  # fmt: skip
    return events


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_event_reads_as_words(lang: Lang, sqlite_engine: Engine):
    printer = _printer(lang, sqlite_engine)
    for event in _events():
        line = printer.line(event)
        # Quoted evidence (the server's reply) may hold anything; the rest must be words.
        shown = line.replace(str(PARAMS["reply"]), "").replace("`kkik call assess 17`", "")
        assert not RAW.search(shown.replace("`kkik resolve`", "")), (event.kind, event.code, line)
        assert "–" not in line, (event.kind, event.code, line)


def test_every_fault_and_pause_has_both_languages_and_fills_its_fields():
    for code in FAULTS:
        for lang in LANGS:
            text = fault_text(code, PARAMS, lang)
            assert "{" not in text
            assert "–" not in text, code
    assert "5 gånger i rad" in pause_text("repeated_fault", PARAMS, "sv")
    # Rows stored before faults had codes show their stored words.
    assert fault_text(None, None, "sv", fallback="SMTP login refused") == "SMTP login refused"


def test_a_fault_in_swedish_quotes_the_server_and_says_what_happens_next(sqlite_engine: Engine):
    printer = _printer("sv", sqlite_engine)
    params = {"attempts": 4, "cause": "smtp_unreachable", "error": "ConnectionRefusedError"}
    event = RunEvent("failed", probe_id=3, target="2309 Krokom", channel="email",
                     code="send_window_ended", params=params)  # fmt: skip
    assert printer.line(event) == (
        "#3 till 2309 Krokom (e-post) gick inte iväg: sändfönstret tog slut efter 4 försök; "
        "senast: utgående e-postserver gick inte att nå (ConnectionRefusedError). Det räknas "
        "inte mot kommunen; en ny tid planeras."
    )


def test_quiet_shows_only_what_needs_a_person(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
):
    cli = CliContext(lang="sv", clock=FakeClock(NOW))
    import zoneinfo

    printer = RunPrinter(cli, sqlite_engine, zoneinfo.ZoneInfo("Europe/Stockholm"), quiet=True)
    printer(RunEvent("sent", probe_id=1, target="2380 Östersund", channel="email"))
    printer(RunEvent("mailbox_down", params={"folder": "INBOX", "error": "reset"}))
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "2026-10-06 10:30 Brevlådan (INBOX): förbindelsen bröts (reset); försöker igen. Svar som "
        "kommer under tiden hämtas sedan med rätt ankomsttid."
    ]


def test_the_summary_counts_what_the_database_holds(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
):
    import zoneinfo

    printer = RunPrinter(CliContext(lang="sv", clock=FakeClock(NOW)), sqlite_engine,
                         zoneinfo.ZoneInfo("Europe/Stockholm"), quiet=False)  # fmt: skip
    printer.summary(force=True)
    printer.summary()  # within the hour: not again
    assert capsys.readouterr().out == (
        "Läget: 0 skickade, 0 klara, 0 väntar på svar eller bedömning, 0 kvar att skicka, 0 fel "
        "hos oss. Nästa: –.\n"
    )

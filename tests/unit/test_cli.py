"""The ``kkik`` command as a user runs it: languages, exit codes, config, calendar and db."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import __version__
from harness.store import migrate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "config.example.toml")
BAD_PORT = str(ROOT / "tests" / "data" / "config" / "bad-port-not-number.toml")


def test_it_speaks_swedish_by_default(kkik):
    result = kkik("--help")
    assert result.code == 0
    assert "Användning: kkik" in result.out
    assert "Kommandon:" in result.out
    assert "Visa den här hjälpen och avsluta." in result.out


@pytest.mark.parametrize("how", ["flag", "env"])
def test_it_speaks_english_on_request(kkik, monkeypatch: pytest.MonkeyPatch, how: str):
    if how == "env":
        monkeypatch.setenv("KKIK_LANG", "en")
        result = kkik("--help")
    else:
        result = kkik("--lang", "en", "--help")
    assert result.code == 0
    assert "Usage: kkik" in result.out
    assert "Commands:" in result.out


def test_it_takes_the_language_from_the_config_file(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('language = "en"\n')
    result = kkik("--config", str(config), "calendar", "check", "--sent", "x", "--answered", "y")
    assert result.code == 2
    assert "Invalid value for '--sent'" in result.err


def test_it_prints_its_version(kkik):
    result = kkik("--version")
    assert result.code == 0
    assert result.out.strip() == f"kkik, version {__version__}"


def test_it_exits_2_on_usage_errors_in_swedish(kkik):
    result = kkik("calendar", "check", "--sent", "igår")
    assert result.code == 2
    assert "Fel: Ogiltigt värde för '--sent': ogiltig tidpunkt 'igår'" in result.err


def test_it_exits_2_on_an_unknown_command(kkik):
    result = kkik("--lang", "en", "fly")
    assert result.code == 2
    assert "No such command 'fly'" in result.err


def test_it_says_ok_for_the_example_config(kkik):
    result = kkik("config", "check", EXAMPLE)
    assert (result.code, result.out) == (0, "OK\n")


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", 'mail.imap.port: must be between 1 and 65535 (got "abc")'),
        ("sv", 'mail.imap.port: måste vara mellan 1 och 65535 (fick "abc")'),
    ],
)
def test_it_lists_config_problems_and_exits_2(kkik, lang: str, line: str):
    result = kkik("--lang", lang, "config", "check", BAD_PORT)
    assert result.code == 2
    assert result.out == f"{BAD_PORT}: {line}\n"


def test_it_finds_the_config_through_the_environment(kkik, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KKIK_CONFIG", BAD_PORT)
    assert kkik("config", "check").code == 2
    monkeypatch.setenv("KKIK_CONFIG", EXAMPLE)
    assert kkik("config", "check").code == 0


def test_it_checks_that_secrets_exist(kkik, monkeypatch: pytest.MonkeyPatch):
    for name in ("KKIK_SMTP_PASSWORD", "KKIK_IMAP_PASSWORD", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setenv(name, "x")
    monkeypatch.delenv("KKIK_SESSION_SECRET", raising=False)
    monkeypatch.delenv("KKIK_SESSION_SECRET_FILE", raising=False)
    result = kkik("--lang", "en", "config", "check", "--secrets", EXAMPLE)
    assert result.code == 1
    assert result.out == (
        f"{EXAMPLE}: web.session_secret_env: KKIK_SESSION_SECRET: environment variable is not set\n"
    )
    monkeypatch.setenv("KKIK_SESSION_SECRET", "y")
    assert kkik("config", "check", "--secrets", EXAMPLE).out == "OK\n"


# What a new user would try, with the answer worked out by hand on the 08-17 office clock.
CALENDAR_CASES = [
    # Friday 16:00 -> Monday 16:00 is 1 h + 8 h: exactly one working day, inclusive.
    ("2026-10-09T16:00", "2026-10-12T16:00", [], True, 9.0, "2026-10-12T16:00:00+02:00"),
    ("2026-10-09T16:00", "2026-10-12T16:01", [], False, 9.02, "2026-10-12T16:00:00+02:00"),
    # Sent on a Saturday: the clock starts Monday 08:00.
    ("2026-10-10T11:00", "2026-10-12T17:00", [], True, 9.0, "2026-10-12T17:00:00+02:00"),
    # Sent Tuesday evening: counts from Wednesday 08:00.
    ("2026-10-13T18:30", "2026-10-14T16:30", [], True, 8.5, "2026-10-14T17:00:00+02:00"),
    # Easter 2026: Långfredag 3 April and Annandag påsk 6 April are closed.
    ("2026-04-02T15:00", "2026-04-07T14:00", [], True, 8.0, "2026-04-07T15:00:00+02:00"),
    ("2026-04-02T15:00", "2026-04-07T15:30", [], False, 9.5, "2026-04-07T15:00:00+02:00"),
    # Kristi himmelsfärd 14 May; the Friday after is a working day unless declared closed.
    ("2026-05-13T10:00", "2026-05-15T09:00", [], True, 8.0, "2026-05-15T10:00:00+02:00"),
    (
        "2026-05-13T10:00",
        "2026-05-15T09:00",
        ["--days", "1", "--closed", "2026-05-15"],
        True,
        7.0,
        "2026-05-18T10:00:00+02:00",
    ),
    # Midsommarafton 19 June 2026 is a de facto day off.
    ("2026-06-18T13:00", "2026-06-22T12:00", [], True, 8.0, "2026-06-22T13:00:00+02:00"),
    # Alla helgons dag is Saturday 31 October; Friday 30 October is an ordinary working day.
    ("2026-10-29T14:00", "2026-10-30T14:00", [], True, 9.0, "2026-10-30T14:00:00+01:00"),
    # Christmas: 24 and 25 December closed, 26-27 weekend.
    ("2026-12-23T14:00", "2026-12-28T13:00", [], True, 8.0, "2026-12-28T14:00:00+01:00"),
    # New Year: 31 December and 1 January closed, then the weekend.
    ("2026-12-30T10:00", "2027-01-04T10:00", [], True, 9.0, "2027-01-04T10:00:00+01:00"),
    # Spring DST switch (29 March): Friday 10:00 CET to Monday 10:00 CEST is 9 office hours.
    ("2026-03-27T10:00", "2026-03-30T10:00", [], True, 9.0, "2026-03-30T10:00:00+02:00"),
    # Autumn DST switch (25 October): Friday 10:00 CEST to Monday 10:00 CET.
    ("2026-10-23T10:00", "2026-10-26T10:00", [], True, 9.0, "2026-10-26T10:00:00+01:00"),
    # UTC input is converted: 08:00Z on a winter day is 09:00 in Stockholm.
    ("2026-11-02T08:00Z", "2026-11-03T08:00Z", [], True, 9.0, "2026-11-03T09:00:00+01:00"),
    # Two working days (edition 2011-2017): 18 office hours.
    (
        "2026-10-09T16:00",
        "2026-10-13T16:00",
        ["--days", "2"],
        True,
        18.0,
        "2026-10-13T16:00:00+02:00",
    ),
    # The other rule: same clock time on the next working day.
    (
        "2026-10-13T18:30",
        "2026-10-15T08:00",
        ["--rule", "next-working-day"],
        True,
        9.0,
        "2026-10-15T08:00:00+02:00",
    ),
    (
        "2026-10-13T18:30",
        "2026-10-15T08:01",
        ["--rule", "next-working-day"],
        False,
        9.02,
        "2026-10-15T08:00:00+02:00",
    ),
]


@pytest.mark.parametrize(
    ("sent", "answered", "extra", "within", "hours", "deadline"), CALENDAR_CASES
)
def test_it_answers_calendar_checks_as_json(
    kkik, sent: str, answered: str, extra: list[str], within: bool, hours: float, deadline: str
):
    result = kkik("calendar", "check", "--sent", sent, "--answered", answered, *extra, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "within": within,
        "business_hours": hours,
        "deadline": deadline,
    }


def test_it_explains_a_calendar_check_in_words(kkik):
    result = kkik(
        "calendar", "check", "--sent", "2026-04-02T15:00", "--answered", "2026-04-07T14:00"
    )
    assert result.code == 0
    assert result.out.splitlines() == [
        "Fråga:      2026-04-02 15:00 torsdag (+0200)",
        "Svar:       2026-04-07 14:00 tisdag (+0200)",
        "Arbetstid:  8,00 timmar",
        "Senast:     2026-04-07 15:00 tisdag (+0200)  [1 × 9 h kontorstid]",
        "Inom tiden: ja",
    ]


def test_it_uses_the_deadline_rule_and_closed_days_from_the_config(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[email]\ndeadline_rule = "next_working_day_same_time"\n'
        "[calendar]\nextra_closed_days = [2026-05-15]\n"
    )
    # Sent Wednesday evening before Kristi himmelsfärd (Thu) and a declared bridge day (Fri):
    # the clock starts Monday 08:00, so the deadline is Tuesday 08:00.
    result = kkik(
        "--config", str(config), "calendar", "check",
        "--sent", "2026-05-13T18:00", "--answered", "2026-05-18T08:00", "--json",
    )  # fmt: skip
    assert json.loads(result.out) == {
        "within": True,
        "business_hours": 0.0,
        "deadline": "2026-05-19T08:00:00+02:00",
    }


def test_it_lists_the_non_working_weekdays_of_a_year(kkik):
    result = kkik("calendar", "days", "2026")
    assert result.code == 0
    assert result.out.splitlines() == [
        "2026-01-01  torsdag   Nyårsdagen",
        "2026-01-06  tisdag    Trettondedag jul",
        "2026-04-03  fredag    Långfredagen",
        "2026-04-06  måndag    Annandag påsk",
        "2026-05-01  fredag    Första maj",
        "2026-05-14  torsdag   Kristi himmelsfärdsdag",
        "2026-06-19  fredag    Midsommarafton",
        "2026-12-24  torsdag   Julafton",
        "2026-12-25  fredag    Juldagen",
        "2026-12-31  torsdag   Nyårsafton",
    ]
    english = json.loads(kkik("--lang", "en", "calendar", "days", "2027", "--json").out)
    assert english[0] == {"date": "2027-01-01", "weekday": "Friday", "name": "Nyårsdagen"}


def test_it_refuses_a_year_out_of_range(kkik):
    assert kkik("calendar", "days", "99999").code == 2


def test_it_upgrades_the_database_named_in_the_config(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///state/kkik.db"\n')
    (tmp_path / "state").mkdir()
    result = kkik("--lang", "en", "--config", str(config), "db", "upgrade")
    assert result.code == 0, result.err
    db = tmp_path / "state" / "kkik.db"
    assert db.exists()
    head = migrate.head_revision()  # not written out: a new migration must not break this
    assert result.out == f"Database sqlite:///{db} is at schema version {head}.\n"
    current = kkik("--lang", "en", "--config", str(config), "db", "current")
    assert current.out == f"Database sqlite:///{db}: version {head} (newest: {head}).\n"


def test_it_writes_nothing_when_the_config_is_bad(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///kkik.db"\nport = 1\n')
    result = kkik("--lang", "en", "--config", str(config), "db", "upgrade")
    assert result.code == 2
    assert result.err == f"{config}: database.port: unknown setting\n"
    assert list(tmp_path.iterdir()) == [config]


def test_it_exits_2_when_the_database_cannot_be_opened(kkik, tmp_path: Path):
    # A configuration problem (issue 15, L2); tests/unit/test_db_unavailable.py has every case.
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///no/such/dir/kkik.db"\n')
    result = kkik("--lang", "en", "--config", str(config), "db", "upgrade")
    assert result.code == 2
    assert result.err == (
        f"{config}: database.url: cannot open the database: the folder {tmp_path}/no/such/dir "
        "does not exist\n"
    )


def test_it_insists_on_an_explicitly_named_config(kkik, tmp_path: Path):
    missing = tmp_path / "nope.toml"
    result = kkik("--lang", "en", "--config", str(missing), "calendar", "days", "2026")
    assert result.code == 2
    assert result.err == f"{missing}: file not found\n"


DEEP = ROOT / "tests" / "data" / "config" / "bad-nested-too-deep.toml"


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "invalid TOML: arrays or tables nested too deeply"),
        ("sv", "ogiltig TOML: listor eller tabeller i för många nivåer inuti varandra"),
    ],
)
def test_it_reports_a_config_nested_too_deeply_in_one_line(kkik, lang: str, line: str):
    # tomllib recurses once per level: 10,000 levels raised RecursionError (issue 15, L2).
    checked = kkik("--lang", lang, "config", "check", str(DEEP))
    assert (checked.code, checked.out) == (2, f"{DEEP}: {line}\n")
    status = kkik("--lang", lang, "--config", str(DEEP), "status")
    assert (status.code, status.out, status.err) == (2, "", f"{DEEP}: {line}\n")


def test_it_reports_a_scenario_nested_too_deeply_in_one_line(kkik, tmp_path: Path):
    scenario = tmp_path / "kampanj.toml"
    scenario.write_text(f"[campaign]\nname = {'[' * 10_000}{']' * 10_000}\n")
    result = kkik("--lang", "en", "plan", str(scenario))
    assert (result.code, result.out) == (2, "")
    assert result.err == f"{scenario}: invalid TOML: arrays or tables nested too deeply\n"

"""The configuration file: the example is valid and complete, and every rule has a bad file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from harness.core.config import (
    ConfigError,
    SecretUnavailable,
    Settings,
    load_config,
    normalise_phone,
    resolve_secret,
    secret_sources,
)
from harness.core.config_messages import format_problem
from harness.core.i18n import Text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
CONFIG_DATA = Path(__file__).resolve().parents[1] / "data" / "config"
# bad-not-utf8.toml cannot carry UTF-8 comment lines; it has a test of its own.
BAD_FILES = sorted(p for p in CONFIG_DATA.glob("bad-*.toml") if p.name != "bad-not-utf8.toml")


def _expected(path: Path, lang: str) -> str:
    match = re.search(rf"^# {lang}: (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no '# {lang}:' line"
    return match.group(1)


def test_it_accepts_the_example():
    settings = load_config(EXAMPLE)
    assert settings.mail is not None
    assert settings.mail.imap.folders == ("INBOX", "\\Junk")
    assert settings.phone is not None
    assert settings.phone.from_number == "+46812345678"


def test_it_accepts_an_empty_file_with_the_documented_defaults(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text("")
    settings = load_config(path)
    assert settings == Settings()
    assert settings.language == "sv"
    assert settings.email.deadline_rule == "office_hours"
    assert settings.email.give_up_working_days == 10
    assert str(settings.calendar.office_hours_start) == "08:00:00"
    assert settings.mail is None
    assert settings.phone is None


def _all_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(prefix + name)
        for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                names.extend(_all_fields(candidate, f"{prefix}{name}."))
    return names


def test_it_documents_every_setting_in_the_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^\[([a-z_.]+)\]", text, re.MULTILINE))
    missing = []
    for dotted in _all_fields(Settings):
        *section, key = dotted.split(".")
        if dotted in sections:
            continue
        # A key is documented when it appears (set or commented out) inside its section.
        block = _section_text(text, ".".join(section))
        if not re.search(rf"^#? ?{key} = ", block, re.MULTILINE):
            missing.append(dotted)
    assert missing == []


def _section_text(text: str, section: str) -> str:
    if not section:
        return text.split("\n[", 1)[0]
    match = re.search(rf"^\[{re.escape(section)}\]$", text, re.MULTILINE)
    assert match, f"no [{section}] section"
    rest = text[match.end() :]
    end = rest.find("\n[")
    return rest if end < 0 else rest[:end]


def test_it_keeps_the_example_parseable_as_plain_toml():
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert data["database"]["url"] == "sqlite:///kkik.db"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_it_reports_each_bad_file_exactly(path: Path, lang: str):
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    lines = [format_problem(p, lang) for p in info.value.problems]  # type: ignore[arg-type]
    assert lines == [f"{path}: {_expected(path, lang)}"]


def test_it_reports_a_file_that_is_not_utf8():
    path = CONFIG_DATA / "bad-not-utf8.toml"
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert [format_problem(p, "en") for p in info.value.problems] == [
        f"{path}: is not UTF-8 encoded"
    ]


def test_it_reports_a_missing_file():
    with pytest.raises(ConfigError) as info:
        load_config("no/such/config.toml")
    assert [format_problem(p, "en") for p in info.value.problems] == [
        "no/such/config.toml: file not found"
    ]
    assert [format_problem(p, "sv") for p in info.value.problems] == [
        "no/such/config.toml: filen finns inte"
    ]


def test_it_reports_every_problem_not_just_the_first(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('language = "fi"\n[web]\nport = 70000\n[calendar]\nhours = 9\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert sorted(format_problem(p, "en") for p in info.value.problems) == [
        f"{path}: calendar.hours: unknown setting",
        f'{path}: language: must be one of "sv" or "en" (got "fi")',
        f"{path}: web.port: must be between 1 and 65535 (got 70000)",
    ]


def test_it_freezes_settings():
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.language = "en"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("063-14 30 00", "+4663143000"),
        ("08-508 290 00", "+46850829000"),
        ("+46 8 508 290 00", "+46850829000"),
        ("0046 63 14 30 00", "+4663143000"),
        ("0771-11 22 33", "+46771112233"),
    ],
)
def test_it_normalises_swedish_phone_numbers(typed: str, e164: str):
    assert normalise_phone(typed) == e164


def test_it_reads_secrets_from_the_environment_or_a_file(tmp_path: Path):
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n")
    assert resolve_secret(env="TOKEN", environ={"TOKEN": "from-env"}) == "from-env"
    assert resolve_secret(file=secret_file) == "from-file"
    assert resolve_secret(env="TOKEN", environ={"TOKEN_FILE": str(secret_file)}) == "from-file"
    assert resolve_secret() is None
    with pytest.raises(SecretUnavailable, match="TOKEN: environment variable is not set"):
        resolve_secret(env="TOKEN", environ={})
    with pytest.raises(SecretUnavailable, match="missing: the file does not exist") as missing:
        resolve_secret(file=tmp_path / "missing")
    assert missing.value.reason == "file_missing"
    assert missing.value.detail("sv") == "filen finns inte"
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe")
    for path, reason in ((tmp_path, "file_is_folder"), (binary, "file_not_text")):
        with pytest.raises(SecretUnavailable) as unreadable:
            resolve_secret(file=path)
        assert unreadable.value.reason == reason


def test_a_missing_secret_is_worded_in_the_readers_language():
    with pytest.raises(SecretUnavailable) as caught:
        resolve_secret(env="TOKEN", environ={})
    message = Text("hemligheten saknas: {source}: {detail}", "secret missing: {source}: {detail}")
    fields = {"source": caught.value.source, "detail": caught.value.detail}
    assert message("sv", **fields) == "hemligheten saknas: TOKEN: miljövariabeln är inte satt"
    assert message("en", **fields) == "secret missing: TOKEN: environment variable is not set"


def test_it_lists_every_secret_the_example_refers_to():
    names = [(setting, env) for setting, env, _ in secret_sources(load_config(EXAMPLE))]
    assert names == [
        ("mail.smtp.password", "KKIK_SMTP_PASSWORD"),
        ("mail.imap.password", "KKIK_IMAP_PASSWORD"),
        ("phone.auth_token", "TWILIO_AUTH_TOKEN"),
        ("web.session_secret_env", "KKIK_SESSION_SECRET"),
    ]

"""The configuration file: TOML read with ``tomllib`` into frozen, strict pydantic models.

Every setting is documented in ``config.example.toml`` (a test keeps the two in step). Unknown keys
are errors, so a typo never silently falls back to a default. Secrets are never in the file: a
setting names the environment variable (``*_env``) or the file (``*_file``) that holds them, and
:func:`resolve_secret` reads it when the secret is actually needed.

Load with :func:`load_config`; it raises :class:`ConfigError` carrying one :class:`Problem` per
finding, which :mod:`harness.core.config_messages` turns into one line each in the user's language.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.core.i18n import Text

Port = Annotated[int, Field(ge=1, le=65535)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

# Keys that look like a secret written into the file; rejected with a pointer to *_env / *_file.
SECRET_KEYS = frozenset({"password", "token", "auth_token", "secret", "oauth_token", "api_key"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fail(kind: str, **ctx: Any) -> PydanticCustomError:
    """Build an error whose ``kind`` is looked up in the message catalogue."""
    return PydanticCustomError(kind, kind, ctx)


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        hours, minutes = int(value[:2]), int(value[3:])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise _fail("clock_time")


def _check_secret_source(
    block: BaseModel, name: str, *, required: bool, sources: tuple[str, ...]
) -> None:
    """Exactly one of ``name_env`` / ``name_file`` / ``name_command`` when the secret is needed."""
    given = [s for s in sources if getattr(block, f"{name}_{s}", None) is not None]
    options = [f"{name}_{s}" for s in sources]
    if len(given) > 1:
        raise _fail("secret_ambiguous", options=options)
    if required and not given:
        raise _fail("secret_missing", options=options)


class DatabaseSettings(_Model):
    url: str = "sqlite:///kkik.db"
    password_env: EnvName | None = None

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "postgresql", "postgresql+psycopg"} or "://" not in value:
            raise _fail("database_url")
        if "@" in value and ":" in urlsplit(value).netloc.split("@")[0]:
            raise _fail("database_password_in_url")
        return value


class CalendarSettings(_Model):
    office_hours_start: time = time(8, 0)
    office_hours_end: time = time(17, 0)
    include_de_facto_holidays: bool = True
    extra_closed_days: tuple[date, ...] = ()

    @field_validator("office_hours_start", "office_hours_end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return _parse_clock_time(value)

    @field_validator("office_hours_end")
    @classmethod
    def _after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("office_hours_start")
        if start is not None and value <= start:
            raise _fail("office_hours_order", start=start.strftime("%H:%M"))
        return value


class EmailRules(_Model):
    deadline_rule: Literal["office_hours", "next_working_day_same_time"] = "office_hours"
    count_holding_replies: bool = False
    give_up_working_days: Annotated[int, Field(ge=1, le=60)] = 10
    date_skew_flag_minutes: Annotated[int, Field(ge=1, le=1440)] = 15


class _MailServer(_Model):
    host: str
    port: Port
    security: str
    username: str | None = None
    auth: Literal["password", "xoauth2", "none"] = "password"
    password_env: EnvName | None = None
    password_file: Path | None = None
    oauth_token_env: EnvName | None = None
    oauth_token_file: Path | None = None
    oauth_token_command: tuple[str, ...] | None = None
    timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 30
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.security == "none" and not is_loopback_host(self.host):
            raise _fail("plaintext_remote", host=self.host)
        if self.auth != "none" and not self.username:
            raise _fail("username_missing", auth=self.auth)
        _check_secret_source(
            self, "password", required=self.auth == "password", sources=("env", "file")
        )
        _check_secret_source(
            self,
            "oauth_token",
            required=self.auth == "xoauth2",
            sources=("env", "file", "command"),
        )
        return self


class SmtpSettings(_MailServer):
    port: Port = 587
    security: Literal["starttls", "tls", "none"] = "starttls"


class ImapSettings(_MailServer):
    port: Port = 993
    # No STARTTLS: aioimaplib cannot upgrade a connection; every large provider offers port 993.
    security: Literal["tls", "none"] = "tls"
    folders: tuple[str, ...] = ("INBOX", "\\Junk")
    idle_renew_minutes: Annotated[int, Field(ge=1, le=29)] = 25
    poll_interval_seconds: Annotated[int, Field(ge=5, le=3600)] = 60

    @field_validator("folders")
    @classmethod
    def _some_folder(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise _fail("empty_list")
        return value


class MailSettings(_Model):
    reply_token: Literal["plus", "none"] = "plus"
    save_to_sent: bool = False
    receiving_hosts: tuple[str, ...] = ()
    test_recipients: tuple[str, ...] = ()
    smtp: SmtpSettings
    imap: ImapSettings


class PhoneSettings(_Model):
    provider: Literal["twilio"] = "twilio"
    mode: Literal["bridged", "automated"] = "bridged"
    account_sid: str
    auth_token_env: EnvName | None = None
    auth_token_file: Path | None = None
    from_number: str
    # Bridged mode: the tester's own phone, which Twilio calls first.
    caller_number: str | None = None
    api_base_url: str = "https://api.twilio.com"
    ring_timeout_seconds: Annotated[int, Field(ge=5, le=600)] = 60
    call_time_limit_seconds: Annotated[int, Field(ge=60, le=14400)] = 900
    hold_limit_seconds: Annotated[int, Field(ge=10, le=3600)] = 300
    record_calls: bool = False

    @field_validator("account_sid")
    @classmethod
    def _sid(cls, value: str) -> str:
        if not re.fullmatch(r"AC[0-9a-f]{32}", value):
            raise _fail("account_sid")
        return value

    @field_validator("from_number", "caller_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)

    @field_validator("api_base_url")
    @classmethod
    def _api(cls, value: str) -> str:
        parts = urlsplit(value)
        loopback_http = parts.scheme == "http" and is_loopback_host(parts.hostname or "")
        if not (parts.scheme == "https" or loopback_http) or not parts.hostname:
            raise _fail("api_url")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _token(self) -> Self:
        _check_secret_source(self, "auth_token", required=True, sources=("env", "file"))
        if self.mode == "bridged" and self.caller_number is None:
            raise _fail("caller_number_missing")
        return self


# The dashboard's session cookies are signed with this secret: shorter is guessable offline.
SESSION_SECRET_MIN_LENGTH = 32


class WebSettings(_Model):
    host: str = "127.0.0.1"
    port: Port = 8080
    public_url: str = "http://127.0.0.1:8080"
    session_secret_env: EnvName = "KKIK_SESSION_SECRET"
    # Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For is believed.
    # Empty: nobody's, so the login limiter counts the address that really connected.
    trusted_proxies: tuple[str, ...] = ()
    # How many processes `kkik serve` runs on the one port (--workers overrides it). They share
    # logins, logouts and login limits through the database.
    workers: Annotated[int, Field(ge=1, le=64)] = 1

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise _fail("public_url")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Each an IP address or network, written out as uvicorn compares them."""
        written = []
        for entry in value:
            try:
                if "/" in entry:
                    written.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
                else:
                    written.append(str(ipaddress.ip_address(entry.strip())))
            except ValueError:
                raise _fail("invalid") from None
        return tuple(written)


class AlertSettings(_Model):
    email_to: tuple[str, ...] = ()
    watcher_down_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    repeat_minutes: Annotated[int, Field(ge=5, le=10080)] = 240
    # The same harness fault this many times in a row pauses the campaign (0: never).
    pause_after_faults: Annotated[int, Field(ge=0, le=1000)] = 5


Days = Annotated[int, Field(ge=1, le=3650)]


class RetentionSettings(_Model):
    """How long personal data is kept, by kind (harness.campaign.retention); a kind without its
    own setting keeps ``personal_data_days``. ``kkik run`` purges every ``purge_every_hours``
    (0: only when a person runs ``kkik purge``)."""

    personal_data_days: Days = 365
    mail_days: Days | None = None
    notes_days: Days | None = None
    call_details_days: Days | None = None
    recordings_days: Days | None = None
    audit_days: Days | None = None
    purge_every_hours: Annotated[int, Field(ge=0, le=24 * 31)] = 24


class Settings(_Model):
    language: Literal["sv", "en"] = "sv"
    timezone: str = "Europe/Stockholm"
    database: DatabaseSettings = DatabaseSettings()
    calendar: CalendarSettings = CalendarSettings()
    email: EmailRules = EmailRules()
    mail: MailSettings | None = None
    phone: PhoneSettings | None = None
    web: WebSettings = WebSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail("timezone") from None
        return value


def normalise_phone(value: str, region: str = "SE") -> str:
    """Return ``value`` in E.164 form ("063-14 30 00" -> "+46631430000"), or fail."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise _fail("phone_number") from None
    if not phonenumbers.is_valid_number(number):
        raise _fail("phone_number")
    # Swedish 0900, 0939 and 0944 numbers, and their like abroad, cost the caller (issue 15, L4).
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.PREMIUM_RATE:
        raise _fail("premium_rate_number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Problem:
    """One finding in a config file: where, what kind, and the offending value."""

    file: str
    location: tuple[str | int, ...]
    kind: str
    ctx: Mapping[str, Any] = field(default_factory=dict)
    value: Any = None
    has_value: bool = False
    # The model the location is relative to (Settings when None): scenarios use the same format.
    root: type[BaseModel] | None = None


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in configuration")
        self.problems = problems


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; problems (missing, not UTF-8, bad syntax) raise :class:`ConfigError`."""
    shown = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(shown, (), "file_not_found")]) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(shown, (), "file_unreadable", {"error": exc.strerror})]
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([Problem(shown, (), "not_utf8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(shown, (), "toml_syntax", {"error": str(exc)})]) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: a few hundred levels
        # (``a = [[[[...]]]]``) exhaust the stack. No real setting nests beyond two or three.
        raise ConfigError([Problem(shown, (), "toml_too_deep")]) from None


def load_config(path: str | Path) -> Settings:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem found."""
    return parse_config(read_toml(path), str(path))


def parse_config(data: Mapping[str, Any], file: str = "<config>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, file)) from None


def validation_problems(
    exc: ValidationError, file: str, root: type[BaseModel] | None = None
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, locations relative to ``root``."""
    return [_problem(file, err, root) for err in exc.errors()]


def _problem(file: str, err: Any, root: type[BaseModel] | None) -> Problem:
    kind = err["type"]
    loc = tuple(err["loc"])
    ctx = dict(err.get("ctx") or {})
    if kind == "extra_forbidden" and loc and loc[-1] in SECRET_KEYS:
        kind, ctx = "secret_in_file", {"key": loc[-1]}
    value = err.get("input")
    # A whole table or a list of tables says nothing useful as "(got ...)".
    structured = isinstance(value, Mapping) or (
        isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value)
    )
    has_value = kind not in {"missing", "extra_forbidden", "secret_in_file"} and not structured
    return Problem(file, loc, kind, ctx, value, has_value, root)


SecretReason = Literal[
    "env_unset", "file_missing", "file_denied", "file_is_folder", "file_not_text",
    "file_unreadable", "empty",
]  # fmt: skip
SECRET_REASONS: dict[SecretReason, Text] = {
    "env_unset": Text("miljövariabeln är inte satt", "environment variable is not set"),
    "file_missing": Text("filen finns inte", "the file does not exist"),
    "file_denied": Text("behörighet saknas för att läsa filen", "permission denied"),
    "file_is_folder": Text("är en mapp, inte en fil", "is a folder, not a file"),
    "file_not_text": Text("filen är inte UTF-8-text", "the file is not UTF-8 text"),
    "file_unreadable": Text("filen kan inte läsas", "the file cannot be read"),
    "empty": Text("hemligheten är tom", "the secret is empty"),
}


class SecretUnavailable(Exception):
    """A secret the configuration points at is not where it says.

    ``reason`` is a code and ``detail`` its label in both languages (:data:`SECRET_REASONS`),
    so every face words it in its reader's language; ``str()`` is the English, for logs.
    """

    def __init__(self, source: str, reason: SecretReason) -> None:
        self.source = source
        self.reason: SecretReason = reason
        super().__init__(f"{source}: {self.detail.en}")

    @property
    def detail(self) -> Text:
        return SECRET_REASONS[self.reason]


def resolve_secret(
    *, env: str | None = None, file: Path | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return the secret from the named environment variable or file (None if neither is set).

    A ``NAME_FILE`` variable next to ``NAME`` is honoured too, the convention of container
    secrets, so the value itself never has to sit in the environment.
    """
    environment = os.environ if environ is None else environ
    if env is not None:
        if env in environment:
            return environment[env]
        indirect = environment.get(f"{env}_FILE")
        if indirect is None:
            raise SecretUnavailable(env, "env_unset")
        file = Path(indirect)
    if file is None:
        return None
    try:
        return file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SecretUnavailable(str(file), "file_missing") from None
    except PermissionError:
        raise SecretUnavailable(str(file), "file_denied") from None
    except IsADirectoryError:
        raise SecretUnavailable(str(file), "file_is_folder") from None
    except UnicodeDecodeError:
        raise SecretUnavailable(str(file), "file_not_text") from None
    except OSError:
        raise SecretUnavailable(str(file), "file_unreadable") from None


def secret_sources(settings: Settings) -> list[tuple[str, str | None, Path | None]]:
    """List every secret the configuration refers to as (dotted setting, env name, file)."""
    found: list[tuple[str, str | None, Path | None]] = []
    if settings.database.password_env:
        found.append(("database.password_env", settings.database.password_env, None))
    if settings.mail is not None:
        for name, server in (("smtp", settings.mail.smtp), ("imap", settings.mail.imap)):
            for secret in ("password", "oauth_token"):
                env = getattr(server, f"{secret}_env")
                path = getattr(server, f"{secret}_file")
                if env or path:
                    found.append((f"mail.{name}.{secret}", env, path))
    if settings.phone is not None:
        phone = settings.phone
        found.append(("phone.auth_token", phone.auth_token_env, phone.auth_token_file))
    found.append(("web.session_secret_env", settings.web.session_secret_env, None))
    return found

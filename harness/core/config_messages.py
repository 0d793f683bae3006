"""Turn configuration problems into one line each: ``file: dotted.field: problem (got value)``.

Kept apart from the models so the wording can be read (and tested) in one place. Range messages
come from the field's own constraints, so ``port = "abc"`` and ``port = 0`` both say what is
allowed, not what went wrong inside the parser.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from harness.core.config import Problem, Settings
from harness.core.i18n import Lang, Text

MESSAGES: dict[str, Text] = {
    "file_not_found": Text("filen finns inte", "file not found"),
    "file_unreadable": Text("kan inte läsas ({error})", "cannot be read ({error})"),
    "not_utf8": Text("är inte UTF-8-kodad", "is not UTF-8 encoded"),
    "toml_syntax": Text("ogiltig TOML: {error}", "invalid TOML: {error}"),
    "toml_too_deep": Text(
        "ogiltig TOML: listor eller tabeller i för många nivåer inuti varandra",
        "invalid TOML: arrays or tables nested too deeply",
    ),
    "missing": Text("måste anges", "is required"),
    "extra_forbidden": Text("okänd inställning", "unknown setting"),
    "secret_in_file": Text(
        "hemligheter får inte stå i filen; ange en miljövariabel med {key}_env "
        "eller en fil med {key}_file",
        "secrets must not be written in the file; name an environment variable with {key}_env "
        "or a file with {key}_file",
    ),
    "between": Text("måste vara mellan {low} och {high}", "must be between {low} and {high}"),
    "at_least": Text("måste vara minst {low}", "must be at least {low}"),
    "at_most": Text("får vara högst {high}", "must be at most {high}"),
    "integer": Text("måste vara ett heltal", "must be a whole number"),
    "bool": Text("måste vara true eller false", "must be true or false"),
    "text": Text("måste vara en textsträng", "must be a string"),
    "one_of": Text("måste vara en av {options}", "must be one of {options}"),
    "list": Text("måste vara en lista", "must be a list"),
    "table": Text("måste vara en tabell ([avsnitt])", "must be a table ([section])"),
    "date": Text("måste vara ett datum som 2026-05-15", "must be a date like 2026-05-15"),
    "env_name": Text(
        "måste vara namnet på en miljövariabel (A–Z, 0–9, _)",
        "must be the name of an environment variable (A-Z, 0-9, _)",
    ),
    "clock_time": Text("måste vara en tid som 08:00", "must be a time like 08:00"),
    "office_hours_order": Text(
        "måste vara senare än office_hours_start ({start})",
        "must be later than office_hours_start ({start})",
    ),
    "timezone": Text("okänd tidszon", "unknown time zone"),
    "database_url": Text(
        "måste vara en sqlite://- eller postgresql://-adress",
        "must be a sqlite:// or postgresql:// URL",
    ),
    "database_password_in_url": Text(
        "lösenordet får inte stå i adressen; använd database.password_env",
        "the password must not be in the URL; use database.password_env",
    ),
    "plaintext_remote": Text(
        'security = "none" är bara tillåtet mot en loopback-adress (host är "{host}")',
        'security = "none" is only allowed for a loopback host (host is "{host}")',
    ),
    "username_missing": Text(
        'username måste anges när auth = "{auth}"', 'username is required when auth = "{auth}"'
    ),
    "secret_missing": Text("ange en av {options}", "set one of {options}"),
    "secret_ambiguous": Text("ange bara en av {options}", "set only one of {options}"),
    "empty_list": Text("får inte vara tom", "must not be empty"),
    "account_sid": Text(
        'måste vara ett Twilio-konto-SID ("AC" följt av 32 hextecken)',
        'must be a Twilio account SID ("AC" followed by 32 hex digits)',
    ),
    "phone_number": Text("är inget giltigt telefonnummer", "is not a valid phone number"),
    "premium_rate_number": Text(
        "är ett betalnummer (som 0900, 0939, 0944) och rings aldrig",
        "is a premium-rate number (like 0900, 0939, 0944) and is never called",
    ),
    "caller_number_missing": Text(
        'caller_number (testarens telefon) måste anges när mode = "bridged"',
        'caller_number (the tester\'s phone) is required when mode = "bridged"',
    ),
    "api_url": Text(
        "måste vara en https://-adress (http:// bara mot loopback)",
        "must be an https:// URL (http:// only for loopback)",
    ),
    "public_url": Text("måste vara en http(s)://-adress", "must be an http(s):// URL"),
    "invalid": Text("ogiltigt värde", "invalid value"),
    "placeholder_target": Text(
        "{target} är en platshållare: skriv in kommunens riktiga e-postadress och växelnummer "
        "och ta bort placeholder = true innan planen sparas",
        "{target} is a placeholder: put in the municipality's real e-mail address and "
        "switchboard number and remove placeholder = true before saving the plan",
    ),
    "period_over": Text(
        "kampanjperioden är redan slut (i dag är det {today}); välj en period som inte har "
        "passerat (campaign.period_start och period_end)",
        "the campaign period is already over (today is {today}); choose a period that has not "
        "passed (campaign.period_start and period_end)",
    ),
    # Scenario files
    "control_characters": Text(
        "får inte innehålla radbrytningar eller andra styrtecken (det blir ett e-posthuvud)",
        "must not contain line breaks or other control characters (it becomes a mail header)",
    ),
    "foreign_number": Text(
        "är ett utländskt nummer ({region}); sätt campaign.allow_foreign_numbers = true för "
        "att ringa det",
        "is a foreign number ({region}); set campaign.allow_foreign_numbers = true to call it",
    ),
    "email_address": Text("är ingen giltig e-postadress", "is not a valid e-mail address"),
    "kommunkod": Text(
        'okänd kommunkod; skriv de fyra siffrorna som text, t.ex. "0180"',
        'unknown kommunkod; write the four digits as text, e.g. "0180"',
    ),
    "kommun_name": Text(
        "kommunkod {code} är {official}, inte {name}",
        "kommunkod {code} is {official}, not {name}",
    ),
    "target_no_channel": Text(
        "ange email eller switchboard (eller båda)", "set email or switchboard (or both)"
    ),
    "duplicate_target": Text(
        "kommunkod {code} finns med två gånger", "kommunkod {code} is listed twice"
    ),
    "window_order": Text(
        "end måste vara senare än start ({start})", "end must be later than start ({start})"
    ),
    "period_order": Text(
        "måste vara samma dag som eller efter period_start ({start})",
        "must be on or after period_start ({start})",
    ),
    "window_outside_office": Text(
        "måste ligga inom kontorstiden {start}–{end}", "must lie within office hours {start}–{end}"
    ),
    "too_few_days_emails": Text(
        "för få arbetsdagar: {count} e-postfrågor kräver minst {needed} arbetsdagar med högst "
        "{per_day} per dag, perioden har {days}",
        "too few working days: {count} e-mail questions need at least {needed} working days at "
        "{per_day} a day, the period has {days}",
    ),
    "too_few_days_calls": Text(
        "för få arbetsdagar: {count} samtal kräver minst {needed} arbetsdagar med högst "
        "{per_day} per dag, perioden har {days}",
        "too few working days: {count} calls need at least {needed} working days at "
        "{per_day} a day, the period has {days}",
    ),
    "duplicate_question": Text(
        "frågekoden finns i flera filer", "the question code appears in several files"
    ),
    "unknown_area": Text(
        "okänt område {area!r} (kända: {known})", "unknown area {area!r} (known: {known})"
    ),
    "unknown_facility": Text(
        "okänd anläggning {name!r} (kända: {known})", "unknown facility {name!r} (known: {known})"
    ),
    "unknown_day": Text(
        "okänd dag {name!r} (kända: {known})", "unknown day {name!r} (known: {known})"
    ),
    "opening_span": Text(
        'måste vara en öppettid som "08:00-17:00"', 'must be opening hours like "08:00-17:00"'
    ),
    "opening_span_order": Text(
        "stängningstiden måste vara senare än öppningstiden; dela en öppettid över midnatt i två "
        '("22:00-24:00" och nästa dag "00:00-02:00")',
        "the closing time must be later than the opening time; split hours across midnight in two "
        '("22:00-24:00" and the next day "00:00-02:00")',
    ),
    "opening_overlap": Text(
        "öppettiderna {first} och {second} överlappar",
        "the opening hours {first} and {second} overlap",
    ),
}

_OR = Text("eller", "or")
_GOT = Text("fick", "got")

_INT_KINDS = {
    "int_parsing",
    "int_type",
    "int_from_float",
    "greater_than_equal",
    "less_than_equal",
    "greater_than",
    "less_than",
}
_SIMPLE_KINDS = {
    "bool_parsing": "bool",
    "bool_type": "bool",
    "string_type": "text",
    "list_type": "list",
    "tuple_type": "list",
    "model_type": "table",
    "model_attributes_type": "table",
    "dict_type": "table",
    "date_parsing": "date",
    "date_type": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "string_pattern_mismatch": "env_name",
}


def format_problem(problem: Problem, lang: Lang) -> str:
    """Render one problem as ``file: field: message (got value)``."""
    parts = [problem.file]
    if problem.location:
        parts.append(dotted(problem.location))
    parts.append(_message(problem, lang, problem.root or Settings))
    line = ": ".join(parts)
    if problem.has_value:
        line += f" ({_GOT(lang)} {_show(problem.value)})"
    return line


def dotted(location: tuple[str | int, ...]) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _message(problem: Problem, lang: Lang, root: type[BaseModel]) -> str:
    kind = problem.kind
    if kind == "int_from_float":
        return MESSAGES["integer"](lang)
    if kind in _INT_KINDS:
        return _range_message(problem, lang, root)
    if kind in {"literal_error", "enum"}:
        options = _literal_options(problem.location, root)
        if options:
            quoted = [json.dumps(o, ensure_ascii=False) for o in options]
            return MESSAGES["one_of"](lang, options=_join_or(quoted, lang))
    kind = _SIMPLE_KINDS.get(kind, kind)
    text = MESSAGES.get(kind, MESSAGES["invalid"])
    ctx = dict(problem.ctx)
    if "options" in ctx:
        ctx["options"] = _join_or([str(o) for o in ctx["options"]], lang)
    try:
        return text(lang, **ctx)
    except KeyError:
        return MESSAGES["invalid"](lang)


def _join_or(items: list[str], lang: Lang) -> str:
    """Return "a, b or c" in the user's language."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {_OR(lang)} " + items[-1]


def _range_message(problem: Problem, lang: Lang, root: type[BaseModel]) -> str:
    info = field_info(problem.location, root)
    low = high = None
    for meta in info.metadata if info else ():
        if isinstance(meta, annotated_types.Ge):
            low = meta.ge
        elif isinstance(meta, annotated_types.Le):
            high = meta.le
    if low is not None and high is not None:
        return MESSAGES["between"](lang, low=low, high=high)
    if low is not None:
        return MESSAGES["at_least"](lang, low=low)
    if high is not None:
        return MESSAGES["at_most"](lang, high=high)
    return MESSAGES["integer"](lang)


def _literal_options(location: tuple[str | int, ...], root: type[BaseModel]) -> tuple[Any, ...]:
    info = field_info(location, root)
    if info is None:
        return ()
    for candidate in _unwrap(info.annotation):
        if get_origin(candidate) is Literal:
            return get_args(candidate)
    return ()


def field_info(
    location: tuple[str | int, ...], root: type[BaseModel] = Settings
) -> FieldInfo | None:
    """Find the pydantic field a dotted location points at, walking nested models."""
    model: type[BaseModel] | None = root
    info: FieldInfo | None = None
    for part in location:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        model = next(
            (
                c
                for c in _unwrap(info.annotation)
                if isinstance(c, type) and issubclass(c, BaseModel)
            ),
            None,
        )
    return info


def _unwrap(annotation: Any) -> list[Any]:
    """Flatten Optional/Union/Annotated/tuple[...] into the candidate types inside."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg)]
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (tuple, list):
        return [t for arg in get_args(annotation) if arg is not Ellipsis for t in _unwrap(arg)]
    return [annotation]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."

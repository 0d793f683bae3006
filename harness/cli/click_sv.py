"""Swedish for click's own words (usage lines, option errors), so the whole CLI speaks Swedish.

click wraps its messages in ``gettext``; it imports the function into each of its modules, so we
replace that name there with a lookup in this table. Messages missing here stay in English.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

SWEDISH: dict[str, str] = {
    "Usage:": "Användning:",
    "Options": "Flaggor",
    "Commands": "Kommandon",
    "Positional arguments": "Argument",
    "Show this message and exit.": "Visa den här hjälpen och avsluta.",
    "Show the version and exit.": "Visa versionen och avsluta.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Error: {message}": "Fel: {message}",
    "Aborted!": "Avbrutet!",
    "Try '{command} {option}' for help.": "Skriv '{command} {option}' för hjälp.",
    "No such command {name!r}.": "Kommandot {name!r} finns inte.",
    "No such option {name!r}.": "Flaggan {name!r} finns inte.",
    "Missing command.": "Kommando saknas.",
    "Missing argument": "Argument saknas",
    "Missing option": "Flagga saknas",
    "Missing parameter": "Parameter saknas",
    "Missing {param_type}": "{param_type} saknas",
    "Missing parameter: {param_name}": "Parameter saknas: {param_name}",
    "Invalid value for {param_hint}: {message}": "Ogiltigt värde för {param_hint}: {message}",
    "Invalid value: {message}": "Ogiltigt värde: {message}",
    "Option {name!r} does not take a value.": "Flaggan {name!r} tar inget värde.",
    "{value!r} is not a valid {number_type}.": "{value!r} är inte ett giltigt {number_type}.",
    "{value} is not in the range {range}.": "{value} ligger inte i intervallet {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} finns inte.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} är en katalog.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} kan inte läsas.",
    "default: {default}": "standard: {default}",
    "env var: {var}": "miljövariabel: {var}",
    "file": "fil",
    "path": "sökväg",
    "directory": "katalog",
    "integer": "heltal",
    "Got unexpected extra argument ({args})": "Oväntat extra argument ({args})",
    "Got unexpected extra arguments ({args})": "Oväntade extra argument ({args})",
    "Option {name!r} requires an argument.": "Flaggan {name!r} kräver ett värde.",
    "Option {name!r} requires {nargs} arguments.": "Flaggan {name!r} kräver {nargs} värden.",
    "{value!r} is not {choice}.": "{value!r} är inte {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} är inte en av {choices}.",
    "Did you mean {possibility}?": "Menade du {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Menade du någon av: {possibilities}?)",
}

_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types")


def word(message: str, swedish: bool) -> str:
    """One of click's own messages in Swedish (``swedish``) or as click says it."""
    return SWEDISH.get(message, message) if swedish else message


def _gettext(message: str) -> str:
    return SWEDISH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install(swedish: bool) -> None:
    """Make click speak Swedish (True) or its own English (False) from now on."""
    import gettext

    getter: Callable[[str], str] = _gettext if swedish else gettext.gettext
    nget: Callable[[str, str, int], str] = _ngettext if swedish else gettext.ngettext
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = getter  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = nget  # type: ignore[attr-defined]

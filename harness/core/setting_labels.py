"""Every setting of the configuration file in words: its section, its label and its value.

The dashboard's settings page shows the configuration as it is loaded; a person reads "Regel för
en arbetsdag: inom 9 timmars kontorstid", not ``email.deadline_rule = office_hours``. The keys
are those of :class:`harness.core.config.Settings` (a test checks that each has both labels); a
value that is a code has a label here too, and a secret is never shown, only where it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.i18n import Lang, Text
from harness.core.labels import CALL_MODES

__all__ = [
    "SECTIONS",
    "SETTINGS",
    "VALUES",
    "is_secret",
    "sections",
    "setting_label",
    "setting_value",
]

SECTIONS: dict[str, Text] = {
    "": Text("Allmänt", "General"),
    "database": Text("Databas", "Database"),
    "calendar": Text("Arbetstid och kalender", "Working time and calendar"),
    "email": Text("Regler för e-postsvar", "Rules for e-mail answers"),
    "mail": Text("Mätningens brevlåda", "The measurement mailbox"),
    "mail.smtp": Text("Utgående e-post (SMTP)", "Outgoing mail (SMTP)"),
    "mail.imap": Text("Inkommande e-post (IMAP)", "Incoming mail (IMAP)"),
    "phone": Text("Telefon (Twilio)", "Phone (Twilio)"),
    "web": Text("Webbpanelen", "The dashboard"),
    "alerts": Text("Larm", "Alerts"),
    "retention": Text("Personuppgifter", "Personal data"),
}

# The fields the outgoing and incoming mail servers share.
_SERVER: dict[str, Text] = {
    "host": Text("Server", "Server"),
    "port": Text("Port", "Port"),
    "security": Text("Kryptering", "Encryption"),
    "username": Text("Användarnamn", "User name"),
    "auth": Text("Inloggning", "Login"),
    "password_env": Text("Lösenordet finns i", "The password is in"),
    "password_file": Text("Lösenordet finns i", "The password is in"),
    "oauth_token_env": Text("OAuth-token finns i", "The OAuth token is in"),
    "oauth_token_file": Text("OAuth-token finns i", "The OAuth token is in"),
    "oauth_token_command": Text("OAuth-token hämtas med", "The OAuth token is fetched with"),
    "timeout_seconds": Text("Väntetid på servern (sekunder)", "Wait for the server (seconds)"),
    "ca_file": Text("Egen CA för servern", "Own CA for the server"),
}

SETTINGS: dict[str, Text] = {
    "language": Text("Språk", "Language"),
    "timezone": Text("Tidszon", "Time zone"),
    "database.url": Text("Databasens adress", "The database's address"),
    "database.password_env": Text("Databaslösenordet finns i", "The database password is in"),
    "calendar.office_hours_start": Text("Kontorstiden börjar", "Office hours begin"),
    "calendar.office_hours_end": Text("Kontorstiden slutar", "Office hours end"),
    "calendar.include_de_facto_holidays": Text(
        "Midsommarafton, julafton och nyårsafton är lediga",
        "Midsummer Eve, Christmas Eve and New Year's Eve are days off",
    ),
    "calendar.extra_closed_days": Text(
        "Egna stängda dagar (alla kampanjer)", "Own closed days (every campaign)"
    ),
    "email.deadline_rule": Text("Regel för en arbetsdag", "Rule for one working day"),
    "email.count_holding_replies": Text(
        "Väntesvar (”vi återkommer”) räknas som svar", "Holding replies count as the answer"
    ),
    "email.give_up_working_days": Text(
        "Obesvarad efter (arbetsdagar)", "Not answered after (working days)"
    ),
    "email.date_skew_flag_minutes": Text(
        "Granska när avsändarens datum skiljer mer än (minuter)",
        "Review when the sender's date differs by more than (minutes)",
    ),
    "mail.reply_token": Text("Svarsadress per fråga", "Reply address per question"),
    "mail.save_to_sent": Text(
        "Spara en kopia av frågan i Skickat", "Save a copy of the question in Sent"
    ),
    "mail.receiving_hosts": Text("Våra mottagande e-postservrar", "Our receiving mail servers"),
    "mail.test_recipients": Text(
        "Adresser som testmejl får gå till", "Addresses test mails may go to"
    ),
    **{f"mail.smtp.{key}": text for key, text in _SERVER.items()},
    **{f"mail.imap.{key}": text for key, text in _SERVER.items()},
    "mail.imap.folders": Text("Mappar som bevakas", "Folders watched"),
    "mail.imap.idle_renew_minutes": Text(
        "Förnya bevakningen (IDLE) efter (minuter)", "Renew the watch (IDLE) after (minutes)"
    ),
    "mail.imap.poll_interval_seconds": Text(
        "Titta efter ny post utan IDLE var (sekunder)", "Poll without IDLE every (seconds)"
    ),
    "phone.provider": Text("Telefonitjänst", "Telephony provider"),
    "phone.mode": Text("Sätt att ringa", "How calls are made"),
    "phone.account_sid": Text("Twilio-konto", "Twilio account"),
    "phone.auth_token_env": Text("Twilio-nyckeln finns i", "The Twilio token is in"),
    "phone.auth_token_file": Text("Twilio-nyckeln finns i", "The Twilio token is in"),
    "phone.from_number": Text("Samtalen kommer från", "Calls come from"),
    "phone.caller_number": Text("Testarens telefon", "The tester's phone"),
    "phone.api_base_url": Text("Twilios API-adress", "Twilio's API address"),
    "phone.ring_timeout_seconds": Text(
        "Låt växeln ringa högst (sekunder)", "Let the switchboard ring at most (seconds)"
    ),
    "phone.call_time_limit_seconds": Text("Längsta samtal (sekunder)", "Longest call (seconds)"),
    "phone.hold_limit_seconds": Text(
        "Ingen person inom (sekunder) räknas som ingen person nådd",
        "No person within (seconds) counts as no person reached",
    ),
    "phone.record_calls": Text("Spela in samtalen", "Record the calls"),
    "web.host": Text("Lyssnar på adress", "Listens on address"),
    "web.port": Text("Lyssnar på port", "Listens on port"),
    "web.public_url": Text("Publik adress (för Twilio)", "Public address (for Twilio)"),
    "web.session_secret_env": Text(
        "Nyckeln för inloggningar finns i", "The login signing key is in"
    ),
    "web.trusted_proxies": Text("Betrodda omvända proxyer", "Trusted reverse proxies"),
    "web.workers": Text("Antal webbprocesser", "Web worker processes"),
    "alerts.email_to": Text("Larm skickas till", "Alerts go to"),
    "alerts.watcher_down_minutes": Text(
        "Larma när brevlådan varit nere i (minuter)",
        "Alert when the mailbox has been down for (minutes)",
    ),
    "alerts.repeat_minutes": Text(
        "Upprepa samma larm tidigast efter (minuter)",
        "Repeat the same alert at the earliest after (minutes)",
    ),
    "alerts.pause_after_faults": Text(
        "Pausa kampanjen efter så många likadana fel i rad (0: aldrig)",
        "Pause the campaign after this many identical faults in a row (0: never)",
    ),
    "retention.personal_data_days": Text(
        "Personuppgifter sparas i (dagar)", "Personal data is kept for (days)"
    ),
    "retention.mail_days": Text(
        "E-post och avsändaruppgifter sparas i (dagar; tomt: som ovan)",
        "Mail and sender details are kept for (days; empty: as above)",
    ),
    "retention.notes_days": Text(
        "Anteckningar i bedömningar sparas i (dagar; tomt: som ovan)",
        "Assessment notes are kept for (days; empty: as above)",
    ),
    "retention.call_details_days": Text(
        "Telefonnummer och tal i samtalen sparas i (dagar; tomt: som ovan)",
        "Phone numbers and speech in calls are kept for (days; empty: as above)",
    ),
    "retention.recordings_days": Text(
        "Inspelningar sparas i (dagar; tomt: som ovan)",
        "Recordings are kept for (days; empty: as above)",
    ),
    "retention.audit_days": Text(
        "Loggens värden sparas i (dagar; tomt: som ovan)",
        "The audit trail's values are kept for (days; empty: as above)",
    ),
    "retention.purge_every_hours": Text(
        "kkik run rensar var (timme; 0: bara med kkik purge)",
        "kkik run purges every (hours; 0: only with kkik purge)",
    ),
}

_DEADLINES = {
    "office_hours": Text("inom 9 timmars kontorstid", "within 9 office hours"),
    "next_working_day_same_time": Text(
        "samma klockslag nästa arbetsdag", "the same time on the next working day"
    ),
}
_SECURITY = {
    "starttls": Text("STARTTLS", "STARTTLS"),
    "tls": Text("TLS från start", "TLS from the start"),
    "none": Text("ingen (bara på den egna datorn)", "none (on this machine only)"),
}
_AUTH = {
    "password": Text("lösenord", "password"),
    "xoauth2": Text("OAuth 2 (Microsoft 365, Gmail)", "OAuth 2 (Microsoft 365, Gmail)"),
    "none": Text("ingen", "none"),
}
#: Setting values that are codes: (key, code) -> label.
VALUES: dict[tuple[str, str], Text] = {
    ("language", "sv"): Text("svenska", "Swedish"),
    ("language", "en"): Text("engelska", "English"),
    **{("email.deadline_rule", code): text for code, text in _DEADLINES.items()},
    ("mail.reply_token", "plus"): Text(
        "egen plusadress per fråga (fraga+kod@…)", "its own plus address (question+code@…)"
    ),
    ("mail.reply_token", "none"): Text("samma adress för alla", "one address for all"),
    **{(f"mail.{s}.security", c): t for s in ("smtp", "imap") for c, t in _SECURITY.items()},
    **{(f"mail.{s}.auth", code): t for s in ("smtp", "imap") for code, t in _AUTH.items()},
    ("mail.imap.folders", "INBOX"): Text("inkorgen", "the inbox"),
    ("mail.imap.folders", "\\Junk"): Text("skräppostmappen", "the junk folder"),
    ("phone.provider", "twilio"): Text("Twilio", "Twilio"),
    **{("phone.mode", code): text for code, text in CALL_MODES.items()},
}
_YES_NO = {True: Text("ja", "yes"), False: Text("nej", "no")}
_NONE = Text("inga", "none")
_UNSET = Text("inte angiven", "not set")
_ENV = Text("miljövariabeln {name}", "the environment variable {name}")
_FILE = Text("filen {name}", "the file {name}")
_COMMAND = Text("kommandot {name}", "the command {name}")
_HIDDEN = Text("(dold)", "(hidden)")


def setting_label(key: str, lang: Lang) -> str:
    text = SETTINGS.get(key)
    return text(lang) if text is not None else key


def is_secret(key: str) -> bool:
    """A setting that would hold a secret itself (never one that only says where it is)."""
    leaf = key.rpartition(".")[2]
    pointer = leaf.endswith(("_env", "_file", "_command"))
    return not pointer and any(word in leaf for word in ("password", "secret", "auth_token"))


def setting_value(key: str, value: Any, lang: Lang) -> str:
    """A setting's value in words: codes labelled, yes/no, lists, where a secret is kept."""
    if value is None or value == "":
        return _UNSET(lang)
    if is_secret(key):
        return _HIDDEN(lang)
    if isinstance(value, bool):
        return _YES_NO[value](lang)
    if key.endswith("_command") and isinstance(value, list | tuple):
        return _COMMAND(lang, name=" ".join(str(v) for v in value))
    if isinstance(value, list | tuple):
        items = [setting_value(key, item, lang) for item in value]
        return ", ".join(items) if items else _NONE(lang)
    text = str(value)
    label = VALUES.get((key, text))
    if label is not None:
        return label(lang)
    leaf = key.rpartition(".")[2]
    if leaf.endswith("_env"):
        return _ENV(lang, name=text)
    if leaf.endswith("_file"):
        return _FILE(lang, name=text)
    if key.startswith(("calendar.office_hours",)) and len(text) == 8:
        return text[:5]  # "08:00:00" as a clock shows it
    return text


def sections(values: Mapping[str, Any], lang: Lang) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The settings grouped by section: (section label, [(label, value in words, key)])."""
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for key, value in values.items():
        section = key.rpartition(".")[0]
        shown = setting_value(key, value, lang)
        grouped.setdefault(section, []).append((setting_label(key, lang), shown, key))
    order = list(SECTIONS)
    return [
        (SECTIONS[name](lang) if name in SECTIONS else name, rows)
        for name, rows in sorted(grouped.items(), key=lambda kv: _rank(order, kv[0]))
    ]


def _rank(order: list[str], section: str) -> int:
    return order.index(section) if section in order else len(order)

"""Every code a person can meet on a dashboard page has a Swedish and an English label.

The codes are read from where they are made: the classifier's and the matcher's own tables of
reasons and signals, the probe states, the phone timeline's statuses, the call events the phone
store writes, the question bank's areas and the configuration's keys; a new code without a label
fails here before anyone sees it raw.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from harness.channels.phone import store as phonestore
from harness.core import labels, mail_labels, setting_labels
from harness.core.config import (
    ImapSettings,
    MailSettings,
    PhoneSettings,
    Settings,
    SmtpSettings,
)
from harness.core.i18n import Text
from harness.core.scenario import AREAS
from harness.store.models import ProbeState
from harness.web.pages import setting_values
from probes import email_classify, email_match
from results import phone_timeline

ROOT = Path(__file__).resolve().parents[2]


def _table_codes(doc: str | None) -> set[str]:
    """The ``code`` cells that start the rows of a module docstring's table."""
    return set(re.findall(r"^``([a-z_]+)``", doc or "", re.MULTILINE))


def _both(table: dict[str, Text], codes: set[str]) -> None:
    missing = codes - set(table)
    assert not missing, f"no label for {sorted(missing)}"
    for code in codes:
        assert table[code].sv.strip(), code
        assert table[code].en.strip(), code
        assert table[code].sv != code, f"{code}: the label is the code"


def test_every_classification_reason_and_kind_has_labels():
    reasons = _table_codes(email_classify.__doc__)
    assert {"personal", "dsn", "case_receipt_body"} <= reasons
    _both(mail_labels.CLASSIFICATION_REASONS, reasons)
    _both(labels.MAIL_KINDS, {k.value for k in email_classify.Kind})


def test_every_match_signal_and_arrival_source_has_labels():
    signals = _table_codes(email_match.__doc__) | {"manual"}  # a person's assignment
    assert {"in_reply_to", "topic", "subject_only"} <= signals
    _both(mail_labels.MATCH_METHODS, signals)
    _both(mail_labels.ARRIVAL_SOURCES, {"received_header", "internaldate", "given"})


def test_every_state_outcome_status_event_and_mode_has_labels():
    _both(labels.PROBE_STATES, {s.value for s in ProbeState})
    outcomes = {"answered", "bounced", "not_answered", "rejected", "refused", "send_unknown",
                "harness_fault", "person", "no_person", "busy", "no_answer", "failed"}  # fmt: skip
    _both(labels.PROBE_OUTCOMES, outcomes)
    _both(labels.CALL_STATUSES, set(phone_timeline._KNOWN))
    names = ("STATUS", "VOICE", "RECORDING", "MARK_PERSON", "MARK_TRANSFER", "RECONCILE",
             "SPEECH_PERSON", "DIAL_ENDED")  # fmt: skip
    events = {getattr(phonestore, name) for name in names}
    assert all(isinstance(e, str) and re.fullmatch(r"[a-z_]+", e) for e in events)
    assert len(events) == 8
    _both(labels.CALL_EVENTS, events)
    _both(labels.CALL_MODES, {"bridged", "automated"})


def test_area_labels_are_the_question_bank_s_titles():
    titles = {}
    for path in sorted((ROOT / "scenarios" / "questions").glob("*.toml")):
        bank = tomllib.loads(path.read_text(encoding="utf-8"))
        titles[bank["area"]] = bank["title"]
    assert set(titles) == set(AREAS) == set(labels.AREAS)
    assert {area: labels.AREAS[area].sv for area in AREAS} == titles
    assert labels.area_label("aldreomsorg", "sv") == "Äldreomsorg"
    assert labels.area_label("gator-och-vagar", "en") == "Streets and roads"


def _every_setting() -> dict[str, object]:
    """Every key of the configuration, with the optional sections present."""
    server = {"host": "h", "username": "u", "password_env": "P"}
    settings = Settings(
        mail=MailSettings(smtp=SmtpSettings(**server), imap=ImapSettings(**server)),
        phone=PhoneSettings(
            account_sid="AC" + "0" * 32,
            auth_token_env="T",
            from_number="+46812345678",
            caller_number="+46701234567",
        ),
    )
    return setting_values(settings)


def test_every_setting_has_labels_and_its_coded_values_are_worded():
    keys = set(_every_setting())
    assert len(keys) > 60
    _both(setting_labels.SETTINGS, keys)
    assert set(setting_labels.SETTINGS) == keys  # no label for a setting that is gone
    for key, value in _every_setting().items():
        shown = setting_labels.setting_value(key, value, "sv")
        assert shown.strip(), key
    assert setting_labels.setting_value("email.deadline_rule", "office_hours", "sv") == (
        "inom 9 timmars kontorstid"
    )
    assert setting_labels.setting_value("mail.imap.folders", ["INBOX", "\\Junk"], "sv") == (
        "inkorgen, skräppostmappen"
    )
    assert setting_labels.setting_value("phone.auth_token_env", "T", "sv") == "miljövariabeln T"
    assert setting_labels.setting_value("calendar.extra_closed_days", [], "en") == "none"
    assert setting_labels.setting_value("phone.record_calls", False, "sv") == "nej"


def test_a_review_note_is_worded_and_a_person_s_reason_kept():
    note = mail_labels.review_note_text
    assert note("No probe found", "sv") == "ingen fråga hittades"
    assert note("Low confidence (0.50); Date: far from arrival", "en") == (
        "an uncertain match (confidence 0.50); the sender's date is far from the arrival"
    )
    assert note("Kvittot innehöll svaret", "sv") == "Kvittot innehöll svaret"
    assert note("Analysis failed: boom", "sv") == "analysen misslyckades: ”boom”"
    assert mail_labels.folder_label("INBOX", "sv") == "inkorgen"
    assert mail_labels.folder_label("Skräppost", "sv") == "mappen ”Skräppost”"

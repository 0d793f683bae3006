"""The audit trail in words: who acted (and where from), and what a correction changed.

An entry stores the values before and after as codes (``{"classification": "auto_reply"}``);
a person reads "klassning: automatsvar eller kvitto → svar från en person".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.i18n import Lang, Text
from harness.core.labels import MAIL_KINDS, label
from harness.core.mail_labels import MATCH_METHODS
from harness.messages import YES_NO

# The fields of a message's correction (harness.services.review), in the order shown.
FIELDS: dict[str, Text] = {
    "classification": Text("klassning", "classification"),
    "holding_reply": Text("väntesvar", "holding reply"),
    "probe_id": Text("mätning", "probe"),
    "match_method": Text("kopplad via", "matched by"),
    "match_confidence": Text("säkerhet", "confidence"),
    "needs_review": Text("behöver granskas", "needs review"),
    # an e-mail answer's assessment (harness.services.mail_assess)
    "sender_name": Text("avsändarens namn", "sender's name"),
    "sender_title": Text("titel", "title"),
    "sender_phone": Text("telefon", "phone"),
    "sender_address": Text("adress", "address"),
    "sender_complete": Text("fullständiga avsändaruppgifter", "complete sender details"),
    "answered": Text("besvarar frågan", "answers the question"),
    "correct": Text("korrekt", "correct"),
    "extra_help": Text("extra hjälp", "extra help"),
    "notes": Text("anteckning", "note"),
}
_CODES: dict[str, Mapping[str, Text]] = {
    "classification": MAIL_KINDS,
    "match_method": MATCH_METHODS,
}
_WHERE = {
    "web": Text("{name} (webbpanelen)", "{name} (dashboard)"),
    "cli": Text("{name} (kommandoraden)", "{name} (command line)"),
    "demo": Text("{name} (demokörningen)", "{name} (the demo run)"),
}
_ENTITIES = {
    "message": Text("Meddelande {id}", "Message {id}"),
    "probe": Text("Mätning {id}", "Probe {id}"),
}


def actor_text(actor: str, lang: Lang) -> str:
    """``web:anna`` as "anna (webbpanelen)"; anything else (the runner) as stored."""
    where, _, name = actor.partition(":")
    text = _WHERE.get(where)
    return text(lang, name=name) if text is not None and name else actor


def _value(field: str, value: Any, lang: Lang) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return YES_NO[value](lang)
    if isinstance(value, float):
        return f"{value:.2f}"
    codes = _CODES.get(field)
    return label(codes, str(value), lang) if codes is not None else str(value)


def change_text(
    entity: str,
    entity_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    lang: Lang,
) -> str:
    """What changed, field by field: "Meddelande 12: klassning: A → B; mätning: – → 7"."""
    old, new = before or {}, after or {}
    changes = [
        f"{text(lang)}: {_value(f, old.get(f), lang)} → {_value(f, new.get(f), lang)}"
        for f, text in FIELDS.items()
        if old.get(f) != new.get(f)
    ]
    heading = _ENTITIES.get(entity)
    what = heading(lang, id=entity_id) if heading is not None else f"{entity} {entity_id}"
    return f"{what}: " + ("; ".join(changes) if changes else "–")

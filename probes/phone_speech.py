"""Is that a person or a machine talking? A rule for the automated mode's speech results.

When answering-machine detection says "machine" (an IVR greeting or a queue message), the call
listens on with Twilio's speech recognition and gets each utterance as text. A switchboard's
recorded messages are recognisable by their words (press, queue, welcome, opening hours); a
person answering says a short greeting, usually with a name or a unit. Machine words win: a
message that says "välkommen" and "tryck" is a menu even if it also says "hej".

This is deliberately simple and conservative: an utterance that matches neither list is *not* a
person, so the call keeps listening; the worst case is a "no person" that a reviewer can correct
by marking the time from the recording.
"""

from __future__ import annotations

import re

_MACHINE = re.compile(
    r"\b(tryck|knappa|välj|menyval?|välkommen|kö(n|en)?|plats nummer|var god dröj|vänligen dröj|"
    r"ditt samtal|samtalet (kan )?spelas in|öppettider|öppet|stängt|besök (oss|vår)|"
    r"hänvisa|telefontid|upptagna|upptagen|väntetid|press|queue|welcome|please hold)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(
    r"\b(du (pratar|talar) med|det är|jag heter|hej|hallå|god (morgon|middag|eftermiddag)|"
    r"kontaktcenter|växeln|kundtjänst|medborgarservice|servicecenter)\b",
    re.IGNORECASE,
)


def is_person(speech: str) -> bool:
    """True when ``speech`` sounds like a person answering, not a recorded message."""
    text = speech.strip()
    if not text or _MACHINE.search(text):
        return False
    return bool(_PERSON.search(text))

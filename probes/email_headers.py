"""What may stand in a mail header we write (pure; no mail library, so the scenario reader can
use it without loading the SMTP client)."""

from __future__ import annotations

import re

_UNSAFE_IN_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_safe(value: str) -> bool:
    """Whether ``value`` may stand in a header: no line break and no other control character.

    Scenarios and the question bank are checked with it when they are read, so that a bad
    persona name or subject is refused by ``kkik plan`` rather than at the first send.
    """
    return _UNSAFE_IN_HEADER.search(value) is None

"""Stored mail read as reply evidence (pure: no database session, no model classes).

The one reading of a stored message that the answer rule (:mod:`results.answer_rule`, applied by
:func:`results.email_log.answer`) is applied to. It takes any row with the message table's
columns, a ``Message`` or a row read with SQLAlchemy Core, so ``kkik status`` decides what is
answered the way the mail settling and the evidence reader do without loading the ORM (issue 16,
item 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from results.email_log import ReplyEvidence

__all__ = ["StoredReply", "replies_from"]


class StoredReply(Protocol):
    """The columns of a stored message that its reading as a reply needs."""

    @property
    def id(self) -> int | None: ...
    @property
    def arrived_at(self) -> datetime | None: ...
    @property
    def classification(self) -> str | None: ...
    @property
    def holding_reply(self) -> bool: ...
    @property
    def match_method(self) -> str | None: ...
    @property
    def match_confidence(self) -> float | None: ...


def replies_from(rows: Sequence[StoredReply], review_below: float) -> list[ReplyEvidence]:
    """Stored messages as reply evidence (results.email_log): the one reading of a message that
    the answer rule is applied to.

    Only an uncertain match keeps a reply from counting; a flagged Date: or odd MIME is for the
    administrator to see, not a reason to drop the answer.
    """
    return [
        ReplyEvidence(
            arrived_at=m.arrived_at,
            kind=m.classification,
            holding=m.holding_reply,
            matched_by=m.match_method,
            needs_review=(m.match_confidence or 0.0) < review_below,
            confidence=m.match_confidence,
            message_id=m.id,
        )
        for m in rows
    ]

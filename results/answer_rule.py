"""What counts as an answer to a question (kkik-method Part A), in one place (pure).

KKiK counts "the first reply written by a person". A received mail counts as the answer to a
probe only when all of these hold:

- it is classified a human reply (a holding reply, "vi återkommer", only when
  ``email.count_holding_replies`` is on);
- it is linked to the probe by a *reply signal*: something the answering side did in reply to
  our question (threading headers, our plus address, our subject or text, a case number the
  municipality gave the question, the question's topic) or a person's assignment;
- the link is certain enough: not held for review.

A link by a returned original (``bounce_original``: the mail encloses or quotes our message) is
not a reply signal, whatever the mail's kind: that is how bounces, spam complaints and
misdirected copies carry our Message-ID, and a bounce misread as a person's reply must never
count as an answer within one working day. Such a mail that reads as human goes to review; a
person who assigns it to the probe turns the link into ``manual``.
"""

from __future__ import annotations

__all__ = ["LINK_ONLY", "REPLY_SIGNALS", "REVIEW_BELOW", "counts_as_answer", "is_reply_signal"]

# A link less certain than this is held for review (``TimingRules.review_below``'s default).
REVIEW_BELOW = 0.7

# Every matched_by value that says the mail was written in reply to the question.
REPLY_SIGNALS = frozenset(
    {
        "in_reply_to",
        "references",
        "reply_token",
        "case_number",
        "thread_topic",
        "quoted_text_and_domain",
        "subject_and_domain",
        "subject_contained",
        "topic",
        "subject_only",
        "manual",
    }
)
# Links that tie a mail to a probe without being a reply to it.
LINK_ONLY = frozenset({"bounce_original"})


def is_reply_signal(matched_by: str | None) -> bool:
    return matched_by in REPLY_SIGNALS


def counts_as_answer(
    *,
    kind: str | None,
    holding: bool,
    matched_by: str | None,
    needs_review: bool,
    count_holding_replies: bool,
) -> bool:
    """Does this mail count as the answer to the probe it is linked to? (see module docstring)"""
    return (
        kind == "human_reply"
        and (count_holding_replies or not holding)
        and is_reply_signal(matched_by)
        and not needs_review
    )

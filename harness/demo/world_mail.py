"""How the demo world's municipalities answer e-mail: the mails for one question, and the truth.

The e-mail world (:func:`email_responses`), per question, each decision drawn independently:

* with ``share_receipt`` a case-system receipt (or the contact centre's automatic reply) comes
  first, 5–120 seconds after our server accepted the question, at any hour (machines never
  sleep);
* with ``share_never`` no person ever answers;
* with ``share_holding`` a person first sends a holding reply ("vi återkommer"), inside office
  hours: before the answer when there is one (at 15–60 % of its business delay, at least 10
  business minutes in), else 15 minutes to 4 business hours after the question;
* otherwise-answered questions get one answer, written by a person. Its arrival is the question's
  acceptance plus a lognormal delay in *business* hours (08–17 on Swedish working days, the
  :class:`~results.calendar.WorkCalendar` of :meth:`World.calendar
  <harness.demo.world.World.calendar>`, which closes the world's ``extra_closed_days`` too;
  :func:`~harness.demo.business_time.add_business_time`), so it always lands inside office time.
  With ``share_officer`` it comes from the case officer's own address, else from the
  municipality's shared mailbox signed by a person; with ``share_broken_threading`` it carries no
  In-Reply-To or References and a new subject (half of those are sent to our plus-address, the
  other half to the persona's bare address with the question pasted below, so the harness has
  the token or the quoted text and sender domain to go on);
* each mail, independently, lands in the ``Junk`` folder with ``share_junk`` (a spam filter that
  distrusts the municipality's mail server), else in ``INBOX``.

The mails themselves are written by :mod:`harness.demo.mail_writer`.

The truth: :attr:`EmailResponse.answered_at <harness.demo.mail_model.EmailResponse.answered_at>`
is the arrival of the first mail that counts as an answer under the default rule
(``email.count_holding_replies = false``): the answer, never a receipt or a holding reply; None
when nobody answers. Whether it came "within one working day" is decided by
:func:`~harness.demo.mail_model.answered_within`, which simply asks ``WorkCalendar.within`` with
the question's acceptance and that arrival; both instants are the world's own, never read back
from the harness. The caller passes the same calendar (:meth:`World.calendar
<harness.demo.world.World.calendar>`) to both, so a question sent the day before a declared staff
day and answered the day after is within the day in the truth, as it must be in the harness.
:attr:`EmailResponse.first_human_reply_at
<harness.demo.mail_model.EmailResponse.first_human_reply_at>` is the truth for a campaign that
counts holding replies.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from harness.demo.business_time import add_business_time
from harness.demo.mail_model import EmailResponse, Folder, QuestionSent, WorldMail
from harness.demo.mail_writer import _Writer
from harness.demo.world import EmailProfile, WorldMunicipality
from results.calendar import WorkCalendar

__all__ = ["email_responses"]


def _ceil_second(instant: datetime) -> datetime:
    if instant.microsecond == 0:
        return instant
    return instant.replace(microsecond=0) + timedelta(seconds=1)


def _sample_delay(profile: EmailProfile, rng: random.Random) -> timedelta:
    hours = rng.lognormvariate(math.log(profile.delay_median_hours), profile.delay_spread)
    hours = min(max(hours, profile.delay_min_hours), profile.delay_max_hours)
    return timedelta(seconds=round(hours * 3600))


def email_responses(
    question: QuestionSent,
    profile: EmailProfile | WorldMunicipality,
    rng: random.Random,
    calendar: WorkCalendar,
    our_host: str,
    *,
    organisation: str | None = None,
) -> EmailResponse:
    """The mails the municipality sends back to ``question``, and the truth (module docstring).

    ``profile`` is an :class:`EmailProfile`, or a :class:`WorldMunicipality` (then its profile,
    its signing name and switchboard are used). ``organisation`` is how people sign ("Östersunds
    kommun"); without it, and without a municipality, signatures say "Kommunen".
    ``our_host`` is the name our receiving server stamps in ``Received: ... by {our_host}``.
    """
    switchboard = None
    if isinstance(profile, WorldMunicipality):
        if question.target_address.casefold() != profile.email:
            raise ValueError(
                f"question {question.probe_id} went to {question.target_address}, "
                f"not to {profile.name} ({profile.email})"
            )
        organisation = organisation or profile.signs_as
        switchboard = profile.switchboard
        profile = profile.email_profile
    accepted = question.accepted_at.astimezone(UTC)
    writer = _Writer(
        question=question,
        rng=rng,
        calendar=calendar,
        our_host=our_host,
        organisation=organisation or "Kommunen",
        switchboard=switchboard,
        domain=question.target_address.rpartition("@")[2].casefold(),
    )
    # Every decision is drawn every time, in this order, so one question's draws never depend on
    # which branches the previous questions took more than through the shared generator.
    receipt = rng.random() < profile.share_receipt
    holding = rng.random() < profile.share_holding
    never = rng.random() < profile.share_never
    officer = rng.random() < profile.share_officer
    broken = rng.random() < profile.share_broken_threading
    delay = _sample_delay(profile, rng)
    receipt_after = timedelta(seconds=rng.uniform(5.0, 120.0))
    holding_share = rng.uniform(0.15, 0.6)
    holding_alone = timedelta(hours=rng.uniform(0.25, 4.0))
    folders: list[Folder] = [
        "Junk" if rng.random() < profile.share_junk else "INBOX" for _ in "rha"
    ]

    mails: list[WorldMail] = []
    if receipt:
        mails.append(writer.receipt(_ceil_second(accepted + receipt_after), folders[0]))
    if holding:
        after = max(timedelta(minutes=10), delay * holding_share) if not never else holding_alone
        at = _ceil_second(add_business_time(accepted, after, calendar))
        mails.append(writer.holding(at, folders[1]))
    answered_at = None
    if not never:
        answered_at = _ceil_second(add_business_time(accepted, delay, calendar))
        mails.append(writer.answer(answered_at, folders[2], officer=officer, broken=broken))
    mails.sort(key=lambda m: m.arrive_at)
    return EmailResponse(
        probe_id=question.probe_id,
        accepted_at=accepted,
        mails=tuple(mails),
        answered_at=answered_at,
        delay=None if never else delay,
    )

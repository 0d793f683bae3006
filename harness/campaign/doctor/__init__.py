"""``kkik doctor``: is everything in place to run a campaign? Each check says what to do.

In order: the configuration's secrets (the dashboard's session secret long enough), the
database (:mod:`.local`); the submission server and the measurement mailbox (:mod:`.mail`); with
``[phone]``, the Twilio account, the from-number and the public webhook address (:mod:`.phone`);
the saved campaigns' targets and periods (:mod:`.targets`); and each real target's mail domain's
MX record. Each check is one line in the reader's language (:class:`.check.Check`); none of them
changes anything, sends anything or places a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from harness.campaign.doctor import local, mail, targets
from harness.campaign.doctor.check import Check
from harness.core.clock import Clock
from harness.core.config import Settings
from harness.core.i18n import Lang

__all__ = ["Check", "run_checks"]


async def run_checks(
    settings: Settings,
    base_dir: Path | None,
    lang: Lang,
    clock: Clock,
    *,
    nameservers: Sequence[tuple[str, int]] = (),
) -> list[Check]:
    checks = local.secrets(settings, lang)
    database, engine = local.database(settings, base_dir, lang)
    checks.append(database)
    if settings.mail is not None:
        checks.append(await mail.smtp(settings, base_dir, lang))
        checks.append(await mail.imap(settings, base_dir, lang))
    if settings.phone is not None:
        from harness.campaign.doctor import phone  # the Twilio SDK, only when it is needed

        checks += await phone.checks(settings, lang)
    if engine is not None:
        today = clock.now().astimezone(ZoneInfo(settings.timezone)).date()
        try:
            found = targets.campaigns(engine, settings, lang, today)
        finally:
            engine.dispose()
        checks += found.checks
        if found.addresses:
            checks += await mail.mx(found.addresses, lang, nameservers)
    return checks

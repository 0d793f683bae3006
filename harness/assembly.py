"""The one assembly point: a running kkik process built from one configuration.

``kkik run``, ``kkik serve``, ``kkik demo``, the virtual run and the call console build their
parts here, so they cannot be wired differently: the configuration read and validated once, one
database engine, the configured calendar and timing rules (a campaign's own calendar and scoring
rules come from :mod:`harness.rules.calendars` and :mod:`harness.rules.measurement`, which
everything uses), the
channels (e-mail, phone) as the registry declares them, the runner, the mail store and watcher,
and the web app. Parts are made on first use and kept: a process has one runner, one engine,
one phone client. The services get their view of it from :meth:`Assembly.context`.

Secrets are read from the environment (or the mapping given, for the demo and the tests) only
when a part that needs them is made, so a command that does not contact anyone needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Engine

from harness.core.clock import Clock, SystemClock
from harness.core.config import Settings
from harness.rules.calendars import work_calendar
from harness.services.base import Context
from results.calendar import WorkCalendar

if TYPE_CHECKING:  # the parts below import the network libraries: only when they are made
    from fastapi import FastAPI

    from harness.campaign.runner import Runner
    from harness.channels.email.store import MailStore
    from harness.channels.phone.finisher import CallFinisher
    from probes.base import Probe as ChannelProbe
    from probes.email_analysis import TimingRules
    from probes.email_watch import MailWatcher, WatchTiming
    from probes.phone_call import PhoneProbe

__all__ = ["Assembly"]

T = TypeVar("T")


@dataclass
class Assembly:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    base_dir: Path | None = None  # where relative paths in the configuration start
    config_path: Path | None = None
    environ: Mapping[str, str] | None = None  # secrets; None: the process environment
    _parts: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- rules and calendars ------------------------------------------------------------------

    def calendar(self) -> WorkCalendar:
        """The configuration's calendar, shared by every campaign."""
        return self._part("calendar", lambda: work_calendar(self.settings))

    def timing_rules(self) -> TimingRules:
        from harness.rules.measurement import timing_rules

        return self._part("timing", lambda: timing_rules(self.settings))

    def context(self, actor: str) -> Context:
        """The services' view of this process for one person (``cli:anna``, ``web:anna``)."""
        return Context(engine=self.engine, clock=self.clock, settings=self.settings, actor=actor)

    # --- channels -----------------------------------------------------------------------------

    def phone(self) -> PhoneProbe | None:
        """The phone channel (Twilio), or None without a ``[phone]`` section. Needs the auth
        token (SecretUnavailable otherwise)."""
        if self.settings.phone is None:
            return None

        def make() -> PhoneProbe:
            from harness.channels.phone.adapters import phone_probe

            return phone_probe(self.settings, self.environ)

        return self._part("phone", make)

    def channels(self) -> dict[str, ChannelProbe]:
        """Every configured channel, by name (the channel registry's names)."""

        from harness.channels.registry import CHANNELS
        from harness.store.models import Channel

        def make() -> dict[str, ChannelProbe]:
            made: dict[str, ChannelProbe] = {}
            for name, spec in CHANNELS.items():
                if not spec.configured(self.settings):
                    continue
                # The phone client is shared with the call console and the call finisher.
                phone = self.phone() if name == Channel.PHONE else None
                made[name] = phone or spec.build(self.settings, self.base_dir, self.environ)
            return made

        return self._part("channels", make)

    # --- the running parts --------------------------------------------------------------------

    def runner(self, *, channels: Mapping[str, ChannelProbe] | None = None) -> Runner:
        """The runner over the configured channels (or ``channels``), with the crash resolver,
        and the follow-up that settles finished calls."""
        from harness.campaign.runner import Runner
        from harness.channels.registry import send_resolver

        mail = self.settings.mail
        tokens = mail is None or mail.reply_token == "plus"
        if channels is not None:
            # Some channels only (the call console places calls by hand): the runner's rules and
            # claim, without the process runner's crash resolver and follow-ups.
            return Runner(
                self.engine, self.clock, dict(channels), self.calendar(), reply_tokens=tokens
            )

        def make() -> Runner:
            return Runner(
                self.engine,
                self.clock,
                self.channels(),
                self.calendar(),
                resolver=send_resolver(self.settings, self.base_dir, self.engine, self.environ),
                reply_tokens=tokens,
                followups=[self.call_finisher()],
                pause_after_faults=self.settings.alerts.pause_after_faults,
            )

        return self._part("runner", make)

    def call_finisher(self) -> CallFinisher:
        """The follow-up that completes and reconciles finished calls (over the phone client)."""
        from harness.channels.phone.adapters import call_finisher

        return self._part(
            "finisher", lambda: call_finisher(self.settings, self.engine, self.clock, self.phone())
        )

    def mail_store(self) -> MailStore:
        from harness.channels.email.store import MailStore

        return self._part("store", lambda: MailStore(self.engine, self.clock, self.timing_rules()))

    def watcher(
        self,
        since: date,
        *,
        clock: Clock | None = None,
        timing: Callable[[WatchTiming], WatchTiming] | None = None,
        on_stored: Callable[[str, int], None] | None = None,
    ) -> MailWatcher | None:
        """The mailbox watcher (IMAP IDLE) feeding the mail store; None without ``[mail]``.

        ``clock`` and ``timing`` let the demo run it on its virtual clock and renew IDLE often.
        """
        mail = self.settings.mail
        if mail is None:
            return None
        from harness.channels.email.adapters import imap_factory, watch_timing
        from probes.email_watch import MailWatcher

        chosen = watch_timing(mail.imap)
        return MailWatcher(
            imap_factory(mail.imap, self.base_dir, self.environ),
            self.mail_store(),
            clock or self.clock,
            folders=mail.imap.folders,
            since=since,
            timing=timing(chosen) if timing is not None else chosen,
            on_stored=on_stored,
        )

    def web_app(
        self,
        *,
        dashboard_secret: str | None = None,
        webhooks: bool = True,
        auth_token: str | None = None,
        console: bool = False,
    ) -> FastAPI:
        """The web app: Twilio's webhooks, and the dashboard when a session secret is given.

        ``console``: the dashboard's call console may place and end calls (needs the phone
        channel's token)."""
        from harness.store.models import Channel
        from harness.web.app import create_app

        token = auth_token
        if token is None and self.settings.phone is not None and webhooks:
            from harness.core.config import resolve_secret

            phone = self.settings.phone
            token = resolve_secret(
                env=phone.auth_token_env, file=phone.auth_token_file, environ=self.environ
            )
        app = create_app(
            self.settings,
            self.engine,
            self.clock,
            auth_token=token,
            webhooks=webhooks,
            dashboard_secret=dashboard_secret,
            config_path=self.config_path,
            phone=self.phone() if console else None,
            console_runner=lambda phone: self.runner(channels={Channel.PHONE: phone}),
        )
        return app

    def _part(self, name: str, make: Callable[[], T]) -> T:
        if name not in self._parts:
            self._parts[name] = make()
        return cast(T, self._parts[name])

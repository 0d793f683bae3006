"""The sandbox forgets what a long run no longer needs (issue 17, item 6).

The Twilio simulator with ``forget_after`` drops a call that ended that long ago, after every
callback of it was delivered and while the harness could still fetch it; without it (the
tests' default) every call is kept. The SMTP sandbox hands its messages over with ``take()``
and keeps only the count. The mailbox (pymap) forgets the messages a watcher has stored when
told to. Real servers on loopback, the real Twilio SDK, real SMTP and IMAP.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aioimaplib
import pytest
import pytest_asyncio
from aiohttp import web

from harness.core.clock import FakeClock
from harness.sandbox.accounts import Account
from harness.sandbox.pymap import PymapSandbox
from harness.sandbox.smtp import SmtpSandbox
from harness.sandbox.twilio_calls import FINAL, SwitchboardScript
from harness.sandbox.twilio_sim import TwilioSimulator
from probes.base import DispatchJob, Persona, ProbeContext, Transcript
from probes.phone_call import PhoneConfig, PhoneProbe

ACCOUNT = "AC" + "b" * 32
TOKEN = "forget-token"
NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
SWITCHBOARD = "+4663143000"


class Hooks:
    """Our side of the webhooks: records every status callback, answers TwiML with a hang-up."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/twilio/status", self._status)
        app.router.add_post("/twilio/voice/{probe}", self._voice)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _status(self, request: web.Request) -> web.Response:
        self.statuses.append({k: str(v) for k, v in (await request.post()).items()})
        return web.Response(text="")

    async def _voice(self, _request: web.Request) -> web.Response:
        body = '<?xml version="1.0"?><Response><Say>Hej</Say><Hangup/></Response>'
        return web.Response(text=body, content_type="text/xml")


@pytest_asyncio.fixture
async def hooks() -> AsyncIterator[Hooks]:
    made = Hooks()
    await made.start()
    yield made
    await made.stop()


async def _call(sim: TwilioSimulator, hooks: Hooks, clock: FakeClock) -> tuple[PhoneProbe, str]:
    probe = PhoneProbe(
        PhoneConfig(
            mode="automated",
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            from_number="+46812345678",
            caller_number="+46701234567",
            public_url=hooks.base,
            api_base_url=sim.base_url,
        )
    )
    job = DispatchJob(7, Persona("Anna", ""), SWITCHBOARD, "", "", NOW + timedelta(hours=1))
    done = await probe.dispatch(ProbeContext(clock, Transcript(clock)), job)
    assert done.reference is not None
    return probe, done.reference


@pytest.mark.parametrize("forget_after", [timedelta(hours=1), None])
async def test_an_ended_call_is_forgotten_only_after_its_callbacks_and_the_wait(
    hooks: Hooks, forget_after: timedelta | None
):
    clock = FakeClock(NOW)
    sim = TwilioSimulator(clock, forget_after=forget_after)
    sim.add_account(ACCOUNT, TOKEN)
    sim.script(SWITCHBOARD, SwitchboardScript(ring_seconds=5, person_after=0, talk_seconds=30))
    async with sim:
        probe, sid = await _call(sim, hooks, clock)
        await sim.run_until(NOW + timedelta(minutes=10))
        # Ended, every callback delivered, and still there for the harness to fetch.
        assert sim.calls[sid].ended
        assert sim.ended_count == 1
        assert hooks.statuses[-1]["CallStatus"] in FINAL
        delivered = len(hooks.statuses)
        posted = len(sim.deliveries)  # the status callbacks and the TwiML request
        statuses = [d for d in sim.deliveries if "/twilio/status" in d["url"]]
        assert delivered == len(statuses) >= 4  # initiated, ringing, answered, completed
        assert (await probe.fetch(sid))["status"] == "completed"

        # An hour after it ended (the next run of the simulator): gone, unless kept.
        await sim.run_until(NOW + timedelta(hours=2))
        await sim.run_until(NOW + timedelta(hours=3))
        assert len(hooks.statuses) == delivered  # nothing was sent again or lost
        assert sim.ended_count == 1
        if forget_after is None:
            assert sid in sim.calls
            assert len(sim.deliveries) == posted
            assert (await probe.fetch(sid))["status"] == "completed"
        else:
            assert sid not in sim.calls
            assert not sim.deliveries
            with pytest.raises(Exception, match="404"):
                await probe.fetch(sid)


async def test_a_call_that_ends_before_a_long_jump_is_kept_for_the_next_look(hooks: Hooks):
    # A run of the simulator may move the clock days ahead (Friday to Monday): the calls that
    # ended in it are kept until the run after, so the harness can settle them in between.
    clock = FakeClock(NOW)
    sim = TwilioSimulator(clock, forget_after=timedelta(hours=1))
    sim.add_account(ACCOUNT, TOKEN)
    sim.script(SWITCHBOARD, SwitchboardScript(ring_seconds=5, person_after=0, talk_seconds=30))
    async with sim:
        probe, sid = await _call(sim, hooks, clock)
        await sim.run_until(NOW + timedelta(days=3))
        assert sim.calls[sid].ended
        assert (await probe.fetch(sid))["status"] == "completed"
        await sim.run_until(NOW + timedelta(days=3, seconds=1))
        assert sid not in sim.calls


async def test_the_smtp_sandbox_hands_over_its_messages_and_keeps_the_count():
    async with SmtpSandbox(starttls=False, auth_required=False) as smtp:

        def send(count: int) -> None:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                for k in range(count):
                    message = EmailMessage()
                    message["From"] = "fraga@example.se"
                    message["To"] = "kommun@example.se"
                    message["Subject"] = f"Fråga {k}"
                    message.set_content("Hej")
                    client.send_message(message)

        await asyncio.to_thread(send, 2)
        taken = smtp.take()
        assert [m.rcpt_tos for m in taken] == [("kommun@example.se",)] * 2
        assert smtp.messages == []
        assert smtp.received == 2
        await asyncio.to_thread(send, 1)
        assert len(smtp.take()) == 1
        assert smtp.take() == []
        assert smtp.received == 3
        smtp.clear()
        assert smtp.received == 0


async def test_the_mailbox_forgets_delivered_messages_and_keeps_numbering():
    # PymapSandbox.forget drops messages a watcher has stored; a client sees them expunged and
    # the next delivery gets the next UID, so a watcher reading "UIDs above the last" misses
    # nothing.
    account = Account("matning@kommun.test", "pw")
    async with PymapSandbox([account]) as mailbox:
        at = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
        raws = [
            f"Subject: Svar {k}\r\nMessage-ID: <s{k}@k.se>\r\n\r\nHej\r\n".encode()
            for k in range(3)
        ]
        uids = await mailbox.deliver_many(account.username, [(raw, at) for raw in raws])
        await mailbox.forget(account.username, "INBOX", uids[:-1])
        [newer] = await mailbox.deliver_many(account.username, [(raws[0], at)])
        assert newer > uids[-1]
        client = aioimaplib.IMAP4(host=mailbox.host, port=mailbox.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(account.username, account.password)
        await client.select("INBOX")
        found = await client.uid_search("ALL")
        await client.logout()
    listed = [int(x) for x in bytes(found.lines[0]).split()]
    assert listed == [uids[-1], newer]

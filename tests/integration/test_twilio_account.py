"""The account questions (probes.twilio_account) with the real SDK against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from harness.core.clock import FakeClock
from harness.sandbox.twilio_sim import TwilioSimulator
from probes.twilio_account import AccountState, OwnNumber, TwilioAccount
from probes.twilio_http import ApiHttpClient

ACCOUNT = "AC" + "b" * 32
OTHER = "AC" + "c" * 32
TOKEN = "account-token"
BOUGHT = "+46101380000"


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[TwilioSimulator]:
    simulator = TwilioSimulator(FakeClock(datetime(2026, 10, 5, 8, tzinfo=UTC)))
    simulator.add_account(ACCOUNT, TOKEN, name="Kvalitetsenheten")
    simulator.add_number(ACCOUNT, BOUGHT)
    simulator.add_number(ACCOUNT, "+46812345678", verified=True)
    simulator.add_number(ACCOUNT, "+46771000000", voice=False)
    simulator.add_account(OTHER, "other-token", status="suspended", trial=True)
    simulator.add_number(OTHER, "+46631430000")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_it_reads_the_accounts_state(sim: TwilioSimulator):
    mine = await TwilioAccount(ACCOUNT, TOKEN, sim.base_url).state()
    assert mine == AccountState("Kvalitetsenheten", "active", trial=False)
    other = await TwilioAccount(OTHER, "other-token", sim.base_url).state()
    assert other == AccountState("kkik-harness", "suspended", trial=True)


async def test_a_wrong_token_or_account_is_refused_with_401(sim: TwilioSimulator):
    for sid, token in ((ACCOUNT, "wrong"), (OTHER, TOKEN), ("AC" + "d" * 32, TOKEN)):
        with pytest.raises(TwilioRestException) as refused:
            await TwilioAccount(sid, token, sim.base_url).state()
        assert (refused.value.status, refused.value.code) == (401, 20003)


async def test_it_tells_whose_number_it_is(sim: TwilioSimulator):
    account = TwilioAccount(ACCOUNT, TOKEN, sim.base_url)
    assert await account.own_number(BOUGHT) == OwnNumber("bought", voice=True)
    assert await account.own_number("+46812345678") == OwnNumber("verified", voice=True)
    assert await account.own_number("+46771000000") == OwnNumber("bought", voice=False)
    # Twilio's filter matches part of a bought number; only the whole number is the account's.
    assert await account.own_number(BOUGHT[:-1]) is None
    assert await account.own_number("+46631430000") is None  # the other account's


async def test_the_simulator_filters_bought_numbers_as_twilio_does(sim: TwilioSimulator):
    client = Client(ACCOUNT, TOKEN, http_client=ApiHttpClient(sim.base_url))
    numbers = client.api.v2010.accounts(ACCOUNT).incoming_phone_numbers
    assert [n.phone_number for n in await numbers.list_async(phone_number="1380")] == [BOUGHT]
    assert [n.phone_number for n in await numbers.list_async(phone_number="+4610*38")] == [BOUGHT]
    every = sorted(n.phone_number for n in await numbers.list_async())
    assert every == [BOUGHT, "+46771000000"]
    callers = client.api.v2010.accounts(ACCOUNT).outgoing_caller_ids
    assert [n.phone_number for n in await callers.list_async(phone_number="+4681234")] == []

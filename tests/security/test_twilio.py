"""Twilio's webhooks against forged, replayed, reordered and stray callbacks, over real HTTP.

Every webhook route the app serves is attacked the same way: no signature, a wrong one, one
made with another key, for another URL or host, over other parameters. Each must get 403 and
leave no trace in the database. A genuine request replayed is answered and stored once; the
same callbacks in another order give the same timeline; a callback for a call no probe placed
is answered and kept unattached.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

import aiohttp
from sqlmodel import Session, col, func, select
from twilio.request_validator import RequestValidator

from harness.channels.phone import store as phonestore
from harness.rules.measurement import timeline_rules
from harness.store.models import CallEvent, Probe, ProbeState
from tests.security.site import TWILIO_SECRET, Site, database_snapshot, routes

# Each webhook route and the concrete requests Twilio makes to it ({probe} filled in).
WEBHOOKS = {
    "/twilio/status": ["/twilio/status?probe={probe}&leg=municipal"],
    "/twilio/voice/{probe_id}": [f"/twilio/voice/{{probe}}?step={step}"
                                 for step in ("answer", "dial-done", "listen")],
    "/twilio/recording": ["/twilio/recording?probe={probe}"],
}  # fmt: skip
DIAL = datetime(2026, 10, 7, 8, 0, tzinfo=UTC)


def _sign(url: str, params: dict[str, str], token: str = TWILIO_SECRET) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


async def _post(site: Site, path: str, params: dict[str, str], signature: str | None) -> int:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + path, data=params, headers=headers) as response,
    ):
        await response.read()
        return response.status


def _events(site: Site) -> int:
    with Session(site.engine) as session:
        return session.exec(select(func.count()).select_from(CallEvent)).one()


_SIDS = iter(f"CA{n:032x}" for n in range(0x5EC0, 0x6000))


def _new_call(site: Site) -> tuple[int, str]:
    """A fresh automated phone probe with its own call, beside the demo's calls."""
    sid = next(_SIDS)
    with Session(site.engine) as session:
        model = session.get(Probe, site.phone_probe)
        assert model is not None
        probe = Probe(
            campaign_id=model.campaign_id, target_id=model.target_id, channel=model.channel,
            mode="automated", planned_at=DIAL, state=ProbeState.SENT, claimed_at=DIAL,
            call_sid=sid, plan_key=f"security/{sid}",
        )  # fmt: skip
        session.add(probe)
        session.commit()
        assert probe.id is not None
        return probe.id, sid


def _callbacks(sid: str) -> list[dict[str, str]]:
    """One automated call's status callbacks: a person (AMD human) answers after ten seconds."""
    steps = [("initiated", 0), ("ringing", 3), ("in-progress", 10), ("completed", 70)]
    out = []
    for seq, (status, seconds) in enumerate(steps):
        params = {
            "CallSid": sid,
            "AccountSid": "AC" + "d3" * 16,
            "CallStatus": status,
            "SequenceNumber": str(seq),
            "Timestamp": format_datetime(DIAL + timedelta(seconds=seconds)),
        }
        if status in ("in-progress", "completed"):
            params["AnsweredBy"] = "human"
        if status == "completed":
            params["CallDuration"] = "60"
        out.append(params)
    return out


def _requests(probe: int, sid: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A genuine request to every webhook route, with the parameters Twilio would send."""
    for template, paths in WEBHOOKS.items():
        for path in paths:
            params = {"CallSid": sid, "AccountSid": "AC" + "d3" * 16, "CallStatus": "in-progress"}
            if template != "/twilio/recording":
                params |= {"From": "+46101380000", "To": "+4663143000"}
            if template == "/twilio/status":
                params |= {"SequenceNumber": "7", "Timestamp": format_datetime(DIAL)}
            if "step=listen" in path:
                params["SpeechResult"] = "Kontaktcenter, du pratar med Anna"
            if "step=answer" in path:
                params["AnsweredBy"] = "machine_start"
            if template == "/twilio/recording":
                params |= {"RecordingSid": "RE" + sid[2:], "RecordingStatus": "completed",
                           "RecordingUrl": "https://api.twilio.com/rec/1"}  # fmt: skip
            yield path.format(probe=probe), params


async def test_every_webhook_route_is_covered(site: Site):
    served = {path for _, path in routes(site.app) if path.startswith("/twilio/")}
    assert served == set(WEBHOOKS), "a new webhook route: add its requests to WEBHOOKS"


async def test_forged_requests_are_refused_and_leave_no_trace(site: Site):
    probe, sid = _new_call(site)
    public = site.settings.web.public_url
    before = database_snapshot(site.engine)
    for path, params in _requests(probe, sid):
        url = public + path
        bare = public + path.partition("?")[0]
        other_probe = path.replace(f"={probe}", f"={probe + 1}").replace(f"/{probe}?", "/1?")
        forgeries = {
            "no header": (params, None),
            "empty": (params, ""),
            "garbage": (params, "bm90IGEgc2lnbmF0dXJl"),
            "another key": (params, _sign(url, params, "not-the-token")),
            "another probe": (params, _sign(public + other_probe, params)),
            "another host": (params, _sign("https://evil.example" + path, params)),
            "without the query": (params, _sign(bare, params)),
            "tampered body": (params | {"CallStatus": "completed"}, _sign(url, params)),
            "added parameter": (params | {"Extra": "1"}, _sign(url, params)),
            "dropped parameter": (dict(list(params.items())[1:]), _sign(url, params)),
        }
        for what, (sent, signature) in forgeries.items():
            assert await _post(site, path, sent, signature) == 403, (path, what)
    assert database_snapshot(site.engine) == before  # not one row, for any route


async def test_a_replayed_request_is_answered_and_stored_once(site: Site):
    probe, sid = _new_call(site)
    public = site.settings.web.public_url
    for path, params in _requests(probe, sid):
        signature = _sign(public + path, params)
        before = _events(site)
        assert await _post(site, path, params, signature) == 200, path
        assert _events(site) == before + 1, path
        for _ in range(2):
            assert await _post(site, path, params, signature) == 200, path
        assert _events(site) == before + 1, f"{path}: a replay was stored again"


async def test_callbacks_in_any_order_give_the_same_timeline(site: Site):
    public = site.settings.web.public_url
    timelines = []
    for order in ("as sent", "reversed with duplicates"):
        probe, sid = _new_call(site)
        callbacks = _callbacks(sid)
        if order != "as sent":
            callbacks = [callbacks[3], callbacks[1], callbacks[3], callbacks[0], callbacks[2],
                         callbacks[0]]  # fmt: skip
        path = "/twilio/status?" + urlencode({"probe": probe, "leg": "municipal"})
        for params in callbacks:
            assert await _post(site, path, params, _sign(public + path, params)) == 200
        with Session(site.engine) as session:
            row = session.get(Probe, probe)
            assert row is not None
            events = phonestore.events_for(session, [probe])[probe]
            assert len(events) == 4
            found = phonestore.timeline(row, events, timeline_rules(site.settings))
        timelines.append(found)
    first, second = timelines
    assert first == second
    assert first.outcome == "person"
    assert (first.dial_at, first.answered_at, first.ended_at) == (
        DIAL, DIAL + timedelta(seconds=10), DIAL + timedelta(seconds=70)
    )  # fmt: skip


async def test_callbacks_for_unknown_calls_are_kept_apart(site: Site):
    public = site.settings.web.public_url
    probe, _ = _new_call(site)
    stray = _callbacks("CA" + "e" * 32)[1]
    for path in ("/twilio/status", "/twilio/status?probe=999999&leg=municipal",
                 f"/twilio/status?probe={probe}&leg=municipal"):  # fmt: skip
        # The probe id in the URL is not trusted for another call's SID.
        params = stray | {"SequenceNumber": str(len(path))}
        assert await _post(site, path, params, _sign(public + path, params)) == 200, path
        with Session(site.engine) as session:
            last = session.exec(select(CallEvent).order_by(col(CallEvent.id).desc())).first()
        assert last is not None
        assert (last.call_sid, last.probe_id) == (stray["CallSid"], None), path

    before = database_snapshot(site.engine)
    voice = "/twilio/voice/999999?step=answer"
    # A TwiML request carries the call's parameters, without a status callback's numbering.
    asked = {k: v for k, v in stray.items() if k not in ("SequenceNumber", "Timestamp")}
    signature = _sign(public + voice, asked)
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + voice, data=asked, headers={"X-Twilio-Signature": signature}) as r,
    ):
        assert r.status == 200
        assert "<Hangup" in await r.text()  # an unknown call is ended, not continued
    bad_id = "/twilio/status?probe=abc"
    assert await _post(site, bad_id, stray, _sign(public + bad_id, stray)) == 422
    assert database_snapshot(site.engine) == before


def _lent(params: dict[str, str]) -> dict[str, str]:
    """The last parameter (by name) lends its name's first letter to the value sorted before it:
    ``A=b&CD=e`` becomes ``A=bC&D=e``, which Twilio's signature cannot tell apart."""
    names = sorted(params)
    last, before = names[-1], names[-2]
    out = dict(params)
    value = out.pop(last)
    out[before] += last[0]
    out[last[1:]] = value
    return out


def _swallowed(params: dict[str, str], name: str) -> dict[str, str]:
    """``name``'s value swallows the parameter sorted after it, name and value."""
    names = sorted(params)
    after = names[names.index(name) + 1]
    out = dict(params)
    out[name] += after + out.pop(after)
    return out


async def test_a_regrouped_replay_is_refused_or_stored_once(site: Site):
    """Issue 15, L1: a captured callback replayed with its parameters regrouped verifies, and
    was stored again as a new event stamped at replay time."""
    probe, sid = _new_call(site)
    public = site.settings.web.public_url
    for path, params in _requests(probe, sid):
        signature = _sign(public + path, params)
        before = _events(site)
        assert await _post(site, path, params, signature) == 200, path
        regroupings = [_lent(params), *(_swallowed(params, n) for n in sorted(params)[:-1])]
        for regrouped in regroupings:
            assert _sign(public + path, regrouped) == signature  # the same signature
            status = await _post(site, path, regrouped, signature)
            assert status in (200, 400), (path, regrouped, status)
            assert _events(site) == before + 1, f"{path}: stored again as {regrouped}"
        # A name Twilio does not send (here: a letter lent from the next name) is refused.
        assert await _post(site, path, _lent(params), signature) == 400, path


async def test_signed_parameters_twilio_does_not_send_are_refused(site: Site):
    probe, sid = _new_call(site)
    public = site.settings.web.public_url
    before = database_snapshot(site.engine)
    for path, params in _requests(probe, sid):
        for odd in ({"Extra": "1"}, {"SequenceNumber": "1x"}, {"CallSid": "CA1"},
                    {"Timestamp": "igår"}):  # fmt: skip
            sent = params | odd
            if "SequenceNumber" in odd and "SequenceNumber" not in params:
                continue  # not a status callback: its own test is the unknown name
            assert await _post(site, path, sent, _sign(public + path, sent)) == 400, (path, odd)
        if path.startswith("/twilio/status"):
            # What a status callback is known by must be there.
            for name in ("CallSid", "CallStatus", "SequenceNumber"):
                sent = {k: v for k, v in params.items() if k != name}
                assert await _post(site, path, sent, _sign(public + path, sent)) == 400, name
    assert database_snapshot(site.engine) == before

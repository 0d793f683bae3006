"""The Twilio simulator's REST API: the calls our adapter makes through the real ``twilio`` SDK.

:class:`RestApi` serves create, fetch, list and hang up for calls, a call's recordings and a
finished recording's audio, and the account with its bought and verified numbers
(:mod:`.twilio_account`), with the account's Basic credentials and Twilio's error bodies and
paging envelope. Creating a call hands it to :class:`~harness.sandbox.twilio_player.CallPlayer`.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from harness.sandbox.twilio_calls import API, SimCall, recording_wav, rfc2822
from harness.sandbox.twilio_player import CallPlayer

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class RestApi(CallPlayer):
    """The REST handlers; a base of the simulator, whose web app routes to them."""

    deleted_recordings: list[str]  # the SIDs deleted through the API, for tests

    def _rest_app(self) -> web.Application:
        """A web app routing the REST API's paths to the handlers below."""
        app = web.Application()
        app.router.add_post(API + "/Calls.json", self._rest_create)
        app.router.add_get(API + "/Calls.json", self._rest_list)
        app.router.add_get(API + "/Calls/{sid}.json", self._rest_fetch)
        app.router.add_post(API + "/Calls/{sid}.json", self._rest_update)
        app.router.add_get(API + "/Calls/{sid}/Recordings.json", self._rest_recordings)
        app.router.add_get(API + "/Recordings/{sid}.wav", self._rest_recording_audio)
        app.router.add_delete(API + "/Recordings/{sid}.json", self._rest_recording_delete)
        app.router.add_get(API + ".json", self._rest_account)
        app.router.add_get(API + "/IncomingPhoneNumbers.json", self._rest_incoming_numbers)
        app.router.add_get(API + "/OutgoingCallerIds.json", self._rest_caller_ids)
        return app

    def _auth(self, request: web.Request) -> str | None:
        account = request.match_info["account"]
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        known = self.accounts.get(account)
        ok = (
            known is not None
            and user == account
            and secrets.compare_digest(password.encode(), known.token.encode())
        )
        return account if ok else None

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status)

    async def _rest_create(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        pairs = parse_qsl(await request.text(), keep_blank_values=True)
        form = dict(pairs)
        to, from_ = form.get("To", ""), form.get("From", "")
        if not E164.fullmatch(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not E164.fullmatch(from_):
            return self._error(400, 21212, f"The 'From' number {from_} is not a valid number.")
        if "Url" not in form and "Twiml" not in form:
            return self._error(400, 21205, "Url parameter is required.")
        call = SimCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=account,
            to=to,
            from_=from_,
            script=self._script(to),
            created_at=self.clock.now(),
            url=form.get("Url"),
            method=form.get("Method", "POST"),
            status_callback=form.get("StatusCallback"),
            status_events=frozenset(v for k, v in pairs if k == "StatusCallbackEvent")
            or frozenset({"completed"}),
            timeout=float(form.get("Timeout", 60)),
            time_limit=float(form.get("TimeLimit", 14400)),
            machine_detection=form.get("MachineDetection"),
            record=form.get("Record", "false").lower() == "true",
            recording_callback=form.get("RecordingStatusCallback"),
        )
        self.calls[call.sid] = call
        self._dial(call)
        return web.json_response(self._call_json(call), status=201)

    async def _rest_fetch(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(404, 20404, "The requested resource was not found")
        return web.json_response(self._call_json(call))

    async def _rest_update(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(404, 20404, "The requested resource was not found")
        wanted = dict(parse_qsl(await request.text())).get("Status")
        if wanted in {"completed", "canceled"} and not call.ended:
            final = "completed" if call.answered_at is not None else "canceled"
            await self._end(call, final)
        return web.json_response(self._call_json(call))

    async def _rest_list(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        q = request.query
        found = [
            c
            for c in self.calls.values()
            if c.account_sid == account
            and (not q.get("To") or c.to == q["To"])
            and (not q.get("ParentCallSid") or c.parent_sid == q["ParentCallSid"])
            and (not q.get("Status") or c.status == q["Status"])
        ]
        found.sort(key=lambda c: c.created_at, reverse=True)
        return web.json_response(_page("calls", [self._call_json(c) for c in found], request))

    async def _rest_recordings(self, request: web.Request) -> web.Response:
        if self._auth(request) is None:
            return self._error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        return web.json_response(_page("recordings", call.recordings if call else [], request))

    async def _rest_recording_audio(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        found = self._recording(account, request.match_info["sid"])
        if found is not None and found[1]["status"] == "completed":
            return web.Response(body=recording_wav(*found), content_type="audio/x-wav")
        return self._error(404, 20404, "The requested resource was not found")

    def _recording(self, account: str, sid: str) -> tuple[SimCall, dict[str, Any]] | None:
        """The recording ``sid`` on ``account``'s calls, with its call."""
        for call in self.calls.values():
            for rec in call.recordings:
                if rec["sid"] == sid and call.account_sid == account:
                    return call, rec
        return None

    async def _rest_recording_delete(self, request: web.Request) -> web.Response:
        """Twilio deletes a recording with its media: 204, or 404 when there is none by that
        SID on this account (already deleted included)."""
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        found = self._recording(account, request.match_info["sid"])
        if found is None:
            return self._error(404, 20404, "The requested resource was not found")
        call, rec = found
        call.recordings.remove(rec)
        self.deleted_recordings.append(rec["sid"])
        return web.Response(status=204)

    async def _rest_account(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        return web.json_response(self.accounts[account].json(self.clock.now()))

    async def _rest_incoming_numbers(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        owner, now = self.accounts[account], self.clock.now()
        found = owner.incoming(request.query.get("PhoneNumber"))
        items = [owner.number_json(n, now) for n in found]
        return web.json_response(_page("incoming_phone_numbers", items, request))

    async def _rest_caller_ids(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if account is None:
            return self._error(401, 20003, "Authenticate")
        owner, now = self.accounts[account], self.clock.now()
        found = owner.caller_ids(request.query.get("PhoneNumber"))
        items = [owner.number_json(n, now) for n in found]
        return web.json_response(_page("outgoing_caller_ids", items, request))

    def _call_json(self, call: SimCall) -> dict[str, Any]:
        duration = call.duration()
        minutes = math.ceil(duration / 60) if duration else 0
        price = f"-{0.013 * minutes:.5f}" if call.ended and duration is not None else None
        uri = f"/2010-04-01/Accounts/{call.account_sid}/Calls/{call.sid}.json"
        return {
            "sid": call.sid,
            "account_sid": call.account_sid,
            "parent_call_sid": call.parent_sid,
            "to": call.to,
            "to_formatted": call.to,
            "from": call.from_,
            "from_formatted": call.from_,
            "status": call.status,
            "direction": "outbound-dial" if call.parent_sid else "outbound-api",
            "answered_by": call.answered_by,
            "start_time": rfc2822(call.start_time),
            "end_time": rfc2822(call.end_time),
            "duration": None if duration is None else str(duration),
            "price": price,
            "price_unit": "USD",
            "date_created": rfc2822(call.created_at),
            "date_updated": rfc2822(self.clock.now()),
            "api_version": "2010-04-01",
            "queue_time": "0",
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "phone_number_sid": None,
            "trunk_sid": None,
            "annotation": None,
            "uri": uri,
            "subresource_uris": {
                "recordings": uri.replace(".json", "/Recordings.json"),
                "events": uri.replace(".json", "/Events.json"),
            },
        }


def _page(key: str, items: list[dict[str, Any]], request: web.Request) -> dict[str, Any]:
    """A one-page list in Twilio's paging envelope (the SDK reads the one non-meta key)."""
    uri = str(request.rel_url)
    return {
        key: items,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": max(50, len(items)),
        "start": 0,
        "end": max(0, len(items) - 1),
        "uri": uri,
    }

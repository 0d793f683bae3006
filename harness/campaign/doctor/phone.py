"""The phone side of ``kkik doctor``: the Twilio account, the number we call from, the webhooks.

The account is fetched with the real SDK, which proves the account SID and the auth token (401
when either is wrong) and tells whether the account is active or a trial. The from-number must
be the account's own, bought on it or verified as a caller ID, or Twilio refuses every call.
Twilio reaches ``kkik run``'s webhooks at ``web.public_url``: a local address cannot work with
the real Twilio, and the address is asked from this machine (a warning when nothing answers:
``kkik run`` may simply not be running yet). Importing this module loads the Twilio SDK.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException

from harness.campaign.doctor.check import NETWORK, Check, Level, network_reason
from harness.core.config import SecretUnavailable, Settings, is_loopback_host, resolve_secret
from harness.core.i18n import Lang, Text
from probes.twilio_account import TwilioAccount
from probes.twilio_http import TWILIO_API

URL_TIMEOUT_SECONDS = 5.0

T = {
    "no_token": Text(
        "kontot kan inte kontrolleras utan autentiseringstoken (se hemligheten "
        "phone.auth_token ovan)",
        "the account cannot be checked without the auth token (see the secret "
        "phone.auth_token above)",
    ),
    "wrong_credentials": Text(
        "Twilio avvisade kontots SID eller autentiseringstoken (HTTP 401): kontrollera "
        "phone.account_sid ({sid}) och token i {source}",
        "Twilio refused the account SID or auth token (HTTP 401): check phone.account_sid "
        "({sid}) and the token in {source}",
    ),
    "api_answer": Text(
        "Twilio svarade HTTP {status} med felkod {code} (se twilio.com/docs/errors/{code})",
        "Twilio answered HTTP {status} with error code {code} (see twilio.com/docs/errors/{code})",
    ),
    "api_status": Text("Twilio svarade HTTP {status}", "Twilio answered HTTP {status}"),
    "api_unreachable": Text(
        "kan inte nå Twilios API ({url}): {reason}", "cannot reach Twilio's API ({url}): {reason}"
    ),
    "account_ok": Text(
        "Twilio-kontot {name} ({sid}) är aktivt", "the Twilio account {name} ({sid}) is active"
    ),
    "account_trial": Text(
        "Twilio-kontot {name} ({sid}) är ett provkonto: det ringer bara verifierade nummer och "
        "spelar först upp Twilios meddelande om provkonto; uppgradera kontot före mätningen",
        "the Twilio account {name} ({sid}) is a trial account: it calls only verified numbers "
        "and first plays Twilio's trial message; upgrade the account before measuring",
    ),
    "account_suspended": Text(
        "Twilio-kontot {name} ({sid}) är avstängt: logga in i Twilio-konsolen och återaktivera det",
        "the Twilio account {name} ({sid}) is suspended: log in to the Twilio console and "
        "reactivate it",
    ),
    "account_closed": Text(
        "Twilio-kontot {name} ({sid}) är avslutat: ange ett aktivt konto i phone.account_sid",
        "the Twilio account {name} ({sid}) is closed: put an active account in phone.account_sid",
    ),
    "number_bought": Text(
        "phone.from_number {number} är kontots eget nummer",
        "phone.from_number {number} is the account's own number",
    ),
    "number_verified": Text(
        "phone.from_number {number} är verifierat som nummerpresentation på kontot",
        "phone.from_number {number} is verified as a caller ID on the account",
    ),
    "number_no_voice": Text(
        "phone.from_number {number} hör till kontot men kan inte ringa röstsamtal: välj ett "
        "nummer med röstfunktion",
        "phone.from_number {number} belongs to the account but cannot make voice calls: choose "
        "a number with voice capability",
    ),
    "number_not_ours": Text(
        "phone.from_number {number} hör inte till Twilio-kontot, och Twilio vägrar samtal från "
        "det: köp numret på kontot eller verifiera det som nummerpresentation i Twilio-konsolen",
        "phone.from_number {number} does not belong to the Twilio account, and Twilio refuses "
        "calls from it: buy the number on the account or verify it as a caller ID (Verified "
        "Caller ID) in the Twilio console",
    ),
    "url_local": Text(
        "web.public_url {url} är en lokal adress som Twilio inte når från internet: ange den "
        "publika HTTPS-adressen som leder till kkik run (se docs/phone.md)",
        "web.public_url {url} is a local address that Twilio cannot reach from the internet: "
        "put the public HTTPS address that leads to kkik run (see docs/phone.md)",
    ),
    "url_ok": Text(
        "web.public_url {url} svarar härifrån (HTTP {status}); Twilio måste också nå den från "
        "internet",
        "web.public_url {url} answers from here (HTTP {status}); Twilio must reach it from the "
        "internet too",
    ),
    "url_server_error": Text(
        "web.public_url {url} svarar med serverfel (HTTP {status}): det som svarar når inte kkik; "
        "starta kkik run (eller kkik serve --webhooks-only) bakom adressen och kör kkik doctor "
        "igen",
        "web.public_url {url} answers with a server error (HTTP {status}): what answers does "
        "not reach kkik; start kkik run (or kkik serve --webhooks-only) behind the address and "
        "run kkik doctor again",
    ),
    "url_silent": Text(
        "web.public_url {url} svarar inte: {reason}; Twilio måste nå den från internet medan "
        "kkik run körs: starta kkik run (eller kkik serve --webhooks-only) och kör kkik doctor "
        "igen",
        "web.public_url {url} does not answer: {reason}; Twilio must reach it from the internet "
        "while kkik run runs: start kkik run (or kkik serve --webhooks-only) and run kkik "
        "doctor again",
    ),
}


async def checks(settings: Settings, lang: Lang) -> list[Check]:
    """The account, the from-number and the public URL, one line each."""
    found = await _account(settings, lang)
    return [*found, await public_url(settings, lang)]


async def _account(settings: Settings, lang: Lang) -> list[Check]:
    phone = settings.phone
    assert phone is not None
    try:
        token = resolve_secret(env=phone.auth_token_env, file=phone.auth_token_file)
    except SecretUnavailable:
        token = None
    if not token:
        return [Check("phone", "warning", T["no_token"](lang))]
    account = TwilioAccount(phone.account_sid, token, phone.api_base_url)
    try:
        state = await account.state()
        own = await account.own_number(phone.from_number) if state.status == "active" else None
    except TwilioRestException as exc:
        source = phone.auth_token_env or str(phone.auth_token_file)
        if exc.status == 401:
            text = T["wrong_credentials"](lang, sid=phone.account_sid, source=source)
        elif exc.code is None:  # not Twilio's JSON error: a proxy's page, say
            text = T["api_status"](lang, status=exc.status)
        else:
            text = T["api_answer"](lang, status=exc.status, code=exc.code)
        return [Check("phone", "error", text)]
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason = network_reason(exc)
        return [
            Check(
                "phone", "error", T["api_unreachable"](lang, url=phone.api_base_url, reason=reason)
            )
        ]
    names = {"name": state.name or "–", "sid": phone.account_sid}
    if state.status != "active":
        closed = "account_suspended" if state.status == "suspended" else "account_closed"
        return [Check("phone", "error", T[closed](lang, **names))]
    found = [
        Check("phone", "warning", T["account_trial"](lang, **names))
        if state.trial
        else Check("phone", "ok", T["account_ok"](lang, **names))
    ]
    number = phone.from_number
    if own is None:
        found.append(Check("phone", "error", T["number_not_ours"](lang, number=number)))
    elif not own.voice:
        found.append(Check("phone", "error", T["number_no_voice"](lang, number=number)))
    else:
        key = "number_bought" if own.kind == "bought" else "number_verified"
        found.append(Check("phone", "ok", T[key](lang, number=number)))
    return found


async def public_url(settings: Settings, lang: Lang) -> Check:
    """Whether ``web.public_url`` can be Twilio's way in, asked from this machine."""
    assert settings.phone is not None
    url = settings.web.public_url
    if settings.phone.api_base_url == TWILIO_API and _local(urlsplit(url).hostname or ""):
        return Check("web", "error", T["url_local"](lang, url=url))
    limit = aiohttp.ClientTimeout(total=URL_TIMEOUT_SECONDS)
    try:
        # The root, not a webhook: any answer of kkik's (a login redirect, a 404 when only the
        # webhooks are served) shows the way in works, and nothing is stored or logged as a
        # refused Twilio request.
        async with (
            aiohttp.ClientSession(timeout=limit) as session,
            session.get(url + "/", allow_redirects=False) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason = network_reason(exc)
        # A certificate Twilio would refuse too is wrong now, not only while kkik is stopped.
        level: Level = "error" if reason is NETWORK["certificate"] else "warning"
        return Check("web", level, T["url_silent"](lang, url=url, reason=reason))
    if status >= 500:
        return Check("web", "warning", T["url_server_error"](lang, url=url, status=status))
    return Check("web", "ok", T["url_ok"](lang, url=url, status=status))


def _local(host: str) -> bool:
    """A loopback or private address (written as such), which Twilio cannot reach."""
    if is_loopback_host(host):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_link_local

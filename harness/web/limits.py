"""Size limits on everything the dashboard's forms send: the body, each field, the field count.

A pure ASGI middleware, in front of every route that takes a form, so no handler (and no
FastAPI form parsing, which reads the whole body before any check) ever sees more: a body over
:data:`MAX_FORM_BYTES` is refused with 413 (unread when ``Content-Length`` says so, else as soon
as the count passes the limit), a field longer than its limit in :data:`FIELD_LIMITS` with 400.
Both answers say in the page's language what was too long, and nothing is stored. The limits are
far above what anyone types (the forms carry ``maxlength`` with the same numbers), and far below
what once got through: a 900 KB review reason was stored in the audit log.

Twilio's webhooks have their own, stricter limit (:mod:`harness.web.twilio_hooks`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.core.i18n import Text
from harness.web.auth import SAFE_METHODS
from harness.web.form_limits import (
    DEFAULT_FIELD_LIMIT,
    FIELD_LIMITS,
    MAX_FIELDS,
    MAX_FORM_BYTES,
    MAX_KB,
)

TEXTS = {
    "too_large": Text(
        "Formuläret är för stort: högst {max} kB. Inget sparades.",
        "The form is too large: at most {max} kB. Nothing was saved.",
    ),
    "too_long": Text(
        "Fältet ”{field}” är för långt: högst {max} tecken (det hade {length}). Inget sparades.",
        "The field “{field}” is too long: at most {max} characters (it had {length}). Nothing "
        "was saved.",
    ),
    "too_many": Text(
        "Formuläret har för många fält (högst {max}). Inget sparades.",
        "The form has too many fields (at most {max}). Nothing was saved.",
    ),
    "not_a_form": Text(
        "Formuläret kom i ett format som den här sidan inte tar emot. Inget sparades.",
        "The form came in a format this site does not accept. Nothing was saved.",
    ),
}
LABELS = {
    "reason": Text("Skäl", "Reason"),
    "note": Text("Kommentar", "Note"),
    "name": Text("Användarnamn", "User name"),
    "password": Text("Lösenord", "Password"),
}


class FormLimits:
    """Refuse oversized dashboard forms before any handler reads them; pass the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith("/twilio/")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
            await _refuse(scope, receive, send, 413, "too_large", {"max": MAX_KB}, close=True)
            return
        body = await _read(receive, MAX_FORM_BYTES)
        if body is None:
            await _refuse(scope, receive, send, 413, "too_large", {"max": MAX_KB}, close=True)
            return
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            # No form of ours is multipart, and its fields could not be checked here.
            await _refuse(scope, receive, send, 415, "not_a_form", {})
            return
        if kind == "application/x-www-form-urlencoded":
            refusal = _field_refusal(body)
            if refusal is not None:
                key, fields = refusal
                await _refuse(scope, receive, send, 400, key, fields)
                return
        await self.app(scope, _replay(body, receive), send)


def _field_refusal(body: bytes) -> tuple[str, dict[str, object]] | None:
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    if len(pairs) > MAX_FIELDS:
        return "too_many", {"max": MAX_FIELDS}
    for name, value in pairs:
        limit = FIELD_LIMITS.get(name, DEFAULT_FIELD_LIMIT)
        if len(value) > limit or len(name) > DEFAULT_FIELD_LIMIT:
            return "too_long", {"field": name[:DEFAULT_FIELD_LIMIT], "max": limit,
                                "length": len(value)}  # fmt: skip
    return None


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (the rest is never read)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)  # the client went away; the handler finds out itself
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the handler the body already read, then what comes after."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    key: str,
    fields: dict[str, object],
    *,
    close: bool = False,
) -> None:
    """The refusal as a page in the visitor's language; ``close`` when the body was not read."""
    from harness.web.lang import page_lang
    from harness.web.render import render  # render imports auth, which is loaded

    request = Request(scope, receive)
    lang = page_lang(request)
    if "field" in fields:
        label = LABELS.get(str(fields["field"]))
        fields = {**fields, "field": label(lang) if label is not None else fields["field"]}
    message = TEXTS[key](lang, **fields)
    response: Response = render(
        request, "login.html", {"error": message, "show_form": False, "heading": message}, status
    )
    if close:
        response.headers["Connection"] = "close"
    await response(scope, receive, send)

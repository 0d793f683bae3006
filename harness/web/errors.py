"""The dashboard's own pages for what went wrong: an unknown address (404), a method the
address does not take (405), a form with values no handler accepts (422), anything else.

In the site's look and the visitor's language, never FastAPI's ``{"detail": "Not Found"}`` or a
bare "Internal Server Error"; the status code stays what it was. A value the visitor sent is
never repeated back (it could be markup).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from harness.core.i18n import Text
from harness.web.lang import page_lang
from harness.web.render import render

log = logging.getLogger(__name__)

HEADINGS: dict[int, Text] = {
    400: Text("Felaktig förfrågan", "Bad request"),
    403: Text("Inte tillåtet", "Not allowed"),
    404: Text("Sidan finns inte", "There is no such page"),
    405: Text("Det går inte att göra så här", "That cannot be done here"),
    409: Text("Väntar på granskning", "Waiting for review"),
    413: Text("För mycket data", "Too much data"),
    422: Text("Formuläret hade ogiltiga värden", "The form had values that are not valid"),
    500: Text("Något gick fel hos oss", "Something went wrong on our side"),
}
MESSAGES: dict[int, Text] = {
    404: Text(
        "Adressen leder ingenstans här. Den kan vara felstavad, eller så finns det den visade "
        "inte längre.",
        "The address leads nowhere here. It may be misspelt, or what it showed is gone.",
    ),
    405: Text(
        "Den här adressen tar inte emot den sortens förfrågan. Gå till sidan via menyn.",
        "This address does not take that kind of request. Go to the page through the menu.",
    ),
    422: Text(
        "Ett eller flera fält saknades eller hade ett värde som inte går att använda; inget "
        "sparades. Gå tillbaka och försök igen.",
        "One or more fields were missing or had a value that cannot be used; nothing was "
        "saved. Go back and try again.",
    ),
    500: Text(
        "Inget har sparats av det du gjorde. Försök igen; om felet består, kontakta den som "
        "sköter mätningen (felet finns i serverns logg).",
        "Nothing of what you did was saved. Try again; if it persists, tell whoever runs the "
        "measurement (the error is in the server's log).",
    ),
}


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    """The page for ``status``; ``detail`` is a sentence of ours (never the visitor's input)."""
    lang = page_lang(request)
    heading = HEADINGS.get(status) or HEADINGS[400 if status < 500 else 500]
    text = MESSAGES.get(status)
    message = detail or (text(lang) if text is not None else "")
    return render(request, "error.html", {"heading": heading(lang), "message": message}, status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Our own handlers raise with a sentence for the reader; Starlette's default is the phrase.
    phrase = (
        HTTPStatus(exc.status_code).phrase
        if exc.status_code in HTTPStatus._value2member_map_
        else ""
    )
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    response = error_page(request, exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value  # e.g. Allow on a 405
    return response


async def _invalid(request: Request, exc: Exception) -> Response:
    del exc  # it holds the values sent: never shown back
    return error_page(request, 422)


async def _crashed(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _crashed)

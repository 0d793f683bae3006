"""Render a dashboard page: the template plus what every page needs (language, user, CSRF)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from harness.core.clock import ensure_utc
from harness.core.labels import fault_text
from harness.web.auth import csrf_token, current_user, pop_flashes
from harness.web.form_limits import FIELD_LIMITS
from harness.web.lang import page_lang
from harness.web.listing import MAX_QUERY
from harness.web.page_texts import PAGE_TEXTS
from harness.web.texts import t

# Autoescaping is on for .html templates (Starlette's default environment): every value from
# the database is escaped unless a template marks it safe, which only sanitised HTML may be.
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def localtime(value: datetime | None, zone: str | ZoneInfo, seconds: bool = False) -> str:
    """A stored UTC instant as local time in ``zone`` (the settings' timezone); "–" if none."""
    if value is None:
        return "–"
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return (
        ensure_utc(value)
        .astimezone(tz)
        .strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    )


TEMPLATES.env.filters["localtime"] = localtime


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    lang = page_lang(request)

    def translate(key: str, **fields: object) -> str:
        text = PAGE_TEXTS.get(key)
        return text(lang, **fields) if text is not None else t(key, lang, **fields)

    def fault(code: str | None, params: dict[str, object] | None, stored: str | None) -> str:
        return fault_text(code, params, lang, fallback=stored)

    values = {
        "lang": lang,
        "t": translate,
        "fault": fault,
        "user": current_user(request),
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "limits": FIELD_LIMITS,  # the forms' maxlength: what harness.web.limits accepts
        "max_query": MAX_QUERY,  # a filter value's length kept (harness.web.listing)
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)

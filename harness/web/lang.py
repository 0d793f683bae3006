"""The language of a dashboard page: asked for with ``?lang=``, remembered in the session."""

from __future__ import annotations

from fastapi import Request

from harness.core.i18n import Lang, parse_lang

__all__ = ["page_lang"]


def page_lang(request: Request) -> Lang:
    """``?lang=`` switches and is remembered in the session; else the configured language."""
    asked = parse_lang(request.query_params.get("lang"))
    if asked is not None:
        request.session["lang"] = asked
    chosen = parse_lang(request.session.get("lang")) or parse_lang(
        getattr(request.app.state, "language", None)
    )
    return chosen or "sv"

"""What every dashboard page shares: the content security policies, the role and CSRF
dependencies, the app's parts as a request sees them, and the services' context for a request.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine

from harness.core.config import Settings
from harness.services.base import Context
from harness.web.auth import UserView, require_csrf, require_role

# Pages allow only our own stylesheet; mail HTML is shown in a frame that may not run anything.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The report is one self-contained file with inline CSS and SVG charts: inline style is allowed
# for it alone. Otherwise it is stricter than the pages: it has no form and no frame.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The call console alone runs a script: our own static file (timer, live status, recording
# jump), never inline script; it shows no mail.
CONSOLE_CSP = CSP + "; script-src 'self'; connect-src 'self'; media-src 'self'"
viewer = Depends(require_role("viewer"))
staff = Depends(require_role("staff"))
admin = Depends(require_role("admin"))
csrf = Depends(require_csrf)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def zone_of(request: Request) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


def back_to(path: str, default: str) -> str:
    """Where a form returns to: a path on this site only (never another host)."""
    ok = path.startswith("/") and not path.startswith("//") and "\\" not in path
    return path if ok else default


def service_context(request: Request, user: UserView | None) -> Context:
    """The services' view of this request: the app's parts and the logged-in person."""
    return Context(
        engine=engine_of(request),
        clock=request.app.state.clock,
        settings=settings_of(request),
        actor=f"web:{user.name}" if user else "web",
    )

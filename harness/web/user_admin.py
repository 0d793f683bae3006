"""Administrators manage dashboard users in the browser: add, role, password, disable, enable.

The rules and audit entries are those of ``kkik user`` (:mod:`harness.store.users`); a refused
change is shown with the same message the command would give. Only admins reach these routes, and
every form carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine
from sqlmodel import Session

from harness.core.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, ROLES
from harness.store import users
from harness.store.models import User
from harness.web.auth import UserView, flash, require_csrf, require_role
from harness.web.lang import page_lang
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import render

router = APIRouter()
admin = Depends(require_role("admin"))
csrf = Depends(require_csrf)
BACK = "/users"


def _user(request: Request, user_id: int) -> User:
    with Session(request.app.state.engine) as session:
        row = session.get(User, user_id)
    if row is None:
        raise HTTPException(404)
    return row


# A change of harness.store.users: (engine, name, when, by whom) -> the user, or None if unchanged.
Change = Callable[[Engine, str, datetime, str], object]


def _apply(
    request: Request, me: UserView, name: str, change: Change, done: str = "user_changed"
) -> RedirectResponse:
    """Make the change as ``web:<admin>`` and say how it went (a refusal in the rule's words)."""
    lang = page_lang(request)
    try:
        changed = change(
            request.app.state.engine, name, request.app.state.clock.now(), f"web:{me.name}"
        )
    except users.UserError as exc:
        why = users.MESSAGES[exc.key](lang, **exc.fields)
        flash(request, PAGE_TEXTS["user_refused"](lang, why=why))
    else:
        key = done if changed is not None else "user_unchanged"
        flash(request, PAGE_TEXTS[key](lang, name=name))
    return RedirectResponse(BACK, status_code=303)


@router.get("/users", dependencies=[admin])
def user_list(request: Request) -> HTMLResponse:
    return render(
        request,
        "users.html",
        {
            "users": users.all_users(request.app.state.engine),
            "roles": ROLES,
            "zone": request.app.state.settings.timezone,
            "min_password": MIN_PASSWORD_LENGTH,
        },
    )


@router.post("/users", dependencies=[csrf])
def user_add(
    request: Request,
    me: Annotated[UserView, admin],
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)],
) -> RedirectResponse:
    def add(engine: Engine, name: str, at: datetime, by: str) -> object:
        return users.add_user(engine, name, role, password, at, by)

    return _apply(request, me, users.stored_name(name), add, "user_added")


@router.post("/users/{user_id}/role", dependencies=[csrf])
def user_role(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    role: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    def change(engine: Engine, name: str, at: datetime, by: str) -> object:
        return users.set_role(engine, name, role, at, by, reason.strip() or None)

    return _apply(request, me, _user(request, user_id).name, change)


@router.post("/users/{user_id}/password", dependencies=[csrf])
def user_password(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    def change(engine: Engine, name: str, at: datetime, by: str) -> object:
        return users.set_password(engine, name, password, at, by, reason.strip() or None)

    return _apply(request, me, _user(request, user_id).name, change, "user_password_changed")


@router.post("/users/{user_id}/disabled", dependencies=[csrf])
def user_disabled(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    disabled: Annotated[str, Form(pattern="^(yes|no)$")],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    def change(engine: Engine, name: str, at: datetime, by: str) -> object:
        return users.set_disabled(engine, name, disabled == "yes", at, by, reason.strip() or None)

    return _apply(request, me, _user(request, user_id).name, change)

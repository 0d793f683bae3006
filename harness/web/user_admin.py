"""Administrators manage dashboard users in the browser: add, role, password, disable, enable.

The rules and audit entries are those of ``kkik user`` (:mod:`harness.users`); a refused change
is shown with the same message the command would give. Only admins reach these routes, and
every form carries the CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from harness import users
from harness.models import User
from harness.web.auth import MIN_PASSWORD_LENGTH, ROLES, UserView, flash, require_csrf, require_role
from harness.web.page_texts import PAGE_TEXTS
from harness.web.render import page_lang, render

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


def _done(request: Request, key: str, **fields: object) -> RedirectResponse:
    flash(request, PAGE_TEXTS[key](page_lang(request), **fields))
    return RedirectResponse(BACK, status_code=303)


def _refused(request: Request, exc: users.UserError) -> RedirectResponse:
    lang = page_lang(request)
    flash(
        request, PAGE_TEXTS["user_refused"](lang, why=users.MESSAGES[exc.key](lang, **exc.fields))
    )
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
    password: Annotated[str, Form(max_length=1000)],
) -> RedirectResponse:
    try:
        users.add_user(
            request.app.state.engine,
            name.strip(),
            role,
            password,
            request.app.state.clock.now(),
            f"web:{me.name}",
        )
    except users.UserError as exc:
        return _refused(request, exc)
    return _done(request, "user_added", name=name.strip())


@router.post("/users/{user_id}/role", dependencies=[csrf])
def user_role(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    role: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    row = _user(request, user_id)
    try:
        changed = users.set_role(
            request.app.state.engine,
            row.name,
            role,
            request.app.state.clock.now(),
            f"web:{me.name}",
            reason.strip() or None,
        )
    except users.UserError as exc:
        return _refused(request, exc)
    return _done(request, "user_changed" if changed else "user_unchanged", name=row.name)


@router.post("/users/{user_id}/password", dependencies=[csrf])
def user_password(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    password: Annotated[str, Form(max_length=1000)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    row = _user(request, user_id)
    try:
        users.set_password(
            request.app.state.engine,
            row.name,
            password,
            request.app.state.clock.now(),
            f"web:{me.name}",
            reason.strip() or None,
        )
    except users.UserError as exc:
        return _refused(request, exc)
    return _done(request, "user_password_changed", name=row.name)


@router.post("/users/{user_id}/disabled", dependencies=[csrf])
def user_disabled(
    request: Request,
    user_id: int,
    me: Annotated[UserView, admin],
    disabled: Annotated[str, Form(pattern="^(yes|no)$")],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    row = _user(request, user_id)
    try:
        changed = users.set_disabled(
            request.app.state.engine,
            row.name,
            disabled == "yes",
            request.app.state.clock.now(),
            f"web:{me.name}",
            reason.strip() or None,
        )
    except users.UserError as exc:
        return _refused(request, exc)
    return _done(request, "user_changed" if changed else "user_unchanged", name=row.name)

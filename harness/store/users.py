"""Dashboard users: add, change password, role, disable and enable, each with an audit entry.

Used by ``kkik user`` and by the dashboard's user page, so both apply the same rules and log the
same way. Only an argon2 hash of a password is stored; the audit log gets name, role and
whether the user is disabled, before and after, never the password or its hash. Changing a
password or disabling a user ends their open sessions (the session check compares the stored
hash and flag on every request, :mod:`harness.web.auth`).

The last active administrator cannot be demoted or disabled: that would lock everyone out of
user management until someone edits the database by hand.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.core.accounts import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ROLES,
    hash_password,
    user_key,
    valid_user_name,
)
from harness.core.i18n import Text
from harness.store.models import AuditEntry, User

MESSAGES: dict[str, Text] = {
    "bad_name": Text(
        "Ogiltigt användarnamn {name!r}: 1–{max} tecken utan mellanslag.",
        "Invalid user name {name!r}: 1-{max} characters without spaces.",
    ),
    "bad_role": Text(
        "Okänd roll {role!r}: admin, staff eller viewer.",
        "Unknown role {role!r}: admin, staff or viewer.",
    ),
    "exists": Text(
        "Det finns redan en användare som heter {name}; välj ett annat namn eller byt lösenord "
        "för den användaren.",
        "There is already a user called {name}; choose another name or change that user's "
        "password.",
    ),
    "no_user": Text("Ingen användare heter {name}.", "No user is called {name}."),
    "too_short": Text(
        "Lösenordet måste ha minst {min} tecken (det hade {length}).",
        "The password must have at least {min} characters (it had {length}).",
    ),
    "too_long": Text(
        "Lösenordet får ha högst {max} tecken.", "The password may have at most {max} characters."
    ),
    "last_admin": Text(
        "{name} är den sista aktiva administratören; gör någon annan till administratör först.",
        "{name} is the last active administrator; make someone else an administrator first.",
    ),
}


class UserError(ValueError):
    """A refused change: ``key`` names the message in :data:`MESSAGES`, ``fields`` fill it."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(MESSAGES[key]("en", **fields))
        self.key = key
        self.fields = fields


def public(user: User) -> dict[str, Any]:
    """What the audit log may say about a user: never the password or its hash."""
    return {"name": user.name, "role": user.role, "disabled": user.disabled}


def find_user(engine: Engine, name: str) -> User | None:
    """The user called ``name`` as logging in reads it (:func:`harness.core.accounts.user_key`):
    "Anna", "anna" and "ａｎｎａ" are one login, so they are one user here too."""
    with Session(engine) as session:
        exact = session.exec(select(User).where(User.name == name)).first()
        if exact is not None:
            return exact
        key = user_key(name)
        return next((u for u in session.exec(select(User)).all() if user_key(u.name) == key), None)


def stored_name(name: str) -> str:
    """A new user's name as stored: stripped and NFKC-normalised (``ﬆina`` becomes ``stina``),
    so the name shown is the one the user types."""
    return unicodedata.normalize("NFKC", name.strip())


def all_users(engine: Engine) -> list[User]:
    with Session(engine) as session:
        return list(session.exec(select(User).order_by(col(User.name))).all())


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("too_short", min=MIN_PASSWORD_LENGTH, length=len(password))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError("too_long", max=MAX_PASSWORD_LENGTH)


def add_user(engine: Engine, name: str, role: str, password: str, at: datetime, actor: str) -> User:
    """A new user; refused when the name is invalid or is an existing user's however written."""
    name = stored_name(name)
    if not valid_user_name(name):
        raise UserError("bad_name", name=name, max=MAX_NAME_LENGTH)
    if role not in ROLES:
        raise UserError("bad_role", role=role)
    existing = find_user(engine, name)
    if existing is not None:
        raise UserError("exists", name=existing.name)
    check_password(password)
    with Session(engine) as session:
        row = User(name=name, role=role, password_hash=hash_password(password), created_at=at)
        session.add(row)
        session.flush()
        session.add(_audit(at, actor, "user_add", row, None, None))
        session.commit()
        session.refresh(row)
        return row


def set_password(
    engine: Engine, name: str, password: str, at: datetime, actor: str, reason: str | None = None
) -> User:
    found = existing(engine, name)
    check_password(password)
    # That the password changed is logged; the password and its hash never are.
    return _change(
        engine, found, "user_passwd", at, actor, reason, password_hash=hash_password(password)
    )


def set_role(
    engine: Engine, name: str, role: str, at: datetime, actor: str, reason: str | None = None
) -> User | None:
    """The user with the new role; None when they already had it (nothing logged)."""
    if role not in ROLES:
        raise UserError("bad_role", role=role)
    found = existing(engine, name)
    if found.role == role:
        return None
    if found.role == "admin":
        _keep_an_admin(engine, found)
    return _change(engine, found, "user_role", at, actor, reason, role=role)


def set_disabled(
    engine: Engine, name: str, disabled: bool, at: datetime, actor: str, reason: str | None = None
) -> User | None:
    """The changed user; None when they already were so (nothing logged)."""
    found = existing(engine, name)
    if found.disabled == disabled:
        return None
    if disabled and found.role == "admin":
        _keep_an_admin(engine, found)
    action = "user_disable" if disabled else "user_enable"
    return _change(engine, found, action, at, actor, reason, disabled=disabled)


def existing(engine: Engine, name: str) -> User:
    found = find_user(engine, name)
    if found is None:
        raise UserError("no_user", name=name)
    return found


def _keep_an_admin(engine: Engine, leaving: User) -> None:
    with Session(engine) as session:
        others = session.exec(
            select(User.id).where(
                User.role == "admin", col(User.disabled).is_(False), User.id != leaving.id
            )
        ).all()
    if not others and not leaving.disabled:
        raise UserError("last_admin", name=leaving.name)


def _change(
    engine: Engine,
    found: User,
    action: str,
    at: datetime,
    actor: str,
    reason: str | None,
    **values: Any,
) -> User:
    with Session(engine) as session:
        row = session.get(User, found.id)
        assert row is not None
        before = public(row)
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.add(_audit(at, actor, action, row, before, reason))
        session.commit()
        session.refresh(row)
        return row


def _audit(
    at: datetime,
    actor: str,
    action: str,
    row: User,
    before: dict[str, Any] | None,
    reason: str | None,
) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor=actor,
        action=action,
        entity="user",
        entity_id=str(row.id),
        before=before,
        after=public(row),
        reason=reason,
    )

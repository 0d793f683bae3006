"""``kkik user``: who may log in to the dashboard, with which role, and their passwords.

Passwords are typed at a hidden prompt (twice) or read as one line from standard input
(``--password-stdin``, for scripts). The rules and the audit entries are those of
:mod:`harness.store.users`, shared with the dashboard's user page.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click
from sqlalchemy import Engine

from harness.cli.common import EXIT_USAGE, CliContext, actor, fail, open_database, state
from harness.core.accounts import MAX_NAME_LENGTH, ROLES, valid_user_name
from harness.core.i18n import Lang, Text
from harness.store import users
from harness.store.models import User
from harness.web.texts import TEXTS

ROLE_NAMES = {role: TEXTS[f"role_{role}"] for role in ROLES}
T = {
    "group": Text(
        "Användare av webbgränssnittet: lägg till, byt lösenord, lista, stäng av och slå på.",
        "Dashboard users: add, change password, list, disable and enable.",
    ),
    # The roles as harness/web/auth.py enforces them (tests/unit/test_user_cli.py checks).
    "add": Text(
        "Lägg till en användare. Roller: viewer läser; staff ringer och bedömer också samtal "
        "och granskar och klassar om meddelanden; admin hanterar också användare, rensar "
        "personuppgifter och hämtar rå e-post.",
        "Add a user. Roles: viewer reads; staff also places and assesses calls, and reviews and "
        "reclassifies messages; admin also manages users, purges personal data and downloads "
        "raw mail.",
    ),
    "role": Text(
        "Användarens roll: admin, staff eller viewer.", "The role: admin, staff or viewer."
    ),
    "set_role": Text("Byt en användares roll.", "Change a user's role."),
    "passwd": Text("Byt en användares lösenord.", "Change a user's password."),
    "list": Text("Lista användarna.", "List the users."),
    "disable": Text(
        "Stäng av en användare: kan inte logga in, och loggas ut direkt.",
        "Disable a user: cannot log in, and is logged out at once.",
    ),
    "enable": Text("Slå på en avstängd användare igen.", "Enable a disabled user again."),
    "stdin": Text(
        "Läs lösenordet som en rad från standard in i stället för att fråga.",
        "Read the password as one line from standard input instead of asking.",
    ),
    "reason": Text("Varför (sparas i loggen).", "Why (logged)."),
    "json": Text("Skriv JSON.", "Write JSON."),
    "prompt": Text("Lösenord för {name}", "Password for {name}"),
    "prompt_again": Text("Samma lösenord igen", "The same password again"),
    "bad_name": Text(
        "Ogiltigt användarnamn {name!r}: 1–{max} tecken utan mellanslag.",
        "Invalid user name {name!r}: 1-{max} characters without spaces.",
    ),
    "exists": Text(
        "Det finns redan en användare som heter {name}; välj ett annat namn, eller byt "
        "lösenord med `kkik user passwd {name}`.",
        "There is already a user called {name}; choose another name, or change the password "
        "with `kkik user passwd {name}`.",
    ),
    "no_user": Text(
        "Ingen användare heter {name}; se `kkik user list`.",
        "No user is called {name}; see `kkik user list`.",
    ),
    "too_short": Text(
        "Lösenordet måste ha minst {min} tecken (det hade {length}).",
        "The password must have at least {min} characters (it had {length}).",
    ),
    "too_long": Text(
        "Lösenordet får ha högst {max} tecken.", "The password may have at most {max} characters."
    ),
    "no_stdin": Text(
        "Inget lösenord på standard in (en rad väntades).",
        "No password on standard input (one line expected).",
    ),
    "added": Text(
        "Användaren {name} är tillagd som {role}.", "The user {name} was added as {role}."
    ),
    "changed_password": Text(
        "Lösenordet för {name} är bytt; öppna sessioner är utloggade.",
        "The password of {name} was changed; open sessions are logged out.",
    ),
    "changed_role": Text("{name} är nu {role}.", "{name} is now {role}."),
    "same_role": Text(
        "{name} är redan {role}; inget ändrat.", "{name} is already {role}; nothing changed."
    ),
    "disabled": Text("{name} är avstängd och utloggad.", "{name} is disabled and logged out."),
    "enabled": Text("{name} kan logga in igen.", "{name} can log in again."),
    "already_disabled": Text("{name} är redan avstängd.", "{name} is already disabled."),
    "already_enabled": Text("{name} är inte avstängd.", "{name} is not disabled."),
    "none": Text(
        "Inga användare; lägg till en med `kkik user add NAMN --role admin`.",
        "No users; add one with `kkik user add NAME --role admin`.",
    ),
    "header": Text(
        "namn                 roll           status     senast inloggad",
        "name                 role           status     last login",
    ),
    "active": Text("aktiv", "active"),
    "off": Text("avstängd", "disabled"),
    "never": Text("aldrig", "never"),
}


def build(lang: Lang) -> click.Group:
    role_choice = click.Choice(list(ROLES))

    @click.group("user", help=T["group"](lang))
    def user() -> None:
        pass

    @user.command("add", help=T["add"](lang))
    @click.argument("name", metavar="NAME")
    @click.option("--role", required=True, type=role_choice, help=T["role"](lang))
    @click.option("--password-stdin", "from_stdin", is_flag=True, help=T["stdin"](lang))
    @click.pass_context
    def add_cmd(ctx: click.Context, name: str, role: str, from_stdin: bool) -> None:
        cli = state(ctx)
        engine = _engine(cli)
        name = users.stored_name(name)
        if not valid_user_name(name):
            fail(cli.t(T["bad_name"], name=name, max=MAX_NAME_LENGTH), EXIT_USAGE)
        existing = users.find_user(engine, name)  # "ſara" or "SARA" is the user "sara"
        if existing is not None:
            fail(cli.t(T["exists"], name=existing.name), EXIT_USAGE)
        password = _read_password(cli, name, from_stdin)
        with _refused(cli):
            users.add_user(engine, name, role, password, cli.clock.now(), actor())
        click.echo(cli.t(T["added"], name=name, role=cli.t(ROLE_NAMES[role])))

    @user.command("passwd", help=T["passwd"](lang))
    @click.argument("name", metavar="NAME")
    @click.option("--password-stdin", "from_stdin", is_flag=True, help=T["stdin"](lang))
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def passwd_cmd(ctx: click.Context, name: str, from_stdin: bool, reason: str | None) -> None:
        cli = state(ctx)
        engine = _engine(cli)
        found = _existing(cli, engine, name)
        password = _read_password(cli, found.name, from_stdin)
        with _refused(cli):
            users.set_password(engine, found.name, password, cli.clock.now(), actor(), reason)
        click.echo(cli.t(T["changed_password"], name=found.name))

    @user.command("role", help=T["set_role"](lang))
    @click.argument("name", metavar="NAME")
    @click.argument("role", metavar="ROLE", type=role_choice)
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def role_cmd(ctx: click.Context, name: str, role: str, reason: str | None) -> None:
        cli = state(ctx)
        engine = _engine(cli)
        found = _existing(cli, engine, name)
        with _refused(cli):
            changed = users.set_role(engine, found.name, role, cli.clock.now(), actor(), reason)
        key = "changed_role" if changed is not None else "same_role"
        click.echo(cli.t(T[key], name=found.name, role=cli.t(ROLE_NAMES[role])))

    @user.command("list", help=T["list"](lang))
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def list_cmd(ctx: click.Context, as_json: bool) -> None:
        cli = state(ctx)
        rows = users.all_users(_engine(cli))
        if as_json:
            click.echo(json.dumps([_listed(u) for u in rows], ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo(cli.t(T["none"]))
            return
        click.echo(cli.t(T["header"]))
        for u in rows:
            status = cli.t(T["off"] if u.disabled else T["active"])
            last = _when(u.last_login_at) or cli.t(T["never"])
            role = cli.t(ROLE_NAMES.get(u.role, Text(u.role, u.role)))
            click.echo(f"{u.name:<20} {role:<14} {status:<10} {last}")

    @user.command("disable", help=T["disable"](lang))
    @click.argument("name", metavar="NAME")
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def disable_cmd(ctx: click.Context, name: str, reason: str | None) -> None:
        _set_disabled(state(ctx), name, True, reason)

    @user.command("enable", help=T["enable"](lang))
    @click.argument("name", metavar="NAME")
    @click.option("--reason", default=None, help=T["reason"](lang))
    @click.pass_context
    def enable_cmd(ctx: click.Context, name: str, reason: str | None) -> None:
        _set_disabled(state(ctx), name, False, reason)

    return user


def _set_disabled(cli: CliContext, name: str, disabled: bool, reason: str | None) -> None:
    engine = _engine(cli)
    found = _existing(cli, engine, name)
    with _refused(cli):
        changed = users.set_disabled(engine, found.name, disabled, cli.clock.now(), actor(), reason)
    if changed is None:
        key = "already_disabled" if disabled else "already_enabled"
    else:
        key = "disabled" if disabled else "enabled"
    click.echo(cli.t(T[key], name=found.name))


@contextlib.contextmanager
def _refused(cli: CliContext) -> Iterator[None]:
    """A rule of :mod:`harness.store.users` said no: its message (the CLI's wording where it has
    one)."""
    try:
        yield
    except users.UserError as exc:
        fail(cli.t(T.get(exc.key) or users.MESSAGES[exc.key], **exc.fields), EXIT_USAGE)


def _engine(cli: CliContext) -> Engine:
    settings, base_dir = cli.settings(required=False)
    engine, _ = open_database(cli, settings, base_dir)
    return engine


def _existing(cli: CliContext, engine: Engine, name: str) -> User:
    found = users.find_user(engine, name)
    if found is None:
        fail(cli.t(T["no_user"], name=name), EXIT_USAGE)
    return found


def _read_password(cli: CliContext, name: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            fail(cli.t(T["no_stdin"]), EXIT_USAGE)
    else:
        password = click.prompt(
            cli.t(T["prompt"], name=name),
            hide_input=True,
            confirmation_prompt=cli.t(T["prompt_again"]),
        )
    with _refused(cli):
        users.check_password(password)
    return password


def _listed(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": _when(user.created_at),
        "last_login_at": _when(user.last_login_at),
    }


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

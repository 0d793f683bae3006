"""``kkik user``: dashboard users with hashed passwords, roles and an audit trail."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click
import pytest
from sqlmodel import Session, col, select

from harness.core.accounts import verify_password
from harness.core.i18n import Lang
from harness.store.db import make_engine
from harness.store.models import AuditEntry, User

PASSWORD = "ett långt lösenord"


@pytest.fixture
def config(kkik, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    assert kkik("--config", str(path), "db", "upgrade").code == 0
    return path


def _en(kkik: Any, config: Path, *args: str) -> Any:
    return kkik("--lang", "en", "--config", str(config), "user", *args)


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _users(config: Path) -> list[User]:
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    with Session(engine) as session:
        return list(session.exec(select(User).order_by(col(User.id))).all())


def _audit(config: Path) -> list[AuditEntry]:
    engine = make_engine(f"sqlite:///{config.parent / 'kkik.db'}")
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def test_it_adds_a_user_with_a_hashed_password_and_an_audit_entry(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\n")
    result = _en(kkik, config, "add", "anna", "--role", "staff", "--password-stdin")
    assert result.code == 0, result.err
    assert result.out == "The user anna was added as staff.\n"
    [user] = _users(config)
    assert (user.name, user.role, user.disabled, user.last_login_at) == (
        "anna",
        "staff",
        False,
        None,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    [entry] = _audit(config)
    assert (entry.action, entry.entity, entry.entity_id) == ("user_add", "user", str(user.id))
    assert entry.actor.startswith("cli")
    assert entry.before is None
    assert entry.after == {"name": "anna", "role": "staff", "disabled": False}
    assert "argon2" not in json.dumps(entry.after)


def test_it_asks_for_the_password_twice_at_a_hidden_prompt(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    answers = iter([PASSWORD, "inte samma lösenord", PASSWORD, PASSWORD])
    prompts: list[str] = []

    def hidden(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(click.termui, "hidden_prompt_func", hidden)
    result = kkik("--config", str(config), "user", "add", "cilla", "--role", "admin")
    assert result.code == 0, result.err
    assert prompts == ["Lösenord för cilla: ", "Samma lösenord igen: "] * 2  # asked again
    assert "Användaren cilla är tillagd som administratör." in result.out
    assert verify_password(_users(config)[0].password_hash, PASSWORD)


def test_it_refuses_a_duplicate_name_whatever_the_case(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "anna", "--role", "staff", "--password-stdin").code == 0
    for name in ("anna", "Anna"):
        _stdin(monkeypatch, "ett annat långt lösenord\n")
        result = _en(kkik, config, "add", name, "--role", "admin", "--password-stdin")
        assert result.code == 2
        assert result.err.startswith("There is already a user called")
    [user] = _users(config)
    assert user.role == "staff"
    assert verify_password(user.password_hash, PASSWORD)
    assert len(_audit(config)) == 1


def test_a_name_written_with_other_letters_is_the_same_user(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    """One normalisation (NFKC, case-folded) for creating, finding and logging in (issue 15)."""
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "ﬆina", "--role", "staff", "--password-stdin").code == 0
    assert [u.name for u in _users(config)] == ["stina"]  # stored as it is typed
    for name in ("stina", "ſtina", "ﬅina", "STINA", "ｓｔｉｎａ"):
        _stdin(monkeypatch, "ett annat långt lösenord\n")
        result = _en(kkik, config, "add", name, "--role", "admin", "--password-stdin")
        assert result.code == 2, name
        assert result.err.startswith("There is already a user called stina"), name
        assert _en(kkik, config, "role", name, "viewer").out == "stina is now viewer.\n"
        assert _en(kkik, config, "role", name, "staff").code == 0
    assert [u.name for u in _users(config)] == ["stina"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("anna",), "kort\n", "The password must have at least 12 characters (it had 4).\n"),
        (("anna",), "", "No password on standard input (one line expected).\n"),
        (("anna",), "\n", "No password on standard input (one line expected).\n"),
        (("anna",), "x" * 1025 + "\n", "The password may have at most 1024 characters.\n"),
        (("anna svensson",), PASSWORD + "\n", "Invalid user name 'anna svensson': 1-100 "
         "characters without spaces.\n"),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_password_or_name(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], stdin: str,
    message: str,
):  # fmt: skip
    _stdin(monkeypatch, stdin)
    result = _en(kkik, config, "add", *args, "--role", "viewer", "--password-stdin")
    assert (result.code, result.err) == (2, message)
    assert _users(config) == []
    assert _audit(config) == []


def test_it_refuses_an_unknown_role(kkik, config: Path, monkeypatch: pytest.MonkeyPatch):
    _stdin(monkeypatch, PASSWORD + "\n")
    result = _en(kkik, config, "add", "anna", "--role", "root", "--password-stdin")
    assert result.code == 2
    assert "'root' is not one of 'viewer', 'staff', 'admin'" in result.err


def test_only_the_first_line_of_stdin_is_the_password(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\r\nnästa rad\n")
    assert _en(kkik, config, "add", "anna", "--role", "viewer", "--password-stdin").code == 0
    assert verify_password(_users(config)[0].password_hash, PASSWORD)


def test_it_changes_a_password_without_logging_it(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "anna", "--role", "staff", "--password-stdin").code == 0
    _stdin(monkeypatch, "ett helt nytt lösenord\n")
    result = _en(kkik, config, "passwd", "Anna", "--password-stdin", "--reason", "glömt")
    assert result.code == 0, result.err
    assert result.out == "The password of anna was changed; open sessions are logged out.\n"
    [user] = _users(config)
    assert verify_password(user.password_hash, "ett helt nytt lösenord")
    assert not verify_password(user.password_hash, PASSWORD)
    entry = _audit(config)[-1]
    assert (entry.action, entry.reason) == ("user_passwd", "glömt")
    logged = json.dumps([entry.before, entry.after, entry.reason], ensure_ascii=False)
    assert "lösenord" not in logged
    assert "argon2" not in logged

    _stdin(monkeypatch, "ett helt nytt lösenord\n")
    result = _en(kkik, config, "passwd", "bertil", "--password-stdin")
    assert (result.code, result.err) == (2, "No user is called bertil; see `kkik user list`.\n")


def test_it_disables_enables_and_changes_roles_with_an_audit_trail(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "anna", "--role", "staff", "--password-stdin").code == 0

    result = _en(kkik, config, "disable", "anna", "--reason", "slutat")
    assert (result.code, result.out) == (0, "anna is disabled and logged out.\n")
    assert _en(kkik, config, "disable", "anna").out == "anna is already disabled.\n"
    assert _users(config)[0].disabled
    result = _en(kkik, config, "enable", "anna")
    assert (result.code, result.out) == (0, "anna can log in again.\n")
    assert _en(kkik, config, "enable", "anna").out == "anna is not disabled.\n"
    result = _en(kkik, config, "role", "anna", "admin")
    assert (result.code, result.out) == (0, "anna is now administrator.\n")
    assert _en(kkik, config, "role", "anna", "admin").out == (
        "anna is already administrator; nothing changed.\n"
    )
    assert _en(kkik, config, "disable", "nobody").code == 2

    audit = _audit(config)
    assert [a.action for a in audit] == ["user_add", "user_disable", "user_enable", "user_role"]
    assert (audit[1].before, audit[1].after, audit[1].reason) == (
        {"name": "anna", "role": "staff", "disabled": False},
        {"name": "anna", "role": "staff", "disabled": True},
        "slutat",
    )
    assert (audit[3].before or {})["role"] == "staff"
    assert (audit[3].after or {})["role"] == "admin"


def test_it_lists_the_users(kkik, config: Path, monkeypatch: pytest.MonkeyPatch):
    assert _en(kkik, config, "list").out == (
        "No users; add one with `kkik user add NAME --role admin`.\n"
    )
    assert json.loads(_en(kkik, config, "list", "--json").out) == []
    for name, role in (("bertil", "viewer"), ("anna", "staff")):
        _stdin(monkeypatch, PASSWORD + "\n")
        assert _en(kkik, config, "add", name, "--role", role, "--password-stdin").code == 0
    assert _en(kkik, config, "disable", "bertil").code == 0

    rows = json.loads(_en(kkik, config, "list", "--json").out)
    assert [(r["name"], r["role"], r["disabled"], r["last_login_at"]) for r in rows] == [
        ("anna", "staff", False, None),
        ("bertil", "viewer", True, None),
    ]
    assert all(set(r) == {"name", "role", "disabled", "created_at", "last_login_at"} for r in rows)
    swedish = kkik("--config", str(config), "user", "list")
    assert swedish.out.splitlines() == [
        "namn                 roll           status     senast inloggad",
        "anna                 handläggare    aktiv      aldrig",
        "bertil               läsare         avstängd   aldrig",
    ]


def test_it_needs_an_upgraded_database(kkik, tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kkik.db"}"\n')
    result = kkik("--lang", "en", "--config", str(path), "user", "list")
    assert result.code == 1
    assert "run `kkik db upgrade`" in result.err


def test_the_last_active_administrator_cannot_be_demoted_or_disabled(
    kkik, config: Path, monkeypatch: pytest.MonkeyPatch
):
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "anna", "--role", "admin", "--password-stdin").code == 0
    for args in (("role", "anna", "staff"), ("disable", "anna")):
        result = _en(kkik, config, *args)
        assert result.code == 2
        assert result.err == (
            "anna is the last active administrator; make someone else an administrator first.\n"
        )
    assert [a.action for a in _audit(config)] == ["user_add"]
    # With a second administrator either change is allowed, but not both away.
    _stdin(monkeypatch, PASSWORD + "\n")
    assert _en(kkik, config, "add", "bo", "--role", "admin", "--password-stdin").code == 0
    assert _en(kkik, config, "disable", "bo").code == 0
    assert _en(kkik, config, "role", "anna", "viewer").code == 2
    assert _en(kkik, config, "enable", "bo").code == 0
    assert _en(kkik, config, "role", "anna", "viewer").code == 0
    assert [(u.name, u.role, u.disabled) for u in _users(config)] == [
        ("anna", "viewer", False),
        ("bo", "admin", False),
    ]


def _least_role(method: str, path: str) -> str:
    """The role a dashboard route demands, read from the route itself."""
    from fastapi.routing import APIRoute

    from harness.web import call_pages, mail_pages, pages
    from harness.web.auth import RoleRequirement

    routes = [r for m in (pages, mail_pages, call_pages) for r in m.router.routes]
    for route in routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            stack, roles = list(route.dependant.dependencies), []
            while stack:
                dependency = stack.pop()
                if isinstance(dependency.call, RoleRequirement):
                    roles.append(dependency.call.role)
                stack.extend(dependency.dependencies)
            return max(roles, key=["viewer", "staff", "admin"].index)
    raise AssertionError(f"no route {method} {path}")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_help_on_roles_agrees_with_the_code(kkik, lang: Lang):
    """Issue 15: `kkik user add --help` said admins reclassify; staff do (POST /review)."""
    from harness.web.page_texts import PAGE_TEXTS

    help_text = " ".join(kkik("--lang", lang, "user", "add", "--help").out.split())
    roles = help_text.split("Roller:" if lang == "sv" else "Roles:", 1)[1].split(". ", 1)[0]
    lead = PAGE_TEXTS["roles_lead"](lang)  # the Users page says the same, with role names
    for text in (roles, lead):
        viewer, staff, admin = (clause.strip() for clause in text.split(";"))
        said = {"viewer": viewer, "staff": staff, "admin": admin}
        for (method, path), words in {
            ("POST", "/review/{message_id}"): ("klassar om", "reclassif"),
            ("POST", "/calls/{probe_id}/assess"): ("bedömer", "assess"),
            ("POST", "/purge"): ("rensar", "purge"),
            ("GET", "/message/{message_id}.eml"): ("rå e-post", "raw mail"),
        }.items():
            word = words[0] if lang == "sv" else words[1]
            role = _least_role(method, path)
            assert word in said[role], (path, role, text)
            assert all(word not in said[other] for other in said if other != role), (path, text)

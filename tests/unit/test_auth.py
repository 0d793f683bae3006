"""Passwords, the login rate limiter and the redirect rule of :mod:`harness.web.auth`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.core.accounts import (
    ROLES,
    hash_password,
    password_needs_rehash,
    valid_user_name,
    verify_password,
)
from harness.core.clock import FakeClock
from harness.store import logins
from harness.store.models import LoginFailure
from harness.web.auth import LoginLimiter, UserView, has_role, require_role
from harness.web.login import safe_next

MIN = timedelta(minutes=1)


def test_a_password_is_stored_as_a_salted_argon2id_hash():
    first = hash_password("rätt häst batteri häftklammer")
    second = hash_password("rätt häst batteri häftklammer")
    assert first.startswith("$argon2id$")
    assert "häst" not in first
    assert first != second  # each hash has its own salt
    assert verify_password(first, "rätt häst batteri häftklammer")
    assert verify_password(second, "rätt häst batteri häftklammer")
    assert not verify_password(first, "rätt häst batteri häftklammer ")
    assert not verify_password(first, "")


def test_a_malformed_or_empty_hash_never_matches():
    assert not verify_password("", "lösenord123456")
    assert not verify_password("plain text", "plain text")
    assert not verify_password("$argon2id$v=19$m=65536,t=3,p=4$trasig", "lösenord123456")


def test_a_hash_made_with_weaker_parameters_asks_for_a_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("lösenord123456")
    assert verify_password(weak, "lösenord123456")
    assert password_needs_rehash(weak)
    assert not password_needs_rehash(hash_password("lösenord123456"))
    assert not password_needs_rehash("not a hash")


def test_the_limiter_blocks_after_five_failures_until_the_first_leaves_the_window(
    sqlite_engine: Engine, clock: FakeClock
):
    limiter = LoginLimiter(sqlite_engine, clock, max_failures=5, window=timedelta(minutes=15))
    for _ in range(4):
        limiter.failed("name:anna")
        clock.advance(MIN)
    assert limiter.allow("name:anna") is None  # four failures: still allowed
    limiter.failed("name:anna")  # the fifth, four minutes after the first
    assert limiter.allow("name:anna") == timedelta(minutes=11)
    assert limiter.allow("name:bertil") is None  # other keys are not affected
    clock.advance(minutes=10, seconds=59)
    assert limiter.allow("name:anna") == timedelta(seconds=1)
    clock.advance(seconds=1)
    # The first failure left the window: one more try, and a failure blocks again at once.
    assert limiter.allow("name:anna") is None
    limiter.failed("name:anna")
    assert limiter.allow("name:anna") == timedelta(minutes=1)


def test_the_window_forgets_old_failures_entirely(sqlite_engine: Engine, clock: FakeClock):
    limiter = LoginLimiter(sqlite_engine, clock, max_failures=3, window=timedelta(minutes=15))
    limiter.failed("addr:10.0.0.1")
    limiter.failed("addr:10.0.0.1")
    clock.advance(minutes=15)
    limiter.failed("addr:10.0.0.1")
    limiter.failed("addr:10.0.0.1")
    assert limiter.allow("addr:10.0.0.1") is None  # only two are within the window
    limiter.failed("addr:10.0.0.1")
    assert limiter.allow("addr:10.0.0.1") == timedelta(minutes=15)


def test_a_success_clears_the_count(sqlite_engine: Engine, clock: FakeClock):
    limiter = LoginLimiter(sqlite_engine, clock, max_failures=2)
    limiter.failed("name:anna")
    limiter.failed("name:anna")
    assert limiter.allow("name:anna") is not None
    limiter.succeeded("name:anna")
    assert limiter.allow("name:anna") is None
    limiter.succeeded("name:nobody")  # nothing to clear: no error


def test_the_limiter_deletes_failures_that_left_the_window(sqlite_engine: Engine, clock: FakeClock):
    limiter = LoginLimiter(sqlite_engine, clock)
    for key in ("a", "b", "c"):
        limiter.failed(key)
    clock.advance(minutes=16)
    limiter.failed("d")
    with Session(sqlite_engine) as session:
        kept = session.exec(select(LoginFailure.key_hash)).all()
    assert kept == [logins.key_hash("d")]


def test_the_limiter_stores_no_name_typed(sqlite_engine: Engine, clock: FakeClock):
    """People type their password into the name field: only a hash of the key is kept."""
    LoginLimiter(sqlite_engine, clock).failed("name:mitt-hemliga-lösenord")
    with sqlite_engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM loginfailure").all()
    assert len(rows) == 1
    assert "hemliga" not in repr(rows)


def test_the_limiter_refuses_nonsense_settings(sqlite_engine: Engine, clock: FakeClock):
    with pytest.raises(ValueError, match="max_failures"):
        LoginLimiter(sqlite_engine, clock, max_failures=0)
    with pytest.raises(ValueError, match="max_failures"):
        LoginLimiter(sqlite_engine, clock, window=timedelta(0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/calls", "/calls"),
        ("/calls/12?lang=en#x", "/calls/12?lang=en#x"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("//evil.example/calls", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("calls", "/"),
        ("/calls\r\nSet-Cookie: x=1", "/"),
        ("/ calls", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_after_login_only_a_local_path_is_followed(value: str | None, expected: str):
    assert safe_next(value) == expected


def test_roles_are_ordered_by_power():
    assert ROLES == ("viewer", "staff", "admin")
    viewer, staff, admin = (UserView(i, r, r) for i, r in enumerate(ROLES, 1))
    assert [has_role(u, "staff") for u in (viewer, staff, admin)] == [False, True, True]
    assert [has_role(u, "admin") for u in (viewer, staff, admin)] == [False, False, True]
    assert all(has_role(u, "viewer") for u in (viewer, staff, admin))
    assert not has_role(None, "viewer")
    assert not has_role(UserView(9, "x", "root"), "viewer")
    with pytest.raises(ValueError, match="unknown role"):
        require_role("owner")


@pytest.mark.parametrize(
    ("name", "ok"),
    [("anna", True), ("Åsa.Öberg", True), ("a" * 100, True), ("", False), ("a" * 101, False),
     ("anna svensson", False), ("anna\t", False), ("anna\x00", False)],
)  # fmt: skip
def test_user_names_are_printable_without_spaces(name: str, ok: bool):
    assert valid_user_name(name) is ok

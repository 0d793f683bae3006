"""What every web worker must agree on about logins: revoked sessions and failed attempts.

Several ``kkik serve`` processes (``--workers N``, or one per host behind a proxy) serve one
dashboard, so nothing about a login may live in one process's memory: a session logged out
through one worker must be refused by all, and a name locked by guesses through one must be
locked on all. Both live here, in the database, and every change is one statement that is atomic
on SQLite and PostgreSQL alike, with no read-modify-write a second worker could interleave with:

* revoking a session is ``INSERT … ON CONFLICT (sid) DO NOTHING`` (two tabs logging out the same
  session at once store it once, and neither fails);
* a failed login is one inserted row, so concurrent failures are all counted (a counter updated
  from a value read first would lose some); counting them is a read over an index.

Rows clean themselves up: a revocation is deleted once its session would have expired anyway,
a failure once it has left the limiter's window, each time a new one is written.

The limiter's keys are stored as SHA-256 hashes: the name typed at a failed login is sometimes
the user's password.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from harness.store.models import LoginFailure, RevokedSession

__all__ = [
    "clear_failures",
    "failure_wait",
    "is_revoked",
    "key_hash",
    "record_failure",
    "revoke_session",
]


def key_hash(key: str) -> str:
    """How a limiter key (``name:…``, ``addr:…``) is stored."""
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


# --- revoked sessions --------------------------------------------------------------------------


def revoke_session(engine: Engine, sid: str, until: datetime, now: datetime) -> None:
    """Refuse session ``sid`` from now on, on every worker, until ``until`` (its expiry).

    Revocations whose sessions have expired by ``now`` are deleted in the same transaction.
    """
    upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(RevokedSession)
        .values(sid=sid, expires_at=until)
        .on_conflict_do_nothing(index_elements=["sid"])
    )
    with Session(engine) as session:
        # The delete first: on SQLite a transaction that starts by writing takes the write lock
        # at once (waiting for it under the busy timeout) instead of failing to upgrade a read.
        session.execute(delete(RevokedSession).where(col(RevokedSession.expires_at) <= now))
        session.execute(statement)
        session.commit()


def is_revoked(session: Session, sid: str) -> bool:
    """Whether ``sid`` was logged out (read inside the caller's session, beside the user)."""
    found = session.execute(
        select(col(RevokedSession.sid)).where(col(RevokedSession.sid) == sid)
    ).first()
    return found is not None


# --- failed logins -----------------------------------------------------------------------------


def record_failure(engine: Engine, key: str, now: datetime, window: timedelta) -> None:
    """Count one failed login against ``key`` at ``now``; forget every failure older than
    ``window`` (whatever its key: every limiter of the dashboard uses the one window,
    :data:`harness.web.auth.LIMIT_WINDOW`)."""
    with Session(engine) as session:
        session.execute(delete(LoginFailure).where(col(LoginFailure.failed_at) <= now - window))
        session.execute(insert(LoginFailure).values(key_hash=key_hash(key), failed_at=now))
        session.commit()


def failure_wait(
    engine: Engine, key: str, now: datetime, *, max_failures: int, window: timedelta
) -> timedelta | None:
    """None when ``key`` may try now; else how long until the oldest of its last
    ``max_failures`` failures within ``window`` leaves the window (a sliding window)."""
    with Session(engine) as session:
        recent: list[datetime] = list(
            session.execute(
                select(col(LoginFailure.failed_at))
                .where(
                    col(LoginFailure.key_hash) == key_hash(key),
                    col(LoginFailure.failed_at) > now - window,
                )
                .order_by(col(LoginFailure.failed_at).desc())
                .limit(max_failures)
            )
            .scalars()
            .all()
        )
    if len(recent) < max_failures:
        return None
    return recent[-1] + window - now


def clear_failures(engine: Engine, key: str) -> None:
    """Forget ``key``'s failures (its owner logged in)."""
    with Session(engine) as session:
        session.execute(delete(LoginFailure).where(col(LoginFailure.key_hash) == key_hash(key)))
        session.commit()

"""Page times of the dashboard, before and after, on the demo database and a national one.

The issue's target: every page under 200 ms at p95 on the demo database and under 500 ms on a
national one (290 municipalities × 36 probes), charts cached per data version.

* The **demo database** is made by the offline demo (``kkik demo``'s campaign, seed 2026:
  seven municipalities, 252 probes, every reply, callback and assessment through the real
  pipeline).
* The **national database** is seeded from it (:mod:`bench.dashboard_db`): running a national
  campaign takes 50 minutes, so each of the 290 municipalities gets a copy of one demo
  municipality's evidence, in the shape the pipeline writes it (10,440 probes, 7,258 messages,
  66,425 call events).
* **Before** is the code at ``--baseline`` (the commit this work started from), extracted with
  ``git archive`` into a temporary directory; **after** is this working tree. Each side serves
  each database with ``kkik serve`` in a process of its own whose PYTHONPATH holds only that
  side's tree (checked at start), in the same run, one after the other.

The client logs in (an administrator) and asks for every GET page of the dashboard over a
keep-alive HTTP connection, one request at a time. Per page: the first answer after the server
started (``first_ms``); then ``--changes`` times a change of the evidence (a late status
callback of another call, stored as the webhook stores one: the data version changes, no score
does) followed by the page: **cold**, what the first view after a change costs, p50/p95 over
those; on the overview also how long after the change its charts (drawn in the background) are
on the page. Then the page is asked for until it has ``--samples`` answers or ``--budget``
seconds have gone (at least 3): **warm**, p50/p95, what every further view costs until the
evidence changes. The target applies to both. The callbacks are removed after each server
stopped. Downloads (the report, the exports, the e-mail log as CSV) are made on request and
are not pages; they are timed for information, without a target.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.baseline import extract_baseline
from bench.dashboard_db import build_national
from harness.core.clock import SystemClock

ROOT = Path(__file__).resolve().parents[1]

BASELINE = "36d07740d2598db2d811d4117df9d9353f28ed46"
PACKAGES = ("harness", "probes", "results")
CLOCK = SystemClock()
SECRET = "a-session-secret-for-the-dashboard-benchmark-only"
USER, PASSWORD = "bench", "bench-losen-1234"
TARGETS_MS = {"demo": 200.0, "national": 500.0}
DEMO_ENV = {
    "KKIK_DEMO_IMAP_PASSWORD": "demo-brevlada",
    "KKIK_DEMO_TWILIO_TOKEN": "demo-twilio-token",
}
# Started by this file only: it asserts where harness comes from, then runs `kkik serve`.
SERVE = (
    "import sys, harness; from pathlib import Path; "
    "assert Path(harness.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), "
    "harness.__file__; from harness.cli import main; "
    "sys.argv = ['kkik', *sys.argv[2:]]; main()"
)


@dataclass(frozen=True)
class Database:
    name: str
    config: Path
    email_probe: int
    phone_probe: int


def pages(db: Database) -> list[str]:
    """Every GET page of the dashboard (the login page logged out; the rest as an admin)."""
    return [
        "/", "/email", "/email?kommun=Berg", "/email?within=no&sort=hours", "/review", "/calls",
        f"/calls/{db.phone_probe}", f"/calls/{db.phone_probe}/status.json",
        f"/probe/{db.email_probe}", f"/probe/{db.phone_probe}", "/report", "/settings",
        "/users", "/purge", "/no-such-page",
    ]  # fmt: skip


DOWNLOADS = ["/email.csv", "/report.html", "/export.csv", "/export.xlsx"]


class Client:
    """One logged-in browser: a keep-alive connection and the session cookie."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.origin = f"http://127.0.0.1:{port}"
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers |= {"Content-Type": "application/x-www-form-urlencoded",
                        "Origin": self.origin}  # fmt: skip
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("kkik_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def log_in(self) -> None:
        _, page = self.request("GET", "/login")
        found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert found is not None, page[:300]
        form = {"csrf_token": found.group(1).decode(), "name": USER, "password": PASSWORD,
                "next": "/"}  # fmt: skip
        status, _ = self.request("POST", "/login", urlencode(form))
        assert status == 303, status

    def timed(
        self,
        path: str,
        samples: int,
        budget: float,
        changes: int = 0,
        change: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """The page's first answer after the server started; then ``changes`` times: the
        evidence changed (``change()``), the page asked for (**cold**); then the warm answers.
        On the overview, how long after a change its charts are on the page too."""
        statuses: set[int] = set()

        def get() -> tuple[float, bytes]:
            start = CLOCK.monotonic()
            status, body = self.request("GET", path)
            statuses.add(status)
            return (CLOCK.monotonic() - start) * 1000, body

        def charts_shown(body: bytes, began: float) -> bytes:
            # Drawn in the background after a change: asked for again until they are shown.
            while path == "/" and CHART not in body and CLOCK.monotonic() - began < 120:
                threading.Event().wait(0.05)
                _, body = get()
            return body

        first, body = get()
        # The first view's charts too, before the first change: every cold answer is then
        # measured alike, after the charts of the version before it were drawn.
        body = charts_shown(body, CLOCK.monotonic())
        cold: list[float] = []
        charts: list[float] = []
        for _ in range(changes if change is not None else 0):
            assert change is not None
            change()
            began = CLOCK.monotonic()
            took, body = get()
            cold.append(took)
            if path == "/":
                body = charts_shown(body, began)
                charts.append((CLOCK.monotonic() - began) * 1000)
        times: list[float] = []
        began = CLOCK.monotonic()
        while len(times) < samples and (len(times) < 3 or CLOCK.monotonic() - began < budget):
            took, body = get()
            times.append(took)
        out = {"first_ms": round(first, 1)} | figures(times, cold)
        if charts:
            out["charts_shown_p95_ms"] = round(percentile95(charts), 1)
        return out | {"status": sorted(statuses), "bytes": len(body)}


CHART = b'<figure class="chart">'


def percentile95(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def figures(warm: list[float], cold: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "p50_ms": round(statistics.median(warm), 1),
        "p95_ms": round(percentile95(warm), 1),
        "max_ms": round(max(warm), 1),
        "samples": len(warm),
    }
    if cold:
        out |= {
            "cold_p50_ms": round(statistics.median(cold), 1),
            "cold_p95_ms": round(percentile95(cold), 1),
            "cold_max_ms": round(max(cold), 1),
            "cold_samples": len(cold),
        }
    return out


@contextlib.contextmanager
def serving(code: Path, config: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **DEMO_ENV, "PYTHONPATH": str(code), "KKIK_SESSION_SECRET": SECRET}
    command = [sys.executable, "-c", SERVE, str(code), "--config", str(config), "serve",
               "--port", str(port)]  # fmt: skip
    # Run from the tree itself: `python -c` puts the working directory first on sys.path.
    server = subprocess.Popen(
        command, env=env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline().decode()
        if "127.0.0.1" not in line:
            raise RuntimeError(f"the server did not start: {line}{server.stdout.read(2000)!r}")
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def measure(code: Path, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    from harness.sandbox.ports import free_port

    port = free_port()
    out: dict[str, Any] = {"pages": {}, "downloads": {}}
    with Changes(db) as changes, serving(code, db.config, port):
        visitor = Client(port)
        out["pages"]["/login"] = visitor.timed("/login", args.samples, args.budget)
        client = Client(port)
        client.log_in()
        for path in pages(db):
            if args.pages and path not in args.pages.split(","):
                continue
            out["pages"][path] = client.timed(
                path, args.samples, args.budget, args.changes, changes.callback
            )
            print(f"  {db.name} {path}: {out['pages'][path]}", file=sys.stderr, flush=True)
        if args.downloads:
            for path in DOWNLOADS:
                out["downloads"][path] = client.timed(path, 3, 0.0)
    return out


class Changes:
    """Changes of the evidence as a live campaign makes them: each a late status callback of
    another call (a municipality's in turn), stored as the webhook stores one. It changes the
    data version, so every derived page is made afresh, and the scores not at all (a call's
    first final status stands). The rows are removed after the server stopped, so the
    databases stay as they were made."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.count = 0

    def __enter__(self) -> Changes:
        from sqlalchemy import select
        from sqlmodel import col

        from harness.core.config import load_config
        from harness.store.db import make_engine
        from harness.store.models import Channel, Probe

        self.engine = make_engine(load_config(self.db.config).database.url)
        with self.engine.connect() as connection:
            calls = connection.execute(
                select(
                    col(Probe.target_id), col(Probe.id), col(Probe.call_sid), col(Probe.claimed_at)
                )
                .where(col(Probe.channel) == Channel.PHONE, col(Probe.outcome) == "person")
                .order_by(col(Probe.target_id), col(Probe.id))
            ).all()
        # One call of each municipality in turn, so successive changes touch different ones.
        rank: dict[int, int] = {}
        ranked = []
        for target_id, probe_id, sid, claimed in calls:
            rank[target_id] = rank.get(target_id, -1) + 1
            ranked.append((rank[target_id], target_id, probe_id, sid, claimed))
        self.calls = [(p, sid, claimed) for _, _, p, sid, claimed in sorted(ranked)]
        return self

    def callback(self) -> None:
        from datetime import timedelta

        from sqlalchemy import insert

        from harness.store.models import CallEvent

        probe_id, sid, claimed = self.calls[self.count % len(self.calls)]
        self.count += 1
        assert claimed is not None  # a placed call
        at = claimed + timedelta(hours=1)
        seq = str(1000 + self.count)
        with self.engine.begin() as connection:
            connection.execute(insert(CallEvent).values(
                probe_id=probe_id, call_sid=sid, source="twilio", event="status",
                status="completed", sequence_number=int(seq), occurred_at=at, received_at=at,
                dedupe_key=f"{CHANGE}{sid}:{seq}",
                payload={"CallSid": sid, "CallStatus": "completed", "SequenceNumber": seq},
            ))  # fmt: skip

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import delete
        from sqlmodel import col

        from harness.store.models import CallEvent

        with self.engine.begin() as connection:
            connection.execute(
                delete(CallEvent).where(col(CallEvent.dedupe_key).startswith(CHANGE))
            )
        self.engine.dispose()


CHANGE = "bench-change:"


# --- the databases and the two trees ----------------------------------------------------------


def make_databases(folder: Path, municipalities: int) -> list[Database]:
    """The demo database and the national one seeded from it, in ``folder`` (made once: a
    folder that has them already is used as it is)."""
    from harness.demo.run import Demo

    if (folder / "national.toml").exists():
        return [_database("demo", folder / "demo" / "config.toml"),
                _database("national", folder / "national.toml")]  # fmt: skip
    began = CLOCK.monotonic()
    demo = Demo(folder / "demo", seed=2026)
    asyncio.run(demo.run())
    print(f"demo database in {CLOCK.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    demo_config = folder / "demo" / "config.toml"
    national_db = folder / "national.db"
    counts = build_national(folder / "demo" / "kkik.db", national_db, municipalities)
    national_config = folder / "national.toml"
    national_config.write_text(
        demo_config.read_text(encoding="utf-8").replace(
            str(folder / "demo" / "kkik.db"), str(national_db)
        ),
        encoding="utf-8",
    )
    print(f"national database: {counts}", file=sys.stderr, flush=True)
    return [_database("demo", demo_config), _database("national", national_config)]


def _database(name: str, config: Path) -> Database:
    from sqlmodel import Session, select

    from harness.core.accounts import hash_password
    from harness.core.config import load_config
    from harness.store.db import make_engine
    from harness.store.models import Channel, Probe, User

    engine = make_engine(load_config(config).database.url)
    with Session(engine) as session:
        if session.exec(select(User).where(User.name == USER)).first() is None:
            session.add(User(name=USER, role="admin", password_hash=hash_password(PASSWORD),
                             created_at=CLOCK.now()))  # fmt: skip
            session.commit()
        email = session.exec(
            select(Probe.id).where(Probe.channel == Channel.EMAIL, Probe.outcome == "answered")
        ).first()
        phone = session.exec(
            select(Probe.id).where(Probe.channel == Channel.PHONE, Probe.outcome == "person")
        ).first()
    engine.dispose()
    assert email is not None
    assert phone is not None
    return Database(name, config, email, phone)


def extract(revision: str, into: Path) -> str:
    """The baseline's packages in ``into`` (bench/baseline.py); its full commit."""
    commit, why = extract_baseline(revision, into, PACKAGES)
    if commit is None:
        raise RuntimeError(why)
    return commit


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """Per database: the slowest warm p95 and cold p95 (first view after a change) of the
    pages, and whether both are under the target."""
    out: dict[str, Any] = {}
    for name, target in TARGETS_MS.items():
        got = results.get(name)
        if got is None:
            continue
        pages = got["pages"]
        worst = max(pages.items(), key=lambda kv: kv[1]["p95_ms"])
        coldest = max(pages.items(), key=lambda kv: kv[1].get("cold_p95_ms", 0.0))
        out[name] = {
            "target_p95_ms": target,
            "worst_p95": {"page": worst[0], "ms": worst[1]["p95_ms"]},
            "worst_cold_p95": {"page": coldest[0], "ms": coldest[1].get("cold_p95_ms")},
            "met_warm": all(f["p95_ms"] < target for f in pages.values()),
            "met_cold": all(f.get("cold_p95_ms", 0.0) < target for f in pages.values()),
        }
        out[name]["met"] = out[name]["met_warm"] and out[name]["met_cold"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    parser.add_argument("--no-before", action="store_true", help="measure this tree only")
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--samples", type=int, default=20, help="answers per page at most")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page at most")
    parser.add_argument(
        "--changes",
        type=int,
        default=6,
        help="cold answers per page: each after a change of the evidence",
    )
    parser.add_argument(
        "--pages", help="only these pages (comma-separated paths), e.g. '/,/email,/calls'"
    )
    parser.add_argument("--downloads", action="store_true", help="also time the downloads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 municipalities")
    parser.add_argument("--keep", type=Path, help="make (or reuse) the databases in this folder")
    args = parser.parse_args()
    if args.quick:
        args.municipalities, args.samples, args.budget, args.changes = 20, 6, 5.0, 3
    output: dict[str, Any] = {"benchmark": "dashboard_pages", "targets_p95_ms": TARGETS_MS,
                              "municipalities": args.municipalities}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kkik-dashboard-bench-") as tmp:
        folder = Path(tmp)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
        databases = make_databases(args.keep or folder, args.municipalities)
        sides = {"after": ROOT}
        if not args.no_before:
            output["baseline_commit"] = extract(args.baseline, folder / "before")
            sides = {"before": folder / "before", "after": ROOT}
        for side, code in sides.items():
            output[side] = {}
            for db in databases:
                print(f"{side}: {db.name}", file=sys.stderr, flush=True)
                output[side][db.name] = measure(code, db, args)
        output["verdict"] = verdict(output["after"])
    output["met"] = all(v["met"] for v in output["verdict"].values())
    print(json.dumps(output))
    if not output["met"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

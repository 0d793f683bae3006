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
keep-alive HTTP connection, one request at a time: a page is asked for until it has
``--samples`` answers or ``--budget`` seconds have gone (at least 3). The first answer of each
page after the server started is reported apart as **cold** (what the first view after a change
of the evidence costs: the data version changed, so the derived data is made again); p50 and p95
are over the answers after it (**warm**, what every further view costs until the evidence
changes). Downloads (the report, the exports, the e-mail log as CSV) are made on request and
are not pages; they are timed the same way for information, without a target.
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
from collections.abc import Iterator
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

    def timed(self, path: str, samples: int, budget: float) -> dict[str, Any]:
        times: list[float] = []
        statuses: set[int] = set()
        size = 0
        began = CLOCK.monotonic()
        while len(times) < samples and (len(times) < 3 or CLOCK.monotonic() - began < budget):
            start = CLOCK.monotonic()
            status, body = self.request("GET", path)
            times.append((CLOCK.monotonic() - start) * 1000)
            statuses.add(status)
            size = len(body)
        return figures(times) | {"status": sorted(statuses), "bytes": size}


def figures(times: list[float]) -> dict[str, Any]:
    warm = times[1:]
    q = statistics.quantiles(warm, n=20, method="inclusive") if len(warm) > 1 else warm * 19
    return {
        "cold_ms": round(times[0], 1),
        "p50_ms": round(statistics.median(warm), 1),
        "p95_ms": round(q[18], 1),
        "max_ms": round(max(warm), 1),
        "samples": len(times),
    }


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
    with serving(code, db.config, port):
        visitor = Client(port)
        out["pages"]["/login"] = visitor.timed("/login", args.samples, args.budget)
        client = Client(port)
        client.log_in()
        for path in pages(db):
            out["pages"][path] = client.timed(path, args.samples, args.budget)
            print(f"  {db.name} {path}: {out['pages'][path]}", file=sys.stderr, flush=True)
        if args.downloads:
            for path in DOWNLOADS:
                out["downloads"][path] = client.timed(path, 3, 0.0)
    return out


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
    """Per database: the slowest warm p95 and cold time of the pages, and the target met."""
    out: dict[str, Any] = {}
    for name, target in TARGETS_MS.items():
        got = results.get(name)
        if got is None:
            continue
        worst = max(got["pages"].items(), key=lambda kv: kv[1]["p95_ms"])
        coldest = max(got["pages"].items(), key=lambda kv: kv[1]["cold_ms"])
        out[name] = {
            "target_p95_ms": target,
            "worst_p95": {"page": worst[0], "ms": worst[1]["p95_ms"]},
            "worst_cold": {"page": coldest[0], "ms": coldest[1]["cold_ms"]},
            "met": all(f["p95_ms"] < target for f in got["pages"].values()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    parser.add_argument("--no-before", action="store_true", help="measure this tree only")
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--samples", type=int, default=20, help="answers per page at most")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page at most")
    parser.add_argument("--downloads", action="store_true", help="also time the downloads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 municipalities")
    parser.add_argument("--keep", type=Path, help="make (or reuse) the databases in this folder")
    args = parser.parse_args()
    if args.quick:
        args.municipalities, args.samples, args.budget = 20, 6, 5.0
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

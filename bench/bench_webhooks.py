"""Signed Twilio status callbacks ingested per second, and their latency, over loopback.

The web app runs here under uvicorn (the real app, real signature checks, SQLite in WAL mode as
configured by default); a second process sends signed callbacks to it with aiohttp, like
Twilio would, and times each request from send to response. Two phases:

* ``paced``: an open-loop load of ``--rate`` callbacks per second (default 300, the target),
  whose p50/p99 latency is the figure to watch (target: p99 under 100 ms);
* ``flat_out``: ``--concurrency`` senders as fast as the app answers, for the ceiling.

A share of the callbacks is sent twice (Twilio retries); afterwards the database must hold
every distinct callback exactly once: ``lost`` and ``doubled`` must be 0. Prints one JSON object.

    python bench/bench_webhooks.py [--count 3000] [--rate 300] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from harness.assembly import Assembly
from harness.core.clock import SystemClock
from harness.core.config import Settings
from harness.sandbox.ports import free_port
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import CallEvent, Campaign, Channel, Probe, ProbeState, Target
from harness.web.app import WebServer

ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-token"
CLOCK = SystemClock()
ROOT = str(Path(__file__).resolve().parents[1])


def _callbacks(public: str, probes: list[tuple[int, str]], count: int, seed: int) -> list[Any]:
    """(url, params) pairs: each call's status sequence, with ~5% sent twice."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, str]]] = []
    statuses = ["initiated", "ringing", "in-progress", "completed"]
    k = 0
    while len(out) < count:
        probe_id, sid = probes[k % len(probes)]
        seq = k // len(probes)
        url = f"{public}/twilio/status?" + urlencode({"probe": probe_id, "leg": "municipal"})
        stamp = datetime(2026, 10, 5, 8, 0, tzinfo=UTC) + timedelta(seconds=seq)
        params = {
            "AccountSid": ACCOUNT,
            "CallSid": sid,
            "CallStatus": statuses[min(seq, 3)],
            "SequenceNumber": str(seq),
            "Timestamp": format_datetime(stamp, usegmt=True),
            "CallbackSource": "call-progress-events",
        }
        out.append((url, params))
        if rng.random() < 0.05 and len(out) < count:
            out.append((url, dict(params)))
        k += 1
    return out


async def _send(
    base: str, public: str, items: list[Any], rate: float | None, concurrency: int
) -> dict[str, Any]:
    validator = RequestValidator(TOKEN)
    signed = [
        (url.replace(public, base, 1), params, validator.compute_signature(url, params))
        for url, params in items
    ]
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[tuple[str, dict[str, str], str, float]] = asyncio.Queue()
    start = CLOCK.monotonic()

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while True:
            url, params, signature, due = await queue.get()
            if rate is not None:
                await CLOCK.sleep(max(0.0, due - (CLOCK.monotonic() - start)))
            sent = CLOCK.monotonic()
            async with http.post(url, data=params, headers={"X-Twilio-Signature": signature}) as r:
                await r.read()
                if r.status >= 300:
                    failures += 1
            latencies.append(CLOCK.monotonic() - sent)
            queue.task_done()

    for k, (url, params, signature) in enumerate(signed):
        queue.put_nowait((url, params, signature, k / rate if rate else 0.0))
    workers = concurrency if rate is None else max(concurrency, 64)
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [asyncio.create_task(worker(http)) for _ in range(workers)]
        await queue.join()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = CLOCK.monotonic() - start
    ordered = sorted(latencies)
    return {
        "sent": len(signed),
        "failed": failures,
        "seconds": round(elapsed, 3),
        "per_second": round(len(signed) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def sender_main() -> None:
    """The second process: read the job from stdin, send, print the timing as JSON."""
    job = json.loads(sys.stdin.read())
    result = asyncio.run(
        _send(job["base"], job["public"], job["items"], job["rate"], job["concurrency"])
    )
    print(json.dumps(result))


def _seed(engine: Any, calls: int) -> list[tuple[int, str]]:
    with Session(engine) as session:
        campaign = Campaign(
            name="bench",
            year=2026,
            period_start=date(2026, 10, 5),
            period_end=date(2026, 11, 13),
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        session.add(campaign)
        session.flush()
        target = Target(campaign_id=campaign.id or 0, kommunkod="2380", name="Östersund",
                        switchboard_number="+4663143000")  # fmt: skip
        session.add(target)
        session.flush()
        probes = []
        for k in range(calls):
            sid = f"CA{k:032x}"
            probe = Probe(campaign_id=campaign.id or 0, target_id=target.id or 0,
                          channel=Channel.PHONE, mode="automated", state=ProbeState.SENT,
                          planned_at=datetime(2026, 10, 5, 8, tzinfo=UTC),
                          call_sid=sid)  # fmt: skip
            session.add(probe)
            session.flush()
            probes.append((probe.id or 0, sid))
        session.commit()
    return probes


async def _phase(
    name: str, base: str, public: str, items: list[Any], rate: float | None, concurrency: int
) -> dict[str, Any]:
    job = json.dumps(
        {"base": base, "public": public, "items": items, "rate": rate, "concurrency": concurrency}
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--sender",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    out, _ = await process.communicate(job.encode())
    if process.returncode != 0:
        raise SystemExit(f"{name}: the sender process failed")
    result: dict[str, Any] = json.loads(out)
    return result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kkik-bench-hooks-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kkik.db'}")
        migrate.upgrade(engine)
        probes = _seed(engine, 200)
        port = free_port()
        public = "https://kkik.example.se"  # what Twilio signs: the configured public URL
        settings = Settings.model_validate(
            {
                "phone": {
                    "mode": "automated",
                    "account_sid": ACCOUNT,
                    "auth_token_env": "UNUSED",
                    "from_number": "+46812345678",
                },
                "web": {"public_url": public},
            }
        )
        app = Assembly(settings, engine, CLOCK).web_app(auth_token=TOKEN)
        base = f"http://127.0.0.1:{port}"
        phases: dict[str, Any] = {}
        async with WebServer(app, port=port):
            paced = _callbacks(public, probes, args.count, seed=1)
            phases["paced"] = await _phase("paced", base, public, paced, args.rate, 64)
            # Fresh sequence numbers for the second phase (other calls' callbacks).
            flat = [
                (url, params | {"SequenceNumber": str(int(params["SequenceNumber"]) + 10_000)})
                for url, params in _callbacks(public, probes, args.count, seed=2)
            ]
            phases["flat_out"] = await _phase(
                "flat_out", base, public, flat, None, args.concurrency
            )
        distinct = {(p["CallSid"], p["SequenceNumber"]) for _, p in paced + flat}
        with Session(engine) as session:
            stored = session.exec(select(func.count()).select_from(CallEvent)).one()
            keys = session.exec(select(func.count(func.distinct(CallEvent.dedupe_key)))).one()
        engine.dispose()
    return {
        "benchmark": "webhooks",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": "sqlite (WAL)",
        "target": {"per_second": args.rate, "p99_ms": 100},
        **phases,
        "distinct_callbacks": len(distinct),
        "stored": stored,
        "lost": len(distinct) - keys,
        "doubled": stored - keys,
        "meets_target": phases["paced"]["per_second"] >= args.rate * 0.97
        and phases["paced"]["p99_ms"] < 100
        and stored == len(distinct),
    }


if __name__ == "__main__":
    if "--sender" in sys.argv:
        sender_main()
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=16)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))

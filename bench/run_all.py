"""Run every benchmark in its own process, collect their JSON, describe the machine, summarise.

    make bench              # the full suite (several minutes; the 100,000-message mailbox)
    make bench QUICK=1      # a smoke run of every benchmark in seconds, small sizes
    python bench/run_all.py --only national,demo --out bench/results.json

Writes ``bench/results.json`` (not committed: the figures worth keeping are in
docs/performance.md) with the machine description and each benchmark's JSON, and prints a table
of target, measured and whether it was met. Each benchmark runs in a fresh interpreter so one's
memory and event loop cannot colour the next.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.clock import SystemClock

ROOT = Path(__file__).resolve().parents[1]
CLOCK = SystemClock()
Row = tuple[str, str, str, str]  # what, target, measured, met


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    full: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    timeout: float = 1800.0


BENCHES = [
    Bench("calendar", "bench_calendar.py"),
    Bench("mail_analysis", "bench_mail_analysis.py", [], ["--messages", "150", "--rounds", "2"]),
    Bench("mail_latency", "bench_mail_latency.py", [], ["--n", "20"]),
    Bench(
        "mailbox_sync",
        "bench_mailbox_sync.py",
        [],
        ["--messages", "2000", "--new", "200", "--restart-new", "20", "--scaled-from", "100000"],
    ),
    Bench("plan_and_tick", "bench_plan_and_tick.py"),
    Bench("scoring", "bench_scoring.py"),
    Bench("report", "bench_report.py"),
    Bench("webhooks", "bench_webhooks.py", [], ["--count", "300"]),
    Bench("demo", "bench_demo.py", [], ["--quick", "--no-naive"]),
    Bench("national", "bench_national.py", [], ["--quick"], timeout=3600.0),
    Bench("cli_start", "bench_cli_start.py", [], ["--quick"]),
    Bench("dashboard", "bench_dashboard.py", ["--downloads"], ["--quick", "--no-before"]),
]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8")
        for line in release.splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "ram_gib": ram_gib,
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": list(os.getloadavg()),
    }


def parse_json(stdout: str) -> dict[str, Any]:
    """The benchmark's JSON object: the whole output, or its last line that parses."""
    text = stdout.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
        for line in reversed(text.splitlines()):
            try:
                value = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    if not isinstance(value, dict):
        raise ValueError("no JSON object in the output")
    return value


def run(bench: Bench, quick: bool) -> dict[str, Any]:
    args = bench.quick if quick else bench.full
    command = [sys.executable, str(ROOT / "bench" / bench.script), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = CLOCK.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=bench.timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {bench.timeout:.0f} s"}
    seconds = round(CLOCK.monotonic() - began, 1)
    try:
        output = parse_json(done.stdout)
    except ValueError:
        return {"error": f"exit {done.returncode}", "stderr": done.stderr[-2000:], "wall": seconds}
    output["_wall_seconds"] = seconds
    output["_exit"] = done.returncode
    return output


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _met(ok: bool | None) -> str:
    return "?" if ok is None else ("yes" if ok else "NO")


def _lt(value: Any, limit: float) -> bool | None:
    return None if not isinstance(value, int | float) else value < limit


def summarise(name: str, out: dict[str, Any]) -> list[Row]:
    """The rows of the summary table for one benchmark's output (best effort: '?' if unknown)."""
    if "error" in out:
        return [(name, "-", out["error"], "NO")]
    rows: list[Row] = []
    summariser = SUMMARIES.get(name)
    if summariser is not None:
        rows = summariser(out)
    return rows or [(name, "-", json.dumps(out)[:60], "?")]


def _latency(out: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for server in ("pymap", "dovecot"):
        p95 = _get(out, server, "detect_latency", "p95_ms")
        push = _get(out, server, "server_push", "p95_ms")
        if isinstance(p95, int | float) and isinstance(push, int | float):
            over = p95 - push
            rows.append((f"reply latency p95 ({server})", "push p95 + 100 ms",
                         f"{p95:.1f} ms (push {push:.1f})", _met(over <= 100)))  # fmt: skip
    return rows


def _sync(out: dict[str, Any]) -> list[Row]:
    seconds = _get(out, "results", "restart_sync", "seconds")
    rss = _get(out, "peak_rss_mb")
    size = _get(out, "mailbox_messages")
    ok = None if seconds is None or rss is None else seconds < 60 and rss < 300
    what = f"restart sync, {size} mailbox"
    return [(what, "< 60 s, < 300 MB", f"{seconds} s, {rss} MB", _met(ok))]


def _plan(out: dict[str, Any]) -> list[Row]:
    save = _get(out, "national_plan", "plan_and_save_seconds")
    tick = _get(out, "tick_10000_planned_none_due", "median_ms")
    return [
        ("national plan saved", "< 5 s", f"{save} s", _met(_lt(save, 5))),
        ("tick, 10,000 planned", "< 50 ms", f"{tick} ms", _met(_lt(tick, 50))),
    ]


def _scoring(out: dict[str, Any]) -> list[Row]:
    rows = []
    for rule, figures in (_get(out, "results") or {}).items():
        seconds = _get(figures, "seconds")
        rows.append((f"scoring 1M rows ({rule})", "< 3 s", f"{seconds} s", _met(_lt(seconds, 3))))
    return rows


def _report(out: dict[str, Any]) -> list[Row]:
    seconds = _get(out, "total_s")
    return [("report, 290 targets", "< 10 s", f"{seconds} s", _met(_lt(seconds, 10)))]


def _webhooks(out: dict[str, Any]) -> list[Row]:
    p99 = _get(out, "paced", "p99_ms")
    rate = _get(out, "flat_out", "per_second")
    rows = [("webhooks p99 at 300/s", "< 100 ms", f"{p99} ms", _met(_lt(p99, 100)))]
    ok = None if not isinstance(rate, int | float) else rate >= 300
    rows.append(("webhooks flat out", ">= 300/s", f"{rate}/s", _met(ok)))
    lost, doubled = out.get("lost"), out.get("doubled")
    rows.append(("webhooks lost / doubled", "0 / 0", f"{lost} / {doubled}",
                 _met(None if lost is None else lost == 0 and doubled == 0)))  # fmt: skip
    return rows


def _demo(out: dict[str, Any]) -> list[Row]:
    seconds = _get(out, "batched", "seconds")
    return [("demo wall time", "< 60 s", f"{seconds} s", _met(_get(out, "met")))]


def _national(out: dict[str, Any]) -> list[Row]:
    return [
        (
            "national run",
            "all accounted, = truth",
            f"{out.get('probes_accounted')} probes, {out.get('mismatches')} mismatches, "
            f"{out.get('seconds')} s, {out.get('peak_rss_mb')} MB",
            _met(out.get("ok")),
        )
    ]


def _dashboard(out: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, verdict in (_get(out, "verdict") or {}).items():
        worst, cold = verdict["worst_p95"], verdict["worst_cold"]
        measured = (f"worst p95 {worst['ms']} ms ({worst['page']}); "
                    f"first view after a change {cold['ms']} ms ({cold['page']})")  # fmt: skip
        rows.append((f"dashboard pages, {name}", f"p95 < {verdict['target_p95_ms']:.0f} ms",
                     measured, _met(verdict["met"])))  # fmt: skip
    return rows


def _calendar(out: dict[str, Any]) -> list[Row]:
    rows = []
    for rule, figures in (_get(out, "results") or {}).items():
        rows.append((f"calendar ({rule})", "-", f"{_get(figures, 'checks_per_second')}/s", "-"))
    return rows


def _mail_analysis(out: dict[str, Any]) -> list[Row]:
    before, after = out.get("before_msgs_per_s"), out.get("after_msgs_per_s")
    what = f"mail analysis, {out.get('messages')} msgs, {out.get('probe_refs')} probes"
    if before is None:
        return [(what, ">= 0.95 x before", f"{after}/s (before skipped)", "?")]
    measured = f"{after}/s, before {before}/s (x{out.get('ratio')}; CPU x{out.get('cpu_ratio')})"
    return [(what, ">= 0.95 x before", measured, _met(out.get("met")))]


def _cli_start(out: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, figures in (_get(out, "commands") or {}).items():
        after = _get(figures, "after", "median_s")
        before = _get(figures, "before", "median_s")
        measured = f"{after} s" + (f" (before {before} s)" if before is not None else "")
        target = f"< {_get(figures, 'target_s')} s"
        rows.append((f"cold kkik {name.replace('_', ' ')}", target, measured,
                     _met(_get(figures, "met"))))  # fmt: skip
    return rows


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "calendar": _calendar,
    "mail_analysis": _mail_analysis,
    "mail_latency": _latency,
    "mailbox_sync": _sync,
    "plan_and_tick": _plan,
    "scoring": _scoring,
    "report": _report,
    "webhooks": _webhooks,
    "demo": _demo,
    "national": _national,
    "cli_start": _cli_start,
    "dashboard": _dashboard,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--merge", action="store_true", help="keep other results in --out")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    chosen = [b for b in BENCHES if not names or b.name in names]
    path = Path(args.out)
    results: dict[str, Any] = {}
    if args.merge and path.exists():
        results = json.loads(path.read_text(encoding="utf-8")).get("benchmarks", {})
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick, "benchmarks": results}
    for bench in chosen:
        print(f"running {bench.name} ...", file=sys.stderr, flush=True)
        results[bench.name] = run(bench, args.quick)
        path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    rows = [row for name, out in results.items() for row in summarise(name, out)]
    widths = [max(len(r[i]) for r in [("what", "target", "measured", "met"), *rows])
              for i in range(4)]  # fmt: skip
    for row in [("what", "target", "measured", "met"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    failed = [n for n, out in results.items() if "error" in out or out.get("_exit", 0) != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

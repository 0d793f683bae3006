"""The benchmark suite stays runnable: every module imports, the runner parses and summarises."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench import run_all

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("module", sorted(p.stem for p in BENCH.glob("bench_*.py")))
def test_every_benchmark_module_imports(module: str):
    assert callable(importlib.import_module(f"bench.{module}").main)


def test_the_suite_lists_every_benchmark():
    scripts = {b.script for b in run_all.BENCHES}
    assert scripts == {p.name for p in BENCH.glob("bench_*.py")}
    assert set(run_all.SUMMARIES) == {b.name for b in run_all.BENCHES}


def test_output_is_parsed_whole_or_from_its_last_json_line():
    assert run_all.parse_json('{\n  "a": 1\n}\n') == {"a": 1}
    assert run_all.parse_json('progress\n{"b": 2}\n') == {"b": 2}
    with pytest.raises(ValueError, match="no JSON"):
        run_all.parse_json("nothing")


def test_summary_rows_say_whether_the_target_was_met():
    national = {"probes_accounted": 10440, "mismatches": 0, "seconds": 1.0, "peak_rss_mb": 1,
                "ok": True}  # fmt: skip
    assert run_all.summarise("national", national)[0][3] == "yes"
    assert run_all.summarise("report", {"total_s": 12.0})[0][3] == "NO"
    assert run_all.summarise("demo", {"error": "timed out"})[0][3] == "NO"
    mail = {"before_msgs_per_s": 100.0, "after_msgs_per_s": 90.0, "ratio": 0.9, "met": False}
    assert run_all.summarise("mail_analysis", mail)[0][3] == "NO"
    skipped = {"before_msgs_per_s": None, "after_msgs_per_s": 90.0, "met": None}
    assert run_all.summarise("mail_analysis", skipped)[0][3] == "?"
    cli = {"commands": {"status": {"target_s": 0.5, "met": False, "after": {"median_s": 0.6},
                                   "before": {"median_s": 2.1}}}}  # fmt: skip
    assert run_all.summarise("cli_start", cli) == [
        ("cold kkik status", "< 0.5 s", "0.6 s (before 2.1 s)", "NO")
    ]
    assert "cpu" in run_all.machine()

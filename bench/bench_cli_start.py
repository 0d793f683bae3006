"""How long a cold ``kkik`` process takes, this tree beside the code before, in one run.

Issue 16, item 8: "`kkik --version` and `kkik calendar check` under 0.3 s; `kkik status` and
`kkik mail classify` under 0.5 s on the demo database", measured as the median of 10 cold
processes. Each command runs as a user runs it: a fresh interpreter starting the installed
``kkik`` script (or ``python -m harness`` without one), with the demo's configuration.

* **before** is the code at a git revision (``--baseline``, default the commit this work
  started from): its ``harness``, ``probes`` and ``results`` packages are extracted with ``git
  archive`` into a temporary directory;
* **after** is this working tree.

Each side runs with only its own tree on PYTHONPATH; that the packages came from that tree is
checked once per side before timing (the virtualenv's editable install would otherwise fill
gaps silently). The demo database is built once by this tree's ``kkik demo`` (``--demo DIR``
reuses one); both sides read the same files. Every command is run once per side untimed (byte
code written, as an installed kkik has it, even under ``PYTHONDONTWRITEBYTECODE``; disk cache),
then the sides alternate, the order swapped every round, so load on a shared machine hits both.
Wall time is what the targets are about; the child's CPU time (user + system) is reported
beside it because it moves less with other processes' load. Prints one JSON object; ``--quick``
uses three rounds and the two-municipality test world.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baseline import extract_baseline
from harness.core.clock import SystemClock

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "796ecb1b007318973d7ecd68c5dfd1a7c6628b17"  # main before issue 16's fast CLI
PACKAGES = ("harness", "probes", "results")
SMALL_WORLD = ROOT / "tests" / "data" / "demo" / "world-small.toml"
MAIL = ROOT / "tests" / "data" / "mail"
CLOCK = SystemClock()
CHILD_TIMEOUT = 120.0


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]
    target_s: float


def commands(config: Path) -> list[Command]:
    with_config = ("--config", str(config))
    check = ("calendar", "check", "--sent", "2026-04-02T15:00", "--answered", "2026-04-07T14:00")
    reply, probes = MAIL / "human_case_system_relay.eml", MAIL / "probes.json"
    classify = ("mail", "classify", str(reply), "--probes", str(probes))
    return [
        Command("version", ("--version",), 0.3),
        Command("calendar_check", (*with_config, *check), 0.3),
        Command("status", (*with_config, "status"), 0.5),
        Command("mail_classify", (*with_config, *classify), 0.5),
    ]


def _launcher() -> list[str]:
    """How a user starts kkik: the installed script beside this interpreter, if there is one."""
    script = Path(sys.executable).parent / "kkik"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "harness"]


def _env(code: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set in some shells and CI) would make every timed run compile
    # each module from source: an installed kkik has its byte code, so the untimed run writes it.
    dropped = ("KKIK_CONFIG", "KKIK_LANG", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "PYTHONPATH": str(code)}


def check_origin(code: Path, cwd: Path) -> str | None:
    """None if a child on ``code``'s PYTHONPATH imports every package from ``code``.

    Run from ``cwd`` (not this checkout): ``python -c`` puts its working folder first on the path.
    """
    probe = "import sys, " + ", ".join(PACKAGES) + "; print('\\n'.join(m.__file__ for m in ("
    probe += ", ".join(PACKAGES) + ")))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=_env(code),
        cwd=cwd,
        timeout=60,
    )
    files = done.stdout.split()
    wrong = [f for f in files if not Path(f).resolve().is_relative_to(code.resolve())]
    if done.returncode != 0 or len(files) != len(PACKAGES) or wrong:
        return f"packages not from {code}: {wrong or done.stderr[-500:]}"
    return None


def run_once(code: Path, command: Command, cwd: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, exit code, stdout) of one cold kkik process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = CLOCK.monotonic()
    done = subprocess.run(
        [*_launcher(), *command.args],
        capture_output=True,
        text=True,
        env=_env(code),
        cwd=cwd,
        timeout=CHILD_TIMEOUT,
    )
    wall = CLOCK.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode, done.stdout


def build_demo(into: Path, quick: bool) -> Path:
    """A demo campaign made by this tree's ``kkik demo``; returns its configuration file."""
    args = ["demo", "--out", str(into)]
    if quick:
        args += ["--world", str(SMALL_WORLD), "--weeks", "1"]
    done = subprocess.run(
        [*_launcher(), *args], capture_output=True, text=True, env=_env(ROOT), timeout=900
    )
    config = into / "config.toml"
    if not config.is_file():
        raise RuntimeError(f"kkik demo failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return config


def measure(
    sides: dict[str, Path], cmds: list[Command], rounds: int, cwd: Path
) -> dict[str, dict[str, Any]]:
    """Per command and side: every run's wall and CPU time, exit codes, and the output."""
    found: dict[str, dict[str, Any]] = {
        c.name: {s: {"wall": [], "cpu": [], "exits": set(), "out": ""} for s in sides} for c in cmds
    }
    for command in cmds:  # untimed: byte code written, files in the page cache
        for name, code in sides.items():
            found[command.name][name]["out"] = run_once(code, command, cwd)[3]
    for round_ in range(rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for command in cmds:
            for name in order:
                wall, cpu, exit_code, _ = run_once(sides[name], command, cwd)
                entry = found[command.name][name]
                entry["wall"].append(wall)
                entry["cpu"].append(cpu)
                entry["exits"].add(exit_code)
    return found


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(entry["wall"]), 3),
        "cpu_median_s": round(statistics.median(entry["cpu"]), 3),
        "runs_s": [round(w, 3) for w in entry["wall"]],
        "cpu_runs_s": [round(c, 3) for c in entry["cpu"]],
        "exit_codes": sorted(entry["exits"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="timed runs per side (median)")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    parser.add_argument("--demo", type=Path, help="an existing `kkik demo --out` folder")
    parser.add_argument("--quick", action="store_true", help="3 rounds, the small demo world")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    output: dict[str, Any] = {
        "benchmark": "cli_start",
        "python": platform.python_version(),
        "rounds": rounds,
        "launcher": " ".join(Path(part).name for part in _launcher()),
        "baseline": args.baseline,
        "load_average_at_start": list(os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="kkik-bench-cli-") as tmp:
        work = Path(tmp)
        config = (
            args.demo.resolve() / "config.toml"
            if args.demo
            else build_demo(work / "demo", args.quick)
        )
        output["demo"] = str(config.parent) if args.demo else "built by this run"
        sides = {"after": ROOT}
        extracted = work / "baseline"
        extracted.mkdir()
        commit, skipped = extract_baseline(args.baseline, extracted, PACKAGES)
        if commit is not None:
            sides["before"] = extracted
            output["baseline_commit"] = commit
        else:
            output["before_skipped"] = skipped
        for name, code in list(sides.items()):
            problem = check_origin(code, work)
            if problem is not None:
                print(json.dumps({**output, "error": f"{name}: {problem}"}))
                sys.exit(1)
        cmds = commands(config)
        found = measure(sides, cmds, rounds, work)
    results: dict[str, Any] = {}
    for command in cmds:
        after = _figures(found[command.name]["after"])
        row: dict[str, Any] = {"target_s": command.target_s, "after": after}
        row["met"] = after["median_s"] < command.target_s and after["exit_codes"] == [0]
        if "before" in sides:
            row["before"] = _figures(found[command.name]["before"])
            row["speedup"] = round(row["before"]["median_s"] / after["median_s"], 1)
            row["same_output"] = (
                found[command.name]["before"]["out"] == found[command.name]["after"]["out"]
            )
        results[command.name] = row
    output["commands"] = results
    output["load_average_at_end"] = list(os.getloadavg())
    output["met"] = all(row["met"] for row in results.values())
    print(json.dumps(output, indent=2))


if __name__ == "__main__":
    main()

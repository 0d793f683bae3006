"""Every CLI command's output, in Swedish, reads as words (issue 16: "Swedish through and
through"): no code a person could meet (a probe's state or outcome, a mail's kind or reason, a
match signal, a fault, a channel or mode) is printed as it is stored.

The list of codes is built from the enums and code tables themselves, so a new code that
reaches the output without a label fails here. Machine formats (--json, exports) keep their
codes and are not checked.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from harness.cli import run as run_cli
from harness.core.clock import FakeClock
from harness.core.config import load_config
from harness.core.labels import AREAS as AREA_TITLES
from harness.core.labels import FAULTS, PROBE_OUTCOMES, PROBE_STATES
from harness.core.mail_labels import CLASSIFICATION_REASONS, MATCH_METHODS
from harness.core.scenario import AREAS
from harness.demo.run import Demo
from harness.store.db import make_engine
from harness.store.models import Channel, Probe, ProbeState
from probes.email_classify import Kind

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"
MAIL = ROOT / "tests" / "data" / "mail" / "realworld"

# Codes that are also ordinary Swedish or English words are left out ("failed", "planned"...
# read as words in the English output only, and the Swedish output is checked).
CODES = sorted(
    {*PROBE_STATES, *PROBE_OUTCOMES, *(k.value for k in Kind), *CLASSIFICATION_REASONS,
     *MATCH_METHODS, *FAULTS, "email", "phone", "bridged", "automated", "human", "machine_start",
     # area slugs without å/ä/ö (a title is shown instead)
     *(area for area in AREAS if AREA_TITLES[area].sv.lower() != area)} - {"person"}
)  # fmt: skip
RAW = re.compile(r"(?<![\w./@-])(" + "|".join(map(re.escape, CODES)) + r")(?![\w.@-])")
# Any other snake_case word is a field name or code too (dial_at, call_sid...), unless it is a
# setting (phone.caller_number), part of a path, an address or a command in backticks.
SNAKE = re.compile(r"(?<![\w./@`-])[a-z]+_[a-z_]+(?![\w.@`/-])")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    made = Demo(tmp_path_factory.mktemp("swedish") / "demo", seed=11, world_path=SMALL)
    asyncio.run(made.run())
    return made


def _out(capsys: pytest.CaptureFixture[str], demo: Demo, *args: str) -> str:
    capsys.readouterr()
    code = run_cli(["--config", str(demo.config), *args], clock=FakeClock(demo.clock.now()))
    captured = capsys.readouterr()
    assert code == 0, (args, captured.err)
    return captured.out + captured.err


def _ids(demo: Demo) -> tuple[int, int]:
    engine = make_engine(load_config(demo.config).database.url)
    with Session(engine) as session:
        call = session.exec(
            select(Probe.id).where(Probe.channel == Channel.PHONE, Probe.state != "planned")
        ).first()
        mail = session.exec(
            select(Probe.id)
            .where(Probe.channel == Channel.EMAIL, Probe.state == ProbeState.COMPLETED)
            .order_by(col(Probe.id))
        ).first()
    engine.dispose()
    assert call is not None
    assert mail is not None
    return call, mail


def test_every_command_speaks_swedish_without_codes(demo: Demo, capsys: pytest.CaptureFixture[str]):
    call, _ = _ids(demo)
    commands = [
        ("status",),
        ("score",),
        ("mail", "log"),
        ("call", "list", "--all"),
        ("call", "show", str(call)),
        ("resolve",),
        ("measure", "list"),
        ("user", "list"),
        ("run", "--dry-run"),
        ("purge", "--dry-run"),
    ]
    commands += [("mail", "classify", str(path)) for path in sorted(MAIL.glob("*.eml"))[:25]]
    found = {}
    for args in commands:
        out = _out(capsys, demo, *args)
        raw = sorted(set(RAW.findall(out)) | set(SNAKE.findall(out)))
        if raw:
            found[" ".join(args)] = raw
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())

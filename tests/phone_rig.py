"""A whole phone measurement on loopback: simulator, web app, runner, CLI, on one fake clock.

The runner, the web app, the Twilio SDK and the CLI are the real ones; Twilio is the simulator
of :mod:`harness.sandbox.twilio_sim`. Time is a FakeClock shared by all: the driver jumps to
the next thing due (a runner slot or a simulated call event), so a campaign's calls take
milliseconds and every timestamp is exactly the simulator's script.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from harness.assembly import Assembly
from harness.campaign.planning import plan_scenario
from harness.campaign.runner import Runner
from harness.channels.phone.finisher import CallFinisher
from harness.cli import run as run_cli
from harness.core.clock import FakeClock
from harness.core.config import Settings, load_config
from harness.sandbox.ports import free_port
from harness.sandbox.twilio_calls import CallbackFaults, SwitchboardScript
from harness.sandbox.twilio_sim import TwilioSimulator
from harness.store import migrate
from harness.store.db import make_engine
from harness.store.models import Probe
from harness.store.planstore import save_plan
from harness.web.app import WebServer

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "AC" + "5" * 32
TOKEN = "simulerad-auth-token-123"
TOKEN_ENV = "KKIK_TEST_TWILIO_TOKEN"
CALLER = "+46701234567"
START = datetime(2026, 10, 5, 5, 0, tzinfo=UTC)  # Monday 07:00 in Stockholm

SCENARIO = """
[campaign]
name = "Telefontest"
year = 2026
period_start = 2026-10-05
period_end = 2026-10-16
emails_per_target = 0
calls_per_target = {calls}
question_bank = "questions"
edition = "{edition}"

[[personas]]
name = "Anna Lindqvist"
address = "anna.lindqvist@fraga.example.se"
{targets}
"""


@dataclass(frozen=True)
class PlacedCall:
    id: int
    claimed_at: datetime
    call_sid: str
    planned_at: datetime
    state: str
    outcome: str | None
    fault_reason: str | None
    mode: str | None
    target_id: int

    @classmethod
    def of(cls, probe: Probe) -> PlacedCall:
        assert probe.id is not None
        assert probe.claimed_at is not None
        return cls(
            probe.id,
            probe.claimed_at,
            probe.call_sid or "",
            probe.planned_at,
            probe.state,
            probe.outcome,
            probe.fault_reason,
            probe.mode,
            probe.target_id,
        )


@dataclass
class PhoneRig:
    tmp: Path
    clock: FakeClock
    sim: TwilioSimulator
    config_path: Path
    settings: Settings
    engine: Engine
    web: WebServer
    runner: Runner
    finisher: CallFinisher
    marks: list[tuple[int, datetime]] = field(default_factory=list)

    def cli(self, *args: str) -> int:
        return run_cli(["--lang", "en", "--config", str(self.config_path), *args], clock=self.clock)

    def probes(self) -> list[Probe]:
        with Session(self.engine) as session:
            return list(session.exec(select(Probe).order_by(col(Probe.id))).all())

    def calls(self) -> list[PlacedCall]:
        """The probes that were placed, with the fields a placed call always has."""
        return [PlacedCall.of(p) for p in self.probes() if p.claimed_at is not None]

    async def drive(self, until: datetime) -> None:
        """Advance time event by event to ``until``, ticking the runner at its due times.

        A due probe the runner leaves alone (paused) is looked at again ten minutes later, as
        the scheduler's sweep would (it sweeps every minute; ten keeps the tests quick).
        """
        ticked: datetime | None = None
        while True:
            runner_due = self.runner.next_due()
            if runner_due is not None and ticked is not None and runner_due <= ticked:
                runner_due = ticked + timedelta(minutes=10)
            due = [t for t in (runner_due, self.sim.next_due()) if t is not None]
            nxt = min(due) if due else None
            if nxt is None or nxt > until:
                break
            if self.sim.next_due() == nxt:
                await self.sim.run_until(nxt)
            else:
                self.clock.set(max(nxt, self.clock.now()))
                await self.runner.tick()
                ticked = self.clock.now()
        self.clock.set(max(until, self.clock.now()))
        await self.runner.tick()  # the follow-up sees the final callbacks


async def make_rig(
    tmp: Path,
    monkeypatch: object,
    *,
    mode: str = "bridged",
    targets: list[tuple[str, str]],
    calls: int = 1,
    scripts: dict[str, SwitchboardScript],
    tester: SwitchboardScript | None = None,
    faults: CallbackFaults | None = None,
    record: bool = False,
    mark_person: bool = True,
    dashboard_secret: str | None = None,
    edition: str = "2018",
    also_mark: tuple[str, ...] = (),
    database_url: str | None = None,
) -> PhoneRig:
    """Start everything; ``targets`` are (kommunkod, switchboard as written in the scenario);
    the database is ``tmp/kkik.db`` unless ``database_url`` names another (an empty one)."""
    url = database_url or f"sqlite:///{tmp / 'kkik.db'}"
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # type: ignore[attr-defined]
    clock = FakeClock(START)
    sim = TwilioSimulator(clock, faults=faults)
    sim.add_account(ACCOUNT, TOKEN)
    for number, script in scripts.items():
        sim.script(number, script)
    sim.script(CALLER, tester or SwitchboardScript(ring_seconds=3, person_after=None, prompts=()))
    await sim.start()
    port = free_port()
    config_path = tmp / "config.toml"
    config_path.write_text(
        f"""
language = "en"
[database]
url = "{url}"

[phone]
mode = "{mode}"
account_sid = "{ACCOUNT}"
auth_token_env = "{TOKEN_ENV}"
from_number = "08-123 456 78"
caller_number = "{CALLER}"
api_base_url = "{sim.base_url}"
record_calls = {str(record).lower()}

[web]
public_url = "http://127.0.0.1:{port}"
""",
        encoding="utf-8",
    )
    settings = load_config(config_path)
    engine = make_engine(url)
    migrate.upgrade(engine)
    shutil.copytree(ROOT / "scenarios" / "questions", tmp / "questions", dirs_exist_ok=True)
    lines = "".join(
        f'\n[[targets]]\nkommunkod = "{code}"\nswitchboard = "{number}"\n'
        for code, number in targets
    )
    (tmp / "scenario.toml").write_text(
        SCENARIO.format(calls=calls, targets=lines, edition=edition), "utf-8"
    )
    made = plan_scenario(tmp / "scenario.toml", settings)
    with Session(engine) as session:
        save_plan(session, made.scenario, made.bank, made.probes, START)
    # The one assembly point, as `kkik run` and `kkik serve` build theirs.
    assembly = Assembly(settings, engine, clock, base_dir=tmp, config_path=config_path)
    app = assembly.web_app(dashboard_secret=dashboard_secret, console=bool(dashboard_secret))
    web = WebServer(app, port=port)
    await web.start()
    finisher = assembly.call_finisher()
    runner = assembly.runner()
    rig = PhoneRig(tmp, clock, sim, config_path, settings, engine, web, runner, finisher)
    if mark_person:
        # The tester hears the person and runs `kkik call mark` at that very moment.
        async def tester_marks(call: object, at: datetime) -> None:
            parent = getattr(call, "parent_sid", None)
            probe = next(p for p in rig.probes() if p.call_sid == parent)
            for what in ("person", *also_mark):  # e.g. "case_officer" at the same moment
                assert rig.cli("call", "mark", str(probe.id), what) == 0
            rig.marks.append((probe.id or 0, at))

        sim.on_person = tester_marks
    return rig


async def stop_rig(rig: PhoneRig) -> None:
    await rig.web.stop()
    await rig.sim.stop()
    rig.engine.dispose()


def week_later() -> datetime:
    return START + timedelta(days=12)

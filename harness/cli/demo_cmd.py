"""``kkik demo``: the whole job offline, against a simulated county, proving its own numbers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.common import EXIT_FAILURE, EXIT_USAGE, CliContext, fail, state
from harness.cli.export_cmd import written
from harness.cli.report_cmd import T as REPORT_TEXTS
from harness.core.clock import SystemClock
from harness.core.config import load_config
from harness.core.i18n import Lang, Text
from harness.sandbox.ports import free_port
from harness.services.outputs import ExportRequest, Format, export_campaign, report_html
from harness.store import users
from harness.store.db import (
    NOT_EMPTY,
    DatabaseNotEmpty,
    DatabaseUnavailable,
    describe_unavailable,
    make_engine,
)
from harness.web.app import WebServer, create_app
from results.measures import MEASURES

if TYPE_CHECKING:
    from harness.demo.run import Demo
    from harness.demo.verdict import DemoResult

# How the demo goes, as it tells it (harness.demo.run.Demo.progress).
PROGRESS = {
    "plan": Text(
        "Plan: {probes} frågor och samtal till {targets} kommuner",
        "Plan: {probes} questions and calls to {targets} municipalities",
    ),
    "day": Text(
        "{day}  e-post skickad {emails:>4}  samtal {calls:>4}  svar levererade {replies:>4}",
        "{day}  e-mails sent {emails:>4}  calls {calls:>4}  replies delivered {replies:>4}",
    ),
    "simulated": Text(
        "Kampanjen simulerad på {seconds} s", "The campaign simulated in {seconds} s"
    ),
}
T = {
    "help": Text(
        "Kör en hel höstkampanj mot en simulerad län utan nätverk och jämför med facit.",
        "Run a whole autumn campaign against a simulated county, offline, and check it against "
        "the ground truth.",
    ),
    "seed": Text("Slumpfrö för världen (samma frö, samma resultat).", "Seed for the world."),
    "out": Text("Katalog för rapport, exporter och databas.", "Directory for the outputs."),
    "serve": Text(
        "Låt webbappen fortsätta köra efteråt (Ctrl-C avslutar).",
        "Keep the web app running afterwards (Ctrl-C stops).",
    ),
    "world": Text("En annan världsfil (TOML).", "Another world file (TOML)."),
    "weeks": Text("Kortare kampanj: antal veckor.", "A shorter campaign: number of weeks."),
    "database_url": Text(
        "Kör mot denna databas (t.ex. postgresql+psycopg://användare@värd/db) i stället för "
        "en SQLite-fil i --out. Den måste vara tom: demon skapar tabellerna och raderar "
        "aldrig något.",
        "Run against this database (e.g. postgresql+psycopg://user@host/db) instead of an "
        "SQLite file in --out. It must be empty: the demo creates the tables and never deletes "
        "anything.",
    ),
    "bad_url": Text(
        "--database-url: {url} är ingen databasadress (t.ex. postgresql+psycopg://värd/db).",
        "--database-url: {url} is not a database URL (e.g. postgresql+psycopg://host/db).",
    ),
    "start": Text(
        "Simulerar {name}: {n} kommuner, {start} – {end}, frö {seed}.",
        "Simulating {name}: {n} municipalities, {start} – {end}, seed {seed}.",
    ),
    "outputs": Text("Skrev {files} i {dir}.", "Wrote {files} in {dir}."),
    "head": Text(
        "kommun  mått                                            uppmätt  facit",
        "kommun  measure                                         measured truth",
    ),
    "equal": Text("Alla {n} värden stämmer med facit.", "All {n} values equal the ground truth."),
    "closed": Text(
        "Kampanjens egna stängda dagar ({days}): {n} e-postsvar bedöms annorlunda med dem än "
        "utan dem.",
        "The campaign's own closed days ({days}): {n} e-mail answers are judged differently "
        "with them than without.",
    ),
    "differ": Text(
        "{n} värden skiljer sig från facit:", "{n} values differ from the ground truth:"
    ),
    "serving": Text(
        "Webbpanelen på {url}: logga in som {user} med lösenordet {password} "
        "(gäller bara den här körningen). Ctrl-C avslutar.",
        "The dashboard at {url}: log in as {user} with the password {password} "
        "(for this run only). Ctrl-C stops.",
    ),
}
DEMO_USER = "demo"
#: The exports the demo writes, by file name: every format, in the user's language.
EXPORTS: dict[str, Format] = {
    "export.csv": "csv",
    "export-excel.csv": "csv-excel",
    "export.xlsx": "xlsx",
    "export.json": "json",
}
OUTPUTS = ["report.html", *EXPORTS, "ground-truth.json", "kkik.db"]


def build(lang: Lang) -> click.Command:
    @click.command("demo", help=T["help"](lang))
    @click.option("--seed", type=int, default=2026, show_default=True, help=T["seed"](lang))
    @click.option(
        "--out", type=click.Path(file_okay=False), default="kkik-demo", help=T["out"](lang)
    )
    @click.option("--serve", is_flag=True, help=T["serve"](lang))
    @click.option(
        "--world", "world", type=click.Path(dir_okay=False, exists=True), help=T["world"](lang)
    )
    @click.option("--weeks", type=click.IntRange(1, 12), default=None, help=T["weeks"](lang))
    @click.option("--database-url", "database_url", metavar="URL", help=T["database_url"](lang))
    @click.pass_context
    def demo_cmd(
        ctx: click.Context,
        seed: int,
        out: str,
        serve: bool,
        world: str | None,
        weeks: int | None,
        database_url: str | None,
    ) -> None:
        # Imported here: the demo drives the CLI itself, so it cannot load with the command tree.
        from harness.demo.run import WORLD, Demo

        cli = state(ctx)
        directory = Path(out).resolve()
        if database_url is not None:
            database_url = _checked_url(cli, database_url)
        demo = Demo(
            directory,
            seed=seed,
            world_path=Path(world) if world else WORLD,
            progress=lambda what, **figures: click.echo(cli.t(PROGRESS[what], **figures)),
            lang=cli.lang,
            weeks=weeks,
            database_url=database_url,
        )
        w = demo.world
        click.echo(
            cli.t(
                T["start"],
                name=w.campaign,
                n=len(w.targets),
                start=w.period_start,
                end=w.period_end,
                seed=seed,
            )
        )
        try:
            result = asyncio.run(demo.run())
        except DatabaseNotEmpty as exc:
            fail(cli.t(NOT_EMPTY, where=exc.where, n=len(exc.tables)), EXIT_USAGE)
        except DatabaseUnavailable as exc:  # as every command says it (common.cannot_open)
            fail(f"--database-url: {describe_unavailable(exc, cli.lang)}", EXIT_USAGE)
        (directory / "ground-truth.json").write_text(
            json.dumps(result.ground_truth, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        for name, fmt in EXPORTS.items():
            # The demo shows every file; replies awaiting review are counted in the rows.
            wanted = ExportRequest(format=fmt, lang=cli.lang, allow_pending=True)
            exported = export_campaign(demo.tester(), wanted)
            path = directory / name
            path.write_bytes(exported.data)
            click.echo(written(cli, exported, path))
        report = directory / "report.html"
        report.write_text(report_html(demo.tester(), None, cli.lang), encoding="utf-8")
        click.echo(cli.t(REPORT_TEXTS["written"], path=report))
        files = OUTPUTS if database_url is None else [f for f in OUTPUTS if f != "kkik.db"]
        click.echo(cli.t(T["outputs"], files=", ".join(files), dir=directory))
        if w.extra_closed_days:
            days = ", ".join(d.isoformat() for d in w.extra_closed_days)
            click.echo(cli.t(T["closed"], days=days, n=len(result.closed_day_verdicts)))
        _print_verdict(cli.lang, result)
        if serve:
            asyncio.run(_serve(cli.lang, demo, directory))
        if result.mismatches:
            raise SystemExit(EXIT_FAILURE)

    return demo_cmd


def _checked_url(cli: CliContext, url: str) -> str:
    """``url`` as the engine takes it (``postgresql://`` means psycopg 3), or exit 2."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        fail(cli.t(T["bad_url"], url=url), EXIT_USAGE)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        fail(cli.t(T["bad_url"], url=url), EXIT_USAGE)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _print_verdict(lang: Lang, result: DemoResult) -> None:
    truth = {(s.kommunkod, s.measure_id): s for s in result.truth}
    click.echo("")
    click.echo(T["head"](lang))
    for s in result.measured:
        t = truth.get((s.kommunkod, s.measure_id))
        measure = MEASURES[s.measure_id]
        title = measure.title_sv if lang == "sv" else measure.title_en
        got = "–" if s.value is None else str(s.value)
        want = "–" if t is None or t.value is None else str(t.value)
        same = t is not None and (s.value, s.numerator, s.denominator) == (
            t.value, t.numerator, t.denominator)  # fmt: skip
        mark = "✓" if same else "✗"
        click.echo(f"{s.kommunkod}    {title[:46]:<46}  {got:>6}  {want:>5}  {mark}")
    click.echo("")
    if result.mismatches:
        click.echo(T["differ"](lang, n=len(result.mismatches)))
        for line in result.mismatches:
            click.echo(f"  {line}")
    else:
        click.echo(T["equal"](lang, n=len(result.measured)))


async def _serve(lang: Lang, demo: Demo, directory: Path) -> None:
    """The dashboard (with a fresh admin login) and Twilio's webhooks on a local port."""
    from harness.demo.run_config import ENV

    password = secrets.token_urlsafe(12)
    settings = load_config(demo.config)
    engine = make_engine(demo.database_url or f"sqlite:///{directory / 'kkik.db'}")
    users.add_user(engine, DEMO_USER, "admin", password, SystemClock().now(), "kkik demo")
    app = create_app(
        settings,
        engine,
        SystemClock(),
        auth_token=ENV["KKIK_DEMO_TWILIO_TOKEN"],
        dashboard_secret=secrets.token_urlsafe(32),
        config_path=demo.config,
    )
    port = free_port()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with WebServer(app, port=port) as web:
        click.echo(T["serving"](lang, url=web.url + "/", user=DEMO_USER, password=password))
        await stop.wait()
    with contextlib.suppress(Exception):
        engine.dispose()

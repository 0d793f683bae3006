"""``kkik report``: the campaign report as one self-contained HTML file, optionally a PDF.

Without ``--out`` the file is named after the campaign and the day in the current folder
(``kkik-rapport-kkik-hosten-2026-2026-11-20.html``), and the command says where it wrote.
The PDF is printed by headless Chromium from the HTML file (the same pages a browser prints; the
report's stylesheet asks for A4), when a Chromium binary is present; nothing is fetched from the
network to do it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from harness.cli.common import EXIT_FAILURE, EXIT_USAGE, fail, fail_service, service_context, state
from harness.core.i18n import Lang, Text
from harness.services.base import ServiceError

T = {
    "help": Text(
        "Skriv kampanjens rapport som en fristående HTML-fil (och PDF med --pdf).",
        "Write the campaign report as one self-contained HTML file (and a PDF with --pdf).",
    ),
    "campaign": Text(
        "Kampanjens namn (standard: den senaste).", "Campaign name (default: latest)."
    ),
    "out": Text(
        "HTML-filen att skriva (standard: kkik-rapport-<kampanj>-<datum>.html här).",
        "The HTML file to write (default: kkik-report-<campaign>-<date>.html here).",
    ),
    "file": Text("kkik-rapport-{campaign}-{date}", "kkik-report-{campaign}-{date}"),
    "lang": Text("Rapportens språk: sv eller en.", "The report's language: sv or en."),
    "pdf": Text(
        "Skriv också en PDF bredvid (kräver Chromium).",
        "Also write a PDF next to it (needs Chromium).",
    ),
    "written": Text("Rapporten skrevs till {path}.", "The report was written to {path}."),
    "no_dir": Text("Katalogen {dir} finns inte.", "The directory {dir} does not exist."),
    "no_chromium": Text(
        "Ingen Chromium hittades (chromium, chromium-browser); HTML-filen finns kvar.",
        "No Chromium found (chromium, chromium-browser); the HTML file is kept.",
    ),
    "pdf_failed": Text(
        "Chromium kunde inte skriva PDF:en: {why}", "Chromium could not print: {why}"
    ),
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, chromium: str) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (raises RuntimeError)."""
    with tempfile.TemporaryDirectory(prefix="kkik-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(str(exc)) from None
    if done.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise RuntimeError(
            (done.stderr or "").strip().splitlines()[-1:] or f"exit {done.returncode}"
        )


def default_name(campaign: str, generated_at: datetime, zone: str, lang: Lang) -> str:
    """The report's file name when none is given: the campaign's name in plain letters (å, ä, ö
    as a, a, o) and the local date it was made."""
    plain = unicodedata.normalize("NFKD", campaign).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "kampanj"
    day = generated_at.astimezone(ZoneInfo(zone)).date().isoformat()
    return T["file"](lang, campaign=slug, date=day) + ".html"


def build(lang: Lang) -> click.Command:
    @click.command("report", help=T["help"](lang))
    @click.option("--campaign", "campaign_name", default=None, help=T["campaign"](lang))
    @click.option(
        "--out", "out", default=None, type=click.Path(dir_okay=False), help=T["out"](lang)
    )
    @click.option("--lang", "report_lang", type=click.Choice(["sv", "en"]), help=T["lang"](lang))
    @click.option("--pdf", is_flag=True, help=T["pdf"](lang))
    @click.pass_context
    def report_cmd(
        ctx: click.Context,
        campaign_name: str | None,
        out: str | None,
        report_lang: str | None,
        pdf: bool,
    ) -> None:
        # Imported here: the report draws with matplotlib, which no other command needs.
        from harness.services.outputs import campaign_report

        cli = state(ctx)
        if out is not None and not Path(out).parent.is_dir():
            fail(cli.t(T["no_dir"], dir=Path(out).parent), EXIT_USAGE)
        chromium = find_chromium() if pdf else None
        if pdf and chromium is None:
            fail(cli.t(T["no_chromium"]), EXIT_FAILURE)
        chosen: Lang = "en" if (report_lang or cli.lang) == "en" else "sv"
        context = service_context(cli)
        try:
            report = campaign_report(context, campaign_name, chosen)
        except ServiceError as exc:
            fail_service(cli, exc)
        zone = context.settings.timezone
        path = Path(out or default_name(report.campaign, report.generated_at, zone, chosen))
        path.write_text(report.html, encoding="utf-8")
        click.echo(cli.t(T["written"], path=path.resolve()))
        if chromium is not None:
            target = path.with_suffix(".pdf")
            try:
                print_pdf(path, target, chromium)
            except RuntimeError as exc:
                fail(cli.t(T["pdf_failed"], why=exc), EXIT_FAILURE)
            click.echo(cli.t(T["written"], path=target.resolve()))

    return report_cmd

"""``kkik reference``: published figures for comparison, stored as ReferenceValue rows.

``import FILE`` reads a Kolada-shaped file (JSON or CSV); ``fetch`` asks the Kolada API v3
(:mod:`harness.store.kolada_client`). Both store through :func:`_store`: one row per (kpi,
municipality, period), so loading the same values again updates them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.cli.common import EXIT_FAILURE, EXIT_USAGE, CliContext, fail, open_database, state
from harness.core.i18n import Lang, Text
from harness.store.kolada_client import (
    DEFAULT_BASE_URL,
    BaseUrlError,
    KoladaApiError,
    check_base_url,
    fetch_values,
)
from harness.store.models import ReferenceValue
from results.kolada import KoladaFormatError, KoladaValue, parse_kolada_csv, parse_kolada_json
from results.measures import MEASURES, OTHER_MEASURES

#: Every KKiK accessibility measure with a Kolada id in results.measures: the scored ones
#: (U00412–U00414) and the reported ones (opening hours, preschool, elderly housing).
DEFAULT_KPIS: tuple[str, ...] = tuple(
    sorted(
        {m.kolada_id for m in MEASURES.values() if m.kolada_id}
        | {m.kolada_id for m in OTHER_MEASURES.values() if m.kolada_id}
    )
)
COUNTRY = "0000"

T = {
    "group": Text("Jämförelsevärden (riket, andra kommuner).", "Reference figures."),
    "import": Text(
        "Läs in värden ur en fil i Koladas format (JSON från API:et, eller CSV med kpi, "
        "municipality, period, value). Kommunkod 0000 är riket.",
        "Load values from a Kolada-shaped file (the API's JSON, or CSV with kpi, municipality, "
        "period, value). Municipality 0000 is the whole country.",
    ),
    "no_file": Text("{path}: filen finns inte", "{path}: file not found"),
    "imported": Text(
        "Läste in {new} nya och {updated} uppdaterade värden från {path}.",
        "Imported {new} new and {updated} updated values from {path}.",
    ),
    "fetch": Text(
        "Hämta värden från Koladas API (v3) för nyckeltal × kommuner × år och spara dem som "
        "jämförelsevärden. Samma värden igen uppdateras, de dubbleras inte. Utan --kpi hämtas "
        "tillgänglighetsmåtten med Kolada-id ({kpis}); utan --municipality riket (0000).",
        "Fetch values from the Kolada API (v3) for KPIs × municipalities × years and store them "
        "as reference figures. The same values again are updated, not duplicated. Without --kpi "
        "the accessibility measures with a Kolada id ({kpis}); without --municipality the whole "
        "country (0000).",
    ),
    "kpi_help": Text(
        "Kolada-id, kommaseparerade, flaggan kan upprepas (t.ex. U00412,U00413).",
        "Kolada ids, comma-separated; the option may repeat (e.g. U00412,U00413).",
    ),
    "municipality_help": Text(
        "Kommunkoder med fyra siffror, kommaseparerade (0000 är riket; t.ex. 0000,2380), eller "
        "alla: rikets och alla 290 kommuners värden, för jämförelsen med hela landet.",
        "Four-digit municipality codes, comma-separated (0000 is the country; e.g. 0000,2380), "
        "or all: the country's and all 290 municipalities' values, for the national comparison.",
    ),
    "year_help": Text(
        "År eller intervall, kommaseparerade (t.ex. 2016,2017 eller 2014-2019). Krävs.",
        "Years or ranges, comma-separated (e.g. 2016,2017 or 2014-2019).",
    ),
    "base_url_help": Text(
        "API:ets adress (standard {url}); http:// bara till 127.0.0.1/localhost.",
        "The API's address (default {url}); http:// only to 127.0.0.1/localhost.",
    ),
    "dry_run_help": Text(
        "Hämta och visa värdena men spara inget.",
        "Fetch and show the values but store nothing.",
    ),
    "empty": Text("inget angivet", "nothing given"),
    "bad_kpi": Text(
        "{value!r} är inget Kolada-id (en bokstav och fem siffror, t.ex. U00412)",
        "{value!r} is not a Kolada id (a letter and five digits, e.g. U00412)",
    ),
    "bad_municipality": Text(
        "{value!r} är ingen kommunkod (fyra siffror, t.ex. 0180; 0000 är riket)",
        "{value!r} is not a municipality code (four digits, e.g. 0180; 0000 is the country)",
    ),
    "bad_year": Text(
        "{value!r} är inget år (fyra siffror mellan 1950 och 2100, eller ett intervall som "
        "2014-2019)",
        "{value!r} is not a year (four digits from 1950 to 2100, or a range like 2014-2019)",
    ),
    "url_scheme": Text("{url!r} är ingen http(s)-adress", "{url!r} is not an http(s) address"),
    "url_plaintext": Text(
        "{url!r}: okrypterat http bara till 127.0.0.1, ::1 eller localhost; använd https",
        "{url!r}: plain http only to 127.0.0.1, ::1 or localhost; use https",
    ),
    "url_extra": Text(
        "{url!r}: ange adressen utan ? eller #", "{url!r}: give the address without ? or #"
    ),
    "url_credentials": Text(
        "{url!r}: inga inloggningsuppgifter i adressen",
        "{url!r}: no credentials in the address",
    ),
    "api_http": Text("Kolada svarade {detail} på {url}", "Kolada answered {detail} to {url}"),
    "api_network": Text(
        "Kan inte nå Kolada ({url}): {detail}", "Cannot reach Kolada ({url}): {detail}"
    ),
    "api_timeout": Text(
        "Inget svar från Kolada inom {detail}: {url}",
        "No answer from Kolada within {detail}: {url}",
    ),
    "api_json": Text(
        "Kolada svarade inte med JSON ({url}): {detail}",
        "Kolada did not answer with JSON ({url}): {detail}",
    ),
    "api_shape": Text(
        "Oväntat svar från Kolada ({url}): {detail}",
        "Unexpected answer from Kolada ({url}): {detail}",
    ),
    "value_new": Text(
        "{kpi} {municipality} {period}: {value} (ny)",
        "{kpi} {municipality} {period}: {value} (new)",
    ),
    "value_updated": Text(
        "{kpi} {municipality} {period}: {value} (uppdaterad)",
        "{kpi} {municipality} {period}: {value} (updated)",
    ),
    "value_dry": Text(
        "{kpi} {municipality} {period}: {value}", "{kpi} {municipality} {period}: {value}"
    ),
    "fetched": Text(
        "Sparade {new} nya och {updated} uppdaterade värden från {source} ({pages} svar).",
        "Stored {new} new and {updated} updated values from {source} ({pages} answers).",
    ),
    "dry_run": Text(
        "Torrkörning: {n} värden från {url} ({pages} svar), inget sparat.",
        "Dry run: {n} values from {url} ({pages} answers), nothing stored.",
    ),
    "value_group": Text(
        "{kpi} {period}: {n} värden ({new} nya, {updated} uppdaterade)",
        "{kpi} {period}: {n} values ({new} new, {updated} updated)",
    ),
    "nothing": Text(
        "Kolada har inga värden för {kpis} i {municipalities} år {years} ({url}); inget sparat.",
        "Kolada has no values for {kpis} in {municipalities} for {years} ({url}); nothing stored.",
    ),
}


def build(lang: Lang) -> click.Group:
    @click.group("reference", help=T["group"](lang))
    def group() -> None:
        pass

    @group.command("import", help=T["import"](lang))
    @click.argument("file", metavar="FILE")
    @click.pass_context
    def import_cmd(ctx: click.Context, file: str) -> None:
        cli = state(ctx)
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError:
            fail(cli.t(T["no_file"], path=file), EXIT_USAGE)
        try:
            values = (
                parse_kolada_csv(text) if path.suffix.lower() == ".csv" else parse_kolada_json(text)
            )
        except KoladaFormatError as exc:
            fail("\n".join(f"{file}: {p}" for p in exc.problems), EXIT_USAGE)
        settings, base_dir = cli.settings(required=False)
        engine, _ = open_database(cli, settings, base_dir)
        created = _store(cli, engine, values, path.name)
        new = sum(created)
        click.echo(cli.t(T["imported"], new=new, updated=len(created) - new, path=file))

    def split(
        values: Sequence[str], param: click.Parameter, problem: str, pattern: re.Pattern[str]
    ) -> list[str]:
        out: list[str] = []
        for value in values:
            for item in value.split(","):
                item = item.strip().upper()
                if not item:
                    continue
                if not pattern.fullmatch(item):
                    raise click.BadParameter(T[problem](lang, value=item), param=param)
                if item not in out:
                    out.append(item)
        if not out:
            raise click.BadParameter(T["empty"](lang), param=param)
        return out

    def kpi_option(
        _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> list[str]:
        return split(values, param, "bad_kpi", KPI_ID) if values else list(DEFAULT_KPIS)

    def municipality_option(
        _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> list[str]:
        if not values:
            return [COUNTRY]
        if {v.strip().casefold() for v in values} & EVERY_MUNICIPALITY:
            from harness.core.scenario import municipalities

            return [COUNTRY, *sorted(municipalities())]
        return split(values, param, "bad_municipality", KOMMUNKOD)

    def year_option(
        _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> list[int]:
        years: list[int] = []
        for item in split(values, param, "bad_year", YEARS):
            first, _, last = item.partition("-")
            start, end = int(first), int(last or first)
            if not (MIN_YEAR <= start <= end <= MAX_YEAR):
                raise click.BadParameter(T["bad_year"](lang, value=item), param=param)
            years += [y for y in range(start, end + 1) if y not in years]
        return years

    def base_url_option(_ctx: click.Context, param: click.Parameter, value: str) -> str:
        try:
            return check_base_url(value)
        except BaseUrlError as exc:
            raise click.BadParameter(
                T[f"url_{exc.problem}"](lang, url=value), param=param
            ) from None

    @group.command("fetch", help=T["fetch"](lang, kpis=", ".join(DEFAULT_KPIS)))
    @click.option(
        "--kpi",
        "kpis",
        multiple=True,
        metavar="ID[,ID…]",
        callback=kpi_option,
        help=T["kpi_help"](lang),
    )
    @click.option(
        "--municipality",
        "municipalities",
        multiple=True,
        metavar="KOD[,KOD…]" if lang == "sv" else "CODE[,CODE…]",
        callback=municipality_option,
        help=T["municipality_help"](lang),
    )
    @click.option(
        "--year",
        "years",
        multiple=True,
        required=True,
        metavar="ÅR[,ÅR…]" if lang == "sv" else "YEAR[,YEAR…]",
        callback=year_option,
        help=T["year_help"](lang),
    )
    @click.option(
        "--base-url",
        default=DEFAULT_BASE_URL,
        metavar="URL",
        callback=base_url_option,
        help=T["base_url_help"](lang, url=DEFAULT_BASE_URL),
    )
    @click.option("--dry-run", is_flag=True, help=T["dry_run_help"](lang))
    @click.pass_context
    def fetch_cmd(
        ctx: click.Context,
        kpis: list[str],
        municipalities: list[str],
        years: list[int],
        base_url: str,
        dry_run: bool,
    ) -> None:
        cli = state(ctx)
        engine = None
        if not dry_run:  # a broken database fails before any request is made
            settings, base_dir = cli.settings(required=False)
            engine, _ = open_database(cli, settings, base_dir)
        try:
            result = asyncio.run(fetch_values(kpis, municipalities, years, base_url=base_url))
        except KoladaApiError as exc:
            fail(cli.t(T[f"api_{exc.kind}"], url=exc.url, detail=exc.detail), EXIT_FAILURE)
        values = sorted(result.values, key=lambda v: (v.kpi, v.municipality, v.period))
        if not values:
            click.echo(
                cli.t(
                    T["nothing"],
                    kpis=",".join(kpis),
                    municipalities=",".join(municipalities),
                    years=",".join(map(str, years)),
                    url=base_url,
                )
            )
            return
        if engine is None:
            for v in values:
                click.echo(cli.t(T["value_dry"], **_fields(v, cli.lang)))
            click.echo(cli.t(T["dry_run"], n=len(values), url=base_url, pages=result.pages))
            return
        # Stored data, so one language: like the bundled figures' sources, in English.
        source = f"Kolada API {base_url}/data, fetched {cli.clock.now().date().isoformat()}"
        created = _store(cli, engine, values, source)
        if len(values) <= ONE_LINE_EACH:
            for v, is_new in zip(values, created, strict=True):
                line = T["value_new" if is_new else "value_updated"]
                click.echo(cli.t(line, **_fields(v, cli.lang)))
        else:  # a whole country is a line per KPI and year, not thousands of lines
            groups: dict[tuple[str, int], list[bool]] = {}
            for v, is_new in zip(values, created, strict=True):
                groups.setdefault((v.kpi, v.period), []).append(is_new)
            for (kpi, period), news in groups.items():
                fresh = sum(news)
                click.echo(
                    cli.t(
                        T["value_group"],
                        kpi=kpi,
                        period=period,
                        n=len(news),
                        new=fresh,
                        updated=len(news) - fresh,
                    )
                )
        new = sum(created)
        click.echo(
            cli.t(
                T["fetched"], new=new, updated=len(created) - new, source=source, pages=result.pages
            )
        )

    return group


KPI_ID = re.compile(r"[A-Z]\d{5}")
KOMMUNKOD = re.compile(r"\d{4}")
#: ``--municipality alla`` (or ``all``): the country and every municipality.
EVERY_MUNICIPALITY = {"alla", "all"}
#: Up to this many fetched values get a line each; more get a line per KPI and year.
ONE_LINE_EACH = 25
YEARS = re.compile(r"\d{4}(-\d{4})?")
MIN_YEAR, MAX_YEAR = 1950, 2100


def _fields(value: KoladaValue, lang: Lang) -> dict[str, object]:
    shown = f"{value.value:g}"
    return {
        "kpi": value.kpi,
        "municipality": value.municipality,
        "period": value.period,
        "value": shown.replace(".", ",") if lang == "sv" else shown,
    }


def _store(
    cli: CliContext, engine: Engine, values: Sequence[KoladaValue], source: str
) -> list[bool]:
    """Insert or update one ReferenceValue per value; True where a row was new."""
    created: list[bool] = []
    now = cli.clock.now()
    source = source[:300]
    with Session(engine) as session:
        for v in values:
            row = session.exec(
                select(ReferenceValue).where(
                    ReferenceValue.kpi == v.kpi,
                    ReferenceValue.municipality == v.municipality,
                    ReferenceValue.period == v.period,
                )
            ).first()
            created.append(row is None)
            if row is None:
                row = ReferenceValue(
                    kpi=v.kpi,
                    municipality=v.municipality,
                    period=v.period,
                    value=v.value,
                    source=source,
                    imported_at=now,
                )
            row.value, row.count = v.value, v.count
            row.source, row.imported_at = source, now
            session.add(row)
        session.commit()
    return created

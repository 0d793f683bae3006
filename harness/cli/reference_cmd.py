"""``kkik reference import FILE``: load published figures (Kolada JSON or CSV) for comparison."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session, select

from harness.cli.common import EXIT_USAGE, fail, open_database, state
from harness.i18n import Lang, Text
from harness.models import ReferenceValue
from results.kolada import KoladaFormatError, parse_kolada_csv, parse_kolada_json

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
        new = updated = 0
        with Session(engine) as session:
            for v in values:
                row = session.exec(
                    select(ReferenceValue).where(
                        ReferenceValue.kpi == v.kpi,
                        ReferenceValue.municipality == v.municipality,
                        ReferenceValue.period == v.period,
                    )
                ).first()
                if row is None:
                    row = ReferenceValue(
                        kpi=v.kpi,
                        municipality=v.municipality,
                        period=v.period,
                        value=v.value,
                        source=path.name,
                        imported_at=cli.clock.now(),
                    )
                    new += 1
                else:
                    updated += 1
                row.value, row.count = v.value, v.count
                row.source, row.imported_at = path.name, cli.clock.now()
                session.add(row)
            session.commit()
        click.echo(cli.t(T["imported"], new=new, updated=updated, path=file))

    return group

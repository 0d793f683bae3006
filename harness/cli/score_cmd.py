"""``kkik score``: the KKiK measures per municipality, from the database or an evidence file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.campaign.pending import PendingReview
from harness.cli.common import EXIT_USAGE, CliContext, fail, fail_service, service_context, state
from harness.core.i18n import Lang, Text
from harness.rules.calendars import work_calendar
from harness.services.base import ServiceError
from harness.services.outputs import campaign_scores
from results.calendar import DeadlineRule
from results.counts import Empty, count_text, counts, why_empty
from results.evidence_csv import EvidenceError, UnreadableEvidence, read_evidence
from results.kolada import KoladaValue
from results.measures import EDITIONS, MEASURES
from results.national import Place, places
from results.reference import Reference, bundled, reference_for
from results.scoring import Evidence, Score, ScoringRules, compare, score

T = {
    "help": Text(
        "Räkna KKiK-måtten per kommun: från databasen, eller från en fil med --from-csv.",
        "Compute the KKiK measures per municipality: from the database, or a file (--from-csv).",
    ),
    "campaign": Text(
        "Kampanjens namn (standard: den senaste).", "Campaign name (default: latest)."
    ),
    "edition": Text("KKiK-utgåva: 2011, 2016 eller 2018.", "KKiK edition: 2011, 2016 or 2018."),
    "csv": Text(
        "Räkna om underlag från en CSV-fil (se docs/scoring.md).",
        "Score evidence from a CSV file (see docs/scoring.md).",
    ),
    "json": Text("Skriv JSON.", "Print JSON."),
    "no_file": Text("{path}: filen finns inte", "{path}: file not found"),
    "unreadable": Text("{path}: kan inte läsas ({error})", "{path}: cannot be read ({error})"),
    "not_text": Text(
        "{path}: rad {line}: ingen text (styrtecken eller okodbara byte); spara filen som CSV "
        "(UTF-8 eller Windows-1252)",
        "{path}: line {line}: not text (control characters or undecodable bytes); save the file "
        "as CSV (UTF-8 or Windows-1252)",
    ),
    "field_too_large": Text(
        "{path}: rad {line}: ett fält är längre än {limit} tecken; är det en underlagsfil?",
        "{path}: line {line}: a field is longer than {limit} characters; is this an evidence file?",
    ),
    "csv_error": Text(
        "{path}: rad {line}: ogiltig CSV ({detail})", "{path}: line {line}: invalid CSV ({detail})"
    ),
    "kommun": Text("kommun", "kommun"),
    "measure": Text("mått", "measure"),
    "value": Text("värde", "value"),
    "interval": Text("95 % intervall", "95% interval"),
    "count": Text("antal", "count"),
    "no_rows": Text(
        "{path}: inga rader med underlag, bara rubrikraden; inget att räkna.",
        "{path}: no evidence rows, only the header; nothing to score.",
    ),
    "compare_head": Text(
        "jämförelse                                      medel bäst sämst  riket (år)  färg",
        "comparison                                       mean  best worst  nat. (year)  colour",
    ),
    "national_head": Text(
        "Jämfört med riket (Koladas värden för alla kommuner):",
        "Compared with the country (Kolada's values for every municipality):",
    ),
    "national_line": Text(
        "{kommun} {title}: {value} %, plats {rank} av {compared} ({colour}); riket {year}: "
        "bäst {best}, sämst {worst}, medel {mean} ({n} kommuner)",
        "{kommun} {title}: {value}%, rank {rank} of {compared} ({colour}); country {year}: "
        "best {best}, worst {worst}, mean {mean} ({n} municipalities)",
    ),
    # Edition 2011 approximated where its own evidence is missing (results.scoring.Evidence).
    "approximated_phone_contact_case_officer": Text(
        "  ({n} samtal utan markering eller bedömning av handläggare: räknade som nådda när en "
        "person svarade, ett närmevärde)",
        "  ({n} calls without a case officer mark or assessment: counted as reached when a "
        "person answered, an approximation)",
    ),
    "approximated_phone_bemotande_good_share": Text(
        "  ({n} samtal bedömda på fyrgradig skala: god eller bättre räknat som god, ett "
        "närmevärde)",
        "  ({n} calls assessed on the four-level scale: good or better counted as good, an "
        "approximation)",
    ),
    "waiting": Text("  ({n} samtal väntar på bedömning)", "  ({n} calls awaiting assessment)"),
}


COLOURS = {
    "green": Text("grön", "green"),
    "yellow": Text("gul", "yellow"),
    "red": Text("röd", "red"),
}


def build(lang: Lang) -> click.Command:
    @click.command("score", help=T["help"](lang))
    @click.option("--campaign", "campaign_name", metavar="NAME", help=T["campaign"](lang))
    @click.option("--edition", type=click.Choice(list(EDITIONS)), help=T["edition"](lang))
    @click.option("--from-csv", "csv_path", metavar="EVIDENCE.csv", help=T["csv"](lang))
    @click.option("--json", "as_json", is_flag=True, help=T["json"](lang))
    @click.pass_context
    def score_cmd(
        ctx: click.Context,
        campaign_name: str | None,
        edition: str | None,
        csv_path: str | None,
        as_json: bool,
    ) -> None:
        cli = state(ctx)
        settings, _ = cli.settings(required=False)
        chosen = edition
        figures = bundled()
        empty: Empty | None
        published: tuple[KoladaValue, ...] = ()  # an evidence file has no stored Kolada values
        pending: PendingReview | None = None  # nor replies to review
        if csv_path is not None:
            # An evidence file belongs to no saved campaign: the configured calendar judges it.
            calendar = work_calendar(settings)
            evidence = _read_csv(cli, csv_path)
            rules = ScoringRules(
                edition=chosen or "2018",
                calendar=calendar,
                deadline_rule=DeadlineRule(settings.email.deadline_rule),
            )
            scores = score(evidence, rules)
            # Every row of a file counts as planned: the file is all the campaign there is.
            empty, name = why_empty(evidence, scores, len(evidence)), csv_path
        else:
            try:
                scored = campaign_scores(service_context(cli), campaign_name, edition)
            except ServiceError as exc:
                fail_service(cli, exc)
            evidence, scores, figures = scored.evidence, scored.scores, scored.national
            published, pending = scored.published, scored.pending
            empty, name = scored.empty, scored.campaign.name
        if empty is None:
            why = ""
        elif csv_path is not None and not evidence:
            why = cli.t(T["no_rows"], path=csv_path)
        else:
            why = empty.text(cli.lang, name)
        year = max((e.sent_at.year for e in evidence), default=cli.clock.now().year)
        if csv_path is None:
            year = scored.campaign.year
        placed = places(scores, MEASURES, year, published)
        if as_json:
            rows = [
                _row(s)
                | placed[(s.kommunkod, s.measure_id)].as_dict()
                | {"awaiting_review": None if pending is None else pending.count(s.kommunkod)}
                for s in scores
            ]
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            if why:  # stdout stays JSON
                click.echo(why, err=True)
            if pending:
                click.echo(_pending_note(pending, cli.lang), err=True)
            return
        if scores:
            _print(cli, scores)
        if why:  # an empty table is never left unexplained
            click.echo(why)
        _print_comparison(cli, scores, year, figures)
        _print_national(cli, scores, placed)
        if pending:  # last, where the eye ends: the values above may still change
            click.echo("")
            click.echo(_pending_note(pending, cli.lang))

    return score_cmd


def _read_csv(cli: CliContext, path: str) -> list[Evidence]:
    """The evidence in ``path``, or exit 2 with what is wrong: one line per problem."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        fail(cli.t(T["no_file"], path=path), EXIT_USAGE)
    except OSError as exc:
        fail(
            cli.t(T["unreadable"], path=path, error=exc.strerror or type(exc).__name__), EXIT_USAGE
        )
    try:
        return read_evidence(data)
    except UnreadableEvidence as exc:
        fields = {"line": exc.line, "limit": exc.limit, "detail": exc.detail}
        fail(cli.t(T[exc.kind], path=path, **fields), EXIT_USAGE)
    except EvidenceError as exc:
        fail("\n".join(f"{path}: {p}" for p in exc.problems), EXIT_USAGE)


def _row(s: Score) -> dict[str, object]:
    """As the exports count (results.counts): value = 100 × numerator / denominator; bemötande
    also as points of the maximum from so many calls."""
    c = counts(s)
    return {
        "kommunkod": s.kommunkod,
        "measure": s.measure_id,
        "value": s.value,
        "value_exact": s.value_exact,
        "numerator": c.numerator,
        "denominator": c.denominator,
        "ci_low": s.ci_low,
        "ci_high": s.ci_high,
        "points": c.points,
        "max_points": c.max_points,
        "calls": c.calls,
        # Calls counted by an approximation of the edition's definition (edition 2011 without
        # the case officer mark or the three-level scale); 0 when measured as defined.
        "approximated": s.approximated,
    }


def _line(code: str, title: str, value: str, interval: str, count: str) -> str:
    # The count goes last: "18 av 36 poäng, 12 samtal" is longer than any column.
    return f"{code:<8}{title[:46]:<46} {value:>6}  {interval:>14}  {count}".rstrip()


def _print(cli: CliContext, scores: list[Score]) -> None:
    head = (T["kommun"], T["measure"], T["value"], T["interval"], T["count"])
    click.echo(_line(*(cli.t(text) for text in head)))
    for s in scores:
        measure = MEASURES[s.measure_id]
        title = measure.title_sv if cli.lang == "sv" else measure.title_en
        value = "–" if s.value is None else f"{s.value} %"
        interval = "" if s.ci_low is None else f"{s.ci_low:.1f}–{s.ci_high:.1f}"
        if cli.lang == "sv":
            interval = interval.replace(".", ",")
        click.echo(_line(s.kommunkod, title, value, interval, count_text(s, cli.lang)))
        if s.awaiting_assessment:
            click.echo(cli.t(T["waiting"], n=s.awaiting_assessment))
        if s.approximated:
            click.echo(cli.t(T[f"approximated_{s.measure_id}"], n=s.approximated))


def _print_comparison(
    cli: CliContext, scores: list[Score], year: int, figures: tuple[Reference, ...]
) -> None:
    """The network view (mean, best, worst, quartile colours) and the national figure."""
    compared = {k: v for k, v in compare(scores).items() if v.municipalities > 0}
    if not compared:
        return
    click.echo("")
    click.echo(cli.t(T["compare_head"]))
    for measure_id, c in compared.items():
        measure = MEASURES[measure_id]
        title = measure.title_sv if cli.lang == "sv" else measure.title_en
        colours = ""
        if c.municipalities > 1:
            colours = ", ".join(
                f"{code} {cli.t(COLOURS[colour])}" for code, colour in sorted(c.colours.items())
            )
        mean = "–" if c.mean is None else f"{c.mean:.1f}"
        if cli.lang == "sv":
            mean = mean.replace(".", ",")
        national = reference_for(measure_id, year, figures)
        nat = f"{national.value} ({national.year})" if national else "–"
        click.echo(f"{title[:46]:<46} {mean:>6} {c.best!s:>5} {c.worst!s:>5} {nat:>11}  {colours}")


def _pending_note(pending: PendingReview, lang: Lang) -> str:
    # harness.messages loads the services' modules (and the mail clients): only when needed.
    from harness.messages import pending_note

    return pending_note(pending, lang)


def _number(value: float, lang: Lang) -> str:
    shown = f"{value:g}"
    return shown.replace(".", ",") if lang == "sv" else shown


def _print_national(
    cli: CliContext, scores: list[Score], placed: dict[tuple[str, str], Place]
) -> None:
    """Each measured value's place among every municipality's published value, where stored."""
    lines = []
    for s in scores:
        p = placed[(s.kommunkod, s.measure_id)]
        if s.value is None or p.national_rank is None or p.national_n is None:
            continue
        assert p.national_best is not None
        assert p.national_worst is not None
        assert p.national_mean is not None
        assert p.national_colour is not None
        measure = MEASURES[s.measure_id]
        lines.append(
            cli.t(
                T["national_line"],
                kommun=s.kommunkod,
                title=measure.title_sv if cli.lang == "sv" else measure.title_en,
                value=s.value,
                rank=p.national_rank,
                compared=p.compared,
                colour=cli.t(COLOURS[p.national_colour]),
                year=p.national_year,
                best=_number(p.national_best, cli.lang),
                worst=_number(p.national_worst, cli.lang),
                mean=_number(p.national_mean, cli.lang),
                n=p.national_n,
            )
        )
    if lines:
        click.echo("")
        click.echo(cli.t(T["national_head"]))
        for line in lines:
            click.echo(f"  {line}")

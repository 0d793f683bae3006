"""The report's wider picture (issue 18): replies still awaiting review, each value beside the
whole country and the network, each municipality's development over the years, and our own
e-mail measures (sender details, answer quality, unanswered, reply hours).

The country is every municipality's published Kolada value (:mod:`results.national`); the
development joins our earlier campaigns and Kolada's years (:mod:`results.development`); the own
measures are ours, never Kolada's (:mod:`results.mail_quality`). Each table has a caption and
real header cells, each chart a caption naming the table beside it, as elsewhere in the report.
"""

from __future__ import annotations

from harness.core.i18n import Lang, Text
from results import charts
from results.development import Development
from results.mail_quality import OWN_MAIL_MEASURES
from results.measures import MEASURES
from results.national import quartile_colour
from results.report_html import Cell, by_name, e, figure, num, place, table
from results.report_model import ReportData

T = {
    "pending": Text(
        "Obs: {replies} svar väntar på granskning ({where}); värdena nedan kan ändras när de "
        "är granskade.",
        "Note: {replies} replies await review ({where}); the values below may change once they "
        "are reviewed.",
    ),
    "unassigned": Text("{n} utan kopplad fråga", "{n} matched to no question"),
    "country": Text("Jämfört med riket", "Compared with the country"),
    "country_lead": Text(
        "Varje värde placerat bland alla kommuners publicerade värden i Kolada (året anges; "
        "KKiK:s egen serie slutade 2021), och bredvid nätverkets bästa, sämsta och medel. "
        "Kvartil 1 är den bästa fjärdedelen; färgen som Kolada färgar: {green}, {yellow}, {red}.",
        "Each value placed among every municipality's published value in Kolada (the year is "
        "given; KKiK's own series ended in 2021), beside the network's best, worst and mean. "
        "Quartile 1 is the best quarter; coloured as Kolada colours: {green}, {yellow}, {red}.",
    ),
    "country_none": Text(
        "Inga kommunvärden från Kolada är inlästa; läs in ett helt år med "
        "kkik reference fetch --municipality alla --year ÅR.",
        "No municipality values from Kolada are loaded; load a whole year with "
        "kkik reference fetch --municipality all --year YEAR.",
    ),
    "country_caption": Text(
        "{kommun}: placering i riket och nätverket",
        "{kommun}: place in the country and the network",
    ),
    "measure": Text("Mått", "Measure"),
    "kommun": Text("Kommun", "Municipality"),
    "value": Text("Värde", "Value"),
    "rank": Text("Plats i riket", "Rank in the country"),
    "quartile": Text("Kvartil", "Quartile"),
    "country_figures": Text(
        "Riket: bäst / sämst / medel (år, kommuner)",
        "Country: best / worst / mean (year, municipalities)",
    ),
    "network_figures": Text("Nätverket: bäst / sämst / medel", "Network: best / worst / mean"),
    "of": Text("{rank} av {n}", "{rank} of {n}"),
    "green": Text("grön", "green"),
    "yellow": Text("gul", "yellow"),
    "red": Text("röd", "red"),
    "development": Text("Utveckling över åren", "Development over the years"),
    "development_lead": Text(
        "Egna mätningar i samma databas och Koladas publicerade värden, ett värde per år (den "
        "egna mätningen när båda finns). Förändringen är det senaste året mot året före; den "
        "kallas tydlig när de två årens 95 % intervall inte överlappar.",
        "Our own campaigns in the same database and Kolada's published values, one value a "
        "year (our own where both exist). The change is the latest year against the one before; "
        "it is called clear when the two years' 95% intervals do not overlap.",
    ),
    "dev_caption": Text("{kommun}: utveckling per mått", "{kommun}: development per measure"),
    "dev_chart": Text(
        "{kommun}: värdet per år och mått, i procent. Samma siffror står i tabellen under.",
        "{kommun}: the value per year and measure, in percent. The table below has the same "
        "figures.",
    ),
    "change": Text("Förändring", "Change"),
    "verdict": Text("Bedömning", "Reading"),
    "clear": Text("tydlig förändring", "a clear change"),
    "maybe_chance": Text(
        "kan vara slump (intervallen överlappar)", "may be chance (the intervals overlap)"
    ),
    "unknown": Text("kan inte avgöras (intervall saknas)", "cannot be told (no interval)"),
    "one_year": Text("ett år", "one year"),
    "kolada": Text("Kolada", "Kolada"),
    "percent": Text("Procent", "Percent"),
    "own": Text("Egna e-postmått", "Our own e-mail measures"),
    "own_lead": Text(
        "Mått som den publicerade servicemätningen redovisade men som inte är Kolada-nyckeltal; "
        "de är våra egna. Avsändaruppgifter och svarskvalitet bedöms av en person per besvarad "
        "fråga; svarstiden räknas i arbetstimmar från att frågan togs emot till svaret.",
        "Measures the published service survey reported that are not Kolada KPIs: they are our "
        "own. Sender details and answer quality are judged by a person per answered question; "
        "the reply time is counted in working hours from the question's acceptance to the answer.",
    ),
    "own_caption": Text("Egna e-postmått per kommun", "Our own e-mail measures per municipality"),
    "awaiting": Text("{n} väntar på bedömning", "{n} awaiting assessment"),
    "hours": Text("{value} h", "{value} h"),
}


def _t(key: str, lang: Lang, **fields: object) -> str:
    return T[key](lang, **fields)


def pending_note(data: ReportData, lang: Lang) -> list[str]:
    """A warning first in the report while replies await review."""
    if not data.pending_replies:
        return []
    where = list(data.pending_where)
    if data.pending_unassigned:
        where.append(_t("unassigned", lang, n=data.pending_unassigned))
    text = _t("pending", lang, replies=data.pending_replies, where=", ".join(where))
    return [f'<p class="pending" role="note">{e(text)}</p>']


def _figure(value: float | None, lang: Lang) -> str:
    return "–" if value is None else num(value, lang, 0 if float(value).is_integer() else 1)


def country(data: ReportData, lang: Lang) -> list[str]:
    """Per municipality, each measure's place in the country and the network."""
    scored = [s for s in data.scores if s.value is not None]
    if not scored:
        return []
    parts = [f"<h2>{e(_t('country', lang))}</h2>"]
    colours = {c: _t(c, lang) for c in ("green", "yellow", "red")}
    if not any(p.national_year is not None for p in data.places.values()):
        return [*parts, f'<p class="note">{e(_t("country_none", lang))}</p>']
    parts.append(f"<p>{e(_t('country_lead', lang, **colours))}</p>")
    heads: list[str | tuple[str, str]] = [
        _t("measure", lang), (_t("value", lang), "num"), (_t("rank", lang), "num"),
        _t("quartile", lang), _t("country_figures", lang), _t("network_figures", lang),
    ]  # fmt: skip
    for kommunkod in by_name({s.kommunkod for s in scored}, data.targets):
        rows: list[list[Cell]] = []
        for s in (s for s in scored if s.kommunkod == kommunkod):
            p = data.places.get((s.kommunkod, s.measure_id))
            if p is None:
                continue
            measure = MEASURES[s.measure_id]
            title = measure.title_sv if lang == "sv" else measure.title_en
            colour = quartile_colour(p.national_quartile)
            rank = (
                _t("of", lang, rank=p.national_rank, n=p.compared)
                if p.national_rank is not None
                else "–"
            )
            quartile = (
                f"{p.national_quartile} ({colours[colour]})"
                if p.national_quartile is not None and colour is not None
                else "–"
            )
            country_text = "–"
            if p.national_year is not None:
                trio = " / ".join(
                    _figure(v, lang) for v in (p.national_best, p.national_worst, p.national_mean)
                )
                country_text = f"{trio} ({p.national_year}, {p.national_n})"
            network = " / ".join(
                _figure(v, lang) for v in (p.network_best, p.network_worst, p.network_mean)
            )
            rows.append([
                (e(title), ""), (e(s.value), "num"), (e(rank), "num"),
                (e(quartile), colour or ""), (e(country_text), ""), (e(network), ""),
            ])  # fmt: skip
        if rows:
            caption = _t("country_caption", lang, kommun=place(kommunkod, data.targets))
            parts.append(table(heads, rows, caption=caption, row_header=True))
    return parts


def _verdict(d: Development, lang: Lang) -> str:
    if d.change is None:
        return _t("one_year", lang)
    if d.overlap is None:
        return _t("unknown", lang)
    return _t("maybe_chance", lang) if d.overlap else _t("clear", lang)


def development(data: ReportData, lang: Lang) -> list[str]:
    """Per municipality: a table of each measure's years, the change and its reading, and a
    small chart when some measure has two years or more."""
    shown = [d for d in data.developments if d.points]
    if not shown:
        return []
    parts = [f"<h2>{e(_t('development', lang))}</h2>",
             f"<p>{e(_t('development_lead', lang))}</p>"]  # fmt: skip
    by_kommun: dict[str, list[Development]] = {}
    for d in shown:
        by_kommun.setdefault(d.kommunkod, []).append(d)
    for kommunkod in by_name(by_kommun, data.targets):
        rows_of = by_kommun[kommunkod]
        years = sorted({p.year for d in rows_of for p in d.points})
        name = place(kommunkod, data.targets)
        series: dict[str, list[tuple[int, float]]] = {}
        rows: list[list[Cell]] = []
        for d in rows_of:
            measure = MEASURES[d.measure_id]
            title = measure.title_sv if lang == "sv" else measure.title_en
            by_year = {p.year: p for p in d.points}
            cells: list[Cell] = []
            for y in years:
                p = by_year.get(y)
                if p is None:
                    cells.append(("–", "num"))
                else:
                    mark = "" if p.source == "campaign" else f" ({_t('kolada', lang)})"
                    cells.append((e(f"{_figure(p.value, lang)}{mark}"), "num"))
            change = (
                "–" if d.change is None else f"{'+' if d.change > 0 else ''}{num(d.change, lang)}"
            )
            rows.append([(e(title), ""), *cells, (e(change), "num"), (e(_verdict(d, lang)), "")])
            if len(d.points) > 1:
                series[title] = [(p.year, p.value) for p in d.points]
        heads: list[str | tuple[str, str]] = [
            _t("measure", lang), *[(str(y), "num") for y in years],
            (_t("change", lang), "num"), _t("verdict", lang),
        ]  # fmt: skip
        if series:
            svg = charts.trend_chart(
                f"development-{kommunkod}", series, title=name, ylabel=_t("percent", lang)
            )
            parts.append(figure(svg, _t("dev_chart", lang, kommun=name)))
        parts.append(
            table(heads, rows, caption=_t("dev_caption", lang, kommun=name), row_header=True)
        )
    return parts


def own_measures(data: ReportData, lang: Lang) -> list[str]:
    """Our own e-mail measures, a row per municipality, named as ours."""
    if not data.own:
        return []
    values: dict[str, dict[str, tuple[float | None, int]]] = {}
    for o in data.own:
        values.setdefault(o.kommunkod, {})[o.measure_id] = (o.value, o.awaiting)
    order = list(OWN_MAIL_MEASURES)
    heads: list[str | tuple[str, str]] = [
        _t("kommun", lang),
        *[
            ((m.title_sv if lang == "sv" else m.title_en), "num")
            for m in OWN_MAIL_MEASURES.values()
        ],
    ]
    rows: list[list[Cell]] = []
    for kommunkod in by_name(values, data.targets):
        cells: list[Cell] = [(e(place(kommunkod, data.targets)), "")]
        for measure_id in order:
            value, awaiting = values[kommunkod].get(measure_id, (None, 0))
            unit = OWN_MAIL_MEASURES[measure_id].unit
            shown = _figure(value, lang)
            if value is not None:
                shown = _t("hours", lang, value=shown) if unit == "hours" else f"{shown}\u00a0%"
            if awaiting:
                shown += f" ({_t('awaiting', lang, n=awaiting)})"
            cells.append((e(shown), "num"))
        rows.append(cells)
    return [
        f"<h2>{e(_t('own', lang))}</h2>",
        f"<p>{e(_t('own_lead', lang))}</p>",
        table(heads, rows, caption=_t("own_caption", lang), row_header=True),
    ]


def sections(data: ReportData, lang: Lang) -> list[str]:
    """Country, development and our own measures, in that order (after the summary)."""
    return country(data, lang) + development(data, lang) + own_measures(data, lang)

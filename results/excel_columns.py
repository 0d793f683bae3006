"""The columns of the exports for people (Swedish Excel): headers, cell kinds and code labels.

The machines' formats (:mod:`results.exports`) name their columns by key and write codes; the
formats for people write the same rows under Swedish (or English) headers, a code's label instead
of the code, and each measure by its name with its id beside it. The keys are the machine
columns', so one row feeds both; ``docs/exports.md`` lists the pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.core.i18n import Lang, Text
from harness.core.labels import fault_text

__all__ = [
    "PERSONAL_COLUMNS",
    "PROBE_COLUMNS",
    "RESULT_COLUMNS",
    "SHEETS",
    "CellKind",
    "Column",
    "label",
]

#: How a cell is written. "count": a whole number; "number": up to three decimals (hours, days,
#: shares); "one_decimal": an interval bound; "time": a local date and time; "text" as it is.
CellKind = Literal["text", "count", "number", "one_decimal", "time"]


@dataclass(frozen=True)
class Column:
    key: str
    header: Text
    kind: CellKind = "text"
    #: The code's label; a code without one is shown as it is (a code added after this table).
    labels: Mapping[str, Text] | None = None
    #: Reads the cell from the row (in the reader's language) when it is not ``row[key]``.
    get: Callable[[Mapping[str, Any], Lang], object] | None = None

    def value(self, row: Mapping[str, Any], lang: Lang) -> object:
        return self.get(row, lang) if self.get is not None else row.get(self.key)


def label(column: Column, code: object, lang: Lang) -> object:
    """The label of ``code`` in ``column``'s table, else the value unchanged."""
    if column.labels is None or not isinstance(code, str) or code not in column.labels:
        return code
    return column.labels[code](lang)


UNITS = {
    "percent": Text("procent", "percent"),
    "hours_per_week": Text("timmar per vecka", "hours per week"),
    "days": Text("dagar", "days"),
    "hours": Text("arbetstimmar", "working hours"),
}
SOURCES = {
    "scored": Text("mätning", "measured"),
    "scenario": Text("scenariots öppettider", "the scenario's opening hours"),
    "manual": Text("inmatat för hand", "entered by hand"),
    "assessed": Text("bedömt av en person", "assessed by a person"),
}
CHANNELS = {"email": Text("E-post", "E-mail"), "phone": Text("Telefon", "Phone")}
STATES = {
    "planned": Text("planerad", "planned"),
    "sending": Text("skickas", "being sent"),
    "sent": Text("skickad, väntar på svar", "sent, awaiting the answer"),
    "completed": Text("klar", "completed"),
    "failed": Text("mätfel (ersätts)", "harness fault (replaced)"),
    "cancelled": Text("avbruten", "cancelled"),
}
OUTCOMES = {
    # e-mail
    "answered": Text("besvarad", "answered"),
    "bounced": Text("studsade", "bounced"),
    "not_answered": Text("obesvarad", "not answered"),
    "rejected": Text(
        "avvisad: adressen eller numret fungerar inte", "rejected: the address or number fails"
    ),
    "send_unknown": Text("ovisst om den skickades", "sending in doubt"),
    "refused": Text("stoppad av en säkerhetsregel", "stopped by a safety rule"),
    "harness_fault": Text("mätfel (vårt fel)", "harness fault (our side)"),
    # phone
    "busy": Text("upptaget", "busy"),
    "no_answer": Text("inget svar", "no answer"),
    "failed": Text("misslyckat (vårt fel)", "failed (our side)"),
    "no_person": Text("ingen person inom spärrtiden", "no person within the hold limit"),
    "person": Text("person nådd", "person reached"),
}


def _fault(row: Mapping[str, Any], lang: Lang) -> str | None:
    """The fault's code worded in the reader's language (a server's own words quoted inside);
    a probe stored before faults had codes shows its stored English reason."""
    code, stored = row.get("fault_code"), row.get("fault_reason")
    if code is None and stored is None:
        return None
    return fault_text(code, row.get("fault_params"), lang, fallback=stored)


#: One row per municipality and measure (:func:`results.exports.score_rows`).
RESULT_COLUMNS: tuple[Column, ...] = (
    Column("kommunkod", Text("Kommunkod", "Municipality code")),
    Column("kommun", Text("Kommun", "Municipality")),
    Column("ar", Text("År", "Year"), "count"),
    Column("title", Text("Mått", "Measure")),
    Column("measure", Text("Måttets id", "Measure id")),
    Column(
        "kolada_id",
        Text("Kolada-id", "Kolada id"),
        # The KPI id only where Kolada has one: our own ids are the measure id beside it.
        get=lambda row, _: None if row.get("kpi_id_is_own") else row.get("kpi_id"),
    ),
    Column("value", Text("Värde", "Value"), "number"),
    Column("unit", Text("Enhet", "Unit"), labels=UNITS),
    Column("numerator", Text("Täljare", "Numerator"), "count"),
    Column("denominator", Text("Nämnare", "Denominator"), "count"),
    Column("points", Text("Poäng", "Points"), "count"),
    Column("max_points", Text("Maxpoäng", "Maximum points"), "count"),
    Column("calls", Text("Bedömda samtal", "Assessed calls"), "count"),
    Column(
        "ci_low", Text("Konfidensintervall, nedre", "Confidence interval, lower"), "one_decimal"
    ),
    Column(
        "ci_high", Text("Konfidensintervall, övre", "Confidence interval, upper"), "one_decimal"
    ),
    Column("edition", Text("KKiK-utgåva", "KKiK edition")),
    Column("source", Text("Källa", "Source"), labels=SOURCES),
    # The country (every municipality's published Kolada value) and the network beside it.
    Column("national_year", Text("Rikets år", "Country: year"), "count"),
    Column("national_best", Text("Rikets bästa", "Country: best"), "number"),
    Column("national_worst", Text("Rikets sämsta", "Country: worst"), "number"),
    Column("national_mean", Text("Rikets medel", "Country: mean"), "number"),
    Column("national_n", Text("Kommuner i riket", "Country: municipalities"), "count"),
    Column("national_rank", Text("Placering i riket", "Country: rank"), "count"),
    Column(
        "national_quartile", Text("Kvartil i riket (1 bäst)", "Country: quartile (1 best)"), "count"
    ),
    Column("network_best", Text("Nätverkets bästa", "Network: best"), "number"),
    Column("network_worst", Text("Nätverkets sämsta", "Network: worst"), "number"),
    Column("network_mean", Text("Nätverkets medel", "Network: mean"), "number"),
    Column(
        "awaiting_review", Text("Svar som väntar på granskning", "Replies awaiting review"), "count"
    ),
    Column(
        "awaiting_assessment",
        Text("Svar som väntar på bedömning", "Answers awaiting assessment"),
        "count",
    ),
    Column(
        "approximated",
        Text("Samtal räknade med närmevärde", "Calls counted by approximation"),
        "count",
    ),
)

#: One row per probe (``kkik export --evidence``; the XLSX's second sheet).
PROBE_COLUMNS: tuple[Column, ...] = (
    Column("probe_id", Text("Mätningens id", "Probe id"), "count"),
    Column("kommunkod", Text("Kommunkod", "Municipality code")),
    Column("kommun", Text("Kommun", "Municipality")),
    Column("channel", Text("Kanal", "Channel"), labels=CHANNELS),
    Column("planned_at", Text("Planerad", "Planned"), "time"),
    Column("sent_at", Text("Skickad eller ringd", "Sent or dialled"), "time"),
    Column("answered_at", Text("Svar kom", "Answer arrived"), "time"),
    Column("state", Text("Status", "State"), labels=STATES),
    Column("outcome", Text("Utfall", "Outcome"), labels=OUTCOMES),
    Column("fault_reason", Text("Orsak till mätfel", "Fault reason"), get=_fault),
    Column("replies", Text("Antal svar", "Replies"), "count"),
)
PERSONAL_COLUMNS: tuple[Column, ...] = (
    Column("reply_from_name", Text("Svarets avsändare", "Reply sender")),
    Column("reply_from_address", Text("Avsändarens adress", "Sender address")),
)

#: The XLSX's sheets, one per level (at most 31 characters, none of []:*?/\).
SHEETS = {
    "results": Text("Per kommun och mått", "By municipality and measure"),
    "probes": Text("Per mätning", "By probe"),
}

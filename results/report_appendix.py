"""The report's closing sections: the other accessibility measures (reported, not scored), the
method with every setting the numbers depend on (labelled, the setting's key beside it), and the
appendix with one row per probe (names, not codes; no personal data)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from harness.core.i18n import Lang
from results.measures import MAX_POINTS_PER_CALL, OTHER_MEASURES
from results.report_html import Cell, by_name, e, local, num, place, table
from results.report_model import EvidenceLine, ReportData
from results.report_texts import (
    OUTCOME_OF,
    OUTCOMES,
    T,
    area_title,
    setting_label,
    setting_value,
    texts,
)


def other(data: ReportData, lang: Lang) -> list[str]:
    if not data.other:
        return []
    t = texts(lang)
    order = list(OTHER_MEASURES)
    rows: list[list[Cell]] = []
    names = {code: i for i, code in enumerate(by_name({o.kommunkod for o in data.other},
                                                       data.targets))}  # fmt: skip
    for o in sorted(data.other, key=lambda o: (names[o.kommunkod], _rank(order, o.measure_id))):
        measure = OTHER_MEASURES.get(o.measure_id)
        title = o.measure_id
        unit = ""
        if measure is not None:
            title = measure.title_sv if lang == "sv" else measure.title_en
            unit = T[f"unit_{measure.unit}"](lang)
        source = T[f"source_{o.source}"](lang) if f"source_{o.source}" in T else o.source
        rows.append([(e(place(o.kommunkod, data.targets)), ""), (e(title), ""),
                     (f"{e(num(o.value, lang))} {e(unit)}", "num"), (e(source), "")])  # fmt: skip
    heads: list[str | tuple[str, str]] = [t["kommun"], t["measure"], (t["value"], "num"),
                                          t["source"]]  # fmt: skip
    return [f"<h2>{e(t['other'])}</h2>", table(heads, rows, row_header=True)]


def _rank(order: list[str], measure_id: str) -> int:
    return order.index(measure_id) if measure_id in order else len(order)


def method(data: ReportData, lang: Lang) -> list[str]:
    t = texts(lang)
    settings: list[list[Cell]] = [
        [(f'{e(setting_label(key, lang))} <span class="code">{e(key)}</span>', ""),
         (e(setting_value(key, value, lang)), "")]
        for key, value in data.settings
    ]  # fmt: skip
    samples: list[list[Cell]] = [
        [(e(t.get(channel, channel)), ""), (str(planned), "num"), (str(placed), "num")]
        for channel, (planned, placed) in data.samples.items()
    ]
    return [
        f"<h2>{e(t['method'])}</h2>",
        f"<p>{e(t['method_text'])}</p>",
        table([t["setting"], t["value"]], settings, row_header=True),
        f"<h3>{e(t['samples'])}</h3>",
        table([t["channel"], (t["planned"], "num"), (t["placed"], "num")], samples,
              row_header=True),
    ]  # fmt: skip


def appendix(data: ReportData, zone: ZoneInfo, lang: Lang) -> list[str]:
    t = texts(lang)
    rows: list[list[Cell]] = []
    rank = {code: i for i, code in enumerate(by_name({x.kommunkod for x in data.evidence},
                                                      data.targets))}  # fmt: skip
    for x in sorted(data.evidence, key=lambda x: (rank[x.kommunkod], x.sent_at, x.probe_id)):
        if x.business_hours is not None:
            took = f"{num(x.business_hours, lang)} h"
        elif x.seconds_to_person is not None:
            took = f"{x.seconds_to_person:.0f} s"
        else:
            took = "–"
        rows.append([
            (str(x.probe_id), "num"),
            (e(place(x.kommunkod, data.targets)), ""),
            (e(t.get(x.channel, x.channel)), ""),
            (e(area_title(x.area, lang)), ""),
            (local(x.sent_at, zone), ""),
            (local(x.answered_at, zone), ""),
            (e(took), "num"),
            (e(_result(x, lang)), ""),
            (e(_assessment(x, lang)), ""),
        ])  # fmt: skip
    heads: list[str | tuple[str, str]] = [
        (t["probe_no"], "num"), t["kommun"], t["channel"], t["area"], t["sent"], t["answer"],
        (t["time"], "num"), t["result"], t["assessment"],
    ]  # fmt: skip
    return [
        f"<h2>{e(t['evidence'])}</h2>",
        f'<p class="note">{e(t["evidence_note"])}</p>',
        table(heads, rows, css="appendix", row_header=True),
    ]


def _result(x: EvidenceLine, lang: Lang) -> str:
    outcome = OUTCOME_OF.get((x.channel, x.category))
    return OUTCOMES[outcome](lang) if outcome else x.category


def _assessment(x: EvidenceLine, lang: Lang) -> str:
    """A call's assessment: direct answer (yes/no), then bemötande points of the maximum."""
    parts = []
    if x.channel == "phone" and x.direct_answer is not None:
        parts.append(T["yes" if x.direct_answer else "no"](lang))
    if x.channel == "phone" and x.bemotande is not None:
        parts.append(T["bemotande"](lang, points=x.bemotande, max=MAX_POINTS_PER_CALL))
    return ", ".join(parts)

"""Every text of the campaign report in Swedish and English, and a label for every code it shows.

A reader meets names, never codes alone: municipalities by name with their kommunkod beside,
question areas by their titles (the question bank's, ``scenarios/questions/*.toml``), outcomes,
channels, colours and settings by labels, the setting's key beside its label so staff can find
it in ``config.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from harness.core.i18n import Lang, Text
from harness.core.labels import AREAS, CALL_MODES, CALL_OUTCOMES, WEEKDAYS
from harness.core.setting_labels import setting_label as config_setting_label

T = {
    "title": Text("KKiK-mätning: {name}", "KKiK measurement: {name}"),
    "lead": Text(
        "{n} kommuner, {start} – {end}, utgåva {edition}. Skapad {at}.",
        "{n} municipalities, {start} – {end}, edition {edition}. Generated {at}.",
    ),
    "summary": Text("Sammanfattning per kommun", "Summary per municipality"),
    "summary_lead": Text(
        "En rad per kommun med varje mått i procent och antalet bakom. Färgen jämför kommunen "
        "med nätverket: {green}, {yellow}, {red}. Sist nätverkets medel och rikets värde.",
        "One row per municipality with every measure in percent and the counts behind it. The "
        "colour compares the municipality with the network: {green}, {yellow}, {red}. The "
        "network mean and the national figure come last.",
    ),
    "summary_caption": Text(
        "Alla mått per kommun, med nätverkets medel och riket",
        "Every measure per municipality, with the network mean and the national figure",
    ),
    "measures": Text("Resultat per mått", "Results per measure"),
    "kommun": Text("Kommun", "Municipality"),
    "value": Text("Värde", "Value"),
    "share": Text("Antal", "Count"),
    "interval": Text("95 % intervall", "95% interval"),
    "colour": Text("Jämförelse", "Comparison"),
    "waiting": Text("{n} väntar på bedömning", "{n} awaiting assessment"),
    "faults": Text("{n} mätfel (uteslutna)", "{n} harness faults (excluded)"),
    # Edition 2011 counted by an approximation where its own evidence is missing.
    "approximated": Text(
        "{n} samtal räknade med närmevärde (utan 2011 års markering eller skala)",
        "{n} calls counted by approximation (without the 2011 mark or scale)",
    ),
    "network": Text("Nätverkets medel", "Network mean"),
    "national": Text("Riket", "National"),
    "national_cell": Text("{year}, {kind}", "{year}, {kind}"),
    "participant_mean": Text("deltagarnas medel", "participants' mean"),
    "vendor_mean": Text("mätföretagets medel", "the vendor's mean"),
    "no_calls": Text("0 bedömda samtal", "0 assessed calls"),
    "no_probes": Text("Inga mätningar i den här kanalen.", "No probes in this channel."),
    "no_value": Text("inget värde", "no value"),
    "green": Text("grön", "green"),
    "yellow": Text("gul", "yellow"),
    "red": Text("röd", "red"),
    "green_means": Text("grön = bästa fjärdedelen", "green = best quarter"),
    "yellow_means": Text("gul = mellersta hälften", "yellow = middle half"),
    "red_means": Text("röd = sämsta fjärdedelen", "red = worst quarter"),
    "no_colour": Text("ingen jämförelse", "no comparison"),
    "percent": Text("procent", "percent"),
    "interval_caption": Text(
        "{title}: värdet per kommun (punkt) med 95 % intervall (streck), färgat efter "
        "jämförelsen med nätverket{lines}. Tabellen under har samma siffror.",
        "{title}: the value per municipality (dot) with its 95% interval (bar), coloured by the "
        "comparison with the network{lines}. The table below holds the same figures.",
    ),
    "ranked_caption": Text(
        "{title}: {n} kommuner ordnade efter värde, utan namn i diagrammet; färgen jämför med "
        "nätverket{lines}. Tabellen under namnger alla.",
        "{title}: {n} municipalities ranked by value, unnamed in the chart; the colour compares "
        "with the network{lines}. The table below names them all.",
    ),
    "network_line": Text(
        "; streckad linje: nätverkets medel {value}", "; dashed line: network mean {value}"
    ),
    "national_line": Text(
        "; prickad linje: riket {value} ({year}, {kind})",
        "; dotted line: national {value} ({year}, {kind})",
    ),
    "email_dist": Text("E-post: arbetstid till svar", "E-mail: business hours to answer"),
    "email_dist_x": Text(
        "arbetstimmar (08–17 på arbetsdagar)", "business hours (08–17 on working days)"
    ),
    "email_dist_caption": Text(
        "Arbetstimmar från fråga till svar för {n} besvarade e-postfrågor, median {median} h; "
        "{within} av dem ({share} %) inom 9 arbetstimmar (en arbetsdag, streckad linje). "
        "Tabellen under har samma fördelning.",
        "Business hours from question to answer for {n} answered e-mails, median {median} h; "
        "{within} of them ({share}%) within 9 business hours (one working day, dashed line). "
        "The table below holds the same distribution.",
    ),
    "one_day": Text("en arbetsdag", "one working day"),
    "unanswered": Text(
        "{n} e-postfrågor utan svar visas inte.", "{n} e-mails without an answer are not shown."
    ),
    "beyond_hours": Text("längre samlas i sista stapeln", "longer in the last bar"),
    "count": Text("antal", "count"),
    "pct": Text("Andel (%)", "Share (%)"),
    "band": Text("Tid", "Time"),
    "bands_caption": Text(
        "Fördelningen i grupper (en gräns räknas till gruppen under den)",
        "The distribution in bands (an edge belongs to the band below it)",
    ),
    "phone_dist": Text("Telefon: tid tills en person svarar", "Phone: time until a person answers"),
    "phone_dist_x": Text("sekunder från uppringning", "seconds from dialling"),
    "phone_dist_caption": Text(
        "Sekunder från uppringning till en person för {n} samtal, median {median} s; {within60} "
        "inom 60 s och {within120} inom 120 s (streckade linjer). Tabellen under har samma "
        "fördelning.",
        "Seconds from dialling to a person for {n} calls, median {median} s; {within60} within "
        "60 s and {within120} within 120 s (dashed lines). The table below holds the same "
        "distribution.",
    ),
    "beyond_seconds": Text("längre samlas i sista stapeln", "longer in the last bar"),
    "no_person_calls": Text(
        "{n} samtal nådde ingen person och visas inte.",
        "{n} calls reached no person and are not shown.",
    ),
    "outcomes": Text("Utfall", "Outcomes"),
    "outcomes_caption": Text(
        "Utfall per kanal, en färg per utfall: {parts}. Tabellen under har samma antal.",
        "Outcomes per channel, one colour per outcome: {parts}. The table below holds the same "
        "counts.",
    ),
    "probes": Text("mätningar", "probes"),
    "email": Text("E-post", "E-mail"),
    "phone": Text("Telefon", "Phone"),
    "areas": Text("Resultat per frågeområde", "Results per question area"),
    "area": Text("Område", "Area"),
    "area_email": Text("E-post inom en arbetsdag", "E-mail within one working day"),
    "area_phone": Text("Direkt svar i telefon", "Direct answer by phone"),
    "areas_caption": Text(
        "Andel e-postfrågor besvarade inom en arbetsdag per frågeområde. Tabellen ovan har "
        "samma siffror och direkta svar i telefon.",
        "Share of e-mails answered within one working day per question area. The table above "
        "holds the same figures and direct answers by phone.",
    ),
    "trend": Text(
        "Utveckling över kampanjer (nätverkets medel)", "Trend over campaigns (network mean)"
    ),
    "trend_caption": Text(
        "Nätverkets medel per mått och kampanjår, en linje per mått. Tabellen under har samma "
        "värden.",
        "The network mean per measure and campaign year, one line per measure. The table below "
        "holds the same values.",
    ),
    "year": Text("År", "Year"),
    "other": Text("Andra tillgänglighetsmått", "Other accessibility measures"),
    "measure": Text("Mått", "Measure"),
    "unit_hours_per_week": Text("h/vecka", "h/week"),
    "unit_percent": Text("%", "%"),
    "unit_days": Text("dagar", "days"),
    "source_scenario": Text("öppettider i scenariot", "opening hours in the scenario"),
    "source_manual": Text("inmatat", "entered by hand"),
    "source": Text("Källa", "Source"),
    "method": Text("Metod och inställningar", "Method and settings"),
    "method_text": Text(
        "Mätningen följer KKiK:s metod: en enkel fråga per e-post och per telefon. E-postsvar "
        "räknas från när vår server tog emot frågan till när svaret kom fram till vår "
        "e-postserver, i arbetstid (08–17 på svenska arbetsdagar). Procent avrundas till hela tal "
        "(0,5 uppåt) och visas med antal och ett 95 % Wilson-intervall. Bemötande visas som "
        "poäng av maxpoäng (3 per samtal) med antalet bedömda samtal. Mätfel på vår sida "
        "räknas inte och ersätts med nya mätningar.",
        "The measurement follows the KKiK method: one simple question by e-mail and by phone. "
        "E-mail replies are timed from our server's acceptance of the question to the reply's "
        "arrival at our mail server, in business time (08–17 on Swedish working days). "
        "Percentages are rounded to whole numbers (half up) and shown with counts and a 95% "
        "Wilson interval. Treatment (bemötande) is shown as points of the maximum (3 per call) "
        "with the number of assessed calls. Faults on our side do not count and are replaced by "
        "new probes.",
    ),
    "setting": Text("Inställning", "Setting"),
    "samples": Text("Urval", "Sample sizes"),
    "planned": Text("planerade", "planned"),
    "placed": Text("skickade/ringda", "sent/placed"),
    "evidence": Text("Bilaga: alla mätningar", "Appendix: every probe"),
    "probe_no": Text("Nr", "No."),
    "channel": Text("Kanal", "Channel"),
    "sent": Text("Ställd", "Asked"),
    "answer": Text("Besvarad", "Answered"),
    "evidence_note": Text(
        "Ställd: när vår server lämnade e-postfrågan eller samtalet ringdes upp. Besvarad: när "
        "svaret kom fram till vår e-postserver eller en person svarade i telefon. Tid: "
        "arbetstimmar till svaret eller sekunder till en person. Inga personuppgifter.",
        "Asked: when our server handed over the e-mail or the call was dialled. Answered: when "
        "the reply reached our mail server or a person answered the phone. Time: business hours "
        "to the answer or seconds to a person. No personal data.",
    ),
    "result": Text("Resultat", "Result"),
    "time": Text("Tid", "Time"),
    "assessment": Text("Direkt svar, bemötande", "Direct answer, treatment"),
    "bemotande": Text("{points} av {max}", "{points} of {max}"),
    "yes": Text("ja", "yes"),
    "no": Text("nej", "no"),
    "none": Text("inga", "none"),
}

#: Short measure titles for the summary's column heads; the full titles head each measure.
SHORT = {
    "email_within_1_working_day": Text("E-post inom en arbetsdag", "E-mail within a working day"),
    "email_within_2_working_days": Text(
        "E-post inom två arbetsdagar", "E-mail within two working days"
    ),
    "phone_direct_answer": Text("Direkt svar i telefon", "Direct answer by phone"),
    "phone_contact_case_officer": Text("Kontakt med handläggare", "Reached a case officer"),
    "phone_bemotande": Text("Bemötande (andel av maxpoäng)", "Treatment (share of maximum)"),
    "phone_bemotande_good_share": Text("Gott bemötande (andel)", "Good treatment (share)"),
    "phone_person_within_60s": Text("Person inom 60 s", "Person within 60 s"),
    "phone_person_within_120s": Text("Person inom 120 s", "Person within 120 s"),
}

#: What happened to a probe, by meaning: e-mail "none" and phone "no_answer" are one outcome
#: (no answer), as are an e-mail's "fault" and a call's "failed" (a harness fault), so each
#: label and each colour in the outcome chart means one thing.
OUTCOME_OF = {
    ("email", "within"): "within",
    ("email", "later"): "later",
    ("email", "none"): "no_answer",
    ("email", "fault"): "fault",
    ("phone", "person"): "person",
    ("phone", "no_person"): "no_person",
    ("phone", "no_answer"): "no_answer",
    ("phone", "busy"): "busy",
    ("phone", "failed"): "fault",
    ("phone", "pending"): "pending",
}
#: A call's outcomes are worded as everywhere else (harness.core.labels).
OUTCOMES = {
    "within": Text("svar inom en arbetsdag", "answered within one working day"),
    "later": Text("svar senare", "answered later"),
    "person": CALL_OUTCOMES["person"],
    "no_person": CALL_OUTCOMES["no_person"],
    "no_answer": CALL_OUTCOMES["no_answer"],
    "busy": CALL_OUTCOMES["busy"],
    "pending": Text("pågår", "pending"),
    "fault": Text("mätfel (uteslutet)", "harness fault (excluded)"),
}


#: The settings the numbers depend on (harness.campaign.reportdata), by their keys.
SETTINGS = {
    "edition": Text("KKiK-utgåva (vilka mått)", "KKiK edition (which measures)"),
    "calendar.office_hours": Text("Kontorstid på arbetsdagar", "Office hours on working days"),
    "campaign.extra_closed_days": Text(
        "Egna stängda dagar (den här kampanjen)", "Own closed days (this campaign)"
    ),
    "campaign.give_up_working_days": Text(
        "Obesvarad efter (arbetsdagar)", "Unanswered after (working days)"
    ),
    "campaign.send_window": Text("Tider för e-postfrågor", "Times for e-mail questions"),
    "campaign.call_window": Text("Tider för samtal", "Times for calls"),
    "campaign.weekdays": Text("Veckodagar för mätningar", "Weekdays for probes"),
    "campaign.max_calls_per_target_per_day": Text(
        "Högst antal samtal per kommun och dag", "At most calls per municipality and day"
    ),
    "campaign.min_spacing_minutes": Text(
        "Minsta tid mellan två mätningar hos en kommun (minuter)",
        "Least time between two probes to a municipality (minutes)",
    ),
    "campaign.seed": Text("Slumptal för planen", "Random seed of the plan"),
}
#: Setting values that are codes: (key, code) -> label.
VALUES = {
    ("email.deadline_rule", "office_hours"): Text(
        "9 timmars kontorstid efter frågan", "9 office hours after the question"
    ),
    ("email.deadline_rule", "next_working_day_same_time"): Text(
        "samma klockslag nästa arbetsdag", "the same time on the next working day"
    ),
    **{("phone.mode", mode): text for mode, text in CALL_MODES.items()},
}


@cache
def texts(lang: Lang) -> Mapping[str, str]:
    """The report's fixed texts in ``lang`` (those without fields)."""
    return {key: text(lang) for key, text in T.items() if "{" not in text.sv}


def area_title(area: str | None, lang: Lang) -> str:
    if area is None:
        return "–"
    label = AREAS.get(area)
    return label(lang) if label is not None else area


def setting_label(key: str, lang: Lang) -> str:
    """The report's own rows (the edition, the campaign's settings), else the configuration's
    setting as the dashboard's settings page names it."""
    label = SETTINGS.get(key)
    return label(lang) if label is not None else config_setting_label(key, lang)


def setting_value(key: str, value: str, lang: Lang) -> str:
    """A setting's value in words: codes labelled (the code kept beside), lists and yes/no."""
    label = VALUES.get((key, value))
    if label is not None:
        return f"{label(lang)} ({value})"
    if value in ("true", "false"):
        return T["yes" if value == "true" else "no"](lang)
    if key == "campaign.weekdays":
        days = [d.strip() for d in value.split(",") if d.strip()]
        return ", ".join(WEEKDAYS[d](lang) if d in WEEKDAYS else d for d in days)
    if value in ("", "–") and key.endswith("closed_days"):
        return T["none"](lang)
    return value

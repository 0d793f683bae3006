"""Every ``kkik`` command: the module that builds it and its one-line summary.

``kkik --help`` lists the commands from this table, so listing them imports none of their
modules; a command's module (and with it SQLAlchemy, matplotlib, the Twilio SDK or whatever it
needs) is imported only when that command is run or asked for its own help (issue 16, item 8).
The summaries are short enough that click never cuts them in an 80-column terminal; the full
help of each command stays in its module.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.i18n import Text


@dataclass(frozen=True)
class Entry:
    module: str  # under harness.cli; its build(lang) returns this command (or a list holding it)
    summary: Text


COMMANDS: dict[str, Entry] = {
    "calendar": Entry(
        "calendar_cmd",
        Text(
            "Arbetsdagar och kontorstid (Europe/Stockholm).",
            "Working days and office hours (Europe/Stockholm).",
        ),
    ),
    "call": Entry(
        "call_cmd",
        Text("Samtal: lista, visa, markera och bedöm.", "Calls: list, show, mark and assess."),
    ),
    "cancel": Entry(
        "run_cmd",
        Text("Stryk en planerad fråga.", "Withdraw a planned question."),
    ),
    "config": Entry(
        "config_cmd",
        Text("Konfigurationen: kontrollera filen.", "The configuration: check the file."),
    ),
    "db": Entry(
        "db_cmd",
        Text(
            "Databasen: skapa, uppgradera, visa schemaversion.",
            "The database: create, upgrade, show the schema version.",
        ),
    ),
    "demo": Entry(
        "demo_cmd",
        Text(
            "Kör en hel kampanj mot ett simulerat län, utan nätverk.",
            "Run a whole campaign against a simulated county, offline.",
        ),
    ),
    "doctor": Entry(
        "doctor_cmd",
        Text(
            "Kontrollera hemligheter, databas, e-postservrar och MX-poster.",
            "Check secrets, database, mail servers and MX records.",
        ),
    ),
    "export": Entry(
        "export_cmd",
        Text(
            "Exportera resultaten (CSV, XLSX, JSON eller Kolada-JSON).",
            "Export the results (CSV, XLSX, JSON or Kolada JSON).",
        ),
    ),
    "mail": Entry(
        "mail_cmd",
        Text(
            "E-post: klassa, bevaka, testa, svarstidslogg, bedöm svar.",
            "E-mail: classify, watch, test, reply log, assess answers.",
        ),
    ),
    "measure": Entry(
        "measure_cmd",
        Text(
            "Övriga mått: öppettider, förskoleplats, särskilt boende.",
            "Other measures: opening hours, preschool, elderly housing.",
        ),
    ),
    "pause": Entry(
        "run_cmd",
        Text(
            "Pausa kampanjen (eller en kommun med --target).",
            "Pause the campaign (or one municipality with --target).",
        ),
    ),
    "plan": Entry(
        "plan_cmd",
        Text(
            "Visa kampanjens plan; --save sparar den.", "Show the campaign plan; --save stores it."
        ),
    ),
    "purge": Entry(
        "purge_cmd",
        Text(
            "Ta bort gamla personuppgifter; tider och resultat finns kvar.",
            "Remove old personal data; timestamps and results stay.",
        ),
    ),
    "reference": Entry(
        "reference_cmd",
        Text(
            "Jämförelsevärden (riket, andra kommuner).",
            "Reference figures (the country, other municipalities).",
        ),
    ),
    "report": Entry(
        "report_cmd",
        Text(
            "Skriv kampanjens rapport (HTML, och PDF med --pdf).",
            "Write the campaign report (HTML, and PDF with --pdf).",
        ),
    ),
    "resolve": Entry(
        "resolve_cmd",
        Text(
            "Utskick i ovisshet: lista dem och besluta om de skickades.",
            "Sends in doubt: list them and decide whether they were sent.",
        ),
    ),
    "resume": Entry(
        "run_cmd",
        Text(
            "Återuppta kampanjen (eller en kommun med --target).",
            "Resume the campaign (or one municipality with --target).",
        ),
    ),
    "run": Entry(
        "run_cmd",
        Text(
            "Kör kampanjen: skicka när det är dags och bevaka brevlådan.",
            "Run the campaign: send when due and watch the mailbox.",
        ),
    ),
    "score": Entry(
        "score_cmd",
        Text(
            "Räkna KKiK-måtten per kommun (ur databasen eller en CSV-fil).",
            "Compute the KKiK measures per municipality (database or CSV).",
        ),
    ),
    "serve": Entry(
        "serve_cmd",
        Text("Kör webbpanelen och Twilios webhooks.", "Serve the dashboard and Twilio's webhooks."),
    ),
    "status": Entry(
        "status_cmd",
        Text(
            "Visa kampanjens framsteg per kommun och kanal.",
            "Show the campaign's progress per municipality and channel.",
        ),
    ),
    "user": Entry(
        "user_cmd",
        Text(
            "Webbpanelens användare: lägg till, lista, stäng av, slå på.",
            "Dashboard users: add, list, disable, enable, set a password.",
        ),
    ),
}

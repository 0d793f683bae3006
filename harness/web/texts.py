"""What the dashboard says, in Swedish (default) and English: one table for all pages."""

from __future__ import annotations

from harness.core.i18n import Lang, Text

TEXTS: dict[str, Text] = {
    "app_name": Text("Tillgänglighetsmätning", "Accessibility measurement"),
    "skip_to_content": Text("Hoppa till innehållet", "Skip to content"),
    "main_menu": Text("Huvudmeny", "Main menu"),
    "other_language": Text("English", "Svenska"),
    "logout": Text("Logga ut", "Log out"),
    "login": Text("Logga in", "Log in"),
    "name": Text("Användarnamn", "User name"),
    "password": Text("Lösenord", "Password"),
    "login_failed": Text("Fel användarnamn eller lösenord.", "Wrong user name or password."),
    "login_limited": Text(
        "För många misslyckade försök. Försök igen om {minutes} minuter.",
        "Too many failed attempts. Try again in {minutes} minutes.",
    ),
    "logged_out": Text("Du är utloggad.", "You are logged out."),
    "login_required": Text("Logga in först.", "Log in first."),
    "to_overview": Text("Till översikten", "To the overview"),
    "forbidden": Text("Din roll får inte göra det här.", "Your role may not do this."),
    "csrf_failed": Text(
        "Formuläret hade gått ut eller saknade sin kontrollkod. Försök igen.",
        "The form had expired or lacked its check code. Try again.",
    ),
    "csrf_cross_site": Text(
        "Förfrågan kom inte från den här webbplatsen och avvisades. Öppna sidan här och försök "
        "igen.",
        "The request did not come from this site and was refused. Open the page here and try "
        "again.",
    ),
    "role_admin": Text("administratör", "administrator"),
    "role_staff": Text("handläggare", "staff"),
    "role_viewer": Text("läsare", "viewer"),
    "nav_overview": Text("Översikt", "Overview"),
    "nav_email": Text("E-postlogg", "E-mail log"),
    "nav_review": Text("Granska", "Review"),
    "nav_calls": Text("Samtal", "Calls"),
    "nav_report": Text("Rapport och export", "Report and export"),
}


def t(key: str, lang: Lang, **fields: object) -> str:
    """The text for ``key``; an unknown key shows itself, so a missing text is seen, not hidden."""
    text = TEXTS.get(key)
    return text(lang, **fields) if text is not None else key

"""The Swedish text the demo world's mails are written from: names, areas, sentences (pure data).

People's first and last names, per question bank area the title under an officer's name, the
unit a holding reply forwards to and one answering sentence, general answering sentences,
openers, closers, new subjects, sign-offs, and the weekday and month names mail clients quote
with. :mod:`harness.demo.mail_writer` draws from them.
"""

from __future__ import annotations

_FIRST_NAMES = (
    "Karin", "Eva", "Lena", "Maria", "Helena", "Ulrika", "Malin", "Åsa", "Ingrid", "Sofia",
    "Camilla", "Therese", "Erik", "Johan", "Mikael", "Peter", "Fredrik", "Jonas", "Björn",
    "Göran", "Magnus", "Stefan", "Daniel", "Per",
)  # fmt: skip
_LAST_NAMES = (
    "Ström", "Nilsson", "Persson", "Olsson", "Eriksson", "Jonsson", "Lund", "Hägglund",
    "Sjöberg", "Öberg", "Åslund", "Bäckström", "Forsberg", "Lindqvist", "Hansson", "Wikström",
    "Jämtgård", "Mattsson", "Sundqvist", "Holmgren",
)  # fmt: skip
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})

# (title under the officer's name, the unit a holding reply forwards to, one answering sentence)
_AREAS: dict[str, tuple[str, str, str]] = {
    "bygglov": (
        "Bygglovshandläggare",
        "bygglovsenheten",
        "Det du beskriver räknas normalt som en lovpliktig åtgärd, men i vissa fall räcker det "
        "med en anmälan om åtgärden uppfyller villkoren för attefallsåtgärder.",
    ),
    "forskola": (
        "Placeringshandläggare, förskola",
        "förskoleavdelningen",
        "Du ansöker om förskoleplats i e-tjänsten, och vi erbjuder en plats senast fyra månader "
        "efter det datum då din ansökan kom in.",
    ),
    "grundskola": (
        "Skoladministratör",
        "barn- och utbildningsförvaltningen",
        "Skolvalet görs i e-tjänsten under januari, och alla elever som bor i kommunen har rätt "
        "till en plats i en skola nära hemmet.",
    ),
    "ifo": (
        "Socialsekreterare",
        "socialtjänsten",
        "Du kan ansöka om ekonomiskt bistånd i socialtjänstens e-tjänst eller på blankett, och "
        "vi gör då en bedömning utifrån hela hushållets situation.",
    ),
    "miljo-och-halsa": (
        "Miljö- och hälsoskyddsinspektör",
        "miljö- och hälsoskyddsenheten",
        "Verksamheten ska anmälas till miljöenheten innan den startar, och avgiften tas ut "
        "enligt kommunens taxa för tillsyn.",
    ),
    "gator-och-vagar": (
        "Gatuingenjör",
        "gatuenheten",
        "Gatorna snöröjs i den ordning kommunen har bestämt, där huvudgator och busslinjer "
        "plogas först och lokalgatorna därefter.",
    ),
    "aldreomsorg": (
        "Biståndshandläggare",
        "biståndsenheten",
        "Hemtjänst söker du hos biståndshandläggaren, som utreder ditt behov tillsammans med dig "
        "innan beslut fattas.",
    ),
    "lss": (
        "LSS-handläggare",
        "LSS-enheten",
        "En ansökan om insats enligt LSS görs skriftligt, och en handläggare utreder sedan vilka "
        "insatser som kan bli aktuella i ditt fall.",
    ),
    "ovrigt": (
        "Bibliotekarie",
        "kultur- och fritidsförvaltningen",
        "Biblioteket har öppet även kvällar och helger, och du kan låna om dina böcker själv "
        "via webbplatsen eller appen.",
    ),
}
_DEFAULT_AREA = ("Handläggare", "rätt förvaltning", "")
_ANSWER_SENTENCES = (
    "Handläggningstiden är normalt två till fyra veckor från det att vi har fått in alla "
    "handlingar.",
    "Avgiften bestäms av den taxa som kommunfullmäktige har beslutat och framgår av beslutet.",
    "Blanketten och mer information finns på kommunens webbplats, där du även kan se hur långt "
    "handläggningen har kommit.",
    "Om du bifogar en enkel skiss eller beskrivning blir det lättare för oss att ge ett snabbt "
    "och korrekt besked.",
    "Beslutet kan överklagas inom tre veckor, och hur det går till står alltid i slutet av "
    "beslutet.",
    "Det finns ingen särskild kö för detta, utan vi tar ärendena i den ordning de kommer in.",
    "Reglerna är desamma i hela kommunen, så det spelar ingen roll i vilken del av kommunen du "
    "bor.",
)
_OPENERS = ("Tack för din fråga.", "Tack för ditt mejl.", "")
_CLOSERS = ("Hör gärna av dig igen om något är oklart.", "Lycka till!", "")
_NEW_SUBJECTS = (
    "Svar på din fråga",
    "Din fråga till kommunen",
    "Information om det du frågade",
    "Angående din fråga",
)
_SIGN_OFFS = ("Med vänlig hälsning", "Med vänliga hälsningar", "Vänliga hälsningar", "Hälsningar")
_WEEKDAYS = ("mån", "tis", "ons", "tors", "fre", "lör", "sön")
_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
_MONTHS_SHORT = (
    "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec.",
)  # fmt: skip

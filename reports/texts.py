"""The words of the reports, in Dutch and English, and how amounts and dates are written.

Member-facing texts are plain language (B1): short sentences, everyday words."""

from __future__ import annotations

from datetime import date

from coop.vocabulary.terms import CATEGORIES, Category

TEXTS: dict[str, dict[str, str]] = {
    "annual_title": {"nl": "Jaarverslag baten {year}", "en": "Annual benefit report {year}"},
    "annual_subtitle": {
        "nl": "Wat de coöperatie met de gezondheidsgegevens van haar leden deed, wat het opbracht en waar het heen ging",
        "en": "What the cooperative did with its members' health data, what it earned and where it went",
    },
    "as_of": {"nl": "Cijfers per {date}", "en": "Figures as of {date}"},
    "summary": {"nl": "Samenvatting", "en": "Summary"},
    "members": {"nl": "Leden", "en": "Members"},
    "joined": {"nl": "Nieuwe leden", "en": "Joined"},
    "left": {"nl": "Vertrokken leden", "en": "Left"},
    "opted_out": {"nl": "Leden met opt-out", "en": "Members who opted out"},
    "income": {"nl": "Inkomsten uit vergunningen", "en": "Income from permits"},
    "expenses": {"nl": "Kosten", "en": "Operating expenses"},
    "net_income": {"nl": "Netto-inkomsten", "en": "Net income"},
    "grants_total": {"nl": "Giften aan de samenleving", "en": "Grants to society"},
    "revenue": {"nl": "Inkomsten per vergunning, gebruiker en doel", "en": "Revenue by permit, user type and purpose"},
    "by_user_type": {"nl": "Per soort gebruiker", "en": "By user type"},
    "by_purpose": {"nl": "Per doel", "en": "By purpose"},
    "permit": {"nl": "Vergunning", "en": "Permit"},
    "applicant": {"nl": "Aanvrager", "en": "Applicant"},
    "user_type": {"nl": "Gebruiker", "en": "User type"},
    "purposes": {"nl": "Doelen", "en": "Purposes"},
    "status": {"nl": "Status", "en": "Status"},
    "flags": {"nl": "Meldingen", "en": "Compliance flags"},
    "results": {"nl": "Resultaten", "en": "Results"},
    "amount": {"nl": "Bedrag", "en": "Amount"},
    "split": {
        "nl": "Verdeling over reserve, solidariteitsfonds en leden",
        "en": "Split over reserve, solidarity fund and members",
    },
    "reserve": {"nl": "Onverdeelbare reserve", "en": "Indivisible reserve"},
    "solidarity": {"nl": "Solidariteitsfonds", "en": "Solidarity fund"},
    "members_pool": {"nl": "Leden", "en": "Members"},
    "donated": {"nl": "waarvan door leden geschonken aan het fonds", "en": "of which members gave to the fund"},
    "unclaimed": {"nl": "naar het fonds (vergunningen zonder leden)", "en": "to the fund (permits without members)"},
    "no_distribution": {
        "nl": "Over dit jaar is (nog) geen verdeling vastgesteld.",
        "en": "No distribution has been committed for this year (yet).",
    },
    "dividends": {"nl": "Dividenden van leden", "en": "Members' dividends"},
    "dividends_text": {
        "nl": "Hoeveel leden welk bedrag kregen. {credited} leden kregen een deel. Kleine aantallen tonen we als '<{threshold}'.",
        "en": "How many members received how much. {credited} members received a share. Small counts show as '<{threshold}'.",
    },
    "bin": {"nl": "Dividend", "en": "Dividend"},
    "count": {"nl": "Aantal leden", "en": "Members"},
    "grants": {"nl": "Giften uit het solidariteitsfonds", "en": "Grants from the solidarity fund"},
    "recipient": {"nl": "Ontvanger", "en": "Recipient"},
    "purpose": {"nl": "Doel", "en": "Purpose"},
    "date": {"nl": "Datum", "en": "Date"},
    "none": {"nl": "Geen.", "en": "None."},
    "register": {"nl": "Register van vergunningen", "en": "Permit register"},
    "returned": {"nl": "Resultaten voor de samenleving", "en": "Results returned to society"},
    "overdue": {"nl": "Resultaten te laat (meer dan 18 maanden)", "en": "Results overdue (over 18 months)"},
    "title": {"nl": "Titel", "en": "Title"},
    "open_access": {"nl": "Open", "en": "Open access"},
    "choices": {"nl": "Keuzes van leden", "en": "Members' choices"},
    "choices_text": {
        "nl": "Het deel van de leden dat zelf 'ja' zegt, per doel en soort gebruiker. Leden met opt-out tellen niet mee. "
        "Wie niets koos, volgt het mandaat van de coöperatie of een gevolmachtigde. Een streepje: te weinig leden om te tonen.",
        "en": "The share of members who themselves say 'yes', by purpose and user type. Members who opted out are not "
        "counted. Whoever chose nothing follows the cooperative's mandate or a proxy. A dash: too few members to show.",
    },
    "decisions": {"nl": "Besluiten van de leden", "en": "Members' decisions"},
    "outcome": {"nl": "Uitkomst", "en": "Outcome"},
    "votes": {"nl": "Stemmen (voor/tegen/blanco van)", "en": "Votes (yes/no/abstain of)"},
    "integrity": {"nl": "Verklaring van integriteit", "en": "Integrity statement"},
    "integrity_text": {
        "nl": "Elke verandering staat in het register van de coöperatie: een Merkle-boom volgens RFC 9162. "
        "Dit verslag hoort bij de ondertekende boomkop hieronder. Controleer het met 'coop ledger verify', "
        "of vraag de openbare sleutel op (GET /api/v1/ledger/public-key) en controleer de handtekening over "
        "de boomgrootte, de wortel-hash en het tijdstip.",
        "en": "Every change is in the cooperative's ledger of record: a Merkle tree as in RFC 9162. This report "
        "belongs to the signed tree head below. Check it with 'coop ledger verify', or fetch the public key "
        "(GET /api/v1/ledger/public-key) and check the signature over the tree size, root hash and timestamp.",
    },
    "no_head": {"nl": "Nog geen ondertekende boomkop.", "en": "No signed tree head yet."},
    "tree_size": {"nl": "Aantal gebeurtenissen", "en": "Tree size"},
    "root_hash": {"nl": "Wortel-hash", "en": "Root hash"},
    "signed_at": {"nl": "Ondertekend op", "en": "Signed at"},
    "key_id": {"nl": "Sleutel", "en": "Key id"},
    "signature": {"nl": "Handtekening", "en": "Signature"},
    "page": {"nl": "Pagina {n}", "en": "Page {n}"},
    # member statement
    "statement_title": {"nl": "Uw overzicht {year}", "en": "Your statement {year}"},
    "statement_intro": {
        "nl": "Beste {name}, dit is uw overzicht over {year}. U ziet wat er met uw gezondheidsgegevens gebeurt, "
        "wie ze gebruikte en wat u ervoor kreeg.",
        "en": "Dear {name}, this is your statement for {year}. It shows what happens with your health data, "
        "who used it and what you received for it.",
    },
    "member_number": {"nl": "Lidnummer", "en": "Member number"},
    "your_choices": {"nl": "Uw keuzes nu", "en": "Your choices now"},
    "opted_out_text": {
        "nl": "U heeft gekozen voor opt-out: uw gegevens gaan niet naar nieuwe vergunningen.",
        "en": "You opted out: your data does not go to new permits.",
    },
    "default_text": {
        "nl": "Voor alles wat hieronder niet staat, beslist de coöperatie voor u (het mandaat).",
        "en": "For everything not listed below, the cooperative decides for you (the mandate).",
    },
    "choice": {"nl": "Uw keuze", "en": "Your choice"},
    "excluded": {"nl": "Uitgesloten soorten gegevens", "en": "Kinds of data you excluded"},
    "donates": {
        "nl": "U schenkt uw dividend aan het solidariteitsfonds.",
        "en": "You give your dividend to the solidarity fund.",
    },
    "changes": {"nl": "Wat u dit jaar veranderde", "en": "What you changed this year"},
    "version": {"nl": "Versie", "en": "Version"},
    "since": {"nl": "Sinds", "en": "Since"},
    "no_changes": {"nl": "U veranderde dit jaar niets.", "en": "You changed nothing this year."},
    "used_by": {"nl": "Wie uw gegevens gebruikte", "en": "Who used your data"},
    "not_used": {"nl": "Geen vergunning gebruikte uw gegevens.", "en": "No permit used your data."},
    "your_dividend": {"nl": "Uw dividend", "en": "Your dividend"},
    "dividend_text": {
        "nl": "Over {period} kreeg u {total}. Zo kwam dat bedrag tot stand:",
        "en": "For {period} you received {total}. This is how it was made up:",
    },
    "dividend_part": {
        "nl": "Vergunning {permit}: het ledendeel van {pool} gedeeld door {members} leden = {cents}",
        "en": "Permit {permit}: the members' part of {pool} shared by {members} members = {cents}",
    },
    "dividend_donated": {
        "nl": "U schonk dit bedrag aan het solidariteitsfonds.",
        "en": "You gave this amount to the solidarity fund.",
    },
    "no_dividend": {"nl": "U kreeg dit jaar geen dividend.", "en": "You received no dividend this year."},
    "balance": {
        "nl": "Nog niet uitbetaald (onder het minimum, gaat mee naar volgend jaar): {balance}. Totaal uitbetaald: {paid}.",
        "en": "Not yet paid (below the minimum, carried forward): {balance}. Paid out in total: {paid}.",
    },
    "questions": {
        "nl": "Vragen? Neem contact op met het bestuur van de coöperatie.",
        "en": "Questions? Contact the cooperative's board.",
    },
}

WORDS: dict[str, dict[str, str]] = {
    # user types, purposes, statuses, preferences
    "public": {"nl": "publiek", "en": "public"},
    "academic": {"nl": "wetenschap", "en": "academic"},
    "commercial": {"nl": "commercieel", "en": "commercial"},
    "public-health": {"nl": "volksgezondheid", "en": "public health"},
    "policy": {"nl": "beleid", "en": "policy"},
    "statistics": {"nl": "statistiek", "en": "statistics"},
    "education": {"nl": "onderwijs", "en": "education"},
    "research": {"nl": "onderzoek", "en": "research"},
    "innovation": {"nl": "innovatie", "en": "innovation"},
    "ai-training": {"nl": "AI-training", "en": "AI training"},
    "care-improvement": {"nl": "betere zorg", "en": "care improvement"},
    "granted": {"nl": "verleend", "en": "granted"},
    "active": {"nl": "actief", "en": "active"},
    "expired": {"nl": "verlopen", "en": "expired"},
    "revoked": {"nl": "ingetrokken", "en": "revoked"},
    "adopted": {"nl": "aangenomen", "en": "adopted"},
    "rejected": {"nl": "verworpen", "en": "rejected"},
    "no-quorum": {"nl": "geen quorum", "en": "no quorum"},
    "allow": {"nl": "ja", "en": "yes"},
    "deny": {"nl": "nee", "en": "no"},
    "mandate": {"nl": "de coöperatie beslist", "en": "the cooperative decides"},
    "proxy": {"nl": "mijn gevolmachtigde beslist", "en": "my proxy decides"},
    "yes": {"nl": "ja", "en": "yes"},
    "no": {"nl": "nee", "en": "no"},
}


def t(key: str, lang: str, **values: object) -> str:
    return TEXTS[key][lang].format(**values)


def word(value: str, lang: str) -> str:
    """A short word for a status, user type or purpose; kinds of data by the vocabulary's names."""
    if value in WORDS:
        return WORDS[value][lang]
    try:
        return str(getattr(CATEGORIES[Category(value)], lang))
    except ValueError:
        return value


def euros(cents: int, lang: str) -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English; exact, from integer cents."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    if lang == "nl":
        return f"{sign}€ {grouped.replace(',', '.')},{rest:02d}"
    return f"{sign}€{grouped}.{rest:02d}"


MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def day(value: date, lang: str) -> str:
    month = MONTHS[lang][value.month - 1]
    return f"{value.day} {month} {value.year}"

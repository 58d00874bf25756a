"""The portal's words in Dutch and English, at B1 level: short sentences, everyday words.
Names of purposes, user types and kinds of data come from the EHDS vocabulary."""

from __future__ import annotations

from coop.vocabulary.terms import CATEGORIES, PURPOSES, USER_TYPES, Category, Purpose, UserType

TEXTS: dict[str, dict[str, str]] = {
    "site": {"nl": "Gezondheidsdata-coöperatie", "en": "Health-data cooperative"},
    "skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
    "login": {"nl": "Inloggen", "en": "Log in"},
    "logout": {"nl": "Uitloggen", "en": "Log out"},
    "email": {"nl": "E-mailadres", "en": "Email address"},
    "password": {"nl": "Wachtwoord", "en": "Password"},
    "new_password": {
        "nl": "Kies een wachtwoord (minstens 10 tekens)",
        "en": "Choose a password (at least 10 characters)",
    },
    "login_failed": {
        "nl": "Het e-mailadres of wachtwoord klopt niet.",
        "en": "The email address or password is not right.",
    },
    "login_wait": {
        "nl": "Te vaak een verkeerd wachtwoord. Probeer het over {seconds} seconden opnieuw.",
        "en": "Too many wrong passwords. Try again in {seconds} seconds.",
    },
    "password_title": {"nl": "Wachtwoord wijzigen", "en": "Change password"},
    "password_intro": {
        "nl": "Na de wijziging bent u overal uitgelogd, behalve hier.",
        "en": "After the change you are logged out everywhere, except here.",
    },
    "current_password": {"nl": "Uw huidige wachtwoord", "en": "Your current password"},
    "invitation": {"nl": "Uitnodiging aannemen", "en": "Accept your invitation"},
    "invitation_text": {
        "nl": "Welkom bij de coöperatie. Kies een wachtwoord. Daarna kunt u inloggen.",
        "en": "Welcome to the cooperative. Choose a password. Then you can log in.",
    },
    "invitation_done": {"nl": "Gelukt. U kunt nu inloggen.", "en": "Done. You can log in now."},
    "nav_overview": {"nl": "Overzicht", "en": "Overview"},
    "nav_choices": {"nl": "Mijn keuzes", "en": "My choices"},
    "nav_proxies": {"nl": "Gevolmachtigden", "en": "Proxies"},
    "nav_history": {"nl": "Geschiedenis", "en": "History"},
    "nav_votes": {"nl": "Stemmen", "en": "Votes"},
    "nav_data_use": {"nl": "Gebruik van mijn gegevens", "en": "Use of my data"},
    "nav_money": {"nl": "Mijn dividend", "en": "My dividend"},
    "nav_members": {"nl": "Leden", "en": "Members"},
    "nav_proposals": {"nl": "Voorstellen", "en": "Proposals"},
    "nav_permits": {"nl": "Vergunningen", "en": "Permits"},
    "nav_distributions": {"nl": "Verdelingen", "en": "Distributions"},
    "nav_reports": {"nl": "Verslagen", "en": "Reports"},
    "hello": {"nl": "Hallo {name}", "en": "Hello {name}"},
    "membership_ended": {
        "nl": "U heeft de coöperatie verlaten op {date}. Uw gegevens gaan niet meer naar nieuwe vergunningen. "
        "U kunt hier nog wel uw gegevens, uw dividend en uw jaaroverzichten bekijken.",
        "en": "You left the cooperative on {date}. Your data no longer goes to new permits. "
        "You can still look at your information, your dividend and your yearly statements here.",
    },
    "no_longer_voting": {
        "nl": "U bent geen lid meer. Daarom stemt u niet meer mee.",
        "en": "You are no longer a member. So you no longer vote.",
    },
    "overview_intro": {
        "nl": "Hier ziet u wat er nu met uw gezondheidsgegevens gebeurt, per doel en per soort gebruiker.",
        "en": "Here you see what happens with your health data now, for each purpose and each kind of user.",
    },
    "opted_out": {
        "nl": "U heeft gekozen voor opt-out. Uw gegevens gaan niet naar nieuwe vergunningen.",
        "en": "You have opted out. Your data does not go to new permits.",
    },
    "for_by": {"nl": "Voor {purpose}, door {user_type}", "en": "For {purpose}, by {user_type}"},
    "you_allow": {"nl": "U zegt ja.", "en": "You say yes."},
    "you_deny": {"nl": "U zegt nee.", "en": "You say no."},
    "your_proxy": {"nl": "Uw gevolmachtigde beslist voor u.", "en": "Your proxy decides for you."},
    "no_proxy_now": {
        "nl": "U heeft hiervoor nu geen gevolmachtigde.",
        "en": "You have no proxy for this now.",
    },
    "coop_decides": {"nl": "De coöperatie beslist voor u", "en": "The cooperative decides for you"},
    "currently_yes": {"nl": "nu: ja", "en": "currently: yes"},
    "currently_no": {"nl": "nu: nee", "en": "currently: no"},
    "currently_only": {"nl": "nu: alleen {conditions}", "en": "currently: only {conditions}"},
    "never": {"nl": "Nooit toegestaan (de wet verbiedt dit).", "en": "Never allowed (the law forbids this)."},
    "cond_share": {
        "nl": "met minstens {pct}% van de opbrengst voor de coöperatie",
        "en": "with benefit sharing of at least {pct}%",
    },
    "cond_open": {"nl": "met openbare resultaten", "en": "with open results"},
    "cond_eu": {"nl": "met verwerking in de EU", "en": "with processing in the EU"},
    "cond_ethics": {"nl": "na toetsing door een ethische commissie", "en": "after an ethics review"},
    "cond_duration": {"nl": "voor hooguit {months} maanden", "en": "for at most {months} months"},
    "and": {"nl": " en ", "en": " and "},
    "choices_intro": {
        "nl": "Kies per doel en soort gebruiker. 'De coöperatie beslist' volgt de regels die de leden samen kozen.",
        "en": "Choose for each purpose and kind of user. 'The cooperative decides' follows the rules the members chose together.",
    },
    "pref_mandate": {"nl": "De coöperatie beslist", "en": "The cooperative decides"},
    "pref_allow": {"nl": "Ja", "en": "Yes"},
    "pref_deny": {"nl": "Nee", "en": "No"},
    "pref_proxy": {"nl": "Mijn gevolmachtigde beslist", "en": "My proxy decides"},
    "excluded": {"nl": "Deze soorten gegevens nooit delen", "en": "Never share these kinds of data"},
    "donate": {"nl": "Geef mijn dividend aan het solidariteitsfonds", "en": "Give my dividend to the solidarity fund"},
    "save": {"nl": "Opslaan", "en": "Save"},
    "saved": {"nl": "Opgeslagen.", "en": "Saved."},
    "opt_out_title": {"nl": "Opt-out", "en": "Opt out"},
    "opt_out_text": {
        "nl": "Met opt-out gaan uw gegevens niet meer naar nieuwe vergunningen (artikel 71 EHDS). "
        "Vergunningen die al verleend zijn, mogen uw gegevens blijven gebruiken zoals toegestaan. "
        "Uw zorg verandert niet: uw zorgverleners zien uw gegevens zoals altijd. U kunt altijd terugkomen.",
        "en": "If you opt out, your data no longer goes to new permits (Article 71 EHDS). Permits already "
        "granted may keep using your data as allowed. Your care does not change: your care providers see your "
        "data as always. You can come back at any time.",
    },
    "opt_out_button": {"nl": "Ja, ik kies opt-out", "en": "Yes, I opt out"},
    "opt_in_button": {"nl": "Ik doe weer mee", "en": "I take part again"},
    "proxies_intro": {
        "nl": "Een gevolmachtigde is een ander lid dat voor u beslist. U kunt dit altijd stoppen.",
        "en": "A proxy is another member who decides for you. You can stop this at any time.",
    },
    "proxy_number": {
        "nl": "Lidnummer van uw gevolmachtigde (bijvoorbeeld M-000002)",
        "en": "Member number of your proxy (for example M-000002)",
    },
    "proxy_voting": {"nl": "Mag ook voor mij stemmen", "en": "May also vote for me"},
    "appoint": {"nl": "Aanstellen", "en": "Appoint"},
    "revoke": {"nl": "Stoppen", "en": "Revoke"},
    "no_proxies": {"nl": "U heeft geen gevolmachtigde.", "en": "You have no proxy."},
    "proxy_for": {"nl": "{number}, voor: {purposes}", "en": "{number}, for: {purposes}"},
    "all_purposes": {"nl": "alle doelen", "en": "all purposes"},
    "until_revoked": {"nl": "tot u stopt", "en": "until you revoke"},
    "history_intro": {"nl": "Elke keer dat uw keuzes veranderden.", "en": "Every time your choices changed."},
    "version": {"nl": "Versie", "en": "Version"},
    "since": {"nl": "Sinds", "en": "Since"},
    "until": {"nl": "Tot", "en": "Until"},
    "now": {"nl": "nu", "en": "now"},
    "choices_count": {"nl": "Eigen keuzes", "en": "Own choices"},
    "votes_intro": {"nl": "Voorstellen waarover u kunt stemmen.", "en": "Proposals you can vote on."},
    "no_open": {"nl": "Er staat nu niets open.", "en": "Nothing is open now."},
    "vote_yes": {"nl": "Voor", "en": "Yes"},
    "vote_no": {"nl": "Tegen", "en": "No"},
    "vote_abstain": {"nl": "Blanco", "en": "Abstain"},
    "vote": {"nl": "Stem", "en": "Vote"},
    "your_vote": {"nl": "Uw stem: {vote}", "en": "Your vote: {vote}"},
    "closes": {"nl": "Sluit op {when}", "en": "Closes on {when}"},
    "data_use_intro": {
        "nl": "Deze vergunningen gebruikten uw gegevens, onder een schuilnaam. Dit kwam eruit.",
        "en": "These permits used your data, under a pseudonym. This is what came of it.",
    },
    "not_used": {"nl": "Nog geen vergunning gebruikte uw gegevens.", "en": "No permit has used your data yet."},
    "permit": {"nl": "Vergunning", "en": "Permit"},
    "applicant": {"nl": "Aanvrager", "en": "Applicant"},
    "purposes": {"nl": "Doelen", "en": "Purposes"},
    "results": {"nl": "Resultaten", "en": "Results"},
    "status": {"nl": "Status", "en": "Status"},
    "money_intro": {
        "nl": "Wat u kreeg en hoe dat bedrag tot stand kwam.",
        "en": "What you received and how it was made up.",
    },
    "no_money": {"nl": "U kreeg nog geen dividend.", "en": "You have not received a dividend yet."},
    "period": {"nl": "Periode", "en": "Period"},
    "amount": {"nl": "Bedrag", "en": "Amount"},
    "part": {
        "nl": "Vergunning {permit}: {pool} gedeeld door {members} leden",
        "en": "Permit {permit}: {pool} shared by {members} members",
    },
    "donated": {"nl": "geschonken aan het solidariteitsfonds", "en": "given to the solidarity fund"},
    "balance": {
        "nl": "Nog te betalen (onder het minimum): {balance}. Betaald: {paid}.",
        "en": "Still to pay (below the minimum): {balance}. Paid: {paid}.",
    },
    "statement": {"nl": "Download uw overzicht van {year} (PDF)", "en": "Download your statement for {year} (PDF)"},
    "members_intro": {"nl": "Zoek leden of laat een nieuw lid toe.", "en": "Search members or admit a new member."},
    "search": {"nl": "Zoeken", "en": "Search"},
    "name": {"nl": "Naam", "en": "Name"},
    "language": {"nl": "Taal", "en": "Language"},
    "admit": {"nl": "Toelaten", "en": "Admit"},
    "page_of": {"nl": "Pagina {page} van {pages} ({total} leden)", "en": "Page {page} of {pages} ({total} members)"},
    "previous": {"nl": "Vorige", "en": "Previous"},
    "next": {"nl": "Volgende", "en": "Next"},
    "admitted": {
        "nl": "{number} is toegelaten. Stuur deze link naar het nieuwe lid: {link}",
        "en": "{number} has been admitted. Send this link to the new member: {link}",
    },
    "number": {"nl": "Lidnummer", "en": "Member number"},
    "tally": {"nl": "Uitslag", "en": "Tally"},
    "close": {"nl": "Sluiten en tellen", "en": "Close and count"},
    "flags": {"nl": "Meldingen", "en": "Compliance flags"},
    "draft": {"nl": "Maak een voorstel voor de verdeling", "en": "Draft a distribution"},
    "from": {"nl": "Van", "en": "From"},
    "to": {"nl": "Tot en met", "en": "To"},
    "commit": {"nl": "Vaststellen en uitbetalen", "en": "Commit and pay out"},
    "net_income": {"nl": "Netto-inkomsten", "en": "Net income"},
    "reserve": {"nl": "Reserve", "en": "Reserve"},
    "solidarity": {"nl": "Solidariteitsfonds", "en": "Solidarity fund"},
    "members_pool": {"nl": "Leden", "en": "Members"},
    "revenue": {"nl": "Inkomsten", "en": "Revenue"},
    "pool": {"nl": "Ledendeel", "en": "Members' part"},
    "member_count": {"nl": "Aantal leden", "en": "Members"},
    "committed": {"nl": "vastgesteld", "en": "committed"},
    "draft_status": {"nl": "voorstel", "en": "draft"},
    "reports_intro": {
        "nl": "Het jaarverslag, in het Nederlands of Engels.",
        "en": "The annual report, in Dutch or English.",
    },
    "publish": {"nl": "Publiceren (hash in het register)", "en": "Publish (hash into the ledger)"},
    "published": {"nl": "Gepubliceerd: SHA-256 {sha256}", "en": "Published: SHA-256 {sha256}"},
    "error": {"nl": "Dat lukte niet: {detail}", "en": "That did not work: {detail}"},
    "unavailable": {
        "nl": "Het systeem is even niet bereikbaar. Er is niets veranderd. Probeer het over een minuut opnieuw.",
        "en": "The system cannot be reached just now. Nothing was changed. Please try again in a minute.",
    },
    "not_allowed": {"nl": "Deze pagina is niet voor u.", "en": "This page is not for you."},
}

REFUSALS: dict[str, dict[str, str]] = {
    "proxy-self": {"nl": "U kunt uzelf niet als gevolmachtigde kiezen.", "en": "You cannot be your own proxy."},
    "proxy-not-member": {
        "nl": "De gevolmachtigde moet een actief lid zijn.",
        "en": "The proxy must be an active member.",
    },
    "proxy-cycle": {
        "nl": "Dan zouden gevolmachtigden elkaar in een kring aanwijzen. Kies iemand anders.",
        "en": "That would make proxies appoint each other in a circle. Choose someone else.",
    },
    "proxy-overlap": {
        "nl": "Voor deze doelen heeft u al een gevolmachtigde. Stop die eerst.",
        "en": "You already have a proxy for these purposes. Revoke that one first.",
    },
    "member-not-found": {"nl": "Dat lid bestaat niet.", "en": "That member does not exist."},
    "version-mismatch": {
        "nl": "Uw keuzes zijn intussen veranderd. Bekijk ze opnieuw en sla dan op.",
        "en": "Your choices changed in the meantime. Look at them again, then save.",
    },
    "already-voted": {"nl": "U heeft al gestemd.", "en": "You have voted already."},
    "voting-closed": {"nl": "De stemming is gesloten.", "en": "Voting has closed."},
    "voting-open": {"nl": "De stemming loopt nog.", "en": "Voting is still open."},
    "not-a-voter": {"nl": "U mag over dit voorstel niet stemmen.", "en": "You may not vote on this proposal."},
    "member-exists": {
        "nl": "Er is al een lid met dit e-mailadres.",
        "en": "A member with this email address exists already.",
    },
    "no-net-income": {
        "nl": "In deze periode is er niets te verdelen.",
        "en": "There is nothing to distribute in this period.",
    },
    "period-distributed": {
        "nl": "Deze periode is (deels) al verdeeld.",
        "en": "This period has been (partly) distributed already.",
    },
    "draft-stale": {
        "nl": "De boeken veranderden na dit voorstel. Maak een nieuw voorstel.",
        "en": "The books changed after this draft. Make a new draft.",
    },
    "committed-already": {"nl": "Deze verdeling is al vastgesteld.", "en": "This distribution is committed already."},
    "invalid-period": {"nl": "De begindatum ligt na de einddatum.", "en": "The start date comes after the end date."},
    "tree-head-not-found": {
        "nl": "Het register heeft nog geen ondertekende boomkop.",
        "en": "The ledger has no signed tree head yet.",
    },
    "insufficient-funds": {"nl": "Daarvoor is niet genoeg geld.", "en": "There is not enough money for that."},
    "not-a-member": {
        "nl": "U bent geen lid meer. Daarom kunt u dit niet veranderen.",
        "en": "You are no longer a member. So you cannot change this.",
    },
    "not-a-member-number": {
        "nl": "Dit is geen lidnummer. Een lidnummer ziet eruit als M-000002.",
        "en": "This is not a member number. A member number looks like M-000002.",
    },
    "proxy-chain-too-deep": {
        "nl": "Dan wordt de rij van gevolmachtigden te lang. Kies iemand anders.",
        "en": "That would make the chain of proxies too long. Choose someone else.",
    },
    "proxy-not-found": {
        "nl": "Deze gevolmachtigde bestaat niet (meer).",
        "en": "This proxy does not exist (any more).",
    },
    "proposal-not-found": {"nl": "Dit voorstel bestaat niet.", "en": "This proposal does not exist."},
    "distribution-not-found": {"nl": "Deze verdeling bestaat niet.", "en": "This distribution does not exist."},
    "no-benefit-policy": {
        "nl": "Er is nog geen regeling voor de verdeling vastgesteld.",
        "en": "No benefit policy has been adopted yet.",
    },
    "invitation-used": {
        "nl": "Deze uitnodiging is al gebruikt. U kunt inloggen.",
        "en": "This invitation has been used already. You can log in.",
    },
    "invitation-expired": {
        "nl": "Deze uitnodiging is verlopen. Vraag het bestuur om een nieuwe.",
        "en": "This invitation has expired. Ask the board for a new one.",
    },
    "invitation-invalid": {
        "nl": "Deze uitnodiging klopt niet. Gebruik de link uit uw uitnodiging.",
        "en": "This invitation is not valid. Use the link from your invitation.",
    },
    "account-exists": {
        "nl": "U heeft al een wachtwoord gekozen. U kunt inloggen.",
        "en": "You have chosen a password already. You can log in.",
    },
    "password-length": {
        "nl": "Kies een wachtwoord van minstens 10 en hooguit 256 tekens.",
        "en": "Choose a password of at least 10 and at most 256 characters.",
    },
    "invalid-entry": {
        "nl": "Dit past niet in de boekhouding. Er is niets veranderd.",
        "en": "This does not fit the books. Nothing has changed.",
    },
    "entry-differs": {
        "nl": "Deze boeking bestaat al, met andere gegevens.",
        "en": "This entry exists already, with other details.",
    },
    "failed": {
        "nl": "Er is niets veranderd. Probeer het opnieuw, of vraag het bestuur om hulp.",
        "en": "Nothing has changed. Try again, or ask the board for help.",
    },
    "wrong-password": {"nl": "Uw huidige wachtwoord klopt niet.", "en": "Your current password is not right."},
    "password-unchanged": {
        "nl": "Het nieuwe wachtwoord is hetzelfde als het oude. Kies een ander.",
        "en": "The new password is the same as the old one. Choose another.",
    },
    "too-many-requests": {
        "nl": "Te vaak een verkeerd wachtwoord. Wacht even en probeer het opnieuw.",
        "en": "Too many wrong passwords. Wait a while and try again.",
    },
    "membership-ended": {
        "nl": "U bent geen lid meer. U kunt uw gegevens nog wel bekijken.",
        "en": "You are no longer a member. You can still look at your information.",
    },
    "member-left": {"nl": "Dit lid heeft de coöperatie verlaten.", "en": "This member has left the cooperative."},
}
"""Why a change was refused, by the stable code of the refusal. A page shows only these
texts: a link with an ``?error=`` code that is not here shows nothing."""

WORDS: dict[str, dict[str, str]] = {
    "active": {"nl": "actief", "en": "active"},
    "granted": {"nl": "verleend", "en": "granted"},
    "expired": {"nl": "verlopen", "en": "expired"},
    "revoked": {"nl": "ingetrokken", "en": "revoked"},
    "yes": {"nl": "voor", "en": "yes"},
    "no": {"nl": "tegen", "en": "no"},
    "abstain": {"nl": "blanco", "en": "abstain"},
    "adopted": {"nl": "aangenomen", "en": "adopted"},
    "rejected": {"nl": "verworpen", "en": "rejected"},
    "open": {"nl": "open", "en": "open"},
    "scheduled": {"nl": "gepland", "en": "scheduled"},
    "awaiting-close": {"nl": "wacht op telling", "en": "awaiting count"},
}


def label(value: str, lang: str) -> str:
    """The name of a vocabulary term or status in ``lang``."""
    for enum_type, terms in ((Purpose, PURPOSES), (UserType, USER_TYPES), (Category, CATEGORIES)):
        try:
            term = terms[enum_type(value)]  # type: ignore[index]
        except (ValueError, KeyError):
            continue
        name = str(getattr(term, lang))
        return name if enum_type is Category else _inline(name)
    return WORDS.get(value, {}).get(lang, value)


def _inline(name: str) -> str:
    """A name as it reads inside a sentence: 'Scientific research' -> 'scientific research',
    but 'AI training' stays as it is."""
    return name if len(name) > 1 and name[1].isupper() else name[:1].lower() + name[1:]

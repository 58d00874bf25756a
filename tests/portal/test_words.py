"""What the portal's pages say, in words: no yes offered for what the law does not allow, no
raw codes, and times in the cooperative's own time zone, labelled."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f


def _select(html: str, key: str) -> str | None:
    match = re.search(rf'<select id="pref-{re.escape(key)}"[^>]*>(.*?)</select>', html, re.S)
    return match.group(1) if match else None


def test_the_choices_form_offers_no_yes_for_what_the_law_does_not_allow(client: TestClient, database: Database) -> None:
    """Statistics by a university is for public-sector bodies only (EHDS Art. 53(2)): the form
    says so instead of offering a yes the service would refuse."""
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    page = client.get("/me/choices").text
    assert _select(page, "statistics:academic") is None and _select(page, "policy:commercial") is None
    assert 'value="allow"' in (_select(page, "statistics:public") or "")  # a public body: the member's yes counts
    assert 'value="allow"' in (_select(page, "research:commercial") or "")
    assert "Niet voor deze gebruiker: de wet houdt dit gebruik voor de overheid" in page
    english = client.get("/me/choices?lang=en").text
    assert _select(english, "statistics:academic") is None
    assert "Not for this user: the law keeps this use for the public sector" in english
    # the form still saves the member's other choices, and leaves the law's answer alone
    form = {"csrf": f.csrf(page), "pref:research:commercial": "deny"}
    saved = client.post("/me/choices", data=form, follow_redirects=False).headers["location"]
    assert saved.startswith("/me/choices?saved=1&receipt=")  # and offers the change's receipt
    api = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "commercial", "decision": "deny"} in api["preferences"]
    assert {"purpose": "statistics", "user_type": "academic", "decision": "mandate"} in api["preferences"]


def test_proxies_are_told_in_words_not_codes(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    r = client.post(
        f"/api/v1/members/{anna.id}/proxies",
        json={"proxy_member_id": bram.id, "purposes": ["research", "innovation"]},
        headers=anna.headers,
    )
    assert r.status_code == 201, r.text
    f.portal_login(client, anna.email)
    page = client.get("/me/proxies").text
    assert "voor: wetenschappelijk onderzoek, ontwikkeling van producten en diensten" in page
    assert "research, innovation" not in page and "∅" not in page
    assert "Kies niets voor alle doelen" in page
    english = client.get("/me/proxies?lang=en").text
    assert "for: scientific research, development of products and services" in english
    assert "Tick none for all purposes" in english


def test_an_error_page_speaks_the_visitors_language(client: TestClient, database: Database) -> None:
    """A refusal that sends no page back (a form from an old page, a used invitation sent from
    a page without its form token) is said in the portal's own words, never the API's English."""
    board = f.board(client, database)
    admitted = f.admit(client, board, name="Eva Smit")
    token = admitted["invitation_token"]
    page = client.get("/invitation", params={"token": token})
    done = client.post(
        "/invitation", data={"csrf": f.csrf(page.text), "token": token, "password": "a long new password"}
    )
    assert done.status_code == 200
    again = client.post("/invitation", data={"csrf": "0" * 64, "token": token, "password": "a long new password"})
    assert again.status_code == 403 and '<html lang="nl">' in again.text
    assert "Dit formulier is verlopen" in again.text and "expired" not in again.text
    long = client.post("/invitation", data={"csrf": f.csrf(page.text), "token": "x" * 300, "password": "p" * 12})
    assert long.status_code == 422 and "should have at most" not in long.text
    assert "Er is niets veranderd" in long.text
    english = client.post(
        "/invitation?lang=en", data={"csrf": "0" * 64, "token": token, "password": "a long new password"}
    )
    assert "This form has expired" in english.text


def test_pdfs_say_who_made_them_in_their_own_language(client: TestClient, database: Database) -> None:
    import io

    from pypdf import PdfReader

    board = f.board(client, database)
    anna = f.member(client, board)
    pdf = client.get(f"/api/v1/members/{anna.id}/statement/2026.pdf", headers=anna.headers).content
    reader = PdfReader(io.BytesIO(pdf))
    info = reader.metadata
    assert info is not None
    assert info["/Author"] == info["/Creator"] == "Gezondheidsdata-coöperatie"
    assert "unspecified" not in " ".join(str(v) for v in info.values())
    assert reader.trailer["/Root"]["/Lang"] == "nl"


def _amsterdam(moment: str, label: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Amsterdam"))
    return f"{local:%H:%M} {label} ({local.tzname()})"


def test_the_history_says_what_changed_in_words_and_in_dutch_time(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    url = f"/api/v1/members/{anna.id}/choices"
    preference = {"purpose": "research", "user_type": "commercial", "decision": "deny"}
    assert client.patch(url, json={"preferences": [preference]}, headers=anna.headers).status_code == 200
    assert client.patch(url, json={"opt_out": True, "excluded_categories": ["genetic"]}, headers=anna.headers)
    versions = client.get(f"{url}/history", headers=anna.headers).json()
    f.portal_login(client, anna.email)
    page = client.get("/me/history").text
    said = "Voor wetenschappelijk onderzoek, door bedrijf: eerst &#39;De coöperatie beslist&#39;, nu &#39;Nee&#39;."
    assert said in page
    assert "U koos opt-out." in page and "U deelt niet meer: erfelijk materiaal (DNA)." in page
    assert "U werd lid" in page
    assert _amsterdam(versions[-1]["valid_from"], "Nederlandse tijd") in page
    assert "Eigen keuzes" not in page and "UTC" not in page
    english = client.get("/me/history?lang=en").text
    assert "For scientific research, by commercial company: was &#39;The cooperative decides&#39;" in english
    assert _amsterdam(versions[-1]["valid_from"], "Amsterdam time") in english


def test_the_statement_says_what_changed_in_words_and_in_dutch_time(client: TestClient, database: Database) -> None:
    from tests import pdfs

    board = f.board(client, database)
    anna = f.member(client, board)
    url = f"/api/v1/members/{anna.id}/choices"
    preference = {"purpose": "research", "user_type": "commercial", "decision": "deny"}
    body = {"preferences": [preference], "donate_dividend": True, "sensitive_yes": ["genetic", "biobanks"]}
    assert client.patch(url, json=body, headers=anna.headers)
    versions = client.get(f"{url}/history", headers=anna.headers).json()
    year = versions[-1]["valid_from"][:4]
    text = pdfs.text(client.get(f"/api/v1/members/{anna.id}/statement/{year}.pdf", headers=anna.headers).content)
    assert "Voor wetenschappelijk onderzoek, door bedrijf: eerst 'De coöperatie beslist', nu 'Nee'." in text
    assert "Uw eigen ja voor gevoelige gegevens: Erfelijk materiaal (DNA), Biobanken." in text  # as it is now
    assert "U gaf uw eigen ja voor gevoelige gegevens: erfelijk materiaal (DNA), biobanken." in text  # the change
    assert "U geeft uw dividend aan het solidariteitsfonds." in text
    assert _amsterdam(versions[-1]["valid_from"], "Nederlandse tijd") in text


def test_a_ballot_says_what_it_changes_what_adopts_it_and_who_voted(client: TestClient, database: Database) -> None:
    """The votes page tells the proposal, the mandate rules it would change, quorum and
    majority, the window in Dutch time, and that a proxy voted for the member."""

    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    f.appointed(client, anna, bram, voting=True)
    mandate = client.get("/api/v1/mandate").json()["mandate"]
    new_rule = {"purpose": "ai-training", "user_type": "public", "decision": "allow"}
    mandate["rules"].append(new_rule)
    proposal = f.propose(client, board, title="AI voor de overheid", kind="mandate", body=mandate, quorum_pct=30)
    policy = f.propose(client, board, title="Meer voor de samenleving")
    cast = client.post(
        f"/api/v1/governance/proposals/{proposal['id']}/votes",
        json={"vote": "yes", "on_behalf_of": anna.id},
        headers=bram.headers,
    )
    assert cast.status_code == 201, cast.text
    f.portal_login(client, anna.email)
    page = client.get("/me/votes").text
    assert "AI voor de overheid" in page and "Voorstel voor een nieuw mandaat" in page
    assert "Voor training en toetsing van AI, door overheid: nu nee; voorgesteld: ja." in page
    assert "Voor wetenschappelijk onderzoek, door overheid: ja (ook gevoelige gegevens)." in page  # the whole text
    assert "minstens 30% van de leden" in page and "meer dan 50% van de stemmen" in page
    assert _amsterdam(proposal["closes_at"], "Nederlandse tijd") in page and "UTC" not in page
    assert f"Uw gevolmachtigde {bram.number} heeft voor u gestemd: Voor." in page
    assert policy["title"] in page and "Naar de reserve: nu 20%; voorgesteld: 10%." in page
    assert "Kleinste bedrag dat wordt uitbetaald: nu € 5,00; voorgesteld: € 10,00." in page
    english = client.get("/me/votes?lang=en").text
    assert "For training and testing of AI, by public sector: now no; proposed: yes." in english
    assert f"Your proxy {bram.number} voted for you: Yes." in english


def test_the_board_reads_compliance_flags_in_words(client: TestClient, database: Database) -> None:
    from datetime import timedelta

    from coop.types import utcnow

    _hdab, permit, _people = f.registered(client, database)
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    f.report_usage(client, spe, permit["id"], kind="access", occurred_at=(utcnow() - timedelta(days=2)).isoformat())
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/permits").text
    assert "gebruikt voordat de vergunning gold" in page and "use-before-validity" not in page
    assert "used before the permit was valid" in client.get("/board/permits?lang=en").text

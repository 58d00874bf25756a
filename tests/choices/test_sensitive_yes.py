"""The member's own yes per sensitive category (EHDS Art. 51(4)) as a choice: stored in
versions, recorded in the ledger, read and changed by the API and the choices page, told in
the history and exported as FHIR."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from fhir.resources.consent import Consent

from coop.db import Database
from ledger import log
from tests import factories as f


def _url(member_id: int, tail: str = "") -> str:
    return f"/api/v1/members/{member_id}/choices{tail}"


def _payloads(database: Database, member_id: int) -> list[str]:
    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 10_000)
        return [e.payload for e in events if e.subject == f"member:{member_id}" and e.type.startswith("choices.")]


def test_the_yes_round_trips_through_the_api(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    assert client.get(_url(m.id), headers=m.headers).json()["sensitive_yes"] == []
    r = client.patch(_url(m.id), json={"sensitive_yes": ["biobanks", "genetic"]}, headers=m.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sensitive_yes"] == ["genetic", "biobanks"] and r.json()["version"] == 2  # vocabulary order
    assert client.get(_url(m.id), headers=m.headers).json()["sensitive_yes"] == ["genetic", "biobanks"]
    withdrawn = client.patch(_url(m.id), json={"sensitive_yes": ["biobanks"]}, headers=m.headers).json()
    assert withdrawn["sensitive_yes"] == ["biobanks"] and withdrawn["version"] == 3
    untouched = client.patch(_url(m.id), json={"opt_out": False, "donate_dividend": True}, headers=m.headers).json()
    assert untouched["sensitive_yes"] == ["biobanks"]  # a change that leaves it out keeps it
    history = client.get(_url(m.id, "/history"), headers=m.headers).json()
    assert [v["sensitive_yes"] for v in history] == [[], ["genetic", "biobanks"], ["biobanks"], ["biobanks"]]
    started, given, *_ = _payloads(database, m.id)
    assert "sensitive_yes" not in started  # versions without a yes are recorded as before
    assert '"sensitive_yes":["genetic","biobanks"]' in given


def test_a_yes_only_for_sensitive_categories(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    for body in ({"sensitive_yes": ["ehr"]}, {"sensitive_yes": ["genetic", "claims"]}, {"sensitive_yes": ["dna"]}):
        r = client.patch(_url(m.id), json=body, headers=m.headers)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", body
    refused = client.patch(_url(m.id), json={"sensitive_yes": ["genetic", "claims"]}, headers=m.headers).json()
    assert refused["code"] == "not-sensitive" and "claims" in refused["detail"] and "51(4)" in refused["detail"]
    assert client.get(_url(m.id), headers=m.headers).json()["version"] == 1


def test_the_yes_in_the_fhir_consent(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    body = {"sensitive_yes": ["genetic", "biobanks"], "excluded_categories": ["biobanks"]}
    assert client.patch(_url(m.id), json=body, headers=m.headers).status_code == 200
    r = client.get(_url(m.id, "/fhir"), headers=m.headers)
    consent = Consent.model_validate(r.json())
    [yes] = [p for p in consent.provision if p.purpose is None]
    assert yes.extension[0].url == "urn:coop:fhir:explicit-yes"
    assert [c.coding[0].code for c in yes.code] == ["genetic"]  # the excluded one is never permitted
    assert "51(4)" in [b.coding[0].code for b in consent.regulatoryBasis]
    client.patch(_url(m.id), json={"sensitive_yes": []}, headers=m.headers)
    plain = Consent.model_validate(client.get(_url(m.id, "/fhir"), headers=m.headers).json())
    assert all(p.purpose is not None for p in plain.provision)
    assert [b.coding[0].code for b in plain.regulatoryBasis] == ["71"]


def _radio(html: str, category: str, value: str) -> bool:
    """Whether the page's yes/no control for ``category`` has ``value`` checked."""
    found = re.search(rf'<input type="radio" name="yes:{category}" value="{value}"( checked)?>', html)
    assert found, (category, value)
    return found.group(1) is not None


def test_the_page_marks_sensitive_data_and_saves_the_yes_per_category(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    page = client.get("/me/choices")
    assert "Gevoelige gegevens: uw eigen ja" in page.text and "artikel 51, lid 4" in page.text
    assert page.text.count("(gevoelig)") == 8  # four kinds of data, in the list to exclude and with their yes
    assert all(_radio(page.text, c, "no") for c in ("genetic", "omics", "wellness-apps", "biobanks"))
    assert 'name="yes:ehr"' not in page.text  # no yes is asked where none is needed
    form = {"csrf": f.csrf(page.text), "yes:genetic": "yes", "yes:omics": "no", "yes:biobanks": "yes"}
    saved = client.post("/me/choices", data=form, follow_redirects=False).headers["location"]
    assert saved.startswith("/me/choices?saved=1&receipt=")  # and offers the change's receipt
    api = client.get(_url(anna.id), headers=anna.headers).json()
    assert api["sensitive_yes"] == ["genetic", "biobanks"]
    again = client.get("/me/choices?lang=en")
    assert "Sensitive data: your own yes" in again.text
    assert _radio(again.text, "genetic", "yes") and _radio(again.text, "wellness-apps", "no")
    history = client.get("/me/history?lang=en").text
    assert "You gave your own yes for sensitive data: genetic and genomic data, biobanks." in history
    form = {"csrf": f.csrf(again.text), "yes:genetic": "no", "yes:biobanks": "yes"}
    client.post("/me/choices", data=form)
    assert client.get(_url(anna.id), headers=anna.headers).json()["sensitive_yes"] == ["biobanks"]
    bad = client.post("/me/choices", data={"csrf": f.csrf(again.text), "yes:genetic": "maybe"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text  # back on the page, which says nothing changed
    assert client.get(_url(anna.id), headers=anna.headers).json()["sensitive_yes"] == ["biobanks"]

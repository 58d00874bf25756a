"""HDAB consultations: position and reasons, suppressed cohort counts that resist
differencing, no identities, kept and printable."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop.db import Database
from coop.i18n import translator
from ledger import log
from tests import factories as f
from tests import pdfs

URL = "/api/v1/hdab/consultations"


def _consult(client: TestClient, hdab: dict[str, str], **overrides: object) -> dict:
    r = client.post(URL, json=f.application(**overrides), headers=hdab)
    assert r.status_code == 201, r.text
    return r.json()


def test_support_conditional_object(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 2)
    hdab = f.api_key(database, "hdab")
    support = _consult(client, hdab)
    assert support["position"] == "support" and support["reasons"][0]["code"] == "mandate-allows"
    low = _consult(client, hdab, user_type="commercial", offered_benefit_share_pct=2)
    assert low["position"] == "conditional"
    assert low["reasons"][0]["code"] == "condition-unmet:min_benefit_share_pct"
    assert "5%" in low["reasons"][0]["message"] and low["reasons"][0]["article"].startswith("mandate v1")
    ads = _consult(
        client, hdab, user_type="commercial", purposes=["research", "advertising"], offered_benefit_share_pct=10
    )
    assert ads["position"] == "object"
    assert {
        "code": "prohibited-use",
        "message": "Advertising and marketing is never allowed",
        "article": "EHDS Art. 54(c)",
        "about": "advertising",
    } in ads["reasons"]
    stats = _consult(client, hdab, user_type="commercial", purposes=["statistics"])
    assert stats["position"] == "object" and stats["reasons"][0]["article"] == "EHDS Art. 53(2)"
    assert stats["cohort"]["excluded"] == {"prohibited": "<10"}
    teaching = _consult(client, hdab, user_type="commercial", purposes=["education"])
    assert teaching["position"] == "object" and teaching["reasons"][0]["code"] == "mandate-deny"
    genomes = _consult(client, hdab, purposes=["innovation"], categories=["ehr", "genetic"])
    assert genomes["position"] == "conditional" and genomes["reasons"][0]["code"] == "sensitive-explicit-allow"


def test_longer_than_a_permit_may_run_is_objected_to(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 2)
    hdab = f.api_key(database, "hdab")
    assert _consult(client, hdab, duration_months=120)["position"] == "support"
    long = _consult(client, hdab, duration_months=150)
    assert long["position"] == "object"
    assert long["reasons"][0]["code"] == "too-long" and long["reasons"][0]["article"] == "EHDS Art. 68"
    assert "150 months" in long["reasons"][0]["message"]


def test_cohort_counts_are_published_safely(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 25)
    for m in people[:3]:
        client.patch(f"/api/v1/members/{m.id}/choices", json={"opt_out": True}, headers=m.headers)
    answer = _consult(client, f.api_key(database, "hdab"))
    assert answer["cohort"] == {"eligible": 20, "excluded": {"opt-out": "<10"}}  # 22 rounds to 20


def test_a_differencing_attack_learns_nothing(client: TestClient, database: Database) -> None:
    """Two consultations that differ by one category: the members who excluded that
    category are 1-9, and neither the cells nor the difference of the totals tells how many."""
    _, people = f.with_members(client, database, 27)
    for m in people[:3]:
        client.patch(f"/api/v1/members/{m.id}/choices", json={"excluded_categories": ["claims"]}, headers=m.headers)
    hdab = f.api_key(database, "hdab")
    without = _consult(client, hdab, categories=["ehr"])
    with_claims = _consult(client, hdab, categories=["ehr", "claims"], application_ref="HDAB-2026-0043")
    assert with_claims["cohort"]["excluded"]["category-excluded"] == "<10"
    difference = without["cohort"]["eligible"] - with_claims["cohort"]["eligible"]
    assert difference % 10 == 0 and difference != 3
    # the true counts, for the record: 27 and 24 members eligible
    assert (without["cohort"]["eligible"], with_claims["cohort"]["eligible"]) == (30, 20)


def test_no_identity_reaches_the_hdab(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 12)
    hdab = f.api_key(database, "hdab")
    answer = _consult(client, hdab)
    text_ = str(answer) + client.get(f"{URL}/{answer['id']}", headers=hdab).text
    assert "@" not in text_ and "M-0" not in text_ and "Member " not in text_
    assert client.get(f"/api/v1/members/{people[0].id}", headers=hdab).status_code == 404
    assert client.get(f"/api/v1/members/{people[0].id}/choices", headers=hdab).status_code == 404
    assert client.get("/api/v1/ledger/events", headers=hdab).status_code == 403


def test_kept_recorded_and_printable(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 1)
    hdab = f.api_key(database, "hdab")
    answer = _consult(client, hdab)
    again = client.get(f"{URL}/{answer['id']}", headers=hdab).json()
    assert again == answer
    with database.unit_of_work(write=False) as s:
        event = log.events_after(s, answer["ledger_seq"] - 1, 1)[0]
    assert event.type == "consultation.recorded" and event.subject == "application:HDAB-2026-0042"
    pdf = client.get(f"{URL}/{answer['id']}.pdf", params={"lang": "en"}, headers=hdab)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Position of the cooperative: support" in pages and "HDAB-2026-0042" in pages
    assert f"event {answer['ledger_seq']}" in pages and "Ed25519 signature" in pages
    again = client.get(f"{URL}/{answer['id']}.pdf", params={"lang": "en"}, headers=hdab).content
    assert again == pdf.content  # deterministic
    with pytest.raises(DBAPIError, match="append-only"), database.unit_of_work() as s:
        s.execute(text("UPDATE consultation SET position = 'support'"))


def test_who_may_consult_and_bad_applications(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 1)
    assert client.post(URL, json=f.application(), headers=people[0].headers).status_code == 403
    assert client.post(URL, json=f.application()).status_code == 401
    hdab = f.api_key(database, "hdab")
    for bad in (
        {"purposes": ["gossip"]},
        {"purposes": []},
        {"categories": ["horoscopes"]},
        {"user_type": "aliens"},
        {"application_ref": "has spaces"},
        {"offered_benefit_share_pct": 2.5},
        {"duration_months": 0},
        {"shoe_size": 44},
    ):
        r = client.post(URL, json=f.application(**bad), headers=hdab)
        assert r.status_code == 422, bad
    assert client.get(f"{URL}/999", headers=hdab).status_code == 404
    with database.unit_of_work(write=False) as s:
        assert not [e for e in log.events_after(s, 0, 1000) if e.type == "consultation.recorded"]


def test_the_printed_statement_speaks_dutch_or_english_in_words(client: TestClient, database: Database) -> None:
    """An objection with every kind of reason: each in a sentence of the language, fields by
    their names, never a code, on one page; the document's author in the language too."""
    f.with_members(client, database, 12)
    hdab = f.api_key(database, "hdab")
    answer = _consult(
        client,
        hdab,
        purposes=["statistics", "advertising", "research"],
        categories=["ehr", "genetic"],
        duration_months=150,
        offered_benefit_share_pct=3,
    )
    assert answer["position"] == "object"
    assert {r["code"] for r in answer["reasons"]} >= {"too-long", "public-sector-only", "prohibited-use"}
    assert all(r["about"] for r in answer["reasons"])
    words = {
        "nl": [
            "Standpunt van de coöperatie: bezwaar",
            "Statistiek is alleen open voor de overheid en wie in haar opdracht werkt.",
            "Reclame en marketing: de wet staat dit gebruik nooit toe.",
            "er werd om 150 maanden gevraagd",
            "Looptijd (maanden)",
            "Deel van de opbrengst voor de coöperatie",
            "Resultaten openbaar",
        ],
        "en": [
            "Position of the cooperative: objection",
            "Statistics is open to public-sector bodies, and those working on their behalf, only.",
            "Advertising and marketing: the law never allows this use.",
            "150 months were asked",
            "Duration (months)",
            "Share of the benefit offered to the cooperative",
            "Results published openly",
        ],
    }
    codes = ["offered_benefit_share_pct", "duration_months", "public-sector-only", "prohibited-use", "too-long"]
    for lang, expected in words.items():
        pdf = client.get(f"{URL}/{answer['id']}.pdf", params={"lang": lang}, headers=hdab)
        assert pdf.status_code == 200, pdf.text
        reader = PdfReader(io.BytesIO(pdf.content))
        text_ = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
        for phrase in expected:
            assert phrase in text_, (lang, phrase)
        assert not [code for code in codes if code in text_], lang
        assert len(reader.pages) == 1, lang
        assert reader.metadata is not None and reader.metadata.author == translator(lang)("site")
        pdfs.render_png(pdf.content, f"consultation-{lang}")
    assert client.get(f"{URL}/{answer['id']}.pdf", params={"lang": "de"}, headers=hdab).status_code == 422

"""The vocabulary is complete, cites its articles, and speaks Dutch and English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.vocabulary import terms


def test_every_term_has_a_label_and_an_article() -> None:
    for enum_type, table in (
        (terms.Purpose, terms.PURPOSES),
        (terms.ProhibitedUse, terms.PROHIBITED_USES),
        (terms.UserType, terms.USER_TYPES),
        (terms.Category, terms.CATEGORIES),
    ):
        assert set(table) == set(enum_type)
        for term in table.values():
            assert term.nl and term.en and term.article


def test_closed_lists_of_the_regulation() -> None:
    assert len(terms.Purpose) == 8
    assert len(terms.Category) == 17  # Art. 51(1)(a) to (q)
    articles = [terms.CATEGORIES[c].article for c in terms.Category]
    assert (articles[0], articles[-1]) == ("51(1)(a)", "51(1)(q)")
    assert {terms.Purpose.public_health, terms.Purpose.policy, terms.Purpose.statistics} == terms.PUBLIC_SECTOR_ONLY
    assert {
        terms.Category.genetic,
        terms.Category.omics,
        terms.Category.wellness_apps,
        terms.Category.biobanks,
    } == terms.SENSITIVE


def test_masks_round_trip() -> None:
    chosen = [terms.Category.genetic, terms.Category.biobanks]
    assert terms.from_mask(terms.Category, terms.mask(chosen)) == chosen
    assert terms.mask([]) == 0


def test_served_in_both_languages(client: TestClient) -> None:
    r = client.get("/api/v1/vocabulary")
    assert r.status_code == 200
    body = r.json()
    research = next(p for p in body["purposes"] if p["code"] == "research")
    assert research["label"] == {"nl": "Wetenschappelijk onderzoek", "en": "Scientific research"}
    assert {p["code"] for p in body["purposes"] if p["public_sector_only"]} == {"public-health", "policy", "statistics"}
    assert sum(c["sensitive"] for c in body["categories"]) == 4
    assert {d["code"] for d in body["decisions"]} == {"allow", "deny", "mandate", "proxy"}
    assert len(body["prohibited_uses"]) == 5

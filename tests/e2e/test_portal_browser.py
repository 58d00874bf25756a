"""A real browser through the portal: a member logs in, changes a preference, appoints a
proxy, opts out and back in, and the API and the ledger of record reflect each step; a board
user admits a member and asks to commit a distribution, which a second board user approves
(the one who asked cannot); a member cannot open the board's pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Error as PlaywrightError

from coop.db import Database
from tests import factories as f
from tests.conftest import PAGES_ONLY, Clock
from tests.e2e.conftest import log_in, shot


def _events(client: TestClient, board: dict[str, str], member_id: int) -> list[str]:
    items = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    return [e["type"] for e in items if e["subject"] == f"member:{member_id}"]


def test_a_member_in_the_browser(client: TestClient, database: Database, live_server: str, browser: Any) -> None:
    board, people, _permit = f.cooperative(client, database)
    anna, bram = people[0], people[1]
    page = browser.new_page()
    log_in(page, live_server, anna.email)
    page.get_by_role("heading", name="Hallo").wait_for()
    assert anna.number in page.content()
    shot(page, "portal-overview")

    page.get_by_role("navigation").get_by_role("link", name="Mijn keuzes").click()
    page.locator("select[name='pref:research:commercial']").select_option("deny")
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_role("status").wait_for()
    shot(page, "portal-choices")
    choices = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "commercial", "decision": "deny"} in choices["preferences"]

    page.get_by_role("navigation").get_by_role("link", name="Gevolmachtigden").click()
    page.get_by_label("Lidnummer van uw gevolmachtigde").fill(bram.number)
    page.get_by_role("button", name="Aanstellen").click()
    page.get_by_role("status").wait_for()
    shot(page, "portal-proxies")
    proxies = client.get(f"/api/v1/members/{anna.id}/proxies", headers=anna.headers).json()
    assert [p["proxy_member_id"] for p in proxies] == [bram.id]

    page.goto(f"{live_server}/me/opt-out")
    page.get_by_role("button", name="Ja, ik kies opt-out").click()
    page.get_by_role("button", name="Ik doe weer mee").wait_for()
    assert client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["opt_out"] is True
    shot(page, "portal-opted-out")
    page.get_by_role("button", name="Ik doe weer mee").click()
    page.get_by_role("button", name="Ja, ik kies opt-out").wait_for()
    assert client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["opt_out"] is False
    assert _events(client, board, anna.id).count("choices.changed") >= 3
    assert "proxy.appointed" in _events(client, board, anna.id)

    response = page.goto(f"{live_server}/board/members")
    assert response.status == 403  # a member cannot open the board's pages
    other = browser.new_page()  # Bram, in his own browser, sees himself only, never Anna
    log_in(other, live_server, bram.email)
    other.get_by_role("heading", name="Hallo").wait_for()
    assert bram.number in other.content() and anna.number not in other.content()
    assert other.goto(f"{live_server}/api/v1/members/{anna.id}/choices").status == 401  # the cookie opens no API
    assert other.goto(f"{live_server}/me/history").ok and anna.number not in other.content()
    page.goto(f"{live_server}/me?lang=en")
    page.get_by_role("heading", name="Hello").wait_for()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    shot(page, "portal-overview-phone-en")


def _balances(client: TestClient, board: dict[str, str]) -> dict[str, int]:
    body = client.get("/api/v1/ledger/balances", headers=board).json()
    return {a["account"]: a["balance_cents"] for a in body["accounts"]}


def test_the_board_in_the_browser(
    client: TestClient, database: Database, live_server: str, browser: Any, clock: Clock
) -> None:
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000)
    page = browser.new_page()
    log_in(page, live_server, f.BOARD_EMAIL)
    page.get_by_role("heading", name="Leden").wait_for()
    page.get_by_label("Naam").fill("Dirk Dekker")
    page.locator("#new-email").fill("dirk@coop-test.nl")
    page.get_by_role("button", name="Toelaten").click()
    page.get_by_role("status").wait_for()
    assert "/invitation?token=" in page.content()
    shot(page, "board-members")
    assert client.get("/api/v1/members", params={"q": "Dirk"}, headers=board).json()["total"] == 1

    clock.moment = f.AFTER  # the year of the books has ended: the page suggests it
    page.get_by_role("navigation").get_by_role("link", name="Verdelingen").click()
    page.get_by_role("button", name="Maak een voorstel voor de verdeling").click()
    page.locator("a[href^='/board/distributions/']").first.click()  # review the draft before committing
    page.get_by_text("Digest").wait_for()
    shot(page, "board-distribution-review")
    draft_url = page.url
    page.get_by_role("button", name="Vraag een tweede bestuurslid om goedkeuring").click()
    page.get_by_text("wacht op goedkeuring door een tweede bestuurslid (gevraagd door board@coop-test.nl").wait_for()
    assert page.get_by_role("link", name="Bekijken en goedkeuren").count() == 0  # not for the one who asked
    shot(page, "board-distribution-waiting")
    (request,) = client.get("/api/v1/approvals", headers=board).json()
    page.goto(f"{live_server}/board/approvals/{request['id']}")  # the asker cannot approve here either
    page.get_by_text("U heeft dit zelf gevraagd").wait_for()
    assert page.get_by_role("button", name="Ja, goedkeuren en uitbetalen").count() == 0
    assert _balances(client, board).get("equity:reserve", 0) == 0  # nothing committed yet

    f.second_board(client, database)
    treasurer = browser.new_context().new_page()
    log_in(treasurer, live_server, f.SECOND_BOARD_EMAIL)
    treasurer.wait_for_url(lambda url: "/login" not in url)
    treasurer.goto(draft_url)
    treasurer.get_by_role("link", name="Bekijken en goedkeuren").click()
    treasurer.get_by_text("Als u goedkeurt, wordt het geld nu geboekt").wait_for()
    shot(treasurer, "board-approval-confirm")
    treasurer.get_by_role("button", name="Ja, goedkeuren en uitbetalen").click()
    treasurer.get_by_text("Gevraagd door board@coop-test.nl, goedgekeurd door treasurer@coop-test.nl").wait_for()
    shot(treasurer, "board-distribution-committed")
    balances = _balances(client, board)
    assert balances["equity:reserve"] > 0 and balances[f"income:permit:{permit_id}:fee"] == 0
    items = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    events = {e["type"]: e for e in items}
    chair_name = events["approval.requested"]["actor"]
    treasurer_name = events["approval.approved"]["actor"]
    assert chair_name != treasurer_name and chair_name.startswith("user:") and treasurer_name.startswith("user:")
    committed = events["distribution.committed"]
    assert committed["actor"] == treasurer_name
    assert (committed["payload"]["requested_by"], committed["payload"]["approved_by"]) == (chair_name, treasurer_name)


def test_the_portal_works_under_its_content_security_policy(
    client: TestClient, database: Database, live_server: str, browser: Any
) -> None:
    _board, people, _permit = f.cooperative(client, database)
    page = browser.new_page()  # the real policy, not bypassed
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(f"{live_server}/login")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    log_in(page, live_server, people[0].email)
    page.get_by_role("heading", name="Hallo").wait_for()
    header = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert header == "rgb(27, 58, 75)"  # the stylesheet came from this site and applied
    page.goto(f"{live_server}/me/choices")
    page.locator("select[name='pref:research:commercial']").select_option("deny")
    page.get_by_role("button", name="Opslaan").click()  # a form still submits
    page.get_by_role("status").wait_for()
    for url in ("/me", "/me/proxies", "/me/dividends", "/api/v1/public/transparency.html"):
        page.goto(f"{live_server}{url}")
    assert refused == []  # nothing the pages need was blocked
    page.goto(f"{live_server}/me")
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")  # an injected inline script does not run


@PAGES_ONLY
def test_the_api_documentation_works_without_internet(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    elsewhere: list[str] = []
    refused: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server}/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock").first.wait_for()  # the operations came from /openapi.json
    shot(page, "docs", full_page=False)
    page.goto(f"{live_server}/redoc")
    page.locator("h1", has_text="Health-data cooperative").wait_for()
    shot(page, "redoc", full_page=False)
    assert elsewhere == []
    # ReDoc's "by Redocly" badge points at Redocly's site: the policy keeps it out, as it should
    assert [m for m in refused if not m.startswith("Loading the image 'https://cdn.redoc.ly/")] == []


def test_the_board_writes_a_mandate_proposal_in_the_browser_and_sees_what_changes(
    client: TestClient, database: Database, live_server: str, browser: Any
) -> None:
    board = f.founded(client, database)
    page = browser.new_page()
    log_in(page, live_server, f.BOARD_EMAIL)
    page.get_by_role("heading", name="Leden").wait_for()
    page.goto(f"{live_server}/board/proposals")
    page.get_by_role("link", name="Nieuw voorstel: het mandaat").click()
    page.get_by_role("heading", name="Nieuw voorstel: het mandaat").wait_for()
    page.get_by_label("Titel").fill("Universitair onderzoek alleen met voorwaarden")
    decision = page.get_by_label("wetenschappelijk onderzoek, universiteit of non-profit: Besluit")
    decision.select_option("conditional")
    page.get_by_role("button", name="Toon het voorbeeld").click()
    page.get_by_role("alert").wait_for()  # a rule with conditions needs one: said beside it
    assert "Een regel met voorwaarden heeft minstens één voorwaarde nodig." in page.content()
    row = page.locator("tr", has=page.get_by_label("wetenschappelijk onderzoek, universiteit of non-profit: Besluit"))
    row.locator("summary").click()
    row.get_by_label("Een ethische commissie heeft het goedgekeurd").check()
    page.get_by_role("button", name="Toon het voorbeeld").click()
    page.get_by_role("heading", name="Voorbeeld van het voorstel").wait_for()
    changes = page.locator("h3:has-text('Wat verandert') + ul li")
    assert changes.count() == 1, changes.all_inner_texts()
    shot(page, "board-proposal-preview")
    assert client.get("/api/v1/governance/proposals", headers=board).json() == []
    page.get_by_role("button", name="Open de stemming").click()
    page.get_by_role("status").wait_for()
    [proposal] = client.get("/api/v1/governance/proposals", headers=board).json()
    assert proposal["title"] == "Universitair onderzoek alleen met voorwaarden" and proposal["status"] == "open"
    rule = next(r for r in proposal["body"]["rules"] if (r["purpose"], r["user_type"]) == ("research", "academic"))
    assert rule["decision"] == "conditional" and rule["conditions"]["ethics_review"] is True

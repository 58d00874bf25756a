"""A real browser through a carer's first steps: a member appoints someone who is not a member
by name and email; that carer makes a password from the mailed link, signs in, lands on the
members who ask them, accepts, changes one of the member's choices, and cannot vote for
themselves (no vote page of their own; the API says ``not-a-voter``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.e2e.conftest import log_in, shot

CARER = "carla.browser@example.org"


def test_a_carer_is_invited_signs_in_accepts_and_acts(
    client: TestClient, database: Database, live_server: str, browser: Any
) -> None:
    board, people, _permit = f.cooperative(client, database)
    anna = people[0]
    proposal = f.propose(client, board)

    page = browser.new_page()
    log_in(page, live_server, anna.email)
    page.goto(f"{live_server}/me/proxies")
    page.get_by_label("Iemand die geen lid is").check()
    page.get_by_label("Naam van de persoon die geen lid is").fill("Carla Zorg")
    page.get_by_label("E-mailadres van de persoon die geen lid is").fill(CARER)
    page.get_by_label("Wetenschappelijk onderzoek").check()
    page.get_by_role("button", name="Aanstellen").click()
    page.get_by_text("Carla Zorg").first.wait_for()

    carer = browser.new_page()  # Carla, in her own browser, from the link in her mail
    carer.goto(f"{live_server}/password/reset?token={f.invitation(database, CARER)['token']}")
    carer.get_by_label("Kies een wachtwoord").fill(f.CARER_PASSWORD)
    carer.get_by_role("button", name="Opslaan").click()
    carer.get_by_role("link", name="Inloggen").first.wait_for()
    log_in(carer, live_server, CARER, f.CARER_PASSWORD)
    carer.wait_for_url("**/me/proxies")
    assert carer.get_by_role("link", name="Mijn keuzes").count() == 0  # no member pages in her menu
    shot(carer, "carer-proxies")
    carer.get_by_role("button", name="Ja, dat doe ik").click()
    carer.get_by_text(f"U treedt op voor {anna.number}.").wait_for()
    carer.get_by_role("link", name="De keuzes van het lid").click()
    carer.locator("select[name='pref:research:academic']").select_option("deny")
    carer.get_by_role("button", name="Opslaan").click()
    carer.wait_for_url("**saved=1")
    choices = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "academic", "decision": "deny"} in choices["preferences"]

    assert carer.goto(f"{live_server}/me/votes").status == 403  # no vote of her own
    headers = f.login(client, CARER, f.CARER_PASSWORD)
    own = client.post(f"/api/v1/governance/proposals/{proposal['id']}/votes", json={"vote": "yes"}, headers=headers)
    assert own.status_code == 403 and own.json()["code"] == "not-a-voter"

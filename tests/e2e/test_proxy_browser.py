"""A real browser through a proxy's work: a member asks another to be her proxy with a vote
and her name shown; he accepts in his own browser, changes one of her choices and votes for
her on pages that say whom he acts for, and the API and the ledger of record name him as the
actor and her as the subject."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from coop.members.models import Member
from tests import factories as f
from tests.e2e.conftest import log_in, shot


def test_a_proxy_accepts_and_acts_in_the_browser(
    client: TestClient, database: Database, live_server: str, browser: Any
) -> None:
    board, people, _permit = f.cooperative(client, database)
    anna, bram = people[0], people[1]
    f.propose(client, board)  # an open vote for the proxy to cast
    with database.unit_of_work(write=False) as s:
        anna_name = s.get_one(Member, anna.id).name

    page = browser.new_page()
    log_in(page, live_server, anna.email)
    page.goto(f"{live_server}/me/proxies")
    page.get_by_label("Lidnummer van uw gevolmachtigde").fill(bram.number)
    page.get_by_label("Wetenschappelijk onderzoek").check()
    page.get_by_label("Mag ook voor mij stemmen").check()
    page.get_by_label("Mijn gevolmachtigde mag mijn naam zien").check()
    page.get_by_role("button", name="Aanstellen").click()
    page.get_by_text("Wacht op het ja van dit lid").wait_for()
    [asked] = client.get(f"/api/v1/members/{anna.id}/proxies", headers=anna.headers).json()
    assert asked["waiting"] and not asked["active"] and asked["show_name"]

    proxy = browser.new_page()  # Bram, in his own browser
    log_in(proxy, live_server, bram.email)
    proxy.goto(f"{live_server}/me/proxies")
    proxy.get_by_role("button", name="Ja, dat doe ik").click()
    proxy.get_by_text(f"U treedt op voor {anna_name} ({anna.number}).").wait_for()
    shot(proxy, "proxy-acting-for")
    proxy.get_by_role("link", name="De keuzes van het lid").click()
    proxy.locator("select[name='pref:research:academic']").select_option("deny")
    proxy.get_by_role("button", name="Opslaan").click()
    proxy.wait_for_url("**saved=1")
    shot(proxy, "proxy-acting-choices")
    choices = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "academic", "decision": "deny"} in choices["preferences"]
    assert choices["acting_proxy_id"] == bram.id

    proxy.goto(f"{live_server}/acting-for/{asked['id']}/votes")
    proxy.get_by_label("Tegen").check()
    proxy.get_by_role("button", name="Stem").click()
    proxy.get_by_text("Stem uitgebracht voor dit lid: Tegen").wait_for()

    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    hers = [e for e in events if e["subject"] == f"member:{anna.id}"]
    accepted = next(e for e in hers if e["type"] == "proxy.accepted")
    changed = [e for e in hers if e["type"] == "choices.changed"][-1]
    assert accepted["actor"] == changed["actor"] and changed["payload"]["acting_proxy_id"] == bram.id
    cast = next(e for e in events if e["type"] == "vote.cast" and e["payload"]["member_id"] == anna.id)
    assert cast["actor"] == accepted["actor"] and cast["payload"]["proxy_member_id"] == bram.id

    page.goto(f"{live_server}/me/history")  # Anna sees what her proxy did for her
    assert bram.number in page.content()

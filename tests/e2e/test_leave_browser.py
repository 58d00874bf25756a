"""A real browser through leaving and erasure: a member reads what leaving means, ticks that
they understand and leaves; the result page says so, signed out. Signed in again as a former
member, they ask to have their details erased sooner. The board's page of that former member
shows the request. Every one of these pages passes axe (WCAG 2.1 AA) and fits a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.e2e.checks import overflow, violations
from tests.e2e.conftest import log_in, shot


def _checked(page: Any, axe: Path, name: str, found: dict[str, list[str]]) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        found[f"{name} overflow at {width}"] = overflow(page)
    shot(page, f"leave-{name}")
    found[f"{name} axe"] = violations(page, axe)


def test_a_member_leaves_and_asks_for_erasure_in_the_browser(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    found: dict[str, list[str]] = {}
    page = browser.new_context(bypass_csp=True).new_page()
    log_in(page, live_server, anna.email)
    page.goto(f"{live_server}/me/details")
    page.get_by_role("link", name="Lees wat opzeggen betekent, en zeg op").click()
    page.get_by_text("Geld dat u al verdiend hebt, krijgt u nog steeds.").wait_for()
    _checked(page, axe_script, "member", found)
    page.get_by_label("Ik begrijp wat opzeggen betekent en ik wil opzeggen.").check()
    page.get_by_role("button", name="Lidmaatschap opzeggen").click()
    page.get_by_role("heading", name="U bent geen lid meer").wait_for()
    _checked(page, axe_script, "done", found)
    assert client.get(f"/api/v1/members/{anna.id}", headers=board).json()["status"] == "left"

    log_in(page, live_server, anna.email)  # a former member signs in again
    page.goto(f"{live_server}/me/leave")
    page.get_by_role("heading", name="Mijn gegevens nu wissen").wait_for()
    _checked(page, axe_script, "former", found)
    page.get_by_label("Ik wil dat mijn e-mailadres en inlog nu gewist worden.").check()
    page.get_by_role("button", name="Mijn gegevens wissen").click()
    page.get_by_text("om uw gegevens te wissen").wait_for()
    _checked(page, axe_script, "asked", found)
    assert client.get(f"/api/v1/members/{anna.id}", headers=board).json()["erasure_requested_at"] is not None

    chair = browser.new_context(bypass_csp=True).new_page()
    log_in(chair, live_server, f.BOARD_EMAIL)
    chair.goto(f"{live_server}/board/members/{anna.id}")
    chair.get_by_text("E-mailadres en inlog worden bij de volgende ronde gewist.").wait_for()
    _checked(chair, axe_script, "board", found)
    assert {name: v for name, v in found.items() if v} == {}

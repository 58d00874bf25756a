"""Every portal page, as a member, a carer and the board, and the public pages, in a real
browser under the pages' own Content-Security-Policy: each passes axe-core's WCAG 2.1 A and
AA rules in both languages (contrast, labels, names, landmarks, language) and fits a desktop
(1280 px) and a phone (390 px) without scrolling sideways; each is screenshotted at both
widths (test-artifacts/layout-*.png).

One scene: the cooperative is built once and each page is visited once per width and
language, running both checks on it (these were two tests that built the same cooperative
and visited the same pages, a minute each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.conftest import PAGES_ONLY, Clock
from tests.e2e.checks import WIDTHS, overflow, violations
from tests.e2e.conftest import log_in, shot

PUBLIC_PAGES = ["/login", "/invitation?token=x", "/api/v1/public/transparency.html", "/receipt/verify"]


def _name(url: str) -> str:
    return url.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace(".", "-") or "home"


def _in(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


@PAGES_ONLY
def test_every_page_passes_wcag_21_aa_and_fits_a_desktop_and_a_phone(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path, clock: Clock
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=50_000)
    member_pages = [*f.MEMBER_PAGES, *f.acting_pages(client, people)]  # people[0] acts for people[1]
    carer_pages = f.carer_pages(client, database, people[1])  # a carer who is not a member acts for people[1]
    found: dict[str, list[str]] = {}
    visits = 0

    def tour(who: tuple[str, str] | None, pages: list[str], label: str, everywhere: list[str]) -> None:
        """Each page at both widths: at the desktop in both languages, on the phone in Dutch
        (and in English too for ``everywhere``); axe on the desktop (and on the phone for
        ``everywhere``), the width everywhere."""
        nonlocal visits
        for kind, width in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": 900})
            if who is not None:
                log_in(page, live_server, *who)
                page.wait_for_url(lambda url: "/login" not in url)
            for url in pages:
                for lang in ("nl", "en") if kind == "desktop" or url in everywhere else ("nl",):
                    response = page.goto(f"{live_server}{_in(url, lang)}")
                    assert response is not None and response.ok, f"{label}{url} ({lang})"
                    visits += 1
                    where = f"{label}{url} ({lang}, {width}px)"
                    if lang == "nl":
                        shot(page, f"layout-{kind}-{label.strip().replace(' ', '-')}{_name(url)}")
                    found[f"{where}: scrolls sideways"] = overflow(page)
                    if kind == "desktop" or url in everywhere:
                        found[f"{where}: axe"] = violations(page, axe_script)
            page.close()

    transparency = PUBLIC_PAGES[2:]  # the public pages anyone reads: also on the phone in English
    tour(None, PUBLIC_PAGES, "", transparency)
    tour((people[0].email, f.PASSWORD), member_pages, "", [])
    tour((f.CARER_EMAIL, f.CARER_PASSWORD), carer_pages, "carer ", [])
    clock.moment = f.AFTER  # the year has ended: the board reviews a draft waiting for their approval
    four_eyes = f.four_eyes_pages(client, database, board)
    board_pages = list(dict.fromkeys([*f.BOARD_PAGES, *four_eyes]))
    tour((f.BOARD_EMAIL, f.PASSWORD), board_pages, "", four_eyes)

    pages = [*PUBLIC_PAGES, *member_pages, *carer_pages, *board_pages]
    assert visits == 3 * len(pages) + len(transparency) + len(four_eyes)
    problems = {where: what for where, what in found.items() if what}
    assert not problems, "\n".join(f"{where}: {'; '.join(what)}" for where, what in problems.items())

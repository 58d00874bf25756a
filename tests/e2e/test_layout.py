"""Every member and board page, and the public pages (transparency, receipt check), fit a
desktop (1280 px) and a phone (390 px) without scrolling sideways; each is screenshotted at
both widths (test-artifacts/layout-*.png)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.conftest import PAGES_ONLY, Clock
from tests.e2e.conftest import log_in, shot

WIDTHS = {"desktop": 1280, "phone": 390}
PUBLIC_PAGES = [
    "/login",
    "/api/v1/public/transparency.html?lang=nl",
    "/api/v1/public/transparency.html?lang=en",
    "/receipt/verify?lang=nl",
    "/receipt/verify?lang=en",
]


def _overflow(page: Any) -> list[str]:
    """How far the page is wider than the window, and the elements that stick out."""
    return list(
        page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) return [];
                return [`page ${document.documentElement.scrollWidth}px in ${width}px`].concat(
                    [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > width + 1)
                        .slice(0, 5)
                        .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` +
                                  `${e.className ? '.' + e.className : ''} ends at ` +
                                  `${Math.round(e.getBoundingClientRect().right)}px`));
            }"""
        )
    )


def _name(url: str) -> str:
    return url.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace(".", "-") or "home"


@PAGES_ONLY
def test_no_page_scrolls_sideways(
    client: TestClient, database: Database, live_server: str, browser: Any, clock: Clock
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=50_000)
    clock.moment = f.AFTER  # the year has ended: the board reviews a draft waiting for their approval
    board_pages = list(dict.fromkeys([*f.BOARD_PAGES, *f.four_eyes_pages(client, database, board)]))
    member_pages = [*f.MEMBER_PAGES, *f.acting_pages(client, people)]
    carer_pages = f.carer_pages(client, database, people[1])
    found: dict[str, list[str]] = {}
    visits = 0
    logins = (
        ((people[0].email, f.PASSWORD), member_pages),
        ((f.CARER_EMAIL, f.CARER_PASSWORD), carer_pages),
        ((f.BOARD_EMAIL, f.PASSWORD), board_pages),
        (None, PUBLIC_PAGES),
    )
    for who, pages in logins:
        for kind, width in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": 900})
            if who is not None:
                log_in(page, live_server, *who)
                page.wait_for_url(lambda url: "/login" not in url)
            for url in pages:
                response = page.goto(f"{live_server}{url}")
                assert response is not None and response.ok, url
                visits += 1
                shot(page, f"layout-{kind}-{_name(url)}")
                found[f"{url} at {width}px" + (" (carer)" if pages is carer_pages else "")] = _overflow(page)
            page.close()
    assert visits == 2 * (len(member_pages) + len(carer_pages) + len(board_pages) + len(PUBLIC_PAGES))
    wide = {where: what for where, what in found.items() if what}
    assert not wide, "\n".join(f"{where}: {'; '.join(what)}" for where, what in wide.items())

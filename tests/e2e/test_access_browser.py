"""The member's "who looked at my data" page, with reads by the board, a proxy and a permit's
downloads on it and a second page of them: axe-core's WCAG 2.1 AA rules and no sideways
scrolling at desktop and phone widths, in both languages. (It is in MEMBER_PAGES too, where
the other portal tests visit it as an empty page.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.e2e.checks import WIDTHS, overflow, violations
from tests.e2e.conftest import log_in, shot


def test_the_access_page_passes_axe_and_fits_a_phone(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    hdab, permit, people = f.registered(client, database, members=2, manifest=True)
    board = f.board(client, database)
    me, proxy = people
    f.appointed(client, me, proxy, purposes=["research"])
    holder = f.api_key(database, "data_holder", "SPE Nederland")
    for downloader in (hdab, holder):
        client.get(f"/api/v1/permits/{permit['id']}/manifests/1", headers=downloader)
    client.get(f"/api/v1/members/{me.id}/choices", headers=proxy.headers)
    for _ in range(20):  # more than one page
        client.get(f"/api/v1/members/{me.id}", headers=board)
    found: dict[str, list[str]] = {}
    for width_name, width in WIDTHS.items():
        page = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900}).new_page()
        log_in(page, live_server, me.email)
        for lang in ("nl", "en"):
            for url in ("/me/access", "/me/access?page=2"):
                sep = "&" if "?" in url else "?"
                page.goto(f"{live_server}{url}{sep}lang={lang}")
                assert page.locator("h1").inner_text() in ("Wie bekeek mijn gegevens", "Who looked at my data")
                key = f"{url} ({lang}, {width_name})"
                found[key] = violations(page, axe_script) + overflow(page)
                shot(page, f"access-{lang}-{width_name}-{2 if 'page=2' in url else 1}")
        page.context.close()
    assert {k: v for k, v in found.items() if v} == {}

""" "Download my data" in a real browser: the page passes axe-core's WCAG 2.1 A and AA rules in
both languages, fits a desktop and a phone without scrolling sideways, and its two links
download the member's files, also for a member who left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.conftest import PAGES_ONLY
from tests.e2e.checks import WIDTHS, overflow, violations
from tests.e2e.conftest import log_in, shot


# Once, on SQLite (PAGES_ONLY): what the browser adds here is the page and its downloads; the
# export itself, a former member's download and the PDF are tested on both engines in
# tests/portability/test_export.py.
@PAGES_ONLY
def test_the_download_page_passes_wcag_fits_every_width_and_downloads(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    _board, people = f.with_members(client, database, 2)
    me, former = people
    assert client.post(f"/api/v1/members/{former.id}/leave", headers=former.headers).status_code == 200
    found: dict[str, list[str]] = {}
    for who in (me, former):
        for kind, width in WIDTHS.items():
            page = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900}).new_page()
            log_in(page, live_server, who.email)
            page.wait_for_url(lambda url: "/login" not in url)
            for lang in ("nl", "en"):
                response = page.goto(f"{live_server}/me/export?lang={lang}")
                assert response is not None and response.ok
                shot(page, f"export-{kind}-{lang}-{who.number}")
                found[f"{who.number} {lang} {width}px overflow"] = overflow(page)
                found[f"{who.number} {lang} {width}px axe"] = violations(page, axe_script)
            with page.expect_download() as info:
                page.get_by_role("link", name="All data (JSON)").click()
            download = info.value
            assert download.suggested_filename.startswith(f"member-data-{who.number}-")
            assert json.loads(Path(download.path()).read_text())["member"]["number"] == who.number
            with page.expect_download() as info:
                page.get_by_role("link", name="Summary (PDF)").click()
            assert info.value.suggested_filename.endswith(".pdf")
            page.close()
    assert len(found) == 2 * 2 * 2 * 2
    assert {where: what for where, what in found.items() if what} == {}

"""The choices page's own yes for sensitive data in a real browser, checked by axe-core's WCAG 2.1 A
and AA rules (every page's check is in test_every_page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.e2e.checks import violations
from tests.e2e.conftest import log_in


def test_the_yes_for_sensitive_data_is_given_in_the_browser_and_passes_at_both_widths(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    """The choices page's own yes per sensitive kind of data: chosen with the keyboard-usable
    radio buttons under the real Content-Security-Policy, then checked by axe in both
    languages on a desktop and a phone, with the yes given and an excluded kind of data."""
    anna = f.member(client, f.founded(client, database))
    page = browser.new_page()
    log_in(page, live_server, anna.email)
    page.goto(f"{live_server}/me/choices?lang=en")
    page.get_by_role("group", name="Genetic and genomic data (sensitive)").get_by_label(
        "Yes, the cooperative may use it"
    ).check()
    page.get_by_role("group", name="Biobanks (sensitive)").get_by_label("Yes, the cooperative may use it").check()
    page.get_by_role("checkbox", name="Biobanks (sensitive)").check()  # and never share it: the page says so
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    api = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert api["sensitive_yes"] == ["genetic", "biobanks"] and api["excluded_categories"] == ["biobanks"]
    checked = browser.new_context(bypass_csp=True).new_page()
    log_in(checked, live_server, anna.email)
    found: dict[str, list[str]] = {}
    for width in (1280, 390):
        checked.set_viewport_size({"width": width, "height": 900})
        for lang in ("nl", "en"):
            checked.goto(f"{live_server}/me/choices?lang={lang}")
            found[f"{lang} {width}"] = violations(checked, axe_script)
    assert {k: v for k, v in found.items() if v} == {}

"""The receipt check page in Chromium, under its real Content-Security-Policy: a member's
receipt is found valid with what its event says, the same receipt with one byte altered is
not (saying why), and the page sends nothing anywhere once it has loaded."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests.conftest import PAGES_ONLY
from tests.e2e.conftest import shot
from tests.record.test_receipts import altered, own_receipt


def _check(page: Any, name: str, text: str) -> str:
    """Give the page a receipt file; the outcome it shows (valid or invalid)."""
    page.set_input_files("#receipt-file", files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}])
    page.wait_for_selector("#receipt-result[data-state]")
    state: str = page.evaluate("document.getElementById('receipt-result').dataset.state")
    page.evaluate("() => { delete document.getElementById('receipt-result').dataset.state; }")
    return state


@PAGES_ONLY  # the check is the browser's own, whatever the database behind the receipt
def test_the_page_verifies_a_receipt_in_the_browser_and_sends_nothing(
    client: TestClient, database: Database, live_server: str, browser: Any
) -> None:
    text, _key, anna, _bram, seq = own_receipt(client, database)
    page = browser.new_page()
    response = page.goto(f"{live_server}/receipt/verify?lang=en")
    assert response is not None and response.ok
    assert "connect-src 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    assert _check(page, "anna.tlog-proof", text) == "valid"
    result = page.locator("#receipt-result")
    assert "This receipt is genuine" in result.inner_text()
    assert page.locator('[data-field="seq"]').inner_text() == str(seq)
    assert page.locator('[data-field="subject"]').inner_text() == f"member:{anna.id}"
    shot(page, "receipt-valid")
    assert _check(page, "altered.tlog-proof", altered(text, "event")) == "invalid"
    assert page.locator('[data-reason="not-included"]').is_visible()
    assert page.locator("[data-summary]").is_hidden() and "This receipt is not valid" in result.inner_text()
    assert _check(page, "signature.tlog-proof", altered(text, "signature")) == "invalid"
    assert page.locator('[data-reason="bad-signature"]').is_visible()
    assert page.locator('[data-reason="not-included"]').is_hidden()
    shot(page, "receipt-invalid")
    assert _check(page, "anna-again.tlog-proof", text) == "valid"  # the same page, checked again
    assert sent == []

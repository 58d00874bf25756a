"""The receipt check page in Chromium, under its real Content-Security-Policy: a member's
receipt is found valid with what its event says, the same receipt with one byte altered is
not (saying why), and the page sends nothing anywhere once it has loaded. With the real
witness (aics-witness) configured, a member's receipt carries its cosignature, which
``coop receipt verify`` checks against the configured witness and the page shows."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coop.cli import app as cli
from coop.db import Database
from coop.record.witnesses import witness_round
from coop.settings import Settings, WitnessSettings
from ledger.signing import note_verifier_key
from tests import factories as f
from tests.conftest import PAGES_ONLY, make_settings
from tests.e2e.conftest import shot
from tests.record.test_receipts import altered, own_receipt
from tests.record.witness import AicsWitness
from tests.record.witness import aics_witness as aics_witness  # the fixture


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


@PAGES_ONLY  # one engine, like the page test above; the witness client runs on both in tests/record
class TestWithTheRealWitness:
    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path, aics_witness: AicsWitness) -> Settings:
        """This test's own log, witnessed by aics-witness (the app's own rounds: at its start only)."""
        witness = WitnessSettings(name="w1", url=aics_witness.url, vkey=aics_witness.vkey)
        log_name = f"t{uuid.uuid4().hex[:12]}.coop.test/ledger"
        return make_settings(db_url, tmp_path, log_name=log_name, witnesses=[witness], witness_interval_seconds=3600)

    def test_a_receipt_carries_the_witness_cosignature_checked_by_the_cli_and_shown_by_the_page(
        self,
        client: TestClient,
        database: Database,
        cli_env: Settings,
        live_server: str,
        browser: Any,
        aics_witness: AicsWitness,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        name = cli_env.ledger.log_name
        aics_witness.trust(name, note_verifier_key(name, database.signer.public_key))
        _board, (anna,) = f.with_members(client, database, 1)
        changed = client.patch(f"/api/v1/members/{anna.id}/choices", json={"opt_out": True}, headers=anna.headers)
        assert changed.status_code == 200  # a head is signed over the change at its commit
        assert [o.cosigned for o in witness_round(database)] == [True]
        newest = client.get(f"/api/v1/members/{anna.id}/receipts", headers=anna.headers).json()[-1]
        assert newest["type"] == "choices.changed"
        text = client.get(newest["receipt_url"], headers=anna.headers).text
        witness_name = aics_witness.vkey.split("+")[0]
        signers = [line.split(" ")[1] for line in text.split("\n\n")[2].splitlines()]
        assert signers == [name, witness_name]  # the log's signature and the witness's cosignature

        monkeypatch.setenv("COOP_LEDGER_LOG_NAME", name)
        monkeypatch.setenv("COOP_LEDGER_WITNESSES", json.dumps([w.model_dump() for w in cli_env.ledger.witnesses]))
        file = tmp_path / "witnessed.tlog-proof"
        file.write_text(text)
        one = CliRunner().invoke(cli, ["receipt", "verify", str(file), "--min-witnesses", "1"])
        assert one.exit_code == 0, one.output
        assert f"configured witness key: {aics_witness.vkey}" in one.output
        assert f"cosignature checks out: {witness_name}" in one.output
        two = CliRunner().invoke(cli, ["receipt", "verify", str(file), "--min-witnesses", "2"])
        assert two.exit_code == 2 and "only 1 configured witness keys" in two.output

        page = browser.new_page()
        page.goto(f"{live_server}/receipt/verify?lang=en")
        page.wait_for_load_state("networkidle")
        assert _check(page, "witnessed.tlog-proof", text) == "valid"
        witness = page.locator(f'[data-witness-key="{aics_witness.vkey}"]')
        assert witness.get_attribute("data-state") == "cosigned" and "w1: confirmed it" in witness.inner_text()
        shot(page, "receipt-witnessed")

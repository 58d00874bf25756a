"""Receipts members keep (c2sp.org/tlog-proof): a member's receipt for their own event, as the
API and the portal give it, verifies offline with the pure verifier and with ``coop receipt
verify``; one altered byte anywhere that matters makes it fail, naming why; nobody else
gets a member's receipt, and another member's event is never revealed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coop.app import create_app
from coop.cli import app as cli
from coop.db import Database
from coop.settings import Settings
from ledger import receipts
from ledger.notes import COSIGNATURE_V1, verifier_of
from ledger.signing import note_verifier_key
from tests import factories as f
from tests.conftest import make_settings

runner = CliRunner()


def own_receipt(client: TestClient, database: Database) -> tuple[str, str, f.MemberHandle, f.MemberHandle, int]:
    """A receipt of a member's change of choices, through the API: the receipt, the log's
    verifier key, the member, another member, and the event's number."""
    _board, (anna, bram) = f.with_members(client, database, 2)
    changed = client.patch(f"/api/v1/members/{anna.id}/choices", json={"opt_out": True}, headers=anna.headers)
    assert changed.status_code == 200
    answer = client.get(f"/api/v1/members/{anna.id}/receipts", headers=anna.headers)
    assert answer.headers["cache-control"] == "no-store"  # a member's own: no shared cache keeps it
    newest = answer.json()[-1]
    assert newest["type"] == "choices.changed" and newest["receipt_ready"] is True
    answer = client.get(newest["receipt_url"], headers=anna.headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["content-disposition"] == f'attachment; filename="receipt-{newest["seq"]}.tlog-proof"'
    assert answer.headers["cache-control"] == "no-store"
    key = client.get("/api/v1/ledger/public-key").json()["note_verifier_key"]
    return answer.text, key, anna, bram, newest["seq"]


def test_a_members_receipt_verifies_offline_with_the_verifier_and_the_cli(
    client: TestClient, database: Database, cli_env: Settings, tmp_path: Path
) -> None:
    text, key, anna, _bram, seq = own_receipt(client, database)
    lines = text.splitlines()
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("extra ") and lines[2] == f"index {seq - 1}"
    found = receipts.verify(text, [receipts.parse_verifier_key(key)])
    assert (found.event.seq, found.event.type, found.event.subject) == (seq, "choices.changed", f"member:{anna.id}")
    assert found.event.payload["opt_out"] is True and found.origin == cli_env.ledger.log_name
    file = tmp_path / "anna.tlog-proof"
    file.write_text(text)
    default = runner.invoke(cli, ["receipt", "verify", str(file)])  # this installation's own key
    assert default.exit_code == 0, default.output
    assert f"receipt verified: event {seq} (choices.changed)" in default.output and key in default.output
    given = runner.invoke(cli, ["receipt", "verify", str(file), "--key", key])
    assert given.exit_code == 0, given.output


def altered(text: str, what: str) -> str:
    """The receipt with one byte changed in ``what``."""
    head, _, note = text.partition("\n\n")
    lines, note_lines = head.split("\n"), note.split("\n")

    def flip(b64: str, at: int) -> str:
        raw = bytearray(base64.b64decode(b64))
        raw[at] ^= 0x01
        return base64.b64encode(bytes(raw)).decode()

    if what == "event":
        lines[1] = "extra " + flip(lines[1][len("extra ") :], 10)
    elif what == "index":
        lines[2] = f"index {int(lines[2][len('index ') :]) + 1}"
    elif what == "proof":
        lines[3] = flip(lines[3], 0)
    elif what == "root":
        note_lines[2] = flip(note_lines[2], 31)
    elif what == "signature":
        name, blob = note_lines[4].rsplit(" ", 1)
        note_lines[4] = f"{name} {flip(blob, 20)}"
    elif what == "origin":
        note_lines[0] = chr(ord(note_lines[0][0]) ^ 0x01) + note_lines[0][1:]  # another log's name
    elif what == "header":
        lines[0] = "c2sp.org/tlog-proof@v2"
    return "\n".join(lines) + "\n\n" + "\n".join(note_lines)


def test_one_altered_byte_fails_naming_the_check(
    client: TestClient, database: Database, cli_env: Settings, tmp_path: Path
) -> None:
    text, key, *_ = own_receipt(client, database)
    trusted = [receipts.parse_verifier_key(key)]
    expected = {
        "event": "not-included",
        "index": "not-included",
        "proof": "not-included",
        "root": "bad-signature",
        "signature": "bad-signature",
        "origin": "wrong-log",
        "header": "malformed",
    }
    refused = {}
    for what in expected:
        changed = altered(text, what)
        assert changed != text
        try:
            receipts.verify(changed, trusted)
        except receipts.ReceiptError as exc:
            refused[what] = exc.code
    assert refused == expected
    file = tmp_path / "altered.tlog-proof"
    file.write_text(altered(text, "event"))
    result = runner.invoke(cli, ["receipt", "verify", str(file), "--key", key])
    assert result.exit_code == 1 and "does NOT verify (not-included)" in result.output
    stranger = note_verifier_key(cli_env.ledger.log_name, Ed25519PrivateKey.generate().public_key())
    file.write_text(text)
    untrusted = runner.invoke(cli, ["receipt", "verify", str(file), "--key", stranger])
    assert untrusted.exit_code == 1 and "(unsigned)" in untrusted.output  # a log of that name, but not this key
    bad_key = runner.invoke(cli, ["receipt", "verify", str(file), "--key", key[:-4] + "AAA="])
    assert bad_key.exit_code == 2


def test_only_the_member_and_the_board_get_a_receipt_and_never_of_another_members_event(
    client: TestClient, database: Database
) -> None:
    text, _key, anna, bram, seq = own_receipt(client, database)
    board = f.board(client, database)
    of_anna = f"/api/v1/members/{anna.id}/receipts/{seq}"
    assert client.get(of_anna, headers=bram.headers).json()["code"] == "member-not-found"
    assert client.get(f"/api/v1/members/{bram.id}/receipts/{seq}", headers=bram.headers).json()["code"] == (
        "event-not-found"  # anna's event, asked as bram's: not revealed
    )
    assert client.get(f"/api/v1/members/{bram.id}/receipts/{seq}", headers=bram.headers).status_code == 404
    assert client.get(f"/api/v1/members/{anna.id}/receipts", headers=bram.headers).status_code == 404
    assert client.get(f"/api/v1/members/{anna.id}/receipts/{2**62}", headers=anna.headers).status_code == 404
    log = client.get(f"/api/v1/members/{anna.id}/access-log", headers=anna.headers).json()["items"]
    assert log == []  # her own reads are not recorded
    by_board = client.get(of_anna, headers=board)
    assert by_board.status_code == 200 and by_board.text.split("\n\n")[0] == text.split("\n\n")[0]
    log = client.get(f"/api/v1/members/{anna.id}/access-log", headers=anna.headers).json()["items"]
    assert [(r["role"], r["what"]) for r in log] == [("board", "history")]
    assert client.get("/api/v1/members/999999/receipts", headers=board).json()["code"] == "member-not-found"


def test_a_receipt_waits_for_its_signed_head(database: Database, db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, head_interval_seconds=3600.0)
    with TestClient(create_app(settings)) as client:
        _board, (anna,) = f.with_members(client, database, 1)
        client.patch(f"/api/v1/members/{anna.id}/choices", json={"opt_out": True}, headers=anna.headers)
        newest = client.get(f"/api/v1/members/{anna.id}/receipts", headers=anna.headers).json()[-1]
        assert newest["receipt_ready"] is False
        pending = client.get(newest["receipt_url"], headers=anna.headers)
        assert pending.status_code == 503 and pending.json()["code"] == "receipt-pending"
        assert pending.headers["Retry-After"] == "3600"


def test_the_portal_offers_the_receipt_after_a_change_and_on_the_history_page(
    client: TestClient, database: Database
) -> None:
    _board, (anna, bram) = f.with_members(client, database, 2)
    f.portal_login(client, anna.email)
    choices = client.get("/me/choices")
    form = {"csrf": f.csrf(choices.text), "pref:research:commercial": "deny"}
    saved = client.post("/me/choices", data=form, follow_redirects=False).headers["location"]
    seq = int(saved.rsplit("=", 1)[1])
    confirmed = client.get(saved)
    assert f'href="/me/receipts/{seq}"' in confirmed.text and "Download" in client.get(saved + "&lang=en").text
    download = client.get(f"/me/receipts/{seq}")
    assert download.status_code == 200 and download.headers["content-disposition"].endswith('.tlog-proof"')
    key = client.get("/api/v1/ledger/public-key").json()["note_verifier_key"]
    assert receipts.verify(download.text, [receipts.parse_verifier_key(key)]).event.seq == seq
    history = client.get("/me/history").text
    assert f'href="/me/receipts/{seq}"' in history and 'href="/receipt/verify"' in history
    bram_events = client.get(f"/api/v1/members/{bram.id}/receipts", headers=bram.headers).json()
    of_bram = bram_events[0]["seq"]
    assert client.get(f"/me/receipts/{of_bram}").status_code == 404
    assert f"/me/receipts/{of_bram}" not in client.get(f"/me/choices?receipt={of_bram}").text


def test_the_check_page_is_public_loads_only_its_script_and_may_connect_nowhere(
    client: TestClient, database: Database
) -> None:
    page = client.get("/receipt/verify?lang=en")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "connect-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    key = client.get("/api/v1/ledger/public-key").json()["note_verifier_key"]
    assert f'data-log-key="{key}"' in page.text and '<script src="/static/receipt-check.js" defer>' in page.text
    assert "script-src" not in client.get("/login").headers["content-security-policy"]  # other pages: none
    assert client.get("/static/receipt-check.js").status_code == 200


def _cosigned(text: str, name: str, key: Ed25519PrivateKey, timestamp: int, signed_time: int) -> tuple[str, str]:
    """The receipt with a witness's cosignature line (tlog-cosignature, Ed25519) added to its
    checkpoint, signed over ``signed_time`` and claiming ``timestamp``; and the witness's key."""
    body = text.split("\n\n")[1] + "\n"
    cosigner = verifier_of(name, key.public_key(), COSIGNATURE_V1)
    key_id = cosigner.key_hash
    signature = key.sign(f"cosignature/v1\ntime {signed_time}\n{body}".encode())
    line = f"\u2014 {name} {base64.b64encode(key_id + timestamp.to_bytes(8, 'big') + signature).decode()}\n"
    return text + line, cosigner.text


def test_witness_cosignatures_are_checked_and_can_be_required(
    client: TestClient, database: Database, cli_env: Settings, tmp_path: Path
) -> None:
    text, key, *_ = own_receipt(client, database)
    text, honest = _cosigned(text, "witness1.example", Ed25519PrivateKey.generate(), 1_790_000_000, 1_790_000_000)
    text, forged = _cosigned(text, "witness2.example", Ed25519PrivateKey.generate(), 1_790_000_000, 1_700_000_000)
    log_keys = [receipts.parse_verifier_key(key)]
    witnesses = [receipts.parse_verifier_key(honest), receipts.parse_verifier_key(forged)]
    assert receipts.verify(text, log_keys, witnesses, min_witnesses=1).witnesses == ("witness1.example",)
    with pytest.raises(receipts.ReceiptError) as refused:
        receipts.verify(text, log_keys, witnesses, min_witnesses=2)
    assert refused.value.code == "too-few-witnesses"
    file = tmp_path / "cosigned.tlog-proof"
    file.write_text(text)
    args = ["receipt", "verify", str(file), "--key", key, "--witness-key", honest, "--witness-key", forged]
    one = runner.invoke(cli, [*args, "--min-witnesses", "1"])
    assert one.exit_code == 0 and "cosignature checks out: witness1.example" in one.output
    assert runner.invoke(cli, [*args, "--min-witnesses", "2"]).exit_code == 1
    assert runner.invoke(cli, [*args[:-2], "--witness-key", key]).exit_code == 2  # a log key is no witness key

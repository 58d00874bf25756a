"""The books exported to beancount: bean-check passes, and its balances equal ours to the
cent (every account carries an exact balance assertion, which a one-cent change breaks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from ledger.export import beancount_name, euros
from tests import factories as f
from tests.conftest import Clock

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def _bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False)


def test_bean_check_agrees_with_our_books(client: TestClient, database, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    board, _people, permit_id = f.cooperative(client, database, members=3)
    f.money(client, board, permit_id, income=123_456, expense=7_891)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, d["id"]).status_code == 200
    r = client.get("/api/v1/ledger/export", params={"format": "beancount"}, headers=board)
    assert r.status_code == 200
    books = tmp_path / "books.beancount"
    books.write_text(r.text)
    checked = _bean_check(books)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ours = client.get("/api/v1/ledger/balances", headers=board).json()["accounts"]
    for account in ours:
        raw = account["balance_cents"] if account["kind"] in ("asset", "expense") else -account["balance_cents"]
        assert f"balance {beancount_name(account['account'])}  {euros(raw)} ~ 0.00 EUR" in r.text
    moved = r.text.replace("Assets:Bank  1234.56 EUR", "Assets:Bank  1234.57 EUR", 1)
    assert moved != r.text
    books.write_text(moved)
    assert _bean_check(books).returncode != 0


def test_amounts_are_exact_decimals() -> None:
    assert [euros(c) for c in (0, 1, -1, 100, 123_456, -99)] == ["0.00", "0.01", "-0.01", "1.00", "1234.56", "-0.99"]
    assert beancount_name("equity:solidarity-fund") == "Equity:Solidarity-fund"


def test_only_for_the_board_and_auditors(client: TestClient, database) -> None:  # type: ignore[no-untyped-def]
    board = f.board(client, database)
    assert client.get("/api/v1/ledger/export", headers=f.api_key(database, "auditor")).status_code == 200
    assert client.get("/api/v1/ledger/export", params={"format": "csv"}, headers=board).status_code == 422
    assert client.get("/api/v1/ledger/export", headers=f.member(client, board).headers).status_code == 403

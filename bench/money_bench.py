"""Balances over 200,000 entries: our SQL aggregation beside `ledger -f FILE balance` and
`bean-check` on the same data (exported by the product's own beancount writer)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import fresh_database
from ledger import books
from ledger.books import Kind
from ledger.export import beancount, beancount_name, euros
from ledger.models import MoneyEntry, MoneyPosting

ENTRIES = 200_000


def seed(db: Any, n: int) -> None:
    rng = random.Random(5)
    with db.unit_of_work() as s:
        books.open_account(s, "assets:bank", Kind.asset, "Bank")
        books.open_account(s, "expenses:operations", Kind.expense, "Operations")
        for p in range(200):
            books.open_account(s, f"income:permit:{p}:fee", Kind.income, f"Permit {p}")
    start = date(2020, 1, 1)
    for lo in range(0, n, 20_000):
        entries, postings = [], []
        for i in range(lo, min(lo + 20_000, n)):
            cents = rng.randint(100, 1_000_000)
            other = "expenses:operations" if i % 5 == 0 else f"income:permit:{rng.randrange(200)}:fee"
            sign = -1 if other == "expenses:operations" else 1
            entries.append(
                {
                    "id": f"e{i}",
                    "booked_on": start + timedelta(days=i % 2000),
                    "description": f"entry {i}",
                    "ledger_seq": i + 1,
                }
            )
            postings += [
                {"entry_id": f"e{i}", "line": 0, "account": "assets:bank", "amount_cents": sign * cents},
                {"entry_id": f"e{i}", "line": 1, "account": other, "amount_cents": -sign * cents},
            ]
        with db.unit_of_work() as s:
            s.execute(insert(MoneyEntry), entries)
            s.execute(insert(MoneyPosting), postings)


def _ledger_file(db: Any, path: Path) -> None:
    with db.unit_of_work(write=False) as s, path.open("w") as out:
        for line in beancount(s):
            if line.startswith(("option", "  entry_id")) or " open " in line or " balance " in line:
                continue
            out.write(line + "\n")


def _seconds(cmd: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def run(engine: str = "sqlite", n: int = ENTRIES) -> dict[str, Any]:
    with fresh_database(engine) as db, tempfile.TemporaryDirectory() as tmp:
        seed(db, n)
        ours = float("inf")
        for _ in range(3):
            with db.unit_of_work(write=False) as s:
                start = time.perf_counter()
                result = books.balances(s)
                ours = min(ours, time.perf_counter() - start)
        bean = Path(tmp) / "books.beancount"
        with db.unit_of_work(write=False) as s:
            bean.write_text("\n".join(beancount(s)) + "\n")
        ledger_path = Path(tmp) / "books.ledger"
        _ledger_file(db, ledger_path)
        figures: dict[str, Any] = {"entries": n, "ours_seconds": round(ours, 3)}
        if shutil.which("ledger"):
            figures["ledger_cli_seconds"] = round(_seconds(["ledger", "-f", str(ledger_path), "balance"]), 3)
            check = subprocess.run(
                ["ledger", "-f", str(ledger_path), "balance", "Assets:Bank"], capture_output=True, text=True, check=True
            )
            assert euros(result["assets:bank"][1]) in check.stdout.replace(",", ""), check.stdout
        bean_check = Path(sys.executable).with_name("bean-check")
        figures["bean_check_seconds"] = round(_seconds([str(bean_check), str(bean)]), 3)
        assert beancount_name("assets:bank") == "Assets:Bank"
    print(f"balances [{engine}]: {figures}")
    return figures

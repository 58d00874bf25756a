"""Writing many rows at once: rows given column by column arrive as the same rows as rows
given one by one, on both engines."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from coop.db import Database
from ledger import bulk

COLUMNS = ("member_id", "distribution_id", "cents", "donated")
TYPES = ("int4", "int4", "int8", "bool")


def test_columns_arrive_as_rows(database: Database) -> None:
    with database.unit_of_work() as s:
        s.execute(
            text("CREATE TABLE bulk_probe (member_id INTEGER, distribution_id INTEGER, cents BIGINT, donated BOOLEAN)")
        )
        ids = np.array([1, 7, 2**31 - 1, 12], dtype=np.int64)
        cents = np.array([0, -5, 10**15, 2**62], dtype=np.int64)
        bulk.insert_columns(s, "bulk_probe", COLUMNS, TYPES, (ids, 3, cents, np.array([True, False, True, False])))
        bulk.insert_columns(s, "bulk_probe", COLUMNS, TYPES, (np.zeros(0, dtype=np.int64), 4, np.zeros(0), False))
        rows = s.execute(text("SELECT * FROM bulk_probe ORDER BY member_id")).all()
        with pytest.raises(ValueError):
            bulk.insert_columns(s, "bulk_probe", COLUMNS, TYPES, (np.array([2**31]), 3, 1, False))
    assert [tuple(r) for r in rows] == [
        (1, 3, 0, True),
        (7, 3, -5, False),
        (12, 3, 2**62, False),
        (2**31 - 1, 3, 10**15, True),
    ]

"""Writing many rows at once: rows given column by column arrive as the same rows as rows
given one by one, on both engines."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from coop.db import Database
from ledger import bulk
from tests.conftest import POSTGRESQL_ONLY

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


def _probe(s: Session) -> None:
    s.execute(text("CREATE TABLE bulk_probe (member_id INTEGER PRIMARY KEY, distribution_id INTEGER)"))


def _chunks(ids: list[range]) -> Iterator[bytes]:
    for members in ids:
        member = np.array(members, dtype=np.int64)
        yield bulk._copy_rows(("int4", "int4"), [member, np.asarray(1)])


@POSTGRESQL_ONLY
def test_many_chunks_arrive_whole_and_in_order(database: Database) -> None:
    # each chunk is sent by a thread of its own while the next is laid out
    with database.unit_of_work() as s:
        _probe(s)
        chunks = [range(k * 10_000, (k + 1) * 10_000) for k in range(25)]
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), _chunks(chunks), ahead=True)
        found = s.execute(text("SELECT member_id FROM bulk_probe ORDER BY ctid")).scalars().all()
    assert found == list(range(250_000))


@POSTGRESQL_ONLY
def test_a_refused_row_fails_the_copy_and_writes_nothing(database: Database) -> None:
    with database.unit_of_work() as s:
        _probe(s)
    repeated = [range(0, 50_000), range(60_000, 90_000), range(49_999, 50_001), range(100_000, 200_000)]
    with pytest.raises(psycopg.errors.UniqueViolation), database.unit_of_work() as s:
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), _chunks(repeated), ahead=True)
    with database.unit_of_work() as s:
        assert s.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), _chunks([range(3)]))  # usable again
        assert s.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 3


@POSTGRESQL_ONLY
def test_a_failing_chunk_ends_the_copy_with_its_own_error(database: Database) -> None:
    def failing() -> Iterator[bytes]:
        yield from _chunks([range(0, 50_000)])
        raise RuntimeError("the caller failed")

    with database.unit_of_work() as s:
        _probe(s)
    with pytest.raises(RuntimeError, match="the caller failed"), database.unit_of_work() as s:
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), failing(), ahead=True)
    with database.unit_of_work() as s:
        assert s.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0

"""Writing many rows at once: rows given column by column arrive as the same rows as rows
given one by one, on both engines."""

from __future__ import annotations

import enum
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg.copy import LibpqWriter
from sqlalchemy import Column, Enum, Integer, MetaData, String, Table, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from coop.db import Database
from coop.types import UTCDateTime
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


def _slow_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    send = LibpqWriter.write

    def slow(self: LibpqWriter, data: Any) -> None:
        time.sleep(0.2)
        send(self, data)

    monkeypatch.setattr(LibpqWriter, "write", slow)


def _senders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "copy-sender"]


@POSTGRESQL_ONLY
@pytest.mark.parametrize("where", ["asking the sender to end", "waiting for the sender"])
def test_an_interrupt_while_the_copy_ends_leaves_no_sender_on_the_connection(
    database: Database, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Ctrl-C at the command line lands in the caller's thread while the sender still sends
    with database.unit_of_work() as s:
        _probe(s)
    _slow_sender(monkeypatch)
    interrupted = []

    def once(real: Any) -> Any:
        def interrupt(*args: Any, **kwargs: Any) -> Any:
            if not interrupted and threading.current_thread() is threading.main_thread() and _senders():
                interrupted.append(where)
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        return interrupt

    if where == "waiting for the sender":
        monkeypatch.setattr(threading.Thread, "join", once(threading.Thread.join))
    else:
        put = queue.Queue.put
        monkeypatch.setattr(queue.Queue, "put", lambda q, item, *a, **k: (once(put) if item is None else put)(q, item))
    chunks = [range(k * 1_000, (k + 1) * 1_000) for k in range(6)]
    with pytest.raises(KeyboardInterrupt), database.unit_of_work() as s:
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), _chunks(chunks), ahead=True)
    assert interrupted == [where]
    assert not _senders()  # the COPY ended after the sender, and the connection is whole again
    with database.unit_of_work() as s:
        assert s.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0


@POSTGRESQL_ONLY
@pytest.mark.parametrize("last", [False, True])
def test_a_failure_to_send_reaches_the_caller(database: Database, monkeypatch: pytest.MonkeyPatch, last: bool) -> None:
    with database.unit_of_work() as s:
        _probe(s)
    send, sent = LibpqWriter.write, []

    def failing(self: LibpqWriter, data: Any) -> None:
        sent.append(data)
        if (data == bulk.COPY_TRAILER) if last else len(sent) == 3:
            raise OSError("the connection broke")
        send(self, data)

    monkeypatch.setattr(LibpqWriter, "write", failing)
    chunks = [range(k * 1_000, (k + 1) * 1_000) for k in range(6)]
    with pytest.raises(OSError, match="the connection broke"), database.unit_of_work() as s:
        bulk.copy_encoded(s, "bulk_probe", ("member_id", "distribution_id"), _chunks(chunks), ahead=True)
    assert not _senders()
    with database.unit_of_work() as s:
        assert s.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0


_ROWS = Table(
    "bulk_rows_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("label", String(20), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("until", UTCDateTime(), nullable=True),
)


def test_a_few_rows_in_one_statement_as_the_columns_bind_them(database: Database) -> None:
    amsterdam = timezone(timedelta(hours=1))
    since = datetime(2026, 3, 1, 9, 0, tzinfo=amsterdam)
    with database.unit_of_work() as s:
        conn = s.connection()
        _ROWS.create(conn)
        values = [{"member_id": m, "label": f"m{m}", "since": since, "until": None} for m in (5, 3, 9)]
        ids = {r.member_id: r.id for r in bulk.insert_all(conn, _ROWS, values, returning=("id", "member_id"))}
        assert sorted(ids) == [3, 5, 9] and len(set(ids.values())) == 3
        assert bulk.insert_all(conn, _ROWS, []) == []
        ended = since + timedelta(days=1)
        closes = [{"id": ids[m], "until": ended} for m in (3, 9)]
        assert bulk.update_all(conn, _ROWS, "id", closes, still_null="until") == 2
        # a row already ended is left as it is: the caller learns it from the count
        assert bulk.update_all(conn, _ROWS, "id", [{"id": ids[3], "until": since}], still_null="until") == 0
        rows = {r.member_id: r for r in conn.execute(select(_ROWS))}
        with pytest.raises((StatementError, ValueError), match="naive datetime"):  # bound as the column binds it
            bulk.insert_all(conn, _ROWS, [{"member_id": 1, "label": "x", "since": datetime(2026, 3, 1), "until": None}])
    assert {m: (r.id, r.label, r.since, r.until) for m, r in rows.items()} == {
        5: (ids[5], "m5", since.astimezone(UTC), None),
        3: (ids[3], "m3", since.astimezone(UTC), ended.astimezone(UTC)),
        9: (ids[9], "m9", since.astimezone(UTC), ended.astimezone(UTC)),
    }


_COUNTS = Table(
    "bulk_counts_probe",
    MetaData(),
    Column("kind", String(10), primary_key=True),
    Column("label", String(10), nullable=False),
    Column("n", Integer, nullable=False),
)


def test_rows_of_a_key_already_there_are_set_or_added_to(database: Database) -> None:
    with database.unit_of_work() as s:
        conn = s.connection()
        _COUNTS.create(conn)
        bulk.upsert_all(conn, _COUNTS, [{"kind": "a", "label": "first", "n": 2}], key=("kind",), add=("n",))
        both = [{"kind": "a", "label": "again", "n": 3}, {"kind": "b", "label": "new", "n": -1}]
        bulk.upsert_all(conn, _COUNTS, both, key=("kind",), add=("n",))
        bulk.upsert_all(conn, _COUNTS, [{"kind": "b", "label": "set", "n": 7}], key=("kind",))  # n replaced
        bulk.upsert_all(conn, _COUNTS, [], key=("kind",))
        rows = {r.kind: (r.label, r.n) for r in conn.execute(select(_COUNTS))}
    assert rows == {"a": ("again", 5), "b": ("set", 7)}


@POSTGRESQL_ONLY
def test_a_value_too_long_for_its_column_is_refused_not_cut_short(database: Database) -> None:
    short = Table("bulk_short_probe", MetaData(), Column("id", Integer, primary_key=True), Column("label", String(3)))
    with database.unit_of_work() as s:
        short.create(s.connection())
    writes = [
        lambda conn: bulk.insert_all(conn, short, [{"id": 2, "label": "abcdef"}]),
        lambda conn: bulk.update_all(conn, short, "id", [{"id": 1, "label": "abcdef"}]),
        lambda conn: bulk.upsert_all(conn, short, [{"id": 1, "label": "abcdef"}], key=("id",)),
    ]
    for write in writes:
        with pytest.raises(DBAPIError, match="too long"), database.unit_of_work() as s:
            s.connection().execute(short.insert().values(id=1, label="abc"))
            write(s.connection())
    with database.unit_of_work(write=False) as s:
        assert s.connection().execute(select(short)).all() == []  # nothing of any of them was kept


def test_names_the_database_reserves_or_spells_in_capitals_are_quoted(database: Database) -> None:
    odd = Table("Order", MetaData(), Column("user", Integer, primary_key=True), Column("Group", Integer))
    with database.unit_of_work() as s:
        conn = s.connection()
        odd.create(conn)
        assert [r.user for r in bulk.insert_all(conn, odd, [{"user": 1, "Group": 2}], returning=("user",))] == [1]
        assert bulk.update_all(conn, odd, "user", [{"user": 1, "Group": 3}]) == 1
        bulk.upsert_all(conn, odd, [{"user": 1, "Group": 4}, {"user": 5, "Group": 6}], key=("user",), add=("Group",))
        assert sorted(tuple(r) for r in conn.execute(select(odd))) == [(1, 7), (5, 6)]


def test_rows_that_cannot_be_written_as_one_statement_are_refused_alike_on_both_engines(database: Database) -> None:
    with database.unit_of_work() as s:
        conn = s.connection()
        _COUNTS.create(conn)
        twice = [{"kind": "a", "label": "x", "n": 1}, {"kind": "a", "label": "y", "n": 2}]
        with pytest.raises(ValueError, match="same key"):
            bulk.upsert_all(conn, _COUNTS, twice, key=("kind",), add=("n",))
        with pytest.raises(ValueError, match="nothing to set"):
            bulk.upsert_all(conn, _COUNTS, [{"kind": "a"}], key=("kind",))
        with pytest.raises(ValueError, match="nothing to set"):
            bulk.update_all(conn, _COUNTS, "kind", [{"kind": "a"}])
        assert conn.execute(select(_COUNTS)).all() == []


class _Colour(enum.Enum):
    red = "red"
    blue = "blue"


def test_columns_returned_read_as_their_types_read_them(database: Database) -> None:
    coloured = Table(
        "bulk_colour_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("colour", Enum(_Colour, name="bulk_colour"), nullable=False),
    )
    with database.unit_of_work() as s:
        conn = s.connection()
        coloured.create(conn)
        rows = [{"colour": _Colour.red}, {"colour": _Colour.blue}]
        returned = bulk.insert_all(conn, coloured, rows, returning=("colour",))
    assert sorted(r.colour.value for r in returned) == ["blue", "red"]

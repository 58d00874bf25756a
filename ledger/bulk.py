"""Writing many rows at once under the session's transaction, with each driver's fast path:
binary COPY on PostgreSQL, ``executemany`` on SQLite. Table and column names come from the
code, never from input; every value travels as data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

BATCH = 50_000


def raw_connection(session: Session) -> Any:
    """The driver's own connection under the session's transaction."""
    return session.connection().connection.driver_connection


def insert_rows(
    session: Session, table: str, columns: Sequence[str], pg_types: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``); ``pg_types`` name the PostgreSQL
    types of the columns for the binary COPY."""
    session.flush()  # the driver's connection does not see objects the session still holds
    names = ", ".join(columns)
    if session.connection().dialect.name == "postgresql":
        with raw_connection(session).cursor().copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(pg_types))
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
    cursor = raw_connection(session).cursor()
    try:
        batches = iter(rows)
        while batch := list(islice(batches, BATCH)):
            cursor.executemany(sql, batch)
    finally:
        cursor.close()


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
COPY_TRAILER = b"\xff\xff"


def copy_encoded(session: Session, table: str, columns: Sequence[str], chunks: Iterable[bytes]) -> None:
    """PostgreSQL only: COPY rows the caller already encoded in the binary COPY format
    (tuples without the file header and trailer), for callers that encode a batch at once
    rather than a row at a time."""
    session.flush()
    names = ", ".join(columns)
    with raw_connection(session).cursor().copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(COPY_HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(COPY_TRAILER)


FIXED = {"int4": ">i4", "int8": ">i8", "bool": "u1"}
"""The column types :func:`insert_columns` writes, as big-endian numpy types."""


def insert_columns(
    session: Session, table: str, columns: Sequence[str], pg_types: Sequence[str], values: Sequence[npt.ArrayLike]
) -> None:
    """Insert rows given column by column: each of ``values`` an array of numbers (all of one
    length) or a single number repeated in every row; ``pg_types`` are among :data:`FIXED`.
    On PostgreSQL the binary COPY stream is laid out by numpy, with no Python object per row."""
    arrays = [np.asarray(v) for v in values]
    rows = max((a.size for a in arrays if a.ndim), default=1)
    for name, t, a in zip(columns, pg_types, arrays, strict=True):
        if t == "int4" and a.size and (int(a.min()) < -(2**31) or int(a.max()) >= 2**31):
            raise ValueError(f"{name}: a value does not fit 4 bytes")
    if session.connection().dialect.name != "postgresql":
        filled = [np.broadcast_to(a, (rows,)).tolist() for a in arrays]
        insert_rows(session, table, columns, pg_types, zip(*filled, strict=True))
        return
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    for i, t in enumerate(pg_types):
        layout += [(f"size{i}", ">i4"), (f"value{i}", FIXED[t])]
    stream = np.zeros(rows, dtype=np.dtype(layout))
    stream["fields"] = len(columns)
    for i, (t, a) in enumerate(zip(pg_types, arrays, strict=True)):
        stream[f"size{i}"] = np.dtype(FIXED[t]).itemsize
        stream[f"value{i}"] = a
    copy_encoded(
        session, table, columns, (stream[start : start + BATCH * 4].tobytes() for start in range(0, rows, BATCH * 4))
    )


def fetch_all(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a query without parameters, straight from the driver (no per-row objects)."""
    session.flush()
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()

"""Writing many rows at once under the session's transaction, with each driver's fast path:
binary COPY on PostgreSQL, ``executemany`` on SQLite. Table and column names come from the
code, never from input; every value travels as data.

A few dozen rows (a round of changes, say) go in one short statement instead
(:func:`insert_all`, :func:`update_all`, :func:`upsert_all`): on PostgreSQL one array per column, unnested by the
server. The statement is the same whatever the number of rows, so the driver prepares it once
and the server plans it once, where a multi-row ``VALUES`` is a new statement for every count
and an ``executemany`` one for every row. On SQLite (in process) ``executemany`` is already the
fast path. Each value is bound as its column's type binds it (an aware time in UTC, say)."""

from __future__ import annotations

import functools
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from psycopg.copy import LibpqWriter
from sqlalchemy import Connection, Dialect, Table, bindparam, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
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


def copy_encoded(
    session: Session, table: str, columns: Sequence[str], chunks: Iterable[bytes], *, ahead: bool = False
) -> None:
    """PostgreSQL only: COPY rows the caller already encoded in the binary COPY format
    (tuples without the file header and trailer), for callers that encode a batch at once
    rather than a row at a time. ``ahead``: each chunk is sent by a thread while the next is
    laid out (:class:`SentAhead`), for callers whose chunks are numpy's work; a caller that
    works on each chunk in Python after sending it (hashing it) keeps the interpreter to
    itself, so the chunk is sent before that work begins."""
    session.flush()
    names = ", ".join(columns)
    cursor = raw_connection(session).cursor()
    writer = SentAhead(cursor) if ahead else None
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)", writer=writer) as copy:
        copy.write(COPY_HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(COPY_TRAILER)


class SentAhead(LibpqWriter):
    """A COPY's data sent by a thread of its own while the caller lays out the next chunk: the
    server files rows while this process encodes them (two cores, not one after the other).
    At most one chunk waits to be sent, so memory stays a few chunks whatever the COPY's
    size. A failure to send is raised at the caller's next write or at the end; the server's
    refusal of a row comes at the end, as with the driver's own writer (the driver reads
    nothing back until the COPY ends). The COPY is ended only once the thread is done with
    the connection, even when the caller is interrupted (Ctrl-C) while waiting for it."""

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor)
        self._waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._sender: threading.Thread | None = None
        self._dropping = False

    def _send(self) -> None:
        try:
            while (data := self._waiting.get()) is not None:
                if not self._dropping:  # the caller was interrupted: the COPY fails anyway
                    LibpqWriter.write(self, data)
        except BaseException as exc:  # raised in the caller's thread
            self._error = exc
            while self._waiting.get() is not None:  # let the caller go on to its end
                pass

    def write(self, data: Any) -> None:
        if self._error is not None:
            raise self._error
        if self._sender is None:
            self._sender = threading.Thread(target=self._send, name="copy-sender", daemon=True)
            self._sender.start()
        self._waiting.put(bytes(data))

    def finish(self, exc: BaseException | None = None) -> None:
        interrupted: BaseException | None = None
        asked_to_end = False
        while self._sender is not None and self._sender.is_alive():
            try:  # two threads must never use the connection at once: wait for the sender
                if not asked_to_end:  # (never blocking for good: an interrupt may land after the put)
                    try:
                        self._waiting.put(None, timeout=0.1)
                    except queue.Full:
                        continue
                    asked_to_end = True
                self._sender.join()
            except BaseException as again:  # interrupted while waiting: drop the rest, wait still
                interrupted = interrupted or again
                self._dropping = True
        failure = exc or interrupted or self._error
        super().finish(failure)
        if failure is not None and failure is not exc:
            raise failure


FIXED = {"int4": ">i4", "int8": ">i8", "bool": "u1"}
"""The fixed-width column types :func:`insert_columns` writes, as big-endian numpy types; it
also writes ``text`` from arrays of bytes (numpy ``S``, UTF-8)."""

Varying = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
"""Each row's own bytes: a matrix with a line per row, and the length used of each line."""
Piece = bytes | Varying
"""A part of every row: the same bytes in each, or each row's own."""


def text_piece(values: npt.NDArray[np.bytes_]) -> Varying:
    """Each row's bytes (numpy ``S``: trailing zero bytes are not part of a value)."""
    width = values.dtype.itemsize
    return values.view(np.uint8).reshape(values.size, width), np.strings.str_len(values).astype(np.int64)


def fixed_piece(values: npt.NDArray[Any]) -> Varying:
    """Each row's value as its bytes in memory (all of one width: give big-endian types)."""
    width = values.dtype.itemsize
    matrix = np.ascontiguousarray(values).view(np.uint8).reshape(values.size, width)
    return matrix, np.full(values.size, width, dtype=np.int64)


def join_rows(pieces: Sequence[Piece], rows: int) -> bytes:
    """Row after row, the concatenation of each row's ``pieces``: numpy lays every row out at
    its widest and then drops the unused bytes, so a million rows cost no Python object per
    row."""
    matrices, used = [], []
    for piece in pieces:
        if isinstance(piece, bytes):
            constant = np.frombuffer(piece, dtype=np.uint8)
            matrices.append(np.broadcast_to(constant, (rows, constant.size)))
            used.append(np.ones((rows, constant.size), dtype=bool))
        else:
            matrix, lengths = piece
            matrices.append(matrix)
            used.append(np.arange(matrix.shape[1]) < lengths[:, None])
    if not matrices or not rows:
        return b""
    return bytes(np.hstack(matrices)[np.hstack(used)].tobytes())


def insert_columns(
    session: Session, table: str, columns: Sequence[str], pg_types: Sequence[str], values: Sequence[npt.ArrayLike]
) -> None:
    """Insert rows given column by column: each of ``values`` an array (all of one length) or
    a single value repeated in every row; ``pg_types`` are among :data:`FIXED`, or ``text``
    given as bytes (numpy ``S``, UTF-8). On PostgreSQL the binary COPY stream is laid out by
    numpy, with no Python object per row; rows are written in the order given."""
    arrays = [np.asarray(v) for v in values]
    rows = max((a.size for a in arrays if a.ndim), default=1)
    for name, t, a in zip(columns, pg_types, arrays, strict=True):
        if t == "int4" and a.size and (int(a.min()) < -(2**31) or int(a.max()) >= 2**31):
            raise ValueError(f"{name}: a value does not fit 4 bytes")
        if t == "text" and a.dtype.kind != "S":
            raise ValueError(f"{name}: text is given as bytes")
    if session.connection().dialect.name != "postgresql":
        filled = [_python_values(t, np.broadcast_to(a, (rows,))) for t, a in zip(pg_types, arrays, strict=True)]
        insert_rows(session, table, columns, pg_types, zip(*filled, strict=True))
        return
    copy_encoded(
        session,
        table,
        columns,
        (
            _copy_rows(pg_types, [a if not a.ndim else a[start : start + BATCH * 4] for a in arrays])
            for start in range(0, rows, BATCH * 4)
        ),
        ahead=True,
    )


def _python_values(pg_type: str, values: npt.NDArray[Any]) -> list[Any]:
    return [v.decode() for v in values.tolist()] if pg_type == "text" else values.tolist()


def _copy_rows(pg_types: Sequence[str], arrays: Sequence[npt.NDArray[Any]]) -> bytes:
    """Rows in the binary COPY format (without the file's header and trailer)."""
    rows = max((a.size for a in arrays if a.ndim), default=1)
    if "text" not in pg_types:
        return _fixed_rows(pg_types, arrays, rows)
    pieces: list[Piece] = [len(pg_types).to_bytes(2, "big")]
    for t, a in zip(pg_types, arrays, strict=True):
        if t == "text":
            matrix, used = text_piece(np.broadcast_to(a, (rows,)).copy())
            pieces += [fixed_piece(used.astype(">i4")), (matrix, used)]
        else:
            width = np.dtype(FIXED[t]).itemsize
            pieces.append(width.to_bytes(4, "big"))
            pieces.append(np.asarray(a, dtype=FIXED[t]).tobytes() if not a.ndim else fixed_piece(a.astype(FIXED[t])))
    return join_rows(_merged(pieces), rows)


def _fixed_rows(pg_types: Sequence[str], arrays: Sequence[npt.NDArray[Any]], rows: int) -> bytes:
    """Rows of fixed-width columns only: one numpy record per row."""
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    for i, t in enumerate(pg_types):
        layout += [(f"size{i}", ">i4"), (f"value{i}", FIXED[t])]
    stream = np.zeros(rows, dtype=np.dtype(layout))
    stream["fields"] = len(pg_types)
    for i, (t, a) in enumerate(zip(pg_types, arrays, strict=True)):
        stream[f"size{i}"] = np.dtype(FIXED[t]).itemsize
        stream[f"value{i}"] = a
    return stream.tobytes()


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Neighbouring constant pieces as one."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def stream_rows(session: Session, sql: str, size: int, name: str = "bulk_stream") -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a query without parameters, ``size`` at a time, straight from the driver
    (a server-side cursor called ``name`` on PostgreSQL): memory of a batch, however many rows."""
    session.flush()
    raw = raw_connection(session)
    cursor = raw.cursor(name=name) if session.connection().dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()


_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_QUOTE = _PG.identifier_preparer


def _arrays(table: Table, columns: Sequence[str]) -> str:
    """``unnest(...)`` of one array per column (bound as ``a0``, ``a1``, ...). Each array is
    cast to its column's type without a length or precision: a cast to ``varchar(40)`` would
    cut a longer value short where the column itself refuses it. The binds carry no type (the
    driver would cast them to the column's type, length and all): :func:`_values` binds each
    value as its column's type does."""
    casts = []
    for i, c in enumerate(columns):
        name = re.sub(r"\(.*?\)", "", table.c[c].type.compile(dialect=_PG)).strip()
        if name in {"VARCHAR", "CHAR", "NVARCHAR", "NCHAR"}:
            name = "TEXT"
        casts.append(f"CAST(:a{i} AS {name}[])")
    return f"unnest({', '.join(casts)})"


def _names(columns: Sequence[str]) -> str:
    return ", ".join(_QUOTE.quote(c) for c in columns)


@functools.cache
def _binders(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns)


def _values(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], columns: tuple[str, ...]
) -> dict[str, list[Any]]:
    """Each column's values as an array, each bound as its column binds it (an aware time in UTC)."""
    out = {}
    for i, (c, bind) in enumerate(zip(columns, _binders(table, columns, conn.dialect), strict=True)):
        out[f"a{i}"] = [r[c] for r in rows] if bind is None else [bind(r[c]) for r in rows]
    return out


@functools.cache
def _unnested(table: Table, columns: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    sql = f"INSERT INTO {_QUOTE.format_table(table)} ({_names(columns)}) SELECT * FROM {_arrays(table, columns)}"  # noqa: S608
    if returning:  # read back as the columns read (their types' result processing)
        sql += f" RETURNING {_names(returning)}"
        return text(sql).columns(*(table.c[c] for c in returning))
    return text(sql)


def insert_all(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: tuple[str, ...] = ()
) -> list[Row[Any]]:
    """Insert ``rows`` (each with the same keys); the ``returning`` columns of the rows
    inserted, in no particular order (tell them apart by a column of their own)."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        result = conn.execute(_unnested(table, columns, returning), _values(conn, table, rows, columns))
    else:
        plain = insert(table)
        if returning:
            plain = plain.returning(*(table.c[c] for c in returning))
        result = conn.execute(plain, list(rows))
    return list(result.all()) if returning else []


@functools.cache
def _updated(table: Table, key: str, columns: tuple[str, ...], still_null: str | None, dialect: str) -> Any:
    if dialect != "postgresql":
        where = table.c[key] == bindparam(f"new_{key}")
        if still_null is not None:
            where = where & table.c[still_null].is_(None)
        return table.update().where(where).values({c: bindparam(f"new_{c}") for c in columns})
    names = (key, *columns)
    arrays = _arrays(table, names)
    target, k = _QUOTE.format_table(table), _QUOTE.quote(key)
    sets = ", ".join(f"{_QUOTE.quote(c)} = new.{_QUOTE.quote(c)}" for c in columns)
    sql = f"UPDATE {target} SET {sets} FROM {arrays} AS new({_names(names)}) WHERE {target}.{k} = new.{k}"  # noqa: S608
    if still_null is not None:
        sql += f" AND {target}.{_QUOTE.quote(still_null)} IS NULL"
    return text(sql)


def update_all(
    conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]], still_null: str | None = None
) -> int:
    """Set each row's other columns where ``key`` is the row's (and ``still_null`` is still
    NULL, when named); the number of rows changed."""
    if not rows:
        return 0
    columns = tuple(c for c in rows[0] if c != key)
    if not columns:
        raise ValueError("rows with nothing to set but their key")
    statement = _updated(table, key, columns, still_null, conn.dialect.name)
    if conn.dialect.name == "postgresql":
        return int(conn.execute(statement, _values(conn, table, rows, (key, *columns))).rowcount)
    result = conn.execute(statement, [{f"new_{c}": r[c] for c in (key, *columns)} for r in rows])
    return int(result.rowcount)


@functools.cache
def _upsert(table: Table, columns: tuple[str, ...], key: tuple[str, ...], add: tuple[str, ...], dialect: str) -> Any:
    if dialect != "postgresql":
        plain = sqlite.insert(table)
        new = {c: (table.c[c] + plain.excluded[c]) if c in add else plain.excluded[c] for c in columns if c not in key}
        return plain.on_conflict_do_update(index_elements=list(key), set_=new)
    arrays = _arrays(table, columns)
    target = _QUOTE.format_table(table)
    sets = ", ".join(
        f"{q} = {target}.{q} + EXCLUDED.{q}" if c in add else f"{q} = EXCLUDED.{q}"
        for c in columns
        if c not in key
        for q in (_QUOTE.quote(c),)
    )
    sql = f"INSERT INTO {target} ({_names(columns)}) SELECT * FROM {arrays} "  # noqa: S608
    sql += f"ON CONFLICT ({_names(key)}) DO UPDATE SET {sets}"
    return text(sql)


def upsert_all(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: tuple[str, ...], add: tuple[str, ...] = ()
) -> None:
    """Insert ``rows``, each of a distinct ``key``; where a row of the same ``key`` is there,
    set its other columns instead, adding to those named in ``add`` (a count) rather than
    replacing them."""
    if not rows:
        return
    columns = tuple(rows[0])
    if not set(columns) - set(key):
        raise ValueError("rows with nothing to set but their key")
    if len({tuple(r[c] for c in key) for r in rows}) != len(rows):  # PostgreSQL refuses it, SQLite would not
        raise ValueError("two rows of the same key in one upsert")
    statement = _upsert(table, columns, key, add, conn.dialect.name)
    if conn.dialect.name == "postgresql":
        conn.execute(statement, _values(conn, table, rows, columns))
    else:
        conn.execute(statement, list(rows))

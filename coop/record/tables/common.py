"""What the tables of the record share: rows read in SQL as event text, the events a row
implies, and the rules that tie rows to each other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from coop.record.rows import Expected, Table
from ledger import canonical
from ledger.verify import EventRow, Report, stream

Groups = Iterator[tuple[int, list[tuple[Any, ...]]]]
Rows = Iterator[list[Any]]


def implied(
    row: str | None, type: str | None, subject: str, time: str | None, actor: str | None, payload: str
) -> tuple[Any, ...]:
    """An implied event without its key (see :class:`Keyed`)."""
    return (row, type, subject, time, actor, payload)


class Keyed(Table):
    """A table small enough to be read row by row: ``groups`` gives each key's implied events."""

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        for key, events in self.groups(conn, report):
            yield [Expected(key, *e) for e in events]

    def groups(self, conn: Connection, report: Report) -> Groups:
        raise NotImplementedError


def time_sql(conn: Connection, column: str) -> str:
    """SQL giving a timestamp column as event time text (``2026-01-31T09:00:00.000000+00:00``)."""
    if conn.dialect.name == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"replace({column}, ' ', 'T') || '+00:00'"


def iso_sql(conn: Connection, column: str) -> str:
    """SQL giving a timestamp column as Python's ``isoformat()`` writes the same instant in
    UTC: the event time text, without the fraction when it is a whole second."""
    if conn.dialect.name == "postgresql":
        utc = f"{column} AT TIME ZONE 'UTC'"
        return (
            f"""CASE WHEN date_trunc('second', {utc}) = {utc} THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') """
            f"ELSE {time_sql(conn, column)} END"
        )
    return (
        f"CASE WHEN substr({column}, 21, 6) = '000000' THEN replace(substr({column}, 1, 19), ' ', 'T') || '+00:00' "
        f"ELSE {time_sql(conn, column)} END"
    )


def pad6_sql(conn: Connection, column: str) -> str:
    """SQL for ``f"{column:06d}"``."""
    if conn.dialect.name == "postgresql":
        return f"CASE WHEN {column} < 1000000 THEN lpad(CAST({column} AS TEXT), 6, '0') ELSE CAST({column} AS TEXT) END"
    return f"printf('%06d', {column})"


def int_sql(conn: Connection, column: str) -> str:
    """SQL for an integer or ``null`` as JSON."""
    return f"COALESCE(CAST({column} AS TEXT), 'null')"


def rule(conn: Connection, report: Report, table: str, sql: str, message: str) -> None:
    """Rows that a query finds breaking a rule of ``table``: ``(row, value)`` each."""
    for batch in stream(conn, sql, "reconcile_rule"):
        for row, value in batch:
            report.disagree(table, row, None, message.format(value))


@lru_cache(maxsize=4096)
def json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_bool(value: Any) -> str:
    return "true" if value else "false"


def json_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def stored(text: str) -> Any:
    """JSON kept in a row, parsed; text that is not JSON stays text (and then differs from
    the event, which names the field)."""
    try:
        return canonical.loads(text)
    except ValueError:
        return text


def payload_keys(field: str) -> Any:
    def keys(self: Table, events: list[EventRow]) -> list[int]:
        out = []
        for event in events:
            try:
                out.append(int(canonical.loads(event[5])[field]))
            except (ValueError, KeyError, TypeError):
                out.append(-1)
        return out

    return keys


def seq_keys(self: Table, events: list[EventRow]) -> list[int]:
    return [e[0] for e in events]


def all_rows(conn: Connection, model: Any) -> list[Any]:
    """Every row of a small table as its model object (times as aware datetimes), in key order."""
    table = model.__table__
    return [model(**dict(row._mapping)) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]

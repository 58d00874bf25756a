"""Column types shared by the cooperative's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

import ledger.models  # noqa: F401  (sets the constraint naming convention before any table is defined)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back with its offset.

    SQLite keeps no zone; PostgreSQL keeps ``timestamptz``. Either way the application
    sees aware datetimes, and naive ones are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value) or "\x7f" in value:
        raise ValueError("must not contain control characters")
    return value


CleanStr = Annotated[str, AfterValidator(_no_control_characters)]
"""Text from outside that may reach the database: no NUL or other control characters
(PostgreSQL refuses NUL in text; no name, email or search needs one)."""

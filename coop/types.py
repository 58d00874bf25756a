"""Types shared by the cooperative's tables and its API: stored times, the bounded range of
times and dates the cooperative accepts, ids, and text and links from outside."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema
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


ID_MAX = 2**31 - 1
"""Ids are 32-bit integer columns; a larger number names nothing (and must not reach the driver)."""

TIME_MIN = datetime(1900, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
"""The times the cooperative accepts from outside, in UTC. Far wider than anything it records
(a permit lasts at most twenty years, its duties two more), and far enough from year 1 and
year 9999, Python's limits, that no time-zone shift or derived deadline can leave them."""
DAY_MIN = TIME_MIN.date()
DAY_MAX = TIME_MAX.date()
RANGE_TEXT = "1900-01-01T00:00:00Z to 2999-12-31T23:59:59Z"


def _within_time_range(value: datetime) -> datetime:
    # the year first: shifting year 1 or 9999 to UTC would itself overflow
    if not DAY_MIN.year <= value.year <= DAY_MAX.year or not TIME_MIN <= value.astimezone(UTC) <= TIME_MAX:
        raise ValueError(f"must lie between {RANGE_TEXT}")
    return value


def _within_day_range(value: date) -> date:
    if not DAY_MIN <= value <= DAY_MAX:
        raise ValueError(f"must lie between {DAY_MIN} and {DAY_MAX}")
    return value


Time = Annotated[
    AwareDatetime,
    AfterValidator(_within_time_range),
    WithJsonSchema({"type": "string", "format": "date-time", "description": f"ISO 8601 with offset, {RANGE_TEXT}"}),
]
"""A point in time from outside: ISO 8601 with an offset, within the accepted range."""

Day = Annotated[
    date,
    AfterValidator(_within_day_range),
    WithJsonSchema({"type": "string", "format": "date", "description": f"ISO 8601 date, {DAY_MIN} to {DAY_MAX}"}),
]
"""A calendar day from outside, within the accepted range."""


_ALLOWED_CONTROLS = frozenset("\t\n\r")
_JOINERS = frozenset("\u200c\u200d")
"""Zero-width non-joiner and joiner: invisible, but needed to write Persian, Indic scripts and emoji."""


def _refused(c: str) -> bool:
    """Control characters (C0, DEL, C1), invisible formatting characters such as the
    bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make
    text display other than it reads, line and paragraph separators, and lone surrogates."""
    if c in _ALLOWED_CONTROLS or c in _JOINERS:
        return False
    return unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _no_control_characters(value: str) -> str:
    for c in value:
        if _refused(c):
            raise ValueError(f"must not contain control or invisible formatting characters (found U+{ord(c):04X})")
    return value


CleanStr = Annotated[str, AfterValidator(_no_control_characters)]
"""Text from outside that may reach the database or a reader: no NUL or other control
characters (PostgreSQL refuses NUL in text; no name, email or search needs one), and no
invisible formatting characters that would make a name or title display other than it reads."""

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)


def _real_host(host: str) -> bool:
    """A public IP address, or a domain name of at least two labels with a non-numeric top level."""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return (
        len(ascii_host) <= 253
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def web_url(value: str) -> str:
    """A well-formed http(s) URL with a real host and without credentials, else ValueError."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise ValueError("must be a well-formed URL") from None
    if parts.scheme not in ("http", "https") or not value.startswith(f"{parts.scheme}://"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname or not _real_host(parts.hostname) or not port_ok:
        raise ValueError("must name a real, public host (a domain name or a public IP address)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    if any(c.isspace() or _refused(c) for c in value):
        raise ValueError("must not contain spaces or control characters")
    return value


WebUrl = Annotated[str, AfterValidator(web_url)]
"""A link to a public web page: an http(s) URL with a real host."""

"""Throttling of failed logins, shared by every serving process through the database.

Three counts, each a row of ``login_failures`` under the SHA-256 of its key:

* an account tried from one client address: guessing from one place waits soon
  (``login_max_failures``), with delays up to ``login_max_delay_seconds``;
* an account tried from anywhere: spreading guesses over many addresses waits later
  (``login_account_max_failures``) and only briefly (``login_account_max_delay_seconds``),
  so a stranger who knows a member's email cannot shut them out;
* one client address on any accounts: trying one password on many accounts
  (``login_client_max_failures``, up to ``login_max_delay_seconds``). It slows that
  address only; nobody's account is locked by it.

After its free failures a count makes the next attempt wait ``login_first_delay_seconds``,
doubling with each further failure up to its longest wait; an attempt that must wait is
refused (429 with Retry-After) without checking the password, and is not counted. A
count is forgotten after ``login_window_seconds`` without failures; a successful login
forgets the count of that account from that address.

Each failure is one atomic upsert per count (``failures = failures + 1`` in the database,
never read and written back by the application), so simultaneous failures in any number
of processes are all counted. The password check itself runs between reading the counts
and writing them, so a burst of simultaneous guesses is checked before any of them is
counted; the Argon2id cost of each check bounds such a burst.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

from fastapi import Request
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from coop.auth.models import LoginFailures
from coop.db import Database
from coop.settings import AuthSettings

logger = logging.getLogger("coop.auth")

Network = IPv4Network | IPv6Network
PRUNE_BATCH = 200


@dataclass(frozen=True, slots=True)
class Limit:
    free: int
    """Failures before attempts wait."""
    longest: int
    """The longest wait, in seconds."""


def wait_seconds(failures: int, last_failed_at: datetime, now: datetime, limit: Limit, first: int, window: int) -> int:
    """Whole seconds to wait before the next attempt (0: go ahead). Pure."""
    if failures < limit.free or (now - last_failed_at).total_seconds() >= window:
        return 0
    delay = min(limit.longest, first << min(failures - limit.free, 32))
    remaining = (last_failed_at + timedelta(seconds=delay) - now).total_seconds()
    return max(0, int(remaining) + (remaining % 1 > 0))


def _parse(address: str) -> object | None:
    text = address.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    """The address a request came from. ``X-Forwarded-For`` counts only when the direct
    peer is a trusted proxy; then the rightmost address that is not a trusted proxy is the
    client (addresses further left were written by the client and prove nothing)."""
    if not peer:
        return "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:100]
    return hops[0][:100] if hops else peer


def client_of(request: Request, proxies: Sequence[Network]) -> str:
    """The address ``request`` came from (see :func:`client_address`)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"), proxies)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One login attempt: its counts, and how long it must wait (0: it may go ahead)."""

    keys: tuple[str, ...]
    """Hashed keys: the account from this address, the account, the address."""
    wait: int
    recorded: frozenset[str]
    """Keys that had a row when the attempt was checked."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class LoginThrottle:
    """The counts in the database, read and written in short transactions of their own
    (outside the units of work that write the ledger of record)."""

    def __init__(self, db: Database, auth: AuthSettings) -> None:
        self.db = db
        self.first = auth.login_first_delay_seconds
        self.window = auth.login_window_seconds
        self.limits = (
            Limit(auth.login_max_failures, auth.login_max_delay_seconds),
            Limit(auth.login_account_max_failures, auth.login_account_max_delay_seconds),
            Limit(auth.login_client_max_failures, auth.login_max_delay_seconds),
        )

    def attempt(self, email: str, client: str, *, now: datetime) -> Attempt:
        """The counts of this attempt at ``now``, and how long it must wait."""
        keys = (_hash(f"account-client:{email}\n{client}"), _hash(f"account:{email}"), _hash(f"client:{client}"))
        with self.db.read_engine.connect() as conn:
            rows = {
                key: (failures, last)
                for key, failures, last in conn.execute(
                    select(
                        col(LoginFailures.key_hash), col(LoginFailures.failures), col(LoginFailures.last_failed_at)
                    ).where(col(LoginFailures.key_hash).in_(keys))
                ).all()
            }
        wait = max(
            (
                wait_seconds(*rows[key], now, limit, self.first, self.window)
                for key, limit in zip(keys, self.limits, strict=True)
                if key in rows
            ),
            default=0,
        )
        return Attempt(keys, wait, frozenset(rows))

    def failed(self, attempt: Attempt, *, now: datetime) -> None:
        """Count a failure at ``now`` on each of the attempt's keys, then prune forgotten counts."""
        forget_before = now - timedelta(seconds=self.window)
        table = LoginFailures.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        with self.db.write_engine.begin() as conn:
            for key in attempt.keys:
                stmt = insert(table).values(key_hash=key, failures=1, last_failed_at=now)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[table.c.key_hash],
                        set_={
                            "failures": case((table.c.last_failed_at <= forget_before, 1), else_=table.c.failures + 1),
                            "last_failed_at": now,
                        },
                    )
                )
        self._prune(forget_before)

    def succeeded(self, attempt: Attempt) -> None:
        """Forget the failures of this account from this address (the others stay)."""
        if attempt.keys[0] in attempt.recorded:
            with self.db.write_engine.begin() as conn:
                conn.execute(delete(LoginFailures).where(col(LoginFailures.key_hash) == attempt.keys[0]))

    def _prune(self, forget_before: datetime) -> None:
        """Delete a batch of forgotten counts. Best effort: a failure here never fails the
        login it follows."""
        old = select(col(LoginFailures.key_hash)).where(col(LoginFailures.last_failed_at) < forget_before)
        try:
            with self.db.write_engine.begin() as conn:
                conn.execute(delete(LoginFailures).where(col(LoginFailures.key_hash).in_(old.limit(PRUNE_BATCH))))
        except DBAPIError:
            logger.warning("pruning forgotten login failures failed; it is tried again at the next failure")

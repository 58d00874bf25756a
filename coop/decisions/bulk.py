"""Cohort counts for a whole application in one pass over the choice versions.

SQL does the heavy part: one scan of the versions in force at *t*, grouped by the
outcome of rules 2-4 and the 2-bit preference code of each purpose, so a million members
become a few dozen groups. Groups are decided in Python with the same rules as the single
evaluator. Members whose preference sends a purpose to a proxy are fetched one by one
(a small share) and their chains resolved in memory, with the states of every proxy valid
at *t* loaded in one query.

Where the mandate needs the member's explicit allow for a sensitive category asked for
(Art. 51(4)), it decides differently for members who gave their own yes to every such
category: then one more grouping column tells them apart (only then, so applications
without sensitive categories cost what they did). Along a proxy's chain the yes stays the
principal's, as in :mod:`coop.decisions.service`.

The cohort is everyone who had joined by *t*: members who left count as ``not-member``.

When the choice profiles hold every member's state at *t* (normally at *now*), the counts
come from them instead, a few thousand rows whatever the membership
(:mod:`coop.decisions.profiled`); the pass over the versions answers for any other time.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice, product
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from coop.choices import encoding
from coop.decisions import profiled
from coop.decisions.chains import ALLOW, DENY, MANDATE, PROXY, Answers, ProxyResolver, ProxyState, assumed
from coop.decisions.rules import Decision, MandateAnswer, Reason, Terms, combine, is_prohibited
from coop.governance import queries as governance
from coop.vocabulary.terms import SENSITIVE, Category, ProhibitedUse, Purpose, UserType, mask, position
from ledger.bulk import raw_connection

_CURSORS = itertools.count()
_BATCH = 50_000

_YES = "((c.sensitive_yes_mask & :sensitive) = :sensitive)"
"""Whether the member gave their own yes to every sensitive category asked for."""


@dataclass
class Cohort:
    total: int = 0
    outcomes: Counter[tuple[Decision, Reason]] = field(default_factory=Counter)
    mandate_version: int | None = None
    mandate: dict[Purpose, MandateAnswer] = field(default_factory=dict)

    @property
    def eligible(self) -> int:
        return sum(n for (d, _), n in self.outcomes.items() if d is Decision.allow)

    def by_reason(self, decision: Decision) -> dict[str, int]:
        return {r.code: n for (d, r), n in sorted(self.outcomes.items(), key=lambda kv: kv[0][1]) if d is decision}


def _as_of() -> str:
    return "c.valid_from <= :at AND (c.valid_to IS NULL OR c.valid_to > :at)"


class _Rows:
    """Queries through the driver's own cursor: tuples, no per-row processing. Times are
    bound as each engine stores them (SQLite: naive UTC text, as SQLAlchemy writes it)."""

    def __init__(self, session: Session, at: datetime, categories: Sequence[Category]) -> None:
        conn = session.connection()
        self.sqlite = conn.dialect.name == "sqlite"
        self.raw = raw_connection(session)
        self.cursor: Any = self.raw.cursor()
        at_utc = at.astimezone(UTC)
        self.params = {
            "at": at_utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else at_utc,
            "excluded": mask(categories),
            "sensitive": mask(SENSITIVE & set(categories)),
        }

    def __call__(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.sqlite:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        self.cursor.execute(sql, self.params)
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql``, fetched in batches (see :meth:`batches`)."""
        for batch in self.batches(sql):
            yield from batch

    def batches(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``sql`` in batches: a server-side cursor on PostgreSQL, so a cohort of
        millions never sits in memory at once (binary: numbers arrive as numbers, not text)."""
        if self.sqlite:
            cursor = self.raw.cursor()
        else:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
            cursor = self.raw.cursor(name=f"cohort_{next(_CURSORS)}", binary=True)
        try:
            cursor.execute(sql, self.params)
            while batch := cursor.fetchmany(_BATCH):
                yield batch
        finally:
            cursor.close()


def cohort_counts(
    session: Session,
    purposes: Sequence[Purpose | ProhibitedUse],
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    terms: Terms | None = None,
    max_depth: int = 3,
) -> Cohort:
    rows = _Rows(session, at, categories)
    if any(is_prohibited(p, user_type) for p in purposes):
        total = profiled.total(session, at)
        if total is None:
            total = rows(f"SELECT count(*) FROM choice_version c WHERE {_as_of()}")[0][0]
        return Cohort(total=total, outcomes=Counter({(Decision.deny, Reason.prohibited): total}))
    allowed = [p for p in purposes if isinstance(p, Purpose)]
    version, mandate = governance.mandate_at(session, at)
    answers = Answers.of(mandate, allowed, user_type, categories, terms)
    cohort = Cohort(mandate_version=version, mandate=answers.without)
    counted = profiled.counts(session, allowed, user_type, categories, at, answers, max_depth)
    if counted is not None:  # the members' states at `at` are counted already: read the profiles
        cohort.total, cohort.outcomes = counted
        return cohort
    codes = ", ".join(f"((c.preference_mask >> {encoding.shift(p, user_type)}) & 3)" for p in allowed)
    if answers.split:
        codes += f", {_YES}"

    # 1. Everyone whose outcome does not depend on their preferences, in one pass without sorting.
    plain_yes = f"count(*) FILTER (WHERE {_OPEN} AND c.preference_mask = 0 AND {_YES})" if answers.split else "0"
    not_member, opted_out, excluded, plain, with_yes, total = rows(
        "SELECT count(*) FILTER (WHERE NOT c.is_member), "
        "count(*) FILTER (WHERE c.is_member AND c.opt_out), "
        f"count(*) FILTER (WHERE c.is_member AND NOT c.opt_out AND {_EXCLUDED}), "
        f"count(*) FILTER (WHERE {_OPEN} AND c.preference_mask = 0), {plain_yes}, "
        f"count(*) FROM choice_version c WHERE {_as_of()}"
    )[0]
    cohort.total = total
    for reason, count in (
        (Reason.not_member, not_member),
        (Reason.opt_out, opted_out),
        (Reason.category_excluded, excluded),
    ):
        if count:
            cohort.outcomes[(Decision.deny, reason)] += count
    for yes, count in ((False, plain - with_yes), (True, with_yes)):
        if count:
            cohort.outcomes[combine((answers(yes)[p].decision, Reason.mandate) for p in allowed)] += count

    # 2. Members with preferences of their own, grouped by their codes for these pairs (and
    #    their yes, when it matters); 'proxy' counts as the mandate here (no valid proxy) and
    #    is corrected in step 3.
    n = len(allowed)
    for row in rows(
        f"SELECT {codes}, count(*) FROM choice_version c WHERE {_as_of()} AND {_OPEN} "
        f"AND c.preference_mask <> 0 GROUP BY {codes}"
    ):
        yes = answers.split and bool(row[n])
        cohort.outcomes[assumed(allowed, row[:n], answers(yes))] += row[-1]

    # 3. Members whose proxy is valid at `at` for a purpose they left to it.
    _correct_for_proxies(rows, allowed, user_type, codes, answers, cohort, max_depth)
    return cohort


_OPEN = "c.is_member AND NOT c.opt_out AND (c.excluded_mask & :excluded) = 0"
"""Rules 2-4 do not apply: the member's preferences decide."""
_EXCLUDED = "(c.excluded_mask & :excluded) <> 0"
_APPOINTMENT_VALID = " AND ".join(
    (
        "a.accepted_at <= :at",
        "a.proxy_member_id IS NOT NULL",  # a carer changes the member's own choices: no choice to follow
        "(a.valid_until IS NULL OR a.valid_until > :at)",
        "(a.revoked_at IS NULL OR a.revoked_at > :at)",
    )
)


def _proxy_joins(purposes: list[Purpose]) -> tuple[str, str]:
    """One indexed LEFT JOIN per purpose giving the proxy valid at :at, and its columns."""
    joins = " ".join(
        f"LEFT JOIN proxy_appointment a{i} ON a{i}.principal_id = c.member_id "
        f"AND (a{i}.purposes_mask & {1 << position(p)}) <> 0 AND {_APPOINTMENT_VALID.replace('a.', f'a{i}.')}"
        for i, p in enumerate(purposes)
    )
    return joins, ", ".join(f"a{i}.proxy_member_id" for i in range(len(purposes)))


def _resolver(rows: _Rows, purposes: list[Purpose], codes: str, answers: Answers, max_depth: int) -> ProxyResolver:
    """A resolver with the states of every proxy valid at :at, and the links further along
    the chains (appointments made by members who are proxies themselves)."""
    appointments: dict[tuple[int, Purpose], int] = {}
    for principal, proxy, purposes_mask in rows(
        "SELECT a.principal_id, a.proxy_member_id, a.purposes_mask FROM proxy_appointment a "
        f"WHERE {_APPOINTMENT_VALID} AND a.principal_id IN "
        f"(SELECT b.proxy_member_id FROM proxy_appointment b WHERE {_APPOINTMENT_VALID.replace('a.', 'b.')})"
    ):
        for p in purposes:
            if purposes_mask >> position(p) & 1:
                appointments[(principal, p)] = proxy
    n = len(purposes)
    states: dict[int, ProxyState] = {
        row[0]: (row[1], row[2 : 2 + n])
        for row in rows(
            f"SELECT c.member_id, {_PRE}, {codes} FROM choice_version c WHERE {_as_of()} AND c.member_id IN "
            f"(SELECT a.proxy_member_id FROM proxy_appointment a WHERE {_APPOINTMENT_VALID})"
        )
    }
    return ProxyResolver(purposes, answers, max_depth, appointments, states)


def _correct_for_proxies(
    rows: _Rows,
    purposes: list[Purpose],
    user_type: UserType,
    codes: str,
    answers: Answers,
    cohort: Cohort,
    max_depth: int,
) -> None:
    requested = mask(purposes)
    joins, proxy_cols = _proxy_joins(purposes)
    n, w = len(purposes), len(purposes) + answers.split  # the codes' columns, and the yes when it matters
    situations: Counter[tuple[tuple[int, ...], tuple[int | None, ...], bool]] = Counter()
    for row in rows(
        f"SELECT {codes}, {proxy_cols}, count(*) FROM choice_version c {joins} "
        f"WHERE {_as_of()} AND {_OPEN} AND c.member_id IN (SELECT a.principal_id FROM proxy_appointment a "
        f"WHERE {_APPOINTMENT_VALID} AND (a.purposes_mask & {requested}) <> 0) GROUP BY {codes}, {proxy_cols}"
    ):
        member_codes, yes, proxies = tuple(row[:n]), w > n and bool(row[n]), row[w : w + n]
        effective = tuple(q if code == PROXY else None for code, q in zip(member_codes, proxies, strict=True))
        if any(q is not None for q in effective):
            situations[(member_codes, effective, yes)] += row[-1]
    if not situations:
        return
    resolver = _resolver(rows, purposes, codes, answers, max_depth)
    for (member_codes, proxies, yes), count in situations.items():
        cohort.outcomes[assumed(purposes, member_codes, answers(yes))] -= count
        cohort.outcomes[resolver.outcome(member_codes, proxies, yes)] += count
    cohort.outcomes = +cohort.outcomes


def eligible_members(
    session: Session,
    purposes: Sequence[Purpose | ProhibitedUse],
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    terms: Terms | None = None,
    max_depth: int = 3,
) -> Iterator[int]:
    """The ids of the members whose data may be used, by the same rules as the counts."""
    for batch in eligible_member_batches(session, purposes, user_type, categories, at, terms, max_depth):
        yield from batch.tolist()


def eligible_member_batches(
    session: Session,
    purposes: Sequence[Purpose | ProhibitedUse],
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    terms: Terms | None = None,
    max_depth: int = 3,
) -> Iterator[npt.NDArray[np.int64]]:
    """The members of :func:`eligible_members`, as arrays of ids a batch at a time: most of
    them straight from the driver's rows into the array, without a Python int each."""
    if any(is_prohibited(p, user_type) for p in purposes) or not purposes:
        return
    allowed = [p for p in purposes if isinstance(p, Purpose)]
    rows = _Rows(session, at, categories)
    _, mandate = governance.mandate_at(session, at)
    answers = Answers.of(mandate, allowed, user_type, categories, terms)
    key = " + ".join(
        f"(((c.preference_mask >> {encoding.shift(p, user_type)}) & 3) << {2 * i})" for i, p in enumerate(allowed)
    )

    def allowed_keys(yes: bool) -> str:
        return ", ".join(
            str(sum(code << (2 * i) for i, code in enumerate(combo)))
            for combo in product((MANDATE, ALLOW, DENY), repeat=len(allowed))
            if assumed(allowed, combo, answers(yes))[0] is Decision.allow
        )

    without, with_yes = allowed_keys(False), allowed_keys(True)  # the first keys are among the second
    if with_yes:
        which = f"({key}) IN ({with_yes})"
        if answers.split:
            which = f"(({key}) IN ({without or 'NULL'}) OR ({_YES} AND {which}))"
        for batch in rows.batches(f"SELECT c.member_id FROM choice_version c WHERE {_as_of()} AND {_OPEN} AND {which}"):
            yield np.fromiter(map(itemgetter(0), batch), dtype=np.int64, count=len(batch))
    codes = ", ".join(f"((c.preference_mask >> {encoding.shift(p, user_type)}) & 3)" for p in allowed)
    if answers.split:
        codes += f", {_YES}"
    any_proxy = " OR ".join(f"((c.preference_mask >> {encoding.shift(p, user_type)}) & 3) = 3" for p in allowed)
    joins, proxy_cols = _proxy_joins(allowed)
    proxied = rows.stream(
        f"SELECT c.member_id, {codes}, {proxy_cols} FROM choice_version c {joins} "
        f"WHERE {_as_of()} AND {_OPEN} AND ({any_proxy})"
    )
    first = next(proxied, None)
    if first is not None:
        n, w = len(allowed), len(allowed) + answers.split
        resolver = _resolver(rows, allowed, codes, answers, max_depth)
        chosen = (
            row[0]
            for row in chain((first,), proxied)
            if resolver.outcome(row[1 : 1 + n], row[1 + w : 1 + w + n], w > n and bool(row[1 + n]))[0] is Decision.allow
        )
        while batch := list(islice(chosen, _BATCH)):
            yield np.array(batch, dtype=np.int64)


_PRE = (
    "CASE WHEN NOT c.is_member THEN 2 WHEN c.opt_out THEN 3 WHEN (c.excluded_mask & :excluded) <> 0 THEN 4 ELSE 0 END"
)
"""Which of rules 2-4 applies to a member (0: none)."""

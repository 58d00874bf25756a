"""What the reports are built from: the figures of a year (:class:`Annual`) and a member's
statement (:class:`Statement`), as frozen values.

The cooperative gathers them (:mod:`coop.reporting.figures`, :mod:`coop.reporting.statement`);
the reports only lay them out, so they depend on nothing but these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from coop.privacy import Published


@dataclass(frozen=True)
class PermitLine:
    id: int
    number: str
    applicant: str
    user_type: str
    purposes: list[str]
    status: str
    revenue_cents: int
    flags: list[str]
    results: int


@dataclass(frozen=True)
class ResultLine:
    permit_number: str
    kind: str
    title: str
    url: str
    published_on: date
    open_access: bool


@dataclass(frozen=True)
class Grant:
    paid_on: date
    recipient: str
    purpose: str
    cents: int


@dataclass(frozen=True)
class DecisionLine:
    title: str
    kind: str
    closed_on: date
    outcome: str
    yes: int
    no: int
    abstain: int
    electorate: int


@dataclass(frozen=True)
class Split:
    net_income_cents: int = 0
    reserve_cents: int = 0
    solidarity_cents: int = 0
    members_pool_cents: int = 0
    donated_cents: int = 0
    unclaimed_cents: int = 0
    distributions: int = 0
    periods: tuple[tuple[date, date], ...] = ()
    """The periods of the distributions counted: those committed for periods ending in the year."""
    percentages: tuple[int, int, int] | None = None
    """The benefit policy's reserve, solidarity and members' percentages, when every
    distribution of the year used the same (the amounts are exact; these are the rule)."""


@dataclass(frozen=True)
class ChoiceCell:
    """Members' own choice for one purpose and user type (members who opted out excluded)."""

    allow: Published
    deny: Published
    delegated: Published
    """Left to the cooperative's mandate or to a proxy."""
    allow_pct: int | None
    """Share allowing, in whole percent; None when the count is too small to show, or the
    law forbids the use."""
    forbidden: bool = False
    """The law does not allow this use by this user type (EHDS Art. 53(2)): members have no
    say, so nothing is counted."""


@dataclass(frozen=True)
class Integrity:
    tree_size: int
    root_hash: str
    signed_at: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Annual:
    year: int
    as_of: datetime
    members: Published
    joined: Published
    left: Published
    opted_out: Published
    income_cents: int
    expenses_cents: int
    revenue_by_user_type: dict[str, int]
    revenue_by_purpose: dict[str, int]
    split: Split
    dividend_bins: list[tuple[int, int | None, Published]]
    members_credited: Published
    grants: list[Grant]
    permits: list[PermitLine]
    results: list[ResultLine]
    overdue_results: list[str]
    choices: dict[str, dict[str, ChoiceCell]]
    decisions: list[DecisionLine]
    integrity: Integrity | None
    threshold: int = field(default=10)
    undistributed_cents: int = 0
    """Net income booked in the year on days no committed distribution covers (yet)."""

    @property
    def net_income_cents(self) -> int:
        return self.income_cents - self.expenses_cents

    @property
    def grants_cents(self) -> int:
        return sum(g.cents for g in self.grants)


@dataclass(frozen=True)
class Change:
    version: int
    since: datetime
    opt_out: bool
    changed: tuple[str, ...]
    """What the version changed, in sentences in the statement's language."""


@dataclass(frozen=True)
class Use:
    permit_number: str
    applicant: str
    user_type: str
    purposes: list[str]
    since: date
    results: list[ResultLine]


@dataclass(frozen=True)
class DividendPart:
    permit_number: str
    pool_cents: int
    members: int
    cents: int


@dataclass(frozen=True)
class Dividend:
    period_start: date
    period_end: date
    cents: int
    donated: bool
    parts: list[DividendPart]


@dataclass(frozen=True)
class Statement:
    year: int
    name: str
    number: str
    language: str
    opt_out: bool
    choices: list[tuple[str, str, str]]
    """(purpose, user type, preference) where the member chose something other than the mandate."""
    excluded: list[str]
    donate_dividend: bool
    changes: list[Change]
    uses: list[Use]
    dividends: list[Dividend]
    balance_cents: int
    paid_cents: int
    sensitive_yes: list[str] = field(default_factory=list)
    """The sensitive kinds of data the member gave their own yes for (EHDS Art. 51(4))."""


@dataclass(frozen=True)
class Line:
    """One recent item of a section of a member's data summary: when, and its cells in the
    summary's language."""

    at: datetime
    cells: tuple[str, ...]


@dataclass(frozen=True)
class DataSummary:
    """A readable summary of everything kept about a member (their export): counts and the
    latest items of each section, in the member's language."""

    name: str | None
    """None once erased."""
    number: str
    email: str | None
    language: str
    status: str
    admitted_at: datetime
    left_at: datetime | None
    exported_at: datetime
    choice_versions: int
    recent_changes: list[Change]
    proxies_appointed: int
    acting_for: int
    votes: int
    recent_votes: list[Line]
    """(proposal title, the vote as a code, by proxy: yes or no)"""
    manifests: int
    recent_manifests: list[Line]
    """(permit number, manifest id, pseudonym)"""
    distributions: int
    received_cents: int
    paid_out_cents: int
    balance_cents: int
    messages: int
    recent_messages: list[Line]
    """(subject, status as a code)"""
    accesses: int
    recent_accesses: list[Line]
    """(reader, what)"""

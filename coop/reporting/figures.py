"""The figures of a year, gathered once for the annual report, the public transparency page
and their tests, so that every place shows the same cents.

Everything is as of the end of the year (or now, for the year under way): permit status and
compliance flags, members, choices. Counts about members pass through
:func:`coop.privacy.publish`; sums of money are shown exactly. Nothing names a member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Integer, case, func, literal, or_, select
from sqlmodel import Session, col

from coop import privacy
from coop.choices import encoding, profiles
from coop.choices.models import ChoiceVersion
from coop.decisions.rules import is_prohibited
from coop.governance import queries as governance_queries
from coop.governance.documents import BenefitPolicy, DocumentKind
from coop.governance.models import Proposal
from coop.members.models import Member
from coop.money import distributions, periods
from coop.money.models import Distribution, DistributionMember
from coop.permits import rules, usage
from coop.permits.models import Permit
from coop.settings import Settings
from coop.vocabulary.terms import Purpose, UserType, from_mask, position
from ledger import log
from ledger.allocation import largest_remainder
from ledger.models import MoneyEntry, MoneyPosting
from reports.inputs import Annual, ChoiceCell, DecisionLine, Grant, Integrity, PermitLine, ResultLine, Split

DIVIDEND_BINS = (0, 1, 500, 1_000, 2_500, 5_000, 10_000, 25_000)
"""Lower bounds in cents of the dividend histogram's bins (the last is open)."""


def year_bounds(year: int) -> tuple[date, date, datetime]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    return start, end, datetime.combine(end, time.max, tzinfo=UTC)


def annual(session: Session, settings: Settings, year: int, now: datetime, tree_size: int | None = None) -> Annual:
    """The figures of ``year``; the integrity statement is the signed tree head of
    ``tree_size`` (default: the newest signed head)."""
    start, end, year_end = year_bounds(year)
    as_of = min(year_end, now)
    threshold = settings.privacy.small_count_threshold

    def pub(n: int) -> privacy.Published:
        return privacy.publish(n, threshold)

    year_start = datetime.combine(start, time.min, tzinfo=UTC)

    def in_year(column: Any) -> list[Any]:
        return [column >= year_start, column <= year_end]

    admitted, left_at = col(Member.admitted_at), col(Member.left_at)
    members, joined, left = session.execute(  # one pass over the members for the three counts
        select(
            func.count().filter(admitted <= as_of, or_(left_at.is_(None), left_at > as_of)),
            func.count().filter(*in_year(admitted)),
            func.count().filter(*in_year(left_at)),
        ).select_from(Member)
    ).one()
    totals = distributions.period_totals(session, start, end)
    income: dict[int, int] = defaultdict(int)
    for account, (kind, cents) in totals.items():
        if kind.value == "income" and account.startswith("income:permit:"):
            income[int(account.split(":")[2])] += cents
    expenses = sum(cents for kind, cents in totals.values() if kind.value == "expense")
    undistributed = sum(_net(distributions.period_totals(session, a, b)) for a, b in _open_days(session, start, end))
    permits = list(session.execute(select(Permit).order_by(col(Permit.id))).scalars())
    by_user_type: dict[str, int] = {u.value: 0 for u in UserType}
    by_purpose: dict[str, int] = {p.value: 0 for p in Purpose}
    lines: list[PermitLine] = []
    result_lines: list[ResultLine] = []
    overdue: list[str] = []
    results = usage.results_of(session, [p.id for p in permits if p.id is not None])
    for p in permits:
        assert p.id is not None
        cents = income.get(p.id, 0)
        purposes = [x.value for x in from_mask(Purpose, p.purposes_mask)]
        by_user_type[p.user_type] += cents
        if cents > 0 and purposes:  # a permit's revenue counts for its purposes in equal parts
            for purpose, part in largest_remainder(cents, dict.fromkeys(purposes, 1), f"{year}/{p.id}").items():
                by_purpose[purpose] += part
        if p.approved_at > as_of:
            continue
        flags = [f.rule for f in usage.compliance(session, p, settings, as_of)]
        if "results-overdue" in flags:
            overdue.append(p.permit_number)
        mine = [r for r in results.get(p.id, []) if r.published_at <= as_of]
        lines.append(
            PermitLine(
                p.id,
                p.permit_number,
                p.applicant,
                p.user_type,
                purposes,
                rules.status_of(p, as_of).value,
                cents,
                flags,
                len(mine),
            )
        )
        result_lines += [
            ResultLine(p.permit_number, r.kind, r.title, r.url, r.published_at.date(), r.open_access)
            for r in mine
            if r.published_at.year == year
        ]
    split, bins, credited = _distributions(session, year, threshold)
    tally = choice_tally(session, as_of)
    return Annual(
        year=year,
        as_of=as_of,
        members=pub(members),
        joined=pub(joined),
        left=pub(left),
        opted_out=pub(tally.opted_out),
        income_cents=sum(income.values()),
        expenses_cents=expenses,
        revenue_by_user_type=by_user_type,
        revenue_by_purpose=by_purpose,
        split=split,
        dividend_bins=bins,
        members_credited=pub(credited),
        grants=grants(session, start, end),
        permits=lines,
        results=sorted(result_lines, key=lambda r: (r.published_on, r.permit_number, r.title)),
        overdue_results=overdue,
        choices=matrix_of(tally, threshold),
        decisions=_decisions(session, year),
        integrity=integrity(session, tree_size),
        threshold=threshold,
        undistributed_cents=undistributed,
    )


def _net(totals: dict[str, tuple[Any, int]]) -> int:
    return sum(cents if kind.value == "income" else -cents for kind, cents in totals.values())


def _open_days(session: Session, start: date, end: date) -> list[tuple[date, date]]:
    """The runs of days from ``start`` to ``end`` that no committed distribution covers."""
    runs, day = [], start
    for first, last in periods.closed(session):
        if last < day:
            continue
        if first > end:
            break
        if first > day:
            runs.append((day, first - timedelta(days=1)))
        day = last + timedelta(days=1)
    if day <= end:
        runs.append((day, end))
    return runs


def _distributions(
    session: Session, year: int, threshold: int
) -> tuple[Split, list[tuple[int, int | None, privacy.Published]], int]:
    """Distributions committed for periods ending in ``year``: their split, and the members'
    dividends as a histogram."""
    rows = list(
        session.execute(
            select(Distribution).where(
                col(Distribution.committed_at).is_not(None),
                col(Distribution.period_end) >= date(year, 1, 1),
                col(Distribution.period_end) <= date(year, 12, 31),
            )
        ).scalars()
    )
    split = Split(
        net_income_cents=sum(d.net_income_cents for d in rows),
        reserve_cents=sum(d.reserve_cents for d in rows),
        solidarity_cents=sum(d.solidarity_cents for d in rows),
        members_pool_cents=sum(d.members_pool_cents for d in rows),
        donated_cents=sum(d.donated_cents for d in rows),
        unclaimed_cents=sum(d.unclaimed_cents for d in rows),
        distributions=len(rows),
        periods=tuple(sorted((d.period_start, d.period_end) for d in rows)),
        percentages=_policy_percentages(session, {d.policy_version for d in rows}),
    )
    counts = dividend_counts(session, [d.id for d in rows if d.id is not None])
    credited = sum(counts)
    bins = [
        (low, DIVIDEND_BINS[i + 1] if i + 1 < len(DIVIDEND_BINS) else None, privacy.publish(n, threshold))
        for i, (low, n) in enumerate(zip(DIVIDEND_BINS, counts, strict=True))
    ]
    return split, bins, credited


def dividend_counts(session: Session, distribution_ids: list[int]) -> list[int]:
    """How many members the distributions credited in each bin of :data:`DIVIDEND_BINS`, a
    member counting once with everything they were credited. The database bins them: a
    handful of rows leave it, not one per member."""
    cents: Any = col(DistributionMember.cents)
    stmt = select(cents.label("cents")).where(col(DistributionMember.distribution_id).in_(distribution_ids))
    if len(distribution_ids) > 1:  # a member has one row per distribution
        stmt = (
            select(func.sum(cents).label("cents"))
            .where(col(DistributionMember.distribution_id).in_(distribution_ids))
            .group_by(col(DistributionMember.member_id))
        )
    totals = stmt.subquery()
    bin_of = case(
        *((totals.c.cents >= low, i) for i, low in reversed(list(enumerate(DIVIDEND_BINS)))),
        else_=-1,
    ).label("bin")
    counts = [0] * len(DIVIDEND_BINS)
    for i, n in session.execute(select(bin_of, func.count()).select_from(totals).group_by(bin_of)).all():
        if i < 0:
            raise ValueError("a member was credited a negative dividend")
        counts[int(i)] = int(n)
    return counts


def _policy_percentages(session: Session, versions: set[int]) -> tuple[int, int, int] | None:
    policies = {
        v.version: v.document
        for v in governance_queries.history(session, DocumentKind.benefit_policy)
        if v.version in versions
    }
    shares = {
        (p.reserve_pct, p.solidarity_pct, p.members_pct) for p in policies.values() if isinstance(p, BenefitPolicy)
    }
    return shares.pop() if len(shares) == 1 else None


GRANT_PREFIX = "solidarity grant to "


def grants(session: Session, start: date, end: date) -> list[Grant]:
    rows = session.execute(
        select(col(MoneyEntry.booked_on), col(MoneyEntry.description), col(MoneyPosting.amount_cents))
        .join(MoneyPosting, col(MoneyPosting.entry_id) == col(MoneyEntry.id))
        .where(
            col(MoneyEntry.id).startswith("grant:"),
            col(MoneyPosting.amount_cents) > 0,
            col(MoneyEntry.booked_on) >= start,
            col(MoneyEntry.booked_on) <= end,
        )
        .order_by(col(MoneyEntry.booked_on), col(MoneyEntry.id))
    ).all()
    found = []
    for booked_on, description, cents in rows:
        recipient, _, purpose = description.removeprefix(GRANT_PREFIX).partition(": ")
        found.append(Grant(booked_on, recipient, purpose, int(cents)))
    return found


def _decisions(session: Session, year: int) -> list[DecisionLine]:
    rows = session.execute(
        select(Proposal)
        .where(
            col(Proposal.closed_at) >= datetime(year, 1, 1, tzinfo=UTC),
            col(Proposal.closed_at) < datetime(year + 1, 1, 1, tzinfo=UTC),
        )
        .order_by(col(Proposal.closed_at), col(Proposal.id))
    ).scalars()
    return [
        DecisionLine(
            p.title,
            p.kind,
            p.closed_at.date() if p.closed_at else date(year, 12, 31),
            p.outcome or "",
            p.yes or 0,
            p.no or 0,
            p.abstain or 0,
            p.electorate or 0,
        )
        for p in rows
    ]


def current_choices(as_of: datetime) -> list[Any]:
    return [
        col(ChoiceVersion.valid_from) <= as_of,
        or_(col(ChoiceVersion.valid_to).is_(None), col(ChoiceVersion.valid_to) > as_of),
        col(ChoiceVersion.is_member).is_(True),
    ]


def choice_matrix(session: Session, as_of: datetime, threshold: int) -> dict[str, dict[str, ChoiceCell]]:
    """Per purpose and user type: how many members allow, deny, or leave it to the
    cooperative or a proxy (members who opted out are not counted)."""
    return matrix_of(choice_tally(session, as_of), threshold)


@dataclass(frozen=True)
class Tally:
    """Members who had opted out, and the others counted per packed set of 2-bit codes: per
    user type, the sets and how many hold each; ``shift`` finds a purpose's code in a set."""

    opted_out: int
    held: dict[str, tuple[np.ndarray, np.ndarray]]
    shift: Callable[[Purpose, UserType], int]


def choice_tally(session: Session, as_of: datetime) -> Tally:
    """The members' choices at ``as_of``: from the choice profiles when they are the members'
    states then (a few thousand rows, :func:`coop.choices.profiles.codes_counted`), else by
    one pass over the versions (:func:`choice_profiles`)."""
    counted = profiles.codes_counted(session.connection(), as_of)
    if counted is not None:
        opted_out, by_user_type = counted
        held = {
            u: (_array(codes.keys(), np.uint64), _array(codes.values(), np.int64)) for u, codes in by_user_type.items()
        }
        return Tally(opted_out, held, lambda purpose, _user_type: 2 * position(purpose))
    opted_out, masks = choice_profiles(session, as_of)
    column = (_array(masks.keys(), np.uint64), _array(masks.values(), np.int64))
    return Tally(opted_out, dict.fromkeys((u.value for u in UserType), column), encoding.shift)


def _array(values: Iterable[int], dtype: Any) -> np.ndarray:
    return np.fromiter(values, dtype=dtype)


def choice_profiles(session: Session, as_of: datetime) -> tuple[int, dict[int, int]]:
    """How many members have opted out, and how many of the others hold each distinct set
    of preferences, in one pass: the database counts them, so that the profiles leave it (some
    120,000 of the 18 million members' masks in the nation benchmark), not every member."""
    mask, opt_out = col(ChoiceVersion.preference_mask), col(ChoiceVersion.opt_out)
    # grouped by the mask's halves: PostgreSQL hashes a bigint by folding its halves onto each
    # other, and masks of 2-bit codes fold onto a few: hashing the whole mask took 50 times longer
    high = mask.op(">>", return_type=BigInteger)(literal(32, Integer))
    low = mask.op("&", return_type=BigInteger)(0xFFFF_FFFF)
    stmt = select(opt_out, high, low, func.count()).where(*current_choices(as_of)).group_by(opt_out, high, low)
    opted_out, masks = 0, {}
    for out, h, lo, n in session.execute(stmt).all():
        if out:
            opted_out += int(n)
        else:
            masks[(int(h) << 32) | int(lo)] = int(n)
    return opted_out, masks


def matrix_of(tally: Tally, threshold: int) -> dict[str, dict[str, ChoiceCell]]:
    """The choice matrix of the members counted in ``tally``."""
    matrix: dict[str, dict[str, ChoiceCell]] = {}
    for purpose in Purpose:
        row: dict[str, ChoiceCell] = {}
        for user_type in UserType:
            if is_prohibited(purpose, user_type):
                none = privacy.publish(0, threshold)
                row[user_type.value] = ChoiceCell(none, none, none, None, forbidden=True)
                continue
            sets, weights = tally.held[user_type.value]
            total = int(weights.sum())
            codes = (sets >> np.uint64(tally.shift(purpose, user_type))) & np.uint64(3)
            allow = int(weights[codes == encoding.CODES[encoding.Preference.allow]].sum())
            deny = int(weights[codes == encoding.CODES[encoding.Preference.deny]].sum())
            row[user_type.value] = ChoiceCell(
                privacy.publish(allow, threshold),
                privacy.publish(deny, threshold),
                privacy.publish(total - allow - deny, threshold),
                round(100 * allow / total) if total >= threshold and allow >= threshold else None,
            )
        matrix[purpose.value] = row
    return matrix


def integrity(session: Session, tree_size: int | None) -> Integrity | None:
    head = log.head_at(session, tree_size) if tree_size is not None else log.latest_head(session)
    if head is None:
        return None
    return Integrity(head.tree_size, head.root_hash.hex(), head.timestamp, head.key_id, head.signature.hex())

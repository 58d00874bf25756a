"""Drafting and committing distributions.

A draft gathers its inputs (the period's income per permit and expenses, the benefit
policy in force at the end of the period, the members in each permit's manifests, who
donates) and stores the plan's figures. Inputs leave out the distributions' own entries,
so committing never changes what a recomputation sees. Committing recomputes the plan and
requires the same digest (entries booked into the period since the draft make it stale),
then posts one all-or-nothing closing entry (income and expenses of the period to the
reserve, the solidarity fund and each member's account) and pays out every member whose
balance has reached the minimum payout; smaller balances are carried forward.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func, insert, or_, select
from sqlmodel import Session, col

from coop.benefits import accounts
from coop.benefits.models import Distribution, DistributionPermit, DistributionShare
from coop.benefits.plan import Inputs, NoNetIncome, Plan, plan
from coop.choices.models import ChoiceVersion
from coop.errors import Conflict, Invalid, NotFound
from coop.governance import service as governance
from coop.governance.documents import BenefitPolicy, DocumentKind
from coop.permits.models import Manifest, ManifestEntry
from coop.types import utcnow
from ledger import books, log
from ledger.books import Entry, Kind, Posting
from ledger.models import MoneyAccount, MoneyEntry, MoneyPosting

OWN_ENTRIES = "distribution:%"


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _period_totals(session: Session, start: date, end: date) -> dict[str, tuple[Kind, int]]:
    """Natural-sign totals of income and expense accounts over the period, without the
    distributions' own entries."""
    rows = session.execute(
        select(col(MoneyPosting.account), col(MoneyAccount.kind), func.sum(col(MoneyPosting.amount_cents)))
        .join(MoneyEntry, col(MoneyEntry.id) == col(MoneyPosting.entry_id))
        .join(MoneyAccount, col(MoneyAccount.code) == col(MoneyPosting.account))
        .where(
            col(MoneyEntry.booked_on) >= start,
            col(MoneyEntry.booked_on) <= end,
            col(MoneyEntry.id).not_like(OWN_ENTRIES),
            col(MoneyAccount.kind).in_([Kind.income.value, Kind.expense.value]),
        )
        .group_by(col(MoneyPosting.account), col(MoneyAccount.kind))
    ).all()
    return {account: (Kind(kind), books.natural(Kind(kind), int(total))) for account, kind, total in rows}


def gather(session: Session, start: date, end: date) -> tuple[Inputs, dict[str, tuple[Kind, int]]]:
    if start > end:
        raise Invalid("period_start must not come after period_end", code="invalid-period", field="period_start")
    totals = _period_totals(session, start, end)
    income: dict[int, int] = defaultdict(int)
    for account, (kind, cents) in totals.items():
        if kind is Kind.income and account.startswith("income:permit:"):
            income[int(account.split(":")[2])] += cents
    expenses = sum(cents for kind, cents in totals.values() if kind is Kind.expense)
    version = governance.require_in_force(session, DocumentKind.benefit_policy, _end_of(end))
    assert isinstance(version.document, BenefitPolicy)
    members: dict[int, tuple[int, ...]] = {}
    if income:
        rows = session.execute(
            select(col(Manifest.permit_id), col(ManifestEntry.member_id))
            .join(ManifestEntry, col(ManifestEntry.manifest_id) == col(Manifest.id))
            .where(col(Manifest.permit_id).in_(list(income)))
            .distinct()
        ).all()
        grouped: dict[int, list[int]] = defaultdict(list)
        for permit, member in rows:
            grouped[permit].append(member)
        members = {p: tuple(sorted(ms)) for p, ms in grouped.items()}
    at = _end_of(end)
    donors = frozenset(
        session.execute(
            select(col(ChoiceVersion.member_id)).where(
                col(ChoiceVersion.donate_dividend).is_(True),
                col(ChoiceVersion.valid_from) <= at,
                or_(col(ChoiceVersion.valid_to).is_(None), col(ChoiceVersion.valid_to) > at),
            )
        ).scalars()
    )
    inputs = Inputs(start, end, version.version, version.document, dict(income), expenses, members, donors)
    return inputs, totals


def _overlapping(session: Session, start: date, end: date, other_than: int | None = None) -> Distribution | None:
    stmt = select(Distribution).where(
        col(Distribution.committed_at).is_not(None),
        and_(col(Distribution.period_start) <= end, col(Distribution.period_end) >= start),
    )
    if other_than is not None:
        stmt = stmt.where(col(Distribution.id) != other_than)
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def _plan(inputs: Inputs) -> Plan:
    try:
        return plan(inputs)
    except NoNetIncome as exc:
        raise Invalid(str(exc), code="no-net-income") from exc


def draft(session: Session, actor: str, start: date, end: date) -> Distribution:
    if (earlier := _overlapping(session, start, end)) is not None:
        raise Conflict(f"distribution {earlier.id} has covered part of this period already", code="period-distributed")
    inputs, _ = gather(session, start, end)
    result = _plan(inputs)
    distribution = Distribution(
        period_start=start,
        period_end=end,
        policy_version=inputs.policy_version,
        digest=result.digest(),
        net_income_cents=result.net_income_cents,
        reserve_cents=result.reserve_cents,
        solidarity_cents=result.solidarity_cents,
        members_pool_cents=result.members_pool_cents,
        unclaimed_cents=result.unclaimed_cents,
        donated_cents=result.donated_cents,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(distribution)
    session.flush()
    assert distribution.id is not None
    permit_rows = [
        {
            "distribution_id": distribution.id,
            "permit_id": p,
            "revenue_cents": inputs.income_by_permit[p],
            "pool_cents": result.pool_by_permit.get(p, 0),
            "members": len(inputs.members_by_permit.get(p, ())),
        }
        for p in sorted(inputs.income_by_permit)
    ]
    if permit_rows:
        session.execute(insert(DistributionPermit), permit_rows)
    share_rows = [
        {"distribution_id": distribution.id, "member_id": m, "permit_id": p, "cents": c, "donated": m in inputs.donors}
        for (m, p), c in result.by_member_and_permit.items()
    ]
    for i in range(0, len(share_rows), 50_000):
        session.execute(insert(DistributionShare), share_rows[i : i + 50_000])
    log.append(
        session,
        "distribution.drafted",
        actor,
        f"distribution:{distribution.id}",
        {
            "period": [start.isoformat(), end.isoformat()],
            "policy_version": inputs.policy_version,
            "digest": distribution.digest,
            "net_income_cents": result.net_income_cents,
            "members": len(result.by_member) + len(result.donated_by_member),
        },
    )
    return distribution


def get(session: Session, distribution_id: int) -> Distribution:
    distribution = session.get(Distribution, distribution_id)
    if distribution is None:
        raise NotFound(f"no distribution {distribution_id}", code="distribution-not-found")
    return distribution


def commit(session: Session, actor: str, distribution_id: int) -> Distribution:
    distribution = session.get(Distribution, distribution_id, with_for_update=True)
    if distribution is None:
        raise NotFound(f"no distribution {distribution_id}", code="distribution-not-found")
    if distribution.committed_at is not None:
        raise Conflict(f"distribution {distribution_id} is committed already", code="committed-already")
    start, end = distribution.period_start, distribution.period_end
    if (other := _overlapping(session, start, end, distribution_id)) is not None:
        raise Conflict(f"distribution {other.id} has covered part of this period already", code="period-distributed")
    inputs, totals = gather(session, start, end)
    result = _plan(inputs)
    if result.digest() != distribution.digest:
        raise Conflict("the books or manifests changed since this draft; make a new draft", code="draft-stale")
    accounts.open_standard(session)
    payable = {m: accounts.member_payable(m) for m in result.by_member}
    books.open_accounts(
        session, ((code, Kind.liability, f"Dividends owed to member {m}") for m, code in payable.items())
    )
    postings = [
        Posting(a, -cents if kind is Kind.expense else cents) for a, (kind, cents) in sorted(totals.items()) if cents
    ]
    postings += [
        Posting(accounts.RESERVE, -result.reserve_cents),
        Posting(accounts.SOLIDARITY, -result.to_solidarity_cents()),
    ]
    postings += [Posting(payable[m], -c) for m, c in sorted(result.by_member.items()) if c]
    postings = [p for p in postings if p.amount_cents]
    close = Entry(
        f"distribution:{distribution_id}",
        end,
        f"distribution {start.isoformat()} to {end.isoformat()}",
        tuple(postings),
    )
    books.post(session, close, actor)
    _pay_out(session, actor, distribution_id, end, list(result.by_member), inputs.policy.minimum_payout_cents)
    distribution.committed_at = utcnow()
    session.flush()
    log.append(
        session, "distribution.committed", actor, f"distribution:{distribution_id}", {"digest": distribution.digest}
    )
    return distribution


def _pay_out(session: Session, actor: str, distribution_id: int, on: date, members: list[int], minimum: int) -> None:
    """Pay every member whose balance reached the minimum; the rest is carried forward."""
    if not members:
        return
    codes = [accounts.member_payable(m) for m in members]
    balances: dict[str, int] = {}
    for i in range(0, len(codes), 900):
        rows = session.execute(
            select(col(MoneyPosting.account), func.sum(col(MoneyPosting.amount_cents)))
            .where(col(MoneyPosting.account).in_(codes[i : i + 900]))
            .group_by(col(MoneyPosting.account))
        ).all()
        balances.update((a, -int(t)) for a, t in rows)
    due = [(code, cents) for code, cents in sorted(balances.items()) if cents >= max(minimum, 1)]
    if not due:
        return
    total = sum(c for _, c in due)
    postings = (*(Posting(code, cents) for code, cents in due), Posting(accounts.BANK, -total))
    books.post(session, Entry(f"distribution:{distribution_id}:payouts", on, "dividend payouts", postings), actor)

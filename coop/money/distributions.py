"""Drafting distributions, and what members received from committed ones.

A draft gathers its inputs (the period's income per permit and expenses, the benefit
policy in force at the end of the period, the members in each permit's manifests made by
the end of the period, who donates) and stores the plan's figures: totals, each permit's
pool and split, and each member's share. Inputs leave out the distributions' own entries,
so committing (:mod:`coop.money.closing`, after a second board user's approval) never
changes what a recomputation sees.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, insert, or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor
from coop.choices.models import ChoiceVersion
from coop.errors import Conflict, Invalid, NotFound
from coop.governance import queries as governance_queries
from coop.governance.documents import BenefitPolicy, DocumentKind
from coop.money import periods
from coop.money import service as money
from coop.money.models import Distribution, DistributionMember, DistributionPermit
from coop.money.plan import Inputs, NoNetIncome, Packed, Plan, plan
from coop.permits import member_sets
from coop.permits import queries as permit_queries
from coop.permits.models import Manifest, ManifestMember, ManifestMemberSet
from ledger import books, bulk, log
from ledger.allocation import EqualSplit
from ledger.books import Kind
from ledger.models import MoneyAccount, MoneyEntry, MoneyPosting

OWN_ENTRIES = "distribution:%"


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def period_totals(session: Session, start: date, end: date) -> dict[str, tuple[Kind, int]]:
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
    totals = period_totals(session, start, end)
    income: dict[int, int] = defaultdict(int)
    for account, (kind, cents) in totals.items():
        if kind is Kind.income and account.startswith("income:permit:"):
            income[int(account.split(":")[2])] += cents
    expenses = sum(cents for kind, cents in totals.values() if kind is Kind.expense)
    version = governance_queries.require_in_force(session, DocumentKind.benefit_policy, _end_of(end))
    assert isinstance(version.document, BenefitPolicy)
    members = _members_by_permit(session, list(income), _end_of(end)) if income else {}
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


def _members_by_permit(session: Session, permits: Collection[int], by: datetime) -> dict[int, Packed]:
    """Each permit's members: everyone in a manifest of the permit made by ``by``, as bits."""
    rows = session.execute(
        select(col(Manifest.permit_id), col(ManifestMemberSet.bits))
        .join(ManifestMemberSet, col(ManifestMemberSet.manifest_id) == col(Manifest.id))
        .where(col(Manifest.permit_id).in_(list(permits)), col(Manifest.created_at) <= by)
    ).all()
    grouped: dict[int, list[bytes]] = defaultdict(list)
    for permit, bits in rows:
        grouped[permit].append(bytes(bits))
    return {permit: Packed(member_sets.merged(sets)) for permit, sets in grouped.items()}


def overlapping(session: Session, start: date, end: date, other_than: int | None = None) -> Distribution | None:
    stmt = select(Distribution).where(
        col(Distribution.committed_at).is_not(None),
        and_(col(Distribution.period_start) <= end, col(Distribution.period_end) >= start),
    )
    if other_than is not None:
        stmt = stmt.where(col(Distribution.id) != other_than)
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def planned(inputs: Inputs) -> Plan:
    try:
        return plan(inputs)
    except NoNetIncome as exc:
        raise Invalid(str(exc), code="no-net-income") from exc


def draft(session: Session, actor: Actor, start: date, end: date, *, now: datetime) -> Distribution:
    periods.require_ended(end, now)
    if (earlier := overlapping(session, start, end)) is not None:
        raise Conflict(f"distribution {earlier.id} has covered part of this period already", code="period-distributed")
    inputs, _ = gather(session, start, end)
    result = planned(inputs)
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
        created_by=actor.ledger_name,
        created_at=now,
    )
    session.add(distribution)
    session.flush()
    assert distribution.id is not None
    permit_rows = []
    for p in sorted(inputs.income_by_permit):
        split = result.permits.get(p)
        permit_rows.append(
            {
                "distribution_id": distribution.id,
                "permit_id": p,
                "revenue_cents": inputs.income_by_permit[p],
                "pool_cents": split.total if split else 0,
                "members": split.parts if split else len(inputs.members_by_permit.get(p, ())),
                "rotation_start": split.start if split else 0,
            }
        )
    if permit_rows:
        session.execute(insert(DistributionPermit), permit_rows)
    bulk.insert_columns(
        session,
        "distribution_member",
        ("member_id", "distribution_id", "cents", "donated"),
        ("int4", "int4", "int8", "bool"),
        (result.member_ids, distribution.id, result.member_cents, result.donated),
    )
    log.append(
        session,
        "distribution.drafted",
        actor.ledger_name,
        f"distribution:{distribution.id}",
        drafted_payload(
            distribution,
            [tuple(int(r[k]) for k in PERMIT_SPLIT) for r in permit_rows],
            member_shares_digest(result.member_ids, result.member_cents, result.donated),
        ),
        at=distribution.created_at,
    )
    return distribution


def member_shares_digest(member_ids: Any, cents: Any, donated: Any) -> dict[str, Any]:
    """How many members a distribution gives a share, and the SHA-256 over, per member in
    ascending id, 8 bytes of id, 8 of cents (big-endian, signed) and 1 of donated (0 or 1)."""
    rows = np.zeros(len(member_ids), dtype=SHARE_ROW)
    rows["member_id"], rows["cents"], rows["donated"] = member_ids, cents, donated
    if not bool(np.all(rows["member_id"][1:] > rows["member_id"][:-1])):  # a plan's are ascending already
        rows.sort(order="member_id")
    return {"count": int(rows.size), "sha256": hashlib.sha256(rows.tobytes()).hexdigest()}


PERMIT_SPLIT = ("permit_id", "revenue_cents", "pool_cents", "members", "rotation_start")
SHARE_ROW = np.dtype([("member_id", ">i8"), ("cents", ">i8"), ("donated", "u1")])


def drafted_payload(d: Distribution, permits: list[tuple[int, ...]], shares: dict[str, Any]) -> dict[str, Any]:
    """The distribution.drafted event: every figure of the draft, each permit's split
    ``[permit_id, revenue_cents, pool_cents, members, rotation_start]`` and the digest of
    the members' shares."""
    return {
        "period": [d.period_start.isoformat(), d.period_end.isoformat()],
        "policy_version": d.policy_version,
        "digest": d.digest,
        "net_income_cents": d.net_income_cents,
        "reserve_cents": d.reserve_cents,
        "solidarity_cents": d.solidarity_cents,
        "members_pool_cents": d.members_pool_cents,
        "unclaimed_cents": d.unclaimed_cents,
        "donated_cents": d.donated_cents,
        "members": shares["count"],
        "permits": [list(p) for p in permits],
        "member_shares": shares,
    }


def get(session: Session, distribution_id: int) -> Distribution:
    distribution = session.get(Distribution, distribution_id)
    if distribution is None:
        raise NotFound(f"no distribution {distribution_id}", code="distribution-not-found")
    return distribution


@dataclass(frozen=True)
class Part:
    """A member's share from one permit in one distribution, and how it came about."""

    permit_id: int
    pool_cents: int
    members: int
    position: int
    cents: int


def derivation(session: Session, distribution: Distribution, member_id: int) -> list[Part]:
    """How ``member_id``'s share of ``distribution`` is made up, recomputed from the stored
    permit splits and the manifests the distribution counted."""
    splits = {
        row.permit_id: row
        for row in session.execute(
            select(DistributionPermit).where(
                col(DistributionPermit.distribution_id) == distribution.id, col(DistributionPermit.pool_cents) > 0
            )
        ).scalars()
    }
    if not splits:
        return []
    by = _end_of(distribution.period_end)
    mine = set(
        session.execute(
            select(col(Manifest.permit_id))
            .join(ManifestMember, col(ManifestMember.manifest_id) == col(Manifest.id))
            .where(
                col(ManifestMember.member_id) == member_id,
                col(Manifest.permit_id).in_(list(splits)),
                col(Manifest.created_at) <= by,
            )
        ).scalars()
    )
    parts = []
    for permit, members in sorted(_members_by_permit(session, mine, by).items()):
        row = splits[permit]
        position = member_sets.rank(members.bits, member_id)
        assert position is not None  # one of the permit's manifests lists the member
        base, extra = divmod(row.pool_cents, row.members)
        split = EqualSplit(row.pool_cents, row.members, base, extra, row.rotation_start)
        parts.append(Part(permit, row.pool_cents, row.members, position, split.share(position)))
    return parts


@dataclass(frozen=True)
class Received:
    distribution: Distribution
    cents: int
    donated: bool
    parts: list[Part]


def received_by(session: Session, member_id: int, year: int | None = None) -> list[Received]:
    """What a member received from committed distributions (those of periods ending in
    ``year``, or all), each with how it was derived."""
    stmt = (
        select(DistributionMember, Distribution)
        .join(Distribution, col(Distribution.id) == col(DistributionMember.distribution_id))
        .where(col(DistributionMember.member_id) == member_id, col(Distribution.committed_at).is_not(None))
        .order_by(col(Distribution.period_end))
    )
    if year is not None:
        stmt = stmt.where(
            col(Distribution.period_end) >= date(year, 1, 1), col(Distribution.period_end) <= date(year, 12, 31)
        )
    return [
        Received(d, share.cents, share.donated, derivation(session, d, member_id))
        for share, d in session.execute(stmt).all()
    ]


def dividends_of(session: Session, member_id: int) -> list[dict[str, Any]]:
    """What the member received from each committed distribution, oldest first, with each
    permit's share: the fields the API's dividends and the member's data export both show."""
    numbers = permit_queries.numbers(session)
    return [
        {
            "distribution_id": r.distribution.id or 0,
            "period_start": r.distribution.period_start,
            "period_end": r.distribution.period_end,
            "total_cents": r.cents,
            "donated": r.donated,
            "parts": [
                {
                    "permit_id": p.permit_id,
                    "permit_number": numbers[p.permit_id],
                    "permit_pool_cents": p.pool_cents,
                    "permit_members": p.members,
                    "position": p.position,
                    "cents": p.cents,
                }
                for p in r.parts
            ],
        }
        for r in received_by(session, member_id)
    ]


def member_account(session: Session, member_id: int) -> tuple[int, int]:
    """(owed and not yet paid, paid out in total) on the member's dividend account."""
    amount = col(MoneyPosting.amount_cents)
    credited, paid = session.execute(
        select(
            func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0),
            func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
        ).where(col(MoneyPosting.account) == money.member_payable(member_id))
    ).one()
    return int(credited) - int(paid), int(paid)

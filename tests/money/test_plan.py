"""The distribution plan: every cent accounted for, splits as the policy says, patronage
within permits, donations to society, and the same figures on every recomputation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.documents import BenefitPolicy
from coop.money.plan import Inputs, NoNetIncome, part, plan

POLICY = BenefitPolicy(reserve_pct=20, solidarity_pct=30, members_pct=50, minimum_payout_cents=500)


def _inputs(**overrides: object) -> Inputs:
    base = {
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "policy_version": 1,
        "policy": POLICY,
        "income_by_permit": {1: 100_000, 2: 50_000},
        "expenses_cents": 30_000,
        "members_by_permit": {1: (1, 2, 3), 2: (3, 4)},
        "donors": frozenset({4}),
    }
    return Inputs(**{**base, **overrides})  # type: ignore[arg-type]


def test_a_worked_example() -> None:
    p = plan(_inputs())
    assert p.net_income_cents == 120_000
    assert (p.reserve_cents, p.solidarity_cents, p.members_pool_cents) == (24_000, 36_000, 60_000)
    assert p.pool_by_permit == {1: 40_000, 2: 20_000}
    first = p.permits[1]
    assert sum(part(first, (1, 2, 3), m) for m in (1, 2, 3)) == 40_000
    assert sorted(part(first, (3, 2, 1), m) for m in (1, 2, 3)) == [13_333, 13_333, 13_334]
    assert p.by_member[3] == part(first, (1, 2, 3), 3) + 10_000  # in both permits
    assert p.donated_by_member == {4: 10_000} and 4 not in p.by_member
    assert p.to_solidarity_cents() == 36_000 + 10_000


def test_permits_without_members_pass_their_share_to_society() -> None:
    p = plan(_inputs(members_by_permit={1: (1,)}))
    assert p.pool_by_permit == {1: 60_000} and p.unclaimed_cents == 0
    nobody = plan(_inputs(members_by_permit={}))
    assert nobody.unclaimed_cents == 60_000 and nobody.by_member == {}


def test_no_net_income_is_refused() -> None:
    with pytest.raises(NoNetIncome):
        plan(_inputs(expenses_cents=150_000))
    with pytest.raises(NoNetIncome):
        plan(_inputs(income_by_permit={}, expenses_cents=0))


@given(
    income=st.dictionaries(st.integers(1, 30), st.integers(0, 10**9), min_size=1, max_size=10),
    expenses=st.integers(0, 10**8),
    members=st.dictionaries(
        st.integers(1, 30), st.lists(st.integers(1, 500), min_size=1, max_size=40, unique=True), max_size=10
    ),
    donors=st.frozensets(st.integers(1, 500), max_size=50),
    pcts=st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda t: t[0] + t[1] <= 100),
)
def test_every_cent_is_accounted_for(
    income: dict, expenses: int, members: dict, donors: frozenset, pcts: tuple
) -> None:
    policy = BenefitPolicy(
        reserve_pct=pcts[0], solidarity_pct=pcts[1], members_pct=100 - sum(pcts), minimum_payout_cents=0
    )
    inputs = _inputs(
        policy=policy,
        income_by_permit=income,
        expenses_cents=expenses,
        members_by_permit={k: tuple(v) for k, v in members.items()},
        donors=donors,
    )
    try:
        p = plan(inputs)
    except NoNetIncome:
        assert sum(income.values()) <= expenses
        return
    assert p.reserve_cents + p.solidarity_cents + p.members_pool_cents == p.net_income_cents
    assert sum(p.pool_by_permit.values()) + p.unclaimed_cents == p.members_pool_cents
    assert sum(p.by_member.values()) + p.donated_cents == sum(p.pool_by_permit.values())
    assert all(c >= 0 for c in p.by_member.values())
    for permit, split in p.permits.items():  # each member's parts add up to what they receive
        assert split.parts == len(members[permit])
    received = {m: sum(part(p.permits[q], members[q], m) for q in p.permits if m in members[q]) for m in p.member_ids}
    assert received == {**p.by_member, **p.donated_by_member}
    assert p.digest() == plan(inputs).digest()  # bit for bit

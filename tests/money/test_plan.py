"""The distribution plan: every cent accounted for, splits as the policy says, patronage
within permits, donations to society, and the same figures on every recomputation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop.governance.documents import BenefitPolicy
from coop.money import plan as money_plan
from coop.money.plan import Inputs, NoNetIncome, Packed, part, plan
from coop.permits import member_sets

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


def _plan_member_by_member(inputs: Inputs) -> tuple[dict[int, int], frozenset[int]]:
    """The members' figures as the rules say them, one member and permit at a time: the
    reference the plan's bit-wise computation must match to the cent."""
    p = plan(inputs)
    ids = {k: sorted(set(v)) for k, v in inputs.members_by_permit.items()}  # type: ignore[arg-type]
    cents: dict[int, int] = {}
    for permit, split in p.permits.items():
        for position, member in enumerate(ids[permit]):
            cents[member] = cents.get(member, 0) + split.share(position)
    return cents, frozenset(m for m in cents if m in inputs.donors)


@given(
    members=st.dictionaries(
        st.integers(1, 12), st.lists(st.integers(0, 300), min_size=0, max_size=120), min_size=1, max_size=12
    ),
    income=st.lists(st.integers(0, 10**7), min_size=12, max_size=12),
    donors=st.frozensets(st.integers(0, 320), max_size=60),
)
def test_member_sets_as_bits_give_the_figures_of_the_rules(
    members: dict[int, list[int]], income: list[int], donors: frozenset[int]
) -> None:
    inputs = _inputs(
        income_by_permit={k: income[k - 1] for k in range(1, 13)},
        expenses_cents=0,
        members_by_permit={k: tuple(v) for k, v in members.items()},
        donors=donors,
    )
    if sum(income) == 0:
        return
    expected, giving = _plan_member_by_member(inputs)
    p = plan(inputs)
    assert dict(zip(p.member_ids.tolist(), p.member_cents.tolist(), strict=True)) == expected
    assert frozenset(p.member_ids[p.donated].tolist()) == giving
    assert p.donated_cents == sum(expected[m] for m in giving)
    packed = {k: Packed(member_sets.encode(v)) for k, v in members.items()}
    assert plan(replace(inputs, members_by_permit=packed)).digest() == p.digest()  # bit for bit
    for block in (1, 3):  # the members in many blocks of bits, as 18 million are
        with mock.patch.object(money_plan, "BLOCK", block):
            q = plan(replace(inputs, members_by_permit=packed))
        assert dict(zip(q.member_ids.tolist(), q.member_cents.tolist(), strict=True)) == expected
        assert q.digest() == p.digest()


def test_a_digest_pinned_before_member_sets_were_read_as_bits() -> None:
    members = {1: (5, 1, 2, 3, 9, 7), 2: (3, 4, 9), 3: (8,)}
    p = plan(_inputs(members_by_permit=members, income_by_permit={1: 100_000, 2: 50_000, 3: 7}, donors={4, 8}))
    assert p.by_member == {1: 6667, 2: 6667, 3: 13333, 5: 6666, 7: 6667, 9: 13334}
    assert p.donated_by_member == {4: 6667, 8: 3}
    assert p.digest() == "fd7a1666bdc78074662f004af931bf689c913e2eb214847f5feca528c4a400e2"

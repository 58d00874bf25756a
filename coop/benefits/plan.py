"""The yearly distribution, computed from its inputs alone (pure, so a draft can be
recomputed bit for bit and tested exhaustively).

1. Net income of the period: the permits' income minus the operating expenses.
2. Split by the benefit policy in force at the end of the period over the indivisible
   reserve, the solidarity fund and the members' pool.
3. The members' pool split over the permits in proportion to each permit's revenue in the
   period (permits without members in their manifests pass their share to the solidarity
   fund: nobody could receive it).
4. Within a permit, equal shares for the members in its manifests (patronage).
5. Members who chose to donate their dividend send it to the solidarity fund.

Every split is :func:`ledger.allocation.largest_remainder` with the period as the seed,
so parts add up exactly, each is within a cent of its exact share, and ties rotate from
year to year. Carrying small amounts forward happens when paying out, not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from coop.governance.documents import BenefitPolicy
from ledger import canonical
from ledger.allocation import largest_remainder


class NoNetIncome(ValueError):
    """There is nothing to distribute."""


@dataclass(frozen=True)
class Inputs:
    period_start: date
    period_end: date
    policy_version: int
    policy: BenefitPolicy
    income_by_permit: Mapping[int, int]
    expenses_cents: int
    members_by_permit: Mapping[int, tuple[int, ...]]
    donors: frozenset[int]

    @property
    def seed(self) -> str:
        return f"{self.period_start.isoformat()}..{self.period_end.isoformat()}"


@dataclass(frozen=True)
class Plan:
    net_income_cents: int
    reserve_cents: int
    solidarity_cents: int
    members_pool_cents: int
    unclaimed_cents: int
    """Pool shares of permits without members: to the solidarity fund."""
    donated_cents: int
    pool_by_permit: dict[int, int] = field(default_factory=dict)
    by_member: dict[int, int] = field(default_factory=dict)
    """What each member is credited (donors excluded)."""
    donated_by_member: dict[int, int] = field(default_factory=dict)
    by_member_and_permit: dict[tuple[int, int], int] = field(default_factory=dict)

    def to_solidarity_cents(self) -> int:
        return self.solidarity_cents + self.unclaimed_cents + self.donated_cents

    def digest(self) -> str:
        """A fingerprint of every figure, to show a recomputation is identical."""
        import hashlib

        body = {
            "totals": [
                self.net_income_cents,
                self.reserve_cents,
                self.solidarity_cents,
                self.members_pool_cents,
                self.unclaimed_cents,
                self.donated_cents,
            ],
            "permits": sorted(self.pool_by_permit.items()),
            "members": sorted(self.by_member.items()),
            "donated": sorted(self.donated_by_member.items()),
        }
        return hashlib.sha256(canonical.encode(body)).hexdigest()


def plan(inputs: Inputs) -> Plan:
    revenue = sum(inputs.income_by_permit.values())
    net = revenue - inputs.expenses_cents
    if net <= 0:
        raise NoNetIncome(
            f"the period's income ({revenue} cents) does not exceed its expenses ({inputs.expenses_cents} cents)"
        )
    p = inputs.policy
    split = largest_remainder(
        net, {"reserve": p.reserve_pct, "solidarity": p.solidarity_pct, "members": p.members_pct}, inputs.seed
    )
    pool = split["members"]
    weights = {
        permit: cents
        for permit, cents in inputs.income_by_permit.items()
        if cents > 0 and inputs.members_by_permit.get(permit)
    }
    pool_by_permit = largest_remainder(pool, weights, inputs.seed) if weights and pool else {}
    unclaimed = pool - sum(pool_by_permit.values())
    by_member: dict[int, int] = defaultdict(int)
    per_permit: dict[tuple[int, int], int] = {}
    for permit, cents in sorted(pool_by_permit.items()):
        members = inputs.members_by_permit[permit]
        shares = largest_remainder(cents, dict.fromkeys(members, 1), f"{inputs.seed}/permit:{permit}")
        for member, share in shares.items():
            by_member[member] += share
            per_permit[(member, permit)] = share
    donated = {m: c for m, c in by_member.items() if m in inputs.donors}
    credited = {m: c for m, c in by_member.items() if m not in inputs.donors}
    return Plan(
        net_income_cents=net,
        reserve_cents=split["reserve"],
        solidarity_cents=split["solidarity"],
        members_pool_cents=pool,
        unclaimed_cents=unclaimed,
        donated_cents=sum(donated.values()),
        pool_by_permit=dict(pool_by_permit),
        by_member=credited,
        donated_by_member=donated,
        by_member_and_permit=per_permit,
    )

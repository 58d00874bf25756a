"""The yearly distribution, computed from its inputs alone (pure, so a draft can be
recomputed bit for bit and tested exhaustively).

1. Net income of the period: the permits' income minus the operating expenses.
2. Split by the benefit policy in force at the end of the period over the indivisible
   reserve, the solidarity fund and the members' pool.
3. The members' pool split over the permits in proportion to each permit's revenue in the
   period (permits without members in their manifests pass their share to the solidarity
   fund: nobody could receive it).
4. Within a permit, equal shares for the members in its manifests (patronage), in member-id
   order with the leftover cents rotating with the period
   (:func:`ledger.allocation.equal_split`).
5. Members who chose to donate their dividend send it to the solidarity fund.

Every split is the largest remainder method with the period as the seed, so parts add up
exactly, each is within a cent of its exact share, and ties rotate from year to year.
Member figures are numpy arrays: a million members in two hundred permits take well under
a second. Carrying small amounts forward happens when paying out, not here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from coop.governance.documents import BenefitPolicy
from ledger import canonical
from ledger.allocation import EqualSplit, equal_split, largest_remainder

Ids = npt.NDArray[np.int64]


class NoNetIncome(ValueError):
    """There is nothing to distribute."""


@dataclass(frozen=True)
class Packed:
    """A permit's members as bits (:mod:`coop.permits.member_sets`' encoding: bit ``m`` for
    member ``m``, most significant bit first), as the manifests keep them: the plan reads one
    permit's members at a time, so that 500 permits over 18 million members never sit in
    memory as ids."""

    bits: bytes

    def __len__(self) -> int:
        return int.from_bytes(self.bits, "big").bit_count()


@dataclass(frozen=True)
class Inputs:
    period_start: date
    period_end: date
    policy_version: int
    policy: BenefitPolicy
    income_by_permit: Mapping[int, int]
    expenses_cents: int
    members_by_permit: Mapping[int, Sequence[int] | Ids | Packed]
    """Each permit's members (the union of its manifests), in any order, or as bits."""
    donors: Collection[int]

    @property
    def seed(self) -> str:
        return f"{self.period_start.isoformat()}..{self.period_end.isoformat()}"

    def permit_seed(self, permit: int) -> str:
        return f"{self.seed}/permit:{permit}"


@dataclass(frozen=True)
class Plan:
    net_income_cents: int
    reserve_cents: int
    solidarity_cents: int
    members_pool_cents: int
    unclaimed_cents: int
    """Pool shares of permits without members: to the solidarity fund."""
    donated_cents: int
    permits: dict[int, EqualSplit]
    """Each permit's part of the members' pool and how it splits over its members."""
    member_ids: Ids
    """Every member with a share, ascending (donors included)."""
    member_cents: Ids
    donated: npt.NDArray[np.bool_]

    @property
    def pool_by_permit(self) -> dict[int, int]:
        return {p: s.total for p, s in self.permits.items()}

    @property
    def by_member(self) -> dict[int, int]:
        """What each member is credited (donors excluded)."""
        keep = ~self.donated
        return dict(zip(self.member_ids[keep].tolist(), self.member_cents[keep].tolist(), strict=True))

    @property
    def donated_by_member(self) -> dict[int, int]:
        return dict(zip(self.member_ids[self.donated].tolist(), self.member_cents[self.donated].tolist(), strict=True))

    def to_solidarity_cents(self) -> int:
        return self.solidarity_cents + self.unclaimed_cents + self.donated_cents

    def digest(self) -> str:
        """A fingerprint of every figure, to show a recomputation is identical."""
        header = {
            "totals": [
                self.net_income_cents,
                self.reserve_cents,
                self.solidarity_cents,
                self.members_pool_cents,
                self.unclaimed_cents,
                self.donated_cents,
            ],
            "permits": [[p, s.total, s.parts, s.start] for p, s in sorted(self.permits.items())],
        }
        h = hashlib.sha256(canonical.encode(header))
        h.update(self.member_ids.astype("<i8").tobytes())
        h.update(self.member_cents.astype("<i8").tobytes())
        h.update(self.donated.astype(np.uint8).tobytes())
        return h.hexdigest()


def ascending(members: Sequence[int] | Ids) -> Ids:
    """A permit's members as the distribution orders them: ascending ids, no repeats."""
    ids = np.asarray(members, dtype=np.int64)
    if ids.size and bool(np.all(ids[1:] > ids[:-1])):
        return ids  # already so, as member sets give them
    return np.unique(ids)


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
    members = {
        permit: _bits(inputs.members_by_permit.get(permit, ()))
        for permit, cents in inputs.income_by_permit.items()
        if cents > 0
    }
    sizes = {permit: int.from_bytes(bits.tobytes(), "big").bit_count() for permit, bits in members.items()}
    weights = {permit: inputs.income_by_permit[permit] for permit, n in sizes.items() if n}
    pool_by_permit = largest_remainder(pool, weights, inputs.seed) if weights and pool else {}
    width = max((members[permit].size for permit in pool_by_permit), default=0)
    order = sorted(pool_by_permit)
    splits = {p: equal_split(pool_by_permit[p], sizes[p], inputs.permit_seed(p)) for p in order}
    cents, present = _member_cents({p: members[p] for p in order}, splits, width)
    member_ids = np.flatnonzero(np.unpackbits(present).view(np.bool_)).astype(np.int64)
    member_cents = cents[member_ids]
    donors = np.fromiter(inputs.donors, dtype=np.int64, count=len(inputs.donors))
    giving = np.zeros(cents.size, dtype=bool)
    giving[donors[(donors >= 0) & (donors < cents.size)]] = True
    donated = giving[member_ids]
    return Plan(
        net_income_cents=net,
        reserve_cents=split["reserve"],
        solidarity_cents=split["solidarity"],
        members_pool_cents=pool,
        unclaimed_cents=pool - sum(pool_by_permit.values()),
        donated_cents=int(member_cents[donated].sum()),
        permits=splits,
        member_ids=member_ids,
        member_cents=member_cents,
        donated=donated,
    )


def _member_cents(
    members: Mapping[int, npt.NDArray[np.uint8]], splits: Mapping[int, EqualSplit], width: int
) -> tuple[Ids, npt.NDArray[np.uint8]]:
    """Every member's cents from the permits' splits (by member id), and who has any (as
    bits). Block by block of members, every permit: a block's sums stay in the cache. A
    member's bits in a group of eight permits make one byte, whose sum of those permits'
    shares is looked up once instead of multiplying and adding once per permit; the extra
    cents are counted in small numbers and added once a block."""
    order = list(members)
    groups = [order[i : i + GROUP] for i in range(0, len(order), GROUP)]
    tables = [_sums([splits[p].base for p in group]) for group in groups]
    ranked = dict.fromkeys(order, 0)  # per permit: its members in the blocks before this one
    cents = np.zeros(8 * width, dtype=np.int64)
    present = np.zeros(width, dtype=np.uint8)
    codes, bit = np.empty(8 * BLOCK, dtype=np.uint8), np.empty(8 * BLOCK, dtype=np.uint8)
    small = np.uint16 if len(order) < 1 << 16 else np.int64  # a cent a permit at most
    extra: npt.NDArray[np.integer] = np.empty(8 * BLOCK, dtype=small)
    for lo in range(0, width, BLOCK):
        at, size = 8 * lo, 8 * min(BLOCK, width - lo)
        extra[:size] = 0
        for group, table in zip(groups, tables, strict=True):
            used = 0
            for j, permit in enumerate(group):
                bits = members[permit][lo : lo + BLOCK]
                if not bits.size:
                    continue
                present[lo : lo + bits.size] |= bits
                mask = np.unpackbits(bits)  # 1 at each member's id
                if mask.size > used:
                    codes[used : mask.size] = 0
                    used = mask.size
                np.multiply(mask, _BIT[j], out=bit[: mask.size])  # (faster than shifting)
                codes[: mask.size] |= bit[: mask.size]
                share = splits[permit]
                if share.extra:  # one cent more for the positions start.. (wrapping round)
                    ranked[permit] = _one_cent_more(extra[: mask.size], bits, mask, share, ranked[permit])
            if used and table is not None:
                cents[at : at + used] += table[codes[:used]]
        cents[at : at + size] += extra[:size]
    return cents, present


BLOCK = 1 << 16
"""Bytes of member bits per block (524,288 members): a block's cents (4 MiB) stay in the cache
while every permit adds to them."""

GROUP = 8
"""Permits whose shares are added together: a member's bits in them make one byte."""
_BIT = [np.uint8(1 << j) for j in range(GROUP)]


def _sums(bases: list[int]) -> Ids | None:
    """For each byte (a member's bits in up to eight permits, the first permit in the lowest
    bit): the sum of those permits' shares; ``None`` when every share is nothing."""
    if not any(bases):
        return None
    codes = np.arange(256, dtype=np.int64)
    return sum((((codes >> j) & 1) * base for j, base in enumerate(bases)), np.zeros(256, dtype=np.int64))


def _one_cent_more(
    cents: npt.NDArray[np.integer],
    bits: npt.NDArray[np.uint8],
    mask: npt.NDArray[np.uint8],
    share: EqualSplit,
    first: int,
) -> int:
    """Add the extra cent of ``share`` to the members of a block (``bits``, unpacked in
    ``mask``; its first member has rank ``first`` among the permit's) at the positions it
    gives one; the rank after the block. The members at those positions are a run of the
    block: found by counting bits per byte, then added to in one slice."""
    end = share.start + share.extra
    ranges = [(a - first, b - first) for a, b in ((share.start, end), (0, end - share.parts)) if b > first]
    if not ranges:  # none here: only count them
        return first + int(np.count_nonzero(mask))
    counts = np.cumsum(_ONES[bits])  # the members in the block's bytes up to each
    total = int(counts[-1])
    for a, b in ranges:
        lo, hi = _index(mask, counts, max(a, 0)), _index(mask, counts, min(b, total))
        cents[lo:hi] += mask[lo:hi]
    return first + total


_ONES = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1, dtype=np.int64)
"""The set bits of each byte value."""


def _index(mask: npt.NDArray[np.uint8], counts: Ids, rank: int) -> int:
    """Where in ``mask`` the member of block rank ``rank`` is (past the last: the mask's size)."""
    if rank >= int(counts[-1]):
        return int(mask.size)
    byte = int(np.searchsorted(counts, rank, side="right"))  # the first byte holding more than `rank` members
    before = int(counts[byte - 1]) if byte else 0
    return 8 * byte + int(np.flatnonzero(mask[8 * byte : 8 * byte + 8])[rank - before])


def _bits(members: Sequence[int] | Ids | Packed) -> npt.NDArray[np.uint8]:
    """A permit's members as bits (see :class:`Packed`)."""
    if isinstance(members, Packed):
        return np.frombuffer(members.bits, dtype=np.uint8)
    ids = np.asarray(members, dtype=np.int64)
    if ids.size and int(ids.min()) < 0:
        raise ValueError("member ids are positive")
    mask = np.zeros(int(ids.max()) + 1 if ids.size else 0, dtype=bool)
    mask[ids] = True
    return np.packbits(mask)


def part(split: EqualSplit, members: Sequence[int] | Ids, member: int) -> int:
    """What ``member`` receives from a permit split as ``split`` over ``members``."""
    ids = ascending(members)
    position = int(np.searchsorted(ids, member))
    if position >= ids.size or ids[position] != member:
        raise ValueError(f"member {member} is not among the permit's members")
    return split.share(position)

"""Committing a distribution: members' postings are listed in the order of their account codes."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from coop.money import service as money
from coop.money.closing import in_code_order


@given(st.lists(st.integers(0, 10**12), max_size=60, unique=True))
def test_members_in_the_order_of_their_account_codes(ids: list[int]) -> None:
    members, cents = in_code_order(np.array(ids, dtype=np.int64), np.array([-i for i in ids], dtype=np.int64))
    assert members.tolist() == sorted(ids, key=money.member_payable)
    assert cents.tolist() == [-m for m in members.tolist()]

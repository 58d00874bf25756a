"""Small counts never leave the cooperative, and neither do differences between counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coop.privacy import publish


def test_small_counts_are_suppressed_and_others_rounded() -> None:
    assert [publish(n, 10) for n in (0, 1, 9, 10, 14, 15, 994, 995)] == [0, "<10", "<10", 10, 10, 20, 990, 1000]
    assert publish(3, 5) == "<5"


@given(a=st.integers(0, 10**7), d=st.integers(1, 9), threshold=st.sampled_from([5, 10, 20]))
def test_no_difference_of_two_published_counts_reveals_a_small_group(a: int, d: int, threshold: int) -> None:
    pa, pb = publish(a, threshold), publish(a + d, threshold)
    if isinstance(pa, int) and isinstance(pb, int):
        assert (pb - pa) % threshold == 0

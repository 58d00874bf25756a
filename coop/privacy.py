"""Statistical disclosure control for every count about members that leaves the cooperative.

A count of 0 is shown as 0 (nobody is revealed by it), 1 to threshold-1 as ``"<threshold"``,
and every other count is rounded to the nearest multiple of the threshold (halves up). The
rounding is what defeats differencing: any difference between two published counts is a
multiple of the threshold, so comparing two answers (say, two consultations that differ by
one category) can never reveal a group of 1 to threshold-1 members.
"""

from __future__ import annotations

Published = int | str


def publish(count: int, threshold: int) -> Published:
    if count < 0:
        raise ValueError("counts are never negative")
    if count == 0:
        return 0
    if count < threshold:
        return f"<{threshold}"
    return (count + threshold // 2) // threshold * threshold

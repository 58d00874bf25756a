"""Compact encodings of a member's choices, shared by the API and the bulk engine.

* Preferences: 2 bits per (purpose, user type) pair, pair ``k = purpose * 3 + user type``
  (positions from :mod:`coop.vocabulary.terms`), at bits ``2k`` and ``2k + 1`` of one
  64-bit integer. Code 0 is ``mandate`` (the default), so a new member is all zeros.
* Excluded categories: one bit per category.

The encodings let the bulk engine evaluate a million members with integer arithmetic in
SQL. Pure functions only.
"""

from __future__ import annotations

from enum import StrEnum

from coop.vocabulary.terms import Purpose, UserType, position


class Preference(StrEnum):
    mandate = "mandate"
    """Follow the cooperative's collective mandate (the default)."""
    allow = "allow"
    deny = "deny"
    proxy = "proxy"
    """Follow my proxy for this purpose (the cooperative's mandate when no proxy is valid)."""


CODES: dict[Preference, int] = {Preference.mandate: 0, Preference.allow: 1, Preference.deny: 2, Preference.proxy: 3}
BY_CODE = {code: pref for pref, code in CODES.items()}
PAIRS = [(p, u) for p in Purpose for u in UserType]


def pair_index(purpose: Purpose, user_type: UserType) -> int:
    return position(purpose) * len(UserType) + position(user_type)


_SHIFTS = {(p, u): 2 * pair_index(p, u) for p, u in PAIRS}
"""Each pair's bit offset (looked up: every change reads and writes several)."""


def shift(purpose: Purpose, user_type: UserType) -> int:
    return _SHIFTS[purpose, user_type]


def get(mask: int, purpose: Purpose, user_type: UserType) -> Preference:
    return BY_CODE[(mask >> shift(purpose, user_type)) & 3]


def put(mask: int, purpose: Purpose, user_type: UserType, preference: Preference) -> int:
    s = shift(purpose, user_type)
    return (mask & ~(3 << s)) | (CODES[preference] << s)


def explicit(mask: int) -> list[tuple[Purpose, UserType, Preference]]:
    """The pairs whose preference is not the default, in vocabulary order."""
    out: list[tuple[Purpose, UserType, Preference]] = []
    for (p, u), s in _SHIFTS.items():
        code = (mask >> s) & 3
        if code:  # 0 is mandate
            out.append((p, u, BY_CODE[code]))
    return out

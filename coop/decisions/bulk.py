"""Cohort counts for a whole application in one pass over the choice versions.

SQL does the heavy part: one scan of the versions in force at *t*, grouped by the
outcome of rules 2-4 and the 2-bit preference code of each purpose, so a million members
become a few dozen groups. Groups are decided in Python with the same rules as the single
evaluator. Members whose preference sends a purpose to a proxy are fetched one by one
(a small share) and their chains resolved in memory, with the states of every proxy valid
at *t* loaded in one query.

The cohort is everyone who had joined by *t*: members who left count as ``not-member``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from coop.choices import encoding
from coop.decisions.rules import Decision, MandateAnswer, Reason, Terms, combine, is_prohibited, mandate_decision
from coop.governance import service as governance
from coop.vocabulary.terms import Category, ProhibitedUse, Purpose, UserType, mask, position

# preference codes (coop.choices.encoding.CODES)
MANDATE, ALLOW, DENY, PROXY = 0, 1, 2, 3


@dataclass
class Cohort:
    total: int = 0
    outcomes: Counter[tuple[Decision, Reason]] = field(default_factory=Counter)
    mandate_version: int | None = None
    mandate: dict[Purpose, MandateAnswer] = field(default_factory=dict)

    @property
    def eligible(self) -> int:
        return sum(n for (d, _), n in self.outcomes.items() if d is Decision.allow)

    def by_reason(self, decision: Decision) -> dict[str, int]:
        return {r.code: n for (d, r), n in sorted(self.outcomes.items(), key=lambda kv: kv[0][1]) if d is decision}


def _as_of(at_param: str = ":at") -> str:
    return f"c.valid_from <= {at_param} AND (c.valid_to IS NULL OR c.valid_to > {at_param})"


def _state_columns(purposes: Sequence[Purpose], user_type: UserType) -> str:
    """SQL for: which of rules 2-4 applies (0: none), then each purpose's preference code."""
    pre = (
        "CASE WHEN NOT c.is_member THEN 2 WHEN c.opt_out THEN 3 "
        "WHEN (c.excluded_mask & :excluded) <> 0 THEN 4 ELSE 0 END"
    )
    codes = [f"((c.preference_mask >> {encoding.shift(p, user_type)}) & 3)" for p in purposes]
    return ", ".join([pre, *codes])


def cohort_counts(
    session: Session,
    purposes: Sequence[Purpose | ProhibitedUse],
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    terms: Terms | None = None,
    max_depth: int = 3,
) -> Cohort:
    params: dict[str, Any] = {"at": at, "excluded": mask(categories)}
    bind = session.connection()
    if any(is_prohibited(p, user_type) for p in purposes):
        total = bind.execute(text(f"SELECT count(*) FROM choice_version c WHERE {_as_of()}"), params).scalar_one()
        return Cohort(total=total, outcomes=Counter({(Decision.deny, Reason.prohibited): total}))
    allowed = [p for p in purposes if isinstance(p, Purpose)]
    version, mandate = governance.mandate_at(session, at)
    answers = {p: mandate_decision(mandate, p, user_type, categories, terms) for p in allowed}
    cohort = Cohort(mandate_version=version, mandate=answers)
    states = _state_columns(allowed, user_type)
    n = len(allowed)
    groups = bind.execute(
        text(f"SELECT {states}, count(*) FROM choice_version c WHERE {_as_of()} GROUP BY {states}"),
        params,
    ).all()
    needs_proxy = False
    for row in groups:
        pre, codes, count = row[0], row[1 : 1 + n], row[1 + n]
        cohort.total += count
        if pre:
            cohort.outcomes[(Decision.deny, Reason(pre))] += count
        elif PROXY in codes:
            needs_proxy = True
        else:
            cohort.outcomes[combine(_plain(code, answers[p]) for p, code in zip(allowed, codes, strict=True))] += count
    if needs_proxy:
        _resolve_proxied(bind, params, allowed, user_type, states, answers, cohort, max_depth)
    return cohort


def _plain(code: int, answer: MandateAnswer) -> tuple[Decision, Reason]:
    if code == ALLOW:
        return Decision.allow, Reason.own_choice
    if code == DENY:
        return Decision.deny, Reason.own_choice
    return answer.decision, Reason.mandate


def _resolve_proxied(
    bind: Any,
    params: dict[str, Any],
    purposes: list[Purpose],
    user_type: UserType,
    states: str,
    answers: dict[Purpose, MandateAnswer],
    cohort: Cohort,
    max_depth: int,
) -> None:
    n = len(purposes)
    any_proxy = " OR ".join(f"((c.preference_mask >> {encoding.shift(p, user_type)}) & 3) = 3" for p in purposes)
    principals = bind.execute(
        text(
            f"SELECT c.member_id, {states} FROM choice_version c WHERE {_as_of()} "
            f"AND c.is_member AND NOT c.opt_out AND (c.excluded_mask & :excluded) = 0 AND ({any_proxy})"
        ),
        params,
    ).all()
    appointment_valid = (
        "a.valid_from <= :at AND (a.valid_until IS NULL OR a.valid_until > :at) "
        "AND (a.revoked_at IS NULL OR a.revoked_at > :at)"
    )
    appointments: dict[tuple[int, Purpose], int] = {}
    appointment_rows = bind.execute(
        text(
            "SELECT a.principal_id, a.proxy_member_id, a.purposes_mask "
            f"FROM proxy_appointment a WHERE {appointment_valid}"
        ),
        params,
    )
    for principal, proxy, purposes_mask in appointment_rows:
        for p in purposes:
            if purposes_mask >> position(p) & 1:
                appointments[(principal, p)] = proxy
    proxy_states = {
        row[0]: (row[1], row[2 : 2 + n])
        for row in bind.execute(
            text(
                f"SELECT c.member_id, {states} FROM choice_version c WHERE {_as_of()} AND c.member_id IN "
                f"(SELECT a.proxy_member_id FROM proxy_appointment a WHERE {appointment_valid})"
            ),
            params,
        )
    }
    memo: dict[tuple[int, Purpose], tuple[Decision, Reason]] = {}

    def decide(member: int, p: Purpose, code: int, depth: int, seen: frozenset[int]) -> tuple[Decision, Reason]:
        """The decision for ``member`` on ``p`` given its code, and the rule that made it."""
        if code != PROXY:
            return _plain(code, answers[p])
        proxy = appointments.get((member, p))
        if proxy is None:
            return answers[p].decision, Reason.mandate
        if depth >= max_depth or proxy in seen:
            return Decision.deny, Reason.proxy
        key = (proxy, p)
        if key not in memo:
            state = proxy_states.get(proxy)
            if state is None:
                memo[key] = (Decision.deny, Reason.not_member)
            elif state[0]:
                memo[key] = (Decision.deny, Reason(state[0]))
            else:
                memo[key] = decide(proxy, p, state[1][purposes.index(p)], depth + 1, seen | {proxy})
        return memo[key][0], Reason.proxy

    for row in principals:
        member, codes = row[0], row[2 : 2 + n]
        outcomes = [decide(member, p, code, 0, frozenset({member})) for p, code in zip(purposes, codes, strict=True)]
        cohort.outcomes[combine(outcomes)] += 1

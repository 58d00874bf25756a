"""Cohort counts from the choice profiles (:mod:`coop.choices.profiles`): the few thousand
profiles of the user type asked, each decided as :mod:`coop.decisions.bulk` decides a group
of members, instead of a pass over every member's version.

Only when the profiles are the members' states at the time asked
(:func:`coop.choices.profiles.usable_at`: at or after everything counted, nothing expired by
then, no rows added around the counting); otherwise the caller scans the versions, as for
any time in the past. The proxies named in the profiles are decided from their own counted
states, read for those members only, link by link along the chains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, any_, bindparam, func, select, text
from sqlmodel import Session, col

from coop.choices import encoding
from coop.choices.models import ChoiceProfile, MemberProfile
from coop.choices.profiles import parse_proxies, usable_at
from coop.decisions.chains import PROXY, Answers, Outcome, ProxyResolver, ProxyState, assumed
from coop.decisions.rules import Decision, Reason
from coop.vocabulary.terms import SENSITIVE, Category, Purpose, UserType, mask, position


def total(session: Session, at: datetime) -> int | None:
    """How many had joined by ``at`` (None: the profiles cannot tell)."""
    conn = session.connection()
    if not usable_at(conn, at):
        return None
    q = select(func.coalesce(func.sum(ChoiceProfile.members), 0)).where(
        col(ChoiceProfile.user_type) == UserType.public.value  # every member counts once per user type
    )
    return int(conn.execute(q).scalar_one())


def counts(
    session: Session,
    purposes: list[Purpose],
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    answers: Answers,
    max_depth: int,
) -> tuple[int, Counter[Outcome]] | None:
    """How many had joined by ``at``, and their outcomes (None: the profiles cannot tell)."""
    conn = session.connection()
    if not usable_at(conn, at):
        return None
    excluded, sensitive = mask(categories), mask(SENSITIVE & set(categories))
    wanted = sum(3 << (2 * position(q)) for q in purposes)  # the codes of the purposes asked
    profiles = list(
        conn.execute(
            text(
                "SELECT is_member, opt_out, (excluded_mask & :excluded) <> 0 AS excluded, codes & :wanted AS codes, "
                "(sensitive_yes_mask & :sensitive) = :sensitive AS yes, proxies, sum(members) AS members "
                "FROM choice_profile WHERE user_type = :user_type AND members <> 0 GROUP BY 1, 2, 3, 4, 5, 6"
            ),
            {"excluded": excluded, "wanted": wanted, "sensitive": sensitive, "user_type": user_type.value},
        )
    )
    named = {proxy for p in profiles if p.proxies for proxy in parse_proxies(p.proxies).values()}
    resolver = ProxyResolver(purposes, answers, max_depth, *_chains(conn, purposes, user_type, categories, named))
    outcomes: Counter[Outcome] = Counter()
    everyone = 0
    for p in profiles:
        everyone += p.members
        if not p.is_member:
            outcomes[(Decision.deny, Reason.not_member)] += p.members
        elif p.opt_out:
            outcomes[(Decision.deny, Reason.opt_out)] += p.members
        elif p.excluded:
            outcomes[(Decision.deny, Reason.category_excluded)] += p.members
        else:
            codes = [(p.codes >> (2 * position(q))) & 3 for q in purposes]
            yes = answers.split and bool(p.yes)
            held = parse_proxies(p.proxies)
            proxies = [held.get(q) if code == PROXY else None for q, code in zip(purposes, codes, strict=True)]
            if any(proxies):
                outcomes[resolver.outcome(codes, proxies, yes)] += p.members
            else:
                outcomes[assumed(purposes, codes, answers(yes))] += p.members
    return everyone, outcomes


def _chains(
    conn: Connection, purposes: list[Purpose], user_type: UserType, categories: Sequence[Category], named: set[int]
) -> tuple[dict[tuple[int, Purpose], int], dict[int, ProxyState]]:
    """The counted states of the proxies ``named``, and of the proxies they follow in turn,
    with the links between them: as :class:`~coop.decisions.chains.ProxyResolver` takes them."""
    links: dict[tuple[int, Purpose], int] = {}
    states: dict[int, ProxyState] = {}
    excluded = mask(categories)
    frontier, seen = set(named), set(named)
    while frontier:
        found: set[int] = set()
        for row in _states(conn, sorted(frontier)):
            pre = _rule(row, excluded)
            states[row.member_id] = (
                pre,
                [encoding.CODES[encoding.get(row.preference_mask, p, user_type)] for p in purposes],
            )
            for p, proxy in parse_proxies(row.proxies).items():
                if p in purposes:
                    links[(row.member_id, p)] = proxy
                    found.add(proxy)
        frontier = found - seen
        seen |= found
    return links, states


def _states(conn: Connection, ids: list[int]) -> Iterable[Any]:
    t = MemberProfile.__table__.c  # type: ignore[attr-defined]
    cols = (t.member_id, t.is_member, t.opt_out, t.excluded_mask, t.preference_mask, t.proxies)
    if conn.dialect.name == "postgresql":  # one array, not a parameter per member
        yield from conn.execute(select(*cols).where(t.member_id == any_(bindparam("ids", ids, ARRAY(Integer)))))
        return
    for i in range(0, len(ids), 500):
        yield from conn.execute(select(*cols).where(t.member_id.in_(ids[i : i + 500])))


def _rule(row: Any, excluded: int) -> int:
    """Which of rules 2-4 applies to a proxy (0: none), as the reason's value."""
    if not row.is_member:
        return Reason.not_member.value
    if row.opt_out:
        return Reason.opt_out.value
    if row.excluded_mask & excluded:
        return Reason.category_excluded.value
    return 0
